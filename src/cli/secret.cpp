#include "secret.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <string.h>

namespace refold_cli {

void wipe(void* p, std::size_t n) noexcept {
  if (p && n) explicit_bzero(p, n);
}

SecretString::SecretString(SecretString&& o) noexcept
    : data_(std::move(o.data_)), size_(o.size_), capacity_(o.capacity_) {
  o.size_ = o.capacity_ = 0;
}

SecretString& SecretString::operator=(SecretString&& o) noexcept {
  if (this != &o) {
    release();
    data_ = std::move(o.data_);
    size_ = o.size_;
    capacity_ = o.capacity_;
    o.size_ = o.capacity_ = 0;
  }
  return *this;
}

void SecretString::append(std::string_view s) {
  if (s.empty()) return;
  if (size_ + s.size() + 1 > capacity_) {
    // Grow by copying into a new buffer and wiping the old one, so no stale
    // copy of the secret is left behind by a reallocation.
    std::size_t cap = std::max({size_ + s.size() + 1, capacity_ * 2, std::size_t{64}});
    auto next = std::make_unique<char[]>(cap);
    if (size_) std::memcpy(next.get(), data_.get(), size_);
    release();
    data_ = std::move(next);
    capacity_ = cap;
  }
  std::memcpy(data_.get() + size_, s.data(), s.size());
  size_ += s.size();
  data_[size_] = '\0';
}

void SecretString::pop_back() noexcept {
  if (size_ == 0) return;
  data_[--size_] = '\0';
}

void SecretString::clear() noexcept {
  wipe(data_.get(), capacity_);
  size_ = 0;
}

void SecretString::release() noexcept {
  wipe(data_.get(), capacity_);
  data_.reset();
  capacity_ = 0;
}

void append_json_string(SecretString& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        if (c < 0x20) {
          char esc[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
          out.append(std::string_view(esc, sizeof esc));
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

void serialize_into(SecretString& out, const boost::json::value& v) {
  boost::json::serializer sr;
  sr.reset(&v);
  char buf[512];
  while (!sr.done()) out.append(sr.read(buf, sizeof buf));
  wipe(buf, sizeof buf);
}

// The aligned forms of new and delete only for over-aligned requests: they
// must pair exactly, and plain new already serves every smaller alignment.
void* WipingResource::do_allocate(std::size_t n, std::size_t align) {
  if (align > __STDCPP_DEFAULT_NEW_ALIGNMENT__) return ::operator new(n, std::align_val_t(align));
  return ::operator new(n);
}

void WipingResource::do_deallocate(void* p, std::size_t n, std::size_t align) {
  wipe(p, n);
  if (align > __STDCPP_DEFAULT_NEW_ALIGNMENT__) ::operator delete(p, n, std::align_val_t(align));
  else ::operator delete(p, n);
}

std::optional<boost::json::value> parse_secret(std::string_view text, WipingResource& res) {
  unsigned char scratch[4096];
  boost::system::error_code ec;
  std::optional<boost::json::value> out;
  {
    boost::json::parser p(boost::json::storage_ptr(&res), {}, scratch, sizeof scratch);
    p.reset(boost::json::storage_ptr(&res));
    p.write(text.data(), text.size(), ec);
    if (!ec) out.emplace(p.release());  // moves: the value keeps `res`
  }
  wipe(scratch, sizeof scratch);
  return out;
}

}  // namespace refold_cli
