#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "http/url.hpp"
#include "failure.hpp"
#include "util/error.hpp"

using refold::http::Url;

using refold_unit::contains;
using refold_unit::Failure;
using refold_unit::failure_of;

namespace {


}  // namespace

TEST_CASE("http url: well-formed URLs are split and normalised") {
  Url u = refold::http::parse_url("HTTPS://Example.COM/a/b?x=1&y=2#frag");
  CHECK(u.scheme == "https");
  CHECK(u.host == "example.com");
  CHECK(u.port == "443");
  CHECK(u.target == "/a/b?x=1&y=2");
  CHECK(u.tls());
  CHECK(u.origin() == "https://example.com:443");
  CHECK(u.authority() == "example.com");
  CHECK(u.redacted() == "https://example.com/a/b");

  Url p = refold::http::parse_url("http://127.0.0.1:8080");
  CHECK_FALSE(p.tls());
  CHECK(p.port == "8080");
  CHECK(p.target == "/");
  CHECK(p.authority() == "127.0.0.1:8080");
  CHECK(p.redacted() == "http://127.0.0.1:8080/");

  Url q = refold::http::parse_url("https://example.com?code=abc");
  CHECK(q.target == "/?code=abc");
  CHECK(q.redacted() == "https://example.com/");

  Url v6 = refold::http::parse_url("http://[::1]:9000/cb");
  CHECK(v6.host == "::1");
  CHECK(v6.origin() == "http://[::1]:9000");
  CHECK(v6.authority() == "[::1]:9000");

  CHECK(refold::http::parse_url("https://example.com:443/").authority() == "example.com");
  CHECK(refold::http::parse_url("https://example.com:0443/").port == "443");
  CHECK(refold::http::parse_url("https://a.example/p%20q").target == "/p%20q");
}

TEST_CASE("http url: malformed URLs are rejected without quoting them") {
  const char* bad[] = {
      "",
      "example.com/path",
      "://example.com/",
      "ftp://example.com/",
      "https://",
      "https:///path",
      "https://user:SECRET@example.com/",
      "https://example.com:0/",
      "https://example.com:65536/",
      "https://example.com:12ab/",
      "https://example.com:/",
      "https://exa mple.com/",
      "https://example.com/a b?code=SECRET",
      "https://example.com/\x01?code=SECRET",
      "https://example.com/a\x7f",
      "https://example.com/caf\xc3\xa9",
      "https://[::1/",
      "https://[not-v6]/",
      "https://[::1]x/",
      "https://ex%41mple.com/",
      "https://example.com/%zz?code=SECRET",
      "https://example.com/%4",
      "https://.example.com/",
  };
  for (const char* text : bad) {
    CAPTURE(text);
    auto f = failure_of([&] { refold::http::parse_url(text); });
    CHECK(f.code == REFOLD_EINVALID);
    CHECK_FALSE(contains(f.message, "SECRET"));
  }
}

TEST_CASE("http url: loopback hosts and the plain http rule") {
  for (const char* host : {"127.0.0.1", "127.255.3.4", "localhost", "LocalHost", "::1", "0:0:0:0:0:0:0:1",
                           "acme.localhost", "a.b.LOCALHOST"}) {
    CAPTURE(host);
    CHECK(refold::http::is_loopback_host(host));
  }
  for (const char* host : {"128.0.0.1", "127.0.0", "127.0.0.1.5", "127.0.0.256", "0177.0.0.1", "127.1",
                           "127.0.0.1.evil.com", "localhost.evil.com", "::2", "example.com", "",
                           ".localhost", "evillocalhost", "localhost.", "acme.localhost.evil.com"}) {
    CAPTURE(host);
    CHECK_FALSE(refold::http::is_loopback_host(host));
  }
  using refold::http::parse_url;
  using refold::http::require_secure;
  CHECK_NOTHROW(require_secure(parse_url("https://example.com/")));
  CHECK_NOTHROW(require_secure(parse_url("http://127.0.0.1:1234/")));
  CHECK_NOTHROW(require_secure(parse_url("http://localhost/")));
  CHECK_NOTHROW(require_secure(parse_url("http://[::1]:80/")));
  auto f = failure_of([] { require_secure(parse_url("http://example.com/token?code=SECRET")); });
  CHECK(f.code == REFOLD_EINVALID);
  CHECK(contains(f.message, "http:// is only allowed for loopback hosts"));
  CHECK_FALSE(contains(f.message, "SECRET"));
  CHECK(failure_of([] { require_secure(parse_url("http://127.0.0.1.nip.io/")); }).code == REFOLD_EINVALID);
}

TEST_CASE("http url: which addresses are public") {
  for (const char* a : {"8.8.8.8", "1.1.1.1", "93.184.216.34", "172.32.0.1", "100.128.0.1", "2606:4700::1111",
                        "2a00:1450:4001::1", "2002:808:808::1"}) {
    CAPTURE(a);
    CHECK(refold::http::is_public_ip(a));
  }
  for (const char* a : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254",
                        "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "198.18.0.1", "192.0.2.1",
                        "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "::ffff:127.0.0.1",
                        "::ffff:10.0.0.1", "2001:db8::1", "64:ff9b::a00:1", "2002:7f00:1::1", "2002:a00:1::",
                        "2001:0:53aa:64c::1", "3fff::1", "192.88.99.1", "localhost", "example.com", ""}) {
    CAPTURE(a);
    CHECK_FALSE(refold::http::is_public_ip(a));
  }
}

TEST_CASE("http form encoding keeps unreserved bytes and escapes the rest") {
  using refold::http::form_encode;
  CHECK(form_encode({{"grant_type", "authorization_code"}, {"code", "a.b_c-d~e"}}) ==
        "grant_type=authorization_code&code=a.b_c-d~e");
  CHECK(form_encode({{"scope", "read write"}}) == "scope=read%20write");
  CHECK(form_encode({{"a+b", "x&y=z/?#%"}}) == "a%2Bb=x%26y%3Dz%2F%3F%23%25");
  CHECK(form_encode({{"name", "caf\xc3\xa9"}}) == "name=caf%C3%A9");
  CHECK(form_encode({{"empty", ""}, {"k", "v"}}) == "empty=&k=v");
  CHECK(form_encode(refold::http::Params{}) == "");
  refold::http::Params params{{"b", "2"}, {"a", "1"}, {"b", "3"}};
  CHECK(form_encode(params) == "b=2&a=1&b=3");
}

TEST_CASE("http query parsing keeps order and duplicates and rejects bad escapes") {
  using refold::http::parse_query;
  using refold::http::Params;
  CHECK(parse_query("?code=abc&state=x%2By&state=z") == Params{{"code", "abc"}, {"state", "x+y"}, {"state", "z"}});
  CHECK(parse_query("a=1&&b=&c") == Params{{"a", "1"}, {"b", ""}, {"c", ""}});
  CHECK(parse_query("msg=hello+world%21") == Params{{"msg", "hello world!"}});
  CHECK(parse_query("k=a=b") == Params{{"k", "a=b"}});
  CHECK(parse_query("").empty());
  CHECK(parse_query("?").empty());
  for (const char* bad : {"a=%", "a=%4", "a=%zz", "%g1=1", "a=1&b=%2"}) {
    CAPTURE(bad);
    CHECK(failure_of([&] { parse_query(bad); }).code == REFOLD_EINVALID);
  }
  Params round{{"scope", "read write"}, {"redirect_uri", "http://127.0.0.1:9/cb?x=1&y=2"}, {"e", "caf\xc3\xa9+"}};
  CHECK(parse_query(refold::http::form_encode(round)) == round);
  CHECK(refold::http::percent_decode("a+b%20c") == "a+b c");
  CHECK(refold::http::percent_decode("a+b", true) == "a b");
  CHECK(refold::http::percent_decode("%e2%82%AC") == "\xe2\x82\xac");
}

