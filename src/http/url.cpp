#include "http/url.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "util/error.hpp"

namespace refold::http {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_unreserved(char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  return out;
}

// The URL may carry a secret in its query, so errors describe it in words.
[[noreturn]] void bad_url(const std::string& why) { fail(REFOLD_EINVALID, "invalid URL: " + why); }

bool is_ipv6(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// A DNS name or dotted quad: letters, digits, '-', '.', '_' (seen in real
// internal names). Anything fancier (percent-encoded or IDN hosts) must come
// already converted to its ASCII form.
bool is_reg_name(std::string_view host) {
  return !host.empty() && host.front() != '.' && host.front() != '-' &&
         std::all_of(host.begin(), host.end(),
                     [](char c) { return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_'; });
}

std::string default_port(std::string_view scheme) { return scheme == "https" ? "443" : "80"; }

// Bytes that cannot appear raw in a request target; '#' is cut off before.
void check_target(std::string_view target) {
  for (std::size_t i = 0; i < target.size(); ++i) {
    auto c = static_cast<unsigned char>(target[i]);
    if (c == ' ') bad_url("contains a space");
    if (c < 0x20 || c == 0x7F) bad_url("contains a control character");
    if (c >= 0x80) bad_url("contains a non-ASCII byte (percent-encode it)");
    if (c == '%' && (i + 2 >= target.size() || hex_value(target[i + 1]) < 0 || hex_value(target[i + 2]) < 0))
      bad_url("contains a malformed percent escape");
  }
}

}  // namespace

std::string Url::origin() const {
  return scheme + "://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
}

std::string Url::authority() const {
  std::string a = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != default_port(scheme)) a += ":" + port;
  return a;
}

std::string Url::redacted() const {
  std::string_view path = target.view().substr(0, target.find('?'));
  return scheme + "://" + authority() + std::string(path);
}

Url parse_url(std::string_view text) {
  if (text.empty()) bad_url("empty");
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c == ' ') bad_url("contains a space");
    if (c < 0x20 || c == 0x7F) bad_url("contains a control character");
  }
  auto colon = text.find("://");
  if (colon == std::string_view::npos || colon == 0) bad_url("no scheme (expected https:// or http://)");
  Url url;
  url.scheme = lower(text.substr(0, colon));
  if (url.scheme != "https" && url.scheme != "http") bad_url("unsupported scheme (expected https or http)");
  std::string_view rest = text.substr(colon + 3);

  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  std::string_view after = rest.substr(authority.size());
  if (authority.find('@') != std::string_view::npos) bad_url("user info (user:password@) is not allowed");

  std::string_view host, port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) bad_url("unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    std::string_view tail = authority.substr(close + 1);
    if (!tail.empty() && tail.front() != ':') bad_url("unexpected characters after the IPv6 address");
    if (!tail.empty()) port = tail.substr(1);
    if (host.empty() || !is_ipv6(std::string(host))) bad_url("invalid IPv6 address");
    if (!tail.empty() && port.empty()) bad_url("empty port");
  } else {
    auto c = authority.find(':');
    host = authority.substr(0, c);
    if (c != std::string_view::npos) {
      port = authority.substr(c + 1);
      if (port.empty()) bad_url("empty port");
    }
    if (host.empty()) bad_url("empty host");
    if (!is_reg_name(host)) bad_url("invalid host name");
  }
  url.host = lower(host);

  if (!port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), is_digit)) bad_url("bad port");
    int n = std::stoi(std::string(port));
    if (n < 1 || n > 65535) bad_url("bad port");
    url.port = std::to_string(n);
  } else {
    url.port = default_port(url.scheme);
  }

  after = after.substr(0, after.find('#'));
  check_target(after);
  if (after.empty() || after.front() == '?') url.target = "/";
  url.target += after;
  return url;
}

bool is_loopback_host(std::string_view host) {
  std::string name = lower(host);
  if (name == "localhost" || (name.size() > 10 && name.ends_with(".localhost"))) return true;
  if (host.find(':') != std::string_view::npos) {
    in6_addr a{};
    return inet_pton(AF_INET6, std::string(host).c_str(), &a) == 1 &&
           std::memcmp(&a, &in6addr_loopback, sizeof a) == 0;
  }
  // Strict dotted quad: inet_aton would also take "127.1" or octal "0177.0.0.1".
  int parts = 0;
  int first = -1;
  std::size_t i = 0;
  while (true) {
    std::size_t j = host.find('.', i);
    std::string_view part = host.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i);
    if (part.empty() || part.size() > 3 || !std::all_of(part.begin(), part.end(), is_digit)) return false;
    if (part.size() > 1 && part.front() == '0') return false;
    int v = std::stoi(std::string(part));
    if (v > 255) return false;
    if (first < 0) first = v;
    ++parts;
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  return parts == 4 && first == 127;
}

namespace {

bool public_v4(const std::uint8_t* b) {
  auto in = [&](std::uint8_t first, int bits, std::uint8_t second = 0) {
    std::uint32_t a = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16);
    std::uint32_t net = (std::uint32_t{first} << 24) | (std::uint32_t{second} << 16);
    std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
    return (a & mask) == (net & mask);
  };
  if (in(0, 8) || in(10, 8) || in(127, 8) || in(100, 10, 64) || in(169, 16, 254) || in(172, 12, 16) ||
      in(192, 16, 168) || in(198, 15, 18) || b[0] >= 224)
    return false;
  // 192.0.0.0/24 (protocol assignments) and the documentation networks.
  if (b[0] == 192 && b[1] == 0 && (b[2] == 0 || b[2] == 2)) return false;
  if ((b[0] == 198 && b[1] == 51 && b[2] == 100) || (b[0] == 203 && b[1] == 0 && b[2] == 113)) return false;
  if (b[0] == 192 && b[1] == 88 && b[2] == 99) return false;  // the former 6to4 relay anycast
  return true;
}

}  // namespace

bool is_public_ip(std::string_view address) {
  std::string text(address);
  std::uint8_t b[16];
  if (inet_pton(AF_INET, text.c_str(), b) == 1) return public_v4(b);
  if (inet_pton(AF_INET6, text.c_str(), b) != 1) return false;
  static const std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, kMapped, 12) == 0) return public_v4(b + 12);
  // Global unicast is 2000::/3; everything else (loopback, unspecified,
  // ULA, link- and site-local, multicast, NAT64 and other embeddings) is not
  // a destination a tenant's name may lead to. 2001:db8::/32 is for docs.
  if ((b[0] & 0xe0) != 0x20) return false;
  // 2001::/23 (IETF protocol assignments, Teredo among them) and
  // 2001:db8::/32 (documentation).
  if (b[0] == 0x20 && b[1] == 0x01 && (b[2] & 0xfe) == 0) return false;
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return false;
  // 6to4 (2002::/16) carries an IPv4 address: judged by that.
  if (b[0] == 0x20 && b[1] == 0x02) return public_v4(b + 2);
  // 3fff::/20, documentation.
  if (b[0] == 0x3f && b[1] == 0xff && (b[2] & 0xf0) == 0) return false;
  return true;
}

void require_secure(const Url& url) {
  if (!url.tls() && !is_loopback_host(url.host))
    fail(REFOLD_EINVALID, url.redacted() + ": http:// is only allowed for loopback hosts; use https://");
}

namespace {

void append_encoded(crypto::SecretString& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : s) {
    if (is_unreserved(c)) {
      out += c;
    } else {
      auto b = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[b >> 4];
      out += kHex[b & 0x0F];
    }
  }
}

template <class Range>
crypto::SecretString encode_pairs(const Range& params) {
  crypto::SecretString out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    append_encoded(out, k);
    out += '=';
    append_encoded(out, std::string_view(v));
  }
  return out;
}

}  // namespace

crypto::SecretString form_encode(const Params& params) { return encode_pairs(params); }

crypto::SecretString form_encode(std::initializer_list<std::pair<std::string_view, std::string_view>> params) {
  return encode_pairs(params);
}

crypto::SecretString percent_decode(std::string_view text, bool plus_as_space) {
  crypto::SecretString out;
  out.str().reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      int hi = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
      int lo = hi >= 0 ? hex_value(text[i + 2]) : -1;
      if (lo < 0) fail(REFOLD_EINVALID, "malformed percent escape (expected % and two hex digits)");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += plus_as_space && c == '+' ? ' ' : c;
    }
  }
  return out;
}

Params parse_query(std::string_view query) {
  if (!query.empty() && query.front() == '?') query.remove_prefix(1);
  Params out;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    std::string_view key = part.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view{} : part.substr(eq + 1);
    out.emplace_back(std::string(percent_decode(key, true).view()), percent_decode(value, true));
  }
  return out;
}

}  // namespace refold::http
