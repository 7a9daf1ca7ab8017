// URLs and the form/query encodings (http/url.hpp). The whole input is tried
// as a URL, as a query and as percent-encoded text, and encoded as a
// form value.
#include "check.hpp"
#include "http/url.hpp"

using namespace refold;

namespace {

bool is_unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

bool same(const http::Url& a, const http::Url& b) {
  return a.scheme == b.scheme && a.host == b.host && a.port == b.port && a.target == b.target;
}

void check_url(std::string_view text) {
  http::Url u;
  try {
    u = http::parse_url(text);
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == REFOLD_EINVALID);
    // Errors describe the URL in words; it may carry a secret in its query.
    FUZZ_CHECK(std::string_view(e.what()).starts_with("invalid URL: "));
    FUZZ_CHECK(!fuzz::contains(e.what(), "PLANTED"));
    return;
  }
  FUZZ_CHECK(u.scheme == "https" || u.scheme == "http");
  FUZZ_CHECK(!u.host.empty());
  for (char c : u.host) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
  FUZZ_CHECK(!u.port.empty() && u.port.size() <= 5 && u.port.front() != '0');
  int port = std::stoi(u.port);
  FUZZ_CHECK(port >= 1 && port <= 65535);
  FUZZ_CHECK(!u.target.empty() && u.target.view().front() == '/');
  for (char c : u.target) {
    auto b = static_cast<unsigned char>(c);
    FUZZ_CHECK(b > 0x20 && b < 0x7F && c != '#');
  }
  // What the client builds from a URL parses back to the same URL.
  http::Url again = http::parse_url(u.origin() + std::string(u.target.view()));
  FUZZ_CHECK(same(u, again));
  http::Url bare = http::parse_url(u.scheme + "://" + u.authority() + std::string(u.target.view()));
  FUZZ_CHECK(same(u, bare));
  std::string redacted = u.redacted();
  FUZZ_CHECK(!fuzz::contains(redacted, "?"));
  http::Url r = http::parse_url(redacted);
  FUZZ_CHECK(r.host == u.host && r.port == u.port);
  FUZZ_CHECK(u.target.starts_with(r.target));
  // Loopback hosts are exactly the ones http:// is allowed for.
  bool loopback = http::is_loopback_host(u.host);
  try {
    http::require_secure(u);
    FUZZ_CHECK(u.tls() || loopback);
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == REFOLD_EINVALID && !u.tls() && !loopback);
    FUZZ_CHECK(!fuzz::contains(e.what(), "?"));
  }
}

void check_query(std::string_view text) {
  http::Params p;
  try {
    p = http::parse_query(text);
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == REFOLD_EINVALID);
    FUZZ_CHECK(!fuzz::contains(e.what(), "PLANTED"));
    return;
  }
  std::string encoded(http::form_encode(p).view());
  for (char c : encoded) FUZZ_CHECK(is_unreserved(c) || c == '%' || c == '=' || c == '&');
  // encode(decode(x)) decodes back to the same pairs, in order.
  http::Params back = http::parse_query(encoded);
  FUZZ_CHECK(back == p);
  FUZZ_CHECK(http::form_encode(back) == encoded);
}

void check_decode(std::string_view text, bool plus_as_space) {
  std::string d;
  try {
    d = http::percent_decode(text, plus_as_space).view();
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == REFOLD_EINVALID);
    return;
  }
  FUZZ_CHECK(d.size() <= text.size());
  FUZZ_CHECK(http::percent_decode(http::form_encode({{"k", d}}).view().substr(2)) == d);
}

void run(const std::uint8_t* data, std::size_t size) {
  std::string_view text = fuzz::as_text(data, size);
  check_url(text);
  check_query(text);
  check_decode(text, false);
  check_decode(text, true);
  // Any bytes survive form encoding, as key and as value.
  std::string s(text);
  std::string enc(http::form_encode({{s, s}}).view());
  http::Params back = http::parse_query(enc);
  if (s.empty()) {
    FUZZ_CHECK(back.size() == 1 && back[0].first.empty() && back[0].second.empty());
  } else {
    FUZZ_CHECK(back.size() == 1 && back[0].first == s && back[0].second == s);
  }
  (void)http::is_loopback_host(text);
}

}  // namespace

FUZZ_ENTRY(run)
