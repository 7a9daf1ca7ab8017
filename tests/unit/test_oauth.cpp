#include <doctest/doctest.h>

#include "catalog/catalog.hpp"
#include "failure.hpp"
#include "oauth/pkce.hpp"
#include "oauth/refresh.hpp"
#include "oauth/token_response.hpp"
#include "util/error.hpp"
#include "util/json.hpp"

using namespace refold;

namespace {

catalog::App app_with(const char* extra_oauth = "") {
  std::string def = std::string(R"({"slug":"prov","name":"Prov","auth_types":["oauth2"],"oauth2":{
      "authorization_endpoint":"https://p.example/a","token_endpoint":"https://p.example/t",
      "scopes":["a","b"],"scope_separator":",")") + extra_oauth + "}}";
  return catalog::parse_app(json::parse(def, "test"), "test");
}

int code_of(const std::function<void()>& f) { return refold_unit::failure_of(f).code; }

}  // namespace

TEST_CASE("pkce: the RFC 7636 appendix B vector") {
  CHECK(oauth::s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") ==
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST_CASE("pkce: verifiers and states are long random base64url") {
  crypto::SecretString v1 = oauth::make_verifier(), v2 = oauth::make_verifier();
  CHECK(v1.size() == 43);  // RFC 7636: 43..128 characters
  CHECK(v1 != v2);
  for (char c : v1) CHECK((std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'));
  CHECK(oauth::make_state().size() == 43);  // 256 bits
}

TEST_CASE("token response: quirks real providers have") {
  auto app = app_with();
  const Millis now = 1'000'000;
  auto parse = [&](const char* body) {
    return oauth::parse_token_response(200, body, app, {"a", "b"}, now, {});
  };
  auto t = parse(R"({"access_token":"at","token_type":"bearer","expires_in":"3600","scope":"a,c","x":1})");
  CHECK(t.token_type == "Bearer");
  CHECK(t.expires_at == now + 3600 * 1000);
  CHECK(t.scopes == std::vector<std::string>{"a", "c"});
  CHECK_FALSE(t.refresh_token);

  // Absent, zero, negative or garbage lifetimes record no expiry.
  for (const char* e : {"", R"(,"expires_in":0)", R"(,"expires_in":-5)", R"(,"expires_in":"soon")"}) {
    CAPTURE(e);
    auto u = parse((std::string(R"({"access_token":"at","token_type":"Bearer")") + e + "}").c_str());
    CHECK_FALSE(u.expires_at);
  }
  // Huge lifetimes are clamped, not overflowed.
  auto h = parse(R"({"access_token":"at","expires_in":1e300})");
  CHECK(h.expires_at == now + oauth::kMaxLifetime);
  // Omitted scope means as requested; a refresh token is kept.
  auto r = parse(R"({"access_token":"at","refresh_token":"rt"})");
  CHECK(r.scopes == std::vector<std::string>{"a", "b"});
  CHECK(r.refresh_token == "rt");
}

TEST_CASE("token response: an app's default lifetime stands in for a missing expires_in") {
  auto app = app_with(R"(,"default_expires_in":7200)");
  REQUIRE(app.oauth2->default_lifetime_ms == 7200 * 1000);
  const Millis now = 1'000'000;
  auto parse = [&](const char* body) { return oauth::parse_token_response(200, body, app, {}, now, {}); };
  CHECK(parse(R"({"access_token":"at"})").expires_at == now + 7200 * 1000);
  CHECK(parse(R"({"access_token":"at","expires_in":"soon"})").expires_at == now + 7200 * 1000);
  CHECK(parse(R"({"access_token":"at","expires_in":60})").expires_at == now + 60 * 1000);  // the response wins

  for (const char* bad : {R"(,"default_expires_in":0)", R"(,"default_expires_in":"1h")",
                          R"(,"default_expires_in":1.5)", R"(,"default_expires_in":400000000)"}) {
    CAPTURE(bad);
    auto f = refold_unit::failure_of([&] { app_with(bad); });
    CHECK(f.code == REFOLD_EINVALID);
    CHECK(f.message.find("'default_expires_in'") != std::string::npos);
    CHECK(f.message.find("prov") != std::string::npos);
  }
}

TEST_CASE("token response: a refresh token's lifetime, from the answer or the app's default") {
  const Millis now = 1'000'000;
  auto parse = [&](const catalog::App& app, const char* body) {
    return oauth::parse_token_response(200, body, app, {}, now, {});
  };
  auto plain = app_with();
  CHECK(parse(plain, R"({"access_token":"at","refresh_token":"rt","refresh_token_expires_in":600})")
            .refresh_expires_at == now + 600 * 1000);
  CHECK(parse(plain, R"({"access_token":"at","refresh_token":"rt","refresh_token_expires_in":"600"})")
            .refresh_expires_at == now + 600 * 1000);
  CHECK_FALSE(parse(plain, R"({"access_token":"at","refresh_token":"rt"})").refresh_expires_at);
  // Without a refresh token there is nothing to expire.
  CHECK_FALSE(parse(plain, R"({"access_token":"at","refresh_token_expires_in":600})").refresh_expires_at);

  auto qbo = app_with(R"(,"refresh_token_expires_in_key":"x_refresh_token_expires_in",
                         "default_refresh_token_expires_in":100)");
  CHECK(parse(qbo, R"({"access_token":"at","refresh_token":"rt","x_refresh_token_expires_in":8726400})")
            .refresh_expires_at == now + 8726400LL * 1000);
  // Another member is not read; the default stands in, also for garbage.
  CHECK(parse(qbo, R"({"access_token":"at","refresh_token":"rt","refresh_token_expires_in":600})")
            .refresh_expires_at == now + 100 * 1000);
  CHECK(parse(qbo, R"({"access_token":"at","refresh_token":"rt","x_refresh_token_expires_in":"soon"})")
            .refresh_expires_at == now + 100 * 1000);

  // "never" is the same as no default lifetime, said.
  auto never = app_with(R"(,"default_expires_in":"never")");
  CHECK(never.oauth2->never_expires);
  CHECK_FALSE(never.oauth2->default_lifetime_ms);
  CHECK_FALSE(parse(never, R"({"access_token":"at"})").expires_at);
  CHECK(parse(never, R"({"access_token":"at","expires_in":60})").expires_at == now + 60 * 1000);

  for (const char* bad : {R"(,"refresh_token_expires_in_key":"a.b")", R"(,"refresh_token_expires_in_key":"")",
                          R"(,"refresh_token_expires_in_key":7)", R"(,"default_refresh_token_expires_in":0)",
                          R"(,"default_refresh_token_expires_in":"60d")", R"(,"default_expires_in":"forever")"}) {
    CAPTURE(bad);
    auto f = refold_unit::failure_of([&] { app_with(bad); });
    CHECK(f.code == REFOLD_EINVALID);
    CHECK(f.message.find("prov") != std::string::npos);
  }
}

TEST_CASE("token response: a nested token object by path") {
  auto app = app_with(R"(,"token_path":"authed_user")");
  auto t = oauth::parse_token_response(
      200, R"({"ok":true,"access_token":"bot","authed_user":{"access_token":"user","token_type":"bearer","scope":"x"}})",
      app, {}, 0, {});
  CHECK(t.access_token == "user");
  CHECK(t.scopes == std::vector<std::string>{"x"});
}

TEST_CASE("token response: errors are classified and never echo secrets") {
  auto app = app_with();
  auto fail_code = [&](int status, const char* body) {
    return code_of([&] { oauth::parse_token_response(status, body, app, {}, 0, {"sekret-code"}); });
  };
  CHECK(fail_code(400, R"({"error":"invalid_grant"})") == REFOLD_EAUTH);
  CHECK(fail_code(401, R"({"error":"invalid_client"})") == REFOLD_EAUTH);
  CHECK(fail_code(200, R"({"ok":false,"error":"invalid_code"})") == REFOLD_EPROVIDER);
  CHECK(fail_code(500, "<html>oops</html>") == REFOLD_EPROVIDER);
  CHECK(fail_code(200, "not json") == REFOLD_EPROVIDER);
  CHECK(fail_code(200, R"({"token_type":"Bearer"})") == REFOLD_EPROVIDER);
  try {
    oauth::parse_token_response(400, R"({"error":"invalid_grant","error_description":"code sekret-code is used"})",
                                app, {}, 0, {"sekret-code"});
  } catch (const Error& e) {
    std::string msg = e.what();
    CHECK(msg.find("sekret-code") == std::string::npos);
    CHECK(msg.find("invalid_grant") != std::string::npos);
    CHECK(msg.find("'prov'") != std::string::npos);
  }
}

TEST_CASE("refresh: Retry-After as delta-seconds or an HTTP-date") {
  const Millis now = 1445412480000;  // Wed, 21 Oct 2015 07:28:00 GMT
  CHECK(oauth::parse_retry_after("120", now) == 120000);
  CHECK(oauth::parse_retry_after(" 0 ", now) == 0);
  CHECK(oauth::parse_retry_after("Wed, 21 Oct 2015 07:29:30 GMT", now) == 90000);
  // A date in the past means now; absurd values are capped at a day.
  CHECK(oauth::parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now) == 0);
  CHECK(oauth::parse_retry_after("99999999", now) == 24LL * 3600 * 1000);
  CHECK_FALSE(oauth::parse_retry_after("", now).has_value());
  CHECK_FALSE(oauth::parse_retry_after("soon", now).has_value());
  CHECK_FALSE(oauth::parse_retry_after("12s", now).has_value());
  CHECK_FALSE(oauth::parse_retry_after("-5", now).has_value());
}
