#include "core/page_query.hpp"

#include <boost/json.hpp>
#include <sodium.h>
#include <string_view>
#include <vector>

#include "util/error.hpp"
#include "util/json.hpp"
#include "util/text.hpp"

namespace refold::core {

namespace bj = boost::json;

namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint8_t kCursorVersion = 1;
constexpr std::size_t kMacBytes = crypto_generichash_BYTES_MIN;  // 16
// Far above any valid query or cursor (an account is at most 256 bytes).
constexpr std::size_t kMaxQueryBytes = 16 * 1024;
constexpr std::size_t kMaxCursorChars = 1024;

[[noreturn]] void bad_cursor() {
  fail(REFOLD_EINVALID,
       "query: 'cursor' is not valid (use the next_cursor of the same query on the same store)");
}

void put_length(Bytes& out, std::size_t n, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
}

void put_string(Bytes& out, std::string_view s, int length_bytes) {
  put_length(out, s.size(), length_bytes);
  out.insert(out.end(), s.begin(), s.end());
}

// What the MAC covers besides the row's key: the filter (each of account,
// app and status absent, or present with its length and bytes), so a
// cursor is refused by a query with other filters, where its key would
// mean another position.
Bytes filter_bytes(const store::PageFilter& f) {
  Bytes out;
  for (const auto* v : {&f.account, &f.app, &f.status}) {
    out.push_back(v->has_value() ? 1 : 0);
    if (*v) put_string(out, **v, 2);
  }
  return out;
}

std::array<std::uint8_t, kMacBytes> mac(const CursorKey& key, const store::PageFilter& f,
                                        std::span<const std::uint8_t> payload) {
  static constexpr std::string_view kDomain = "refold page cursor v1";
  const Bytes filter = filter_bytes(f);
  crypto_generichash_state st;
  crypto_generichash_init(&st, key.data(), key.size(), kMacBytes);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(kDomain.data()), kDomain.size());
  crypto_generichash_update(&st, filter.data(), filter.size());
  crypto_generichash_update(&st, payload.data(), payload.size());
  std::array<std::uint8_t, kMacBytes> out{};
  crypto_generichash_final(&st, out.data(), out.size());
  return out;
}

std::string to_base64url(std::span<const std::uint8_t> bin) {
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(bin.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), bin.data(), bin.size(), kVariant);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

// Reads the fields a cursor's payload holds, in order; each fails on
// running past the end.
class PayloadReader {
 public:
  explicit PayloadReader(std::span<const std::uint8_t> p) : p_(p) {}
  std::size_t length(int bytes) {
    std::size_t n = 0;
    for (int i = 0; i < bytes; ++i) n = (n << 8) | byte();
    return n;
  }
  std::uint8_t byte() {
    if (pos_ >= p_.size()) bad_cursor();
    return p_[pos_++];
  }
  std::string string(int length_bytes) {
    const std::size_t n = length(length_bytes);
    if (n == 0 || n > p_.size() - pos_) bad_cursor();
    std::string s(reinterpret_cast<const char*>(p_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  bool done() const { return pos_ == p_.size(); }

 private:
  std::span<const std::uint8_t> p_;
  std::size_t pos_ = 0;
};

// The key a cursor holds, once its MAC proves `key` made it for `f`.
store::ConnectionId open_cursor(std::string_view text, const store::PageFilter& f,
                                const CursorKey& key) {
  constexpr int kVariant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  if (text.empty() || text.size() > kMaxCursorChars) bad_cursor();
  Bytes bin(text.size());
  std::size_t len = 0;
  if (sodium_base642bin(bin.data(), bin.size(), text.data(), text.size(), nullptr, &len, nullptr,
                        kVariant) != 0)
    bad_cursor();
  bin.resize(len);
  // One spelling per cursor: nothing but what to_base64url writes.
  if (len <= kMacBytes || to_base64url(bin) != text) bad_cursor();
  const std::span<const std::uint8_t> payload(bin.data(), len - kMacBytes);
  const auto expected = mac(key, f, payload);
  if (crypto_verify_16(expected.data(), bin.data() + payload.size()) != 0) bad_cursor();

  PayloadReader r(payload);
  if (r.byte() != kCursorVersion) bad_cursor();
  store::ConnectionId id;
  id.account = r.string(2);
  id.app = r.string(1);
  id.auth_type = r.string(1);
  if (!r.done()) bad_cursor();
  return id;
}

// Names an unknown key when it looks like one (short, plain characters);
// anything else may be a value pasted in the wrong place, so only its
// length is said.
[[noreturn]] void unknown_key(std::string_view k) {
  bool plain = !k.empty() && k.size() <= 32;
  for (char ch : k)
    plain = plain && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.');
  const std::string which =
      plain ? "'" + std::string(k) + "' is not a known key"
            : "a key of " + std::to_string(k.size()) + " bytes is not a known key";
  fail(REFOLD_EINVALID, "query: " + which + " (account, app, status, limit, cursor)");
}

}  // namespace

CursorKey cursor_key(std::span<const std::uint8_t> store_id) {
  static constexpr std::string_view kContext = "refold page cursor key";
  CursorKey key{};
  crypto_generichash(key.data(), key.size(), reinterpret_cast<const unsigned char*>(kContext.data()),
                     kContext.size(), store_id.data(), store_id.size());
  return key;
}

store::PageFilter parse_page_query(const char* json_text, const CursorKey& key) {
  store::PageFilter f;
  f.limit = kDefaultPageLimit;
  if (!json_text) return f;
  const std::string_view text(json_text);
  if (text.size() > kMaxQueryBytes)
    fail(REFOLD_EINVALID, "query is longer than " + std::to_string(kMaxQueryBytes) + " bytes");
  const bj::value doc = json::parse(text, "query");
  if (!doc.is_object()) fail(REFOLD_EINVALID, "query must be a JSON object");
  const bj::object& o = doc.get_object();
  for (const auto& kv : o) {
    const std::string_view k(kv.key().data(), kv.key().size());
    if (k != "account" && k != "app" && k != "status" && k != "limit" && k != "cursor")
      unknown_key(k);
  }
  json::Reader r(o, "query");

  if (auto account = r.str("account")) {
    // check_account reads a C string: an escaped NUL would end it early.
    if (account->find('\0') != std::string::npos) r.bad("account", "contains a control character");
    try {
      text::check_account(account->c_str());
    } catch (const Error& e) {
      fail(REFOLD_EINVALID, std::string("query: ") + e.what());
    }
    f.account = std::move(account);
  }
  if (auto app = r.str("app")) {
    if (!text::is_slug(*app))
      r.bad("app", "is not a valid app slug (lower-case letters, digits, '-' and '_')");
    f.app = std::move(app);
  }
  if (auto status = r.str("status")) {
    if (*status != "active" && *status != "reauth_required")
      r.bad("status", "must be 'active' or 'reauth_required'");
    f.status = std::move(status);
  }
  if (auto limit = r.integer("limit", 1, static_cast<std::int64_t>(kMaxPageLimit)))
    f.limit = static_cast<std::size_t>(*limit);
  if (const bj::value* cursor = o.if_contains("cursor")) {
    if (!cursor->is_string()) r.bad("cursor", "must be a string");
    const auto& s = cursor->get_string();
    f.after = open_cursor(std::string_view(s.data(), s.size()), f, key);
  }
  return f;
}

std::string make_cursor(const store::PageFilter& filter, const store::ConnectionId& last,
                        const CursorKey& key) {
  Bytes bin;
  bin.push_back(kCursorVersion);
  put_string(bin, last.account, 2);
  put_string(bin, last.app, 1);
  put_string(bin, last.auth_type, 1);
  const auto tag = mac(key, filter, bin);
  bin.insert(bin.end(), tag.begin(), tag.end());
  return to_base64url(bin);
}

}  // namespace refold::core
