#include "util/text.hpp"

#include "util/error.hpp"

namespace refold::text {

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned c = *p;
    if (c < 0x80) { ++p; continue; }
    int n;
    unsigned cp;
    if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; }
    else return false;
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    static constexpr unsigned kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += n + 1;
  }
  return true;
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

void check_id(const char* id, std::string_view what) {
  const std::string name(what);
  if (!id) fail(REFOLD_EINVALID, name + " is NULL");
  std::string_view a(id);
  if (a.empty()) fail(REFOLD_EINVALID, name + " is empty");
  if (a.size() > 256) fail(REFOLD_EINVALID, name + " is longer than 256 bytes");
  if (!valid_utf8(a)) fail(REFOLD_EINVALID, name + " is not valid UTF-8");
  for (unsigned char c : a)
    if (c < 0x20 || c == 0x7F) fail(REFOLD_EINVALID, name + " contains a control character");
}

void check_account(const char* account) { check_id(account, "account"); }

bool is_slug(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '_' || c == '-'));
    if (!ok) return false;
  }
  return true;
}

void check_slug(const char* slug) {
  if (!slug) fail(REFOLD_EINVALID, "app is NULL");
  if (!is_slug(slug)) fail(REFOLD_EINVALID, "app is not a valid app slug (lower-case letters, digits, '-' and '_')");
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

}  // namespace refold::text
