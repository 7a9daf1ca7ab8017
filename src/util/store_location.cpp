#include "util/store_location.hpp"

#include <cctype>

#include "util/error.hpp"

namespace refold::store_location {

namespace {

// RFC 3986 scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://".
std::string_view scheme_of(std::string_view s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return {};
  std::size_t i = 1;
  while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '+' ||
                          s[i] == '-' || s[i] == '.'))
    ++i;
  if (s.substr(i, 3) != "://") return {};
  return s.substr(0, i);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    int hi = 0, lo = 0;
    if (s[i] == '%' && i + 2 < s.size() &&
        (hi = hex_digit(s[i + 1])) >= 0 && (lo = hex_digit(s[i + 2])) >= 0) {
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Removes the password parameter from a query string (its key as libpq
// reads it: percent-decoded), keeping the other parameters.
std::string without_password_param(std::string_view query, std::string& password, std::string& raw) {
  std::string out;
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t amp = query.find('&', start);
    std::string_view param = query.substr(start, amp == std::string_view::npos ? amp : amp - start);
    const std::size_t eq = param.find('=');
    if (lower(percent_decode(param.substr(0, eq))) == "password") {
      raw = eq == std::string_view::npos ? "" : std::string(param.substr(eq + 1));
      password = percent_decode(raw);
    } else if (!param.empty()) {
      if (!out.empty()) out += '&';
      out += param;
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return out;
}

}  // namespace

Location parse(std::string_view store) {
  Location loc;
  loc.target = std::string(store);
  const std::string_view scheme = scheme_of(store);
  if (scheme.empty()) {
    loc.shown = loc.target;
    return loc;
  }
  const std::string name = lower(scheme);
  if (name != "postgresql" && name != "postgres")
    fail(REFOLD_EINVALID, "config: 'store' names the scheme '" + std::string(scheme) +
                              "://', which refold does not support: give a file path for a SQLite "
                              "store, or a postgresql:// URI");
  loc.kind = Kind::postgresql;
  // scheme://[user[:password]@]host[:port][,...][/db][?params]. As libpq
  // reads it, the user information ends at the first '@' before the first
  // '/'. A URI it would read otherwise than it looks (a second '@', an '@'
  // after a '/', a '?' or '#' inside the user information) is refused,
  // naming no part of it: libpq would take part of the password for a
  // host, a port or a database and quote it in its message.
  std::string_view rest = store.substr(scheme.size() + 3);
  const std::string_view head = rest.substr(0, rest.find('/'));
  const std::size_t at = head.find('@');
  const bool two_ats = at != std::string_view::npos && head.find('@', at + 1) != std::string_view::npos;
  const bool odd_userinfo = at != std::string_view::npos && head.substr(0, at).find_first_of("?#") != std::string_view::npos;
  const std::size_t slash = rest.find('/');
  const bool at_after_slash =
      slash != std::string_view::npos && rest.substr(slash, rest.find('?', slash) - slash).find('@') != std::string_view::npos;
  if (two_ats || odd_userinfo || at_after_slash)
    fail(REFOLD_EINVALID,
         "config: 'store': the PostgreSQL URI's user or password holds '@', '/', '?' or '#' unencoded; "
         "percent-encode them (%40, %2F, %3F, %23), or give the password in ~/.pgpass or PGPASSWORD");
  const std::size_t host_from = at == std::string_view::npos ? 0 : at + 1;
  const std::size_t authority_end = rest.find_first_of("/?#", host_from);
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view tail = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  std::string shown_authority(authority);
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    if (const std::size_t colon = userinfo.find(':'); colon != std::string_view::npos) {
      loc.password_raw = std::string(userinfo.substr(colon + 1));
      loc.password = percent_decode(loc.password_raw);
      shown_authority = std::string(userinfo.substr(0, colon)) + std::string(authority.substr(at));
    }
  }
  std::string shown_tail(tail);
  if (const std::size_t q = tail.find('?'); q != std::string_view::npos) {
    std::string query_password, query_raw;
    std::string kept = without_password_param(tail.substr(q + 1), query_password, query_raw);
    if (!query_password.empty()) {
      loc.password = query_password;
      loc.password_raw = query_raw;
    }
    shown_tail = std::string(tail.substr(0, q)) + (kept.empty() ? "" : "?" + kept);
  }
  loc.shown = std::string(scheme) + "://" + shown_authority + shown_tail;
  return loc;
}

std::string scrub(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  for (std::size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3))
    text.replace(at, secret.size(), "***");
  return text;
}

}  // namespace refold::store_location
