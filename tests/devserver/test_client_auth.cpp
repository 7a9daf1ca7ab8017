// Client authentication at the token and revocation endpoints, revocation,
// and the protected resources (/api/me, /keys/verify).
#include <doctest/doctest.h>

#include "harness.hpp"

using namespace devtest;

namespace {

std::string error_of(const Response& r) { return std::string(r.json().at("error").as_string()); }

// A refresh request body without client credentials.
std::string refresh_body(const std::string& refresh_token) {
  return form({{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}});
}

}  // namespace

TEST_CASE("client_secret_basic: a secret with colon, plus, percent and e-acute works") {
  const std::string secret = "s:+%\xc3\xa9";  // s:+%é
  DevServer server({"--auto-approve", "--client", "odd-app:" + secret});
  Pkce pkce = make_pkce();
  Response a = server.get(authorize_target(pkce.challenge, "x", "read", "odd-app"));
  REQUIRE(a.status == 302);
  std::string code = query_of(a.header("Location"))["code"];
  Response t = server.post_form("/oauth/token",
                                form({{"grant_type", "authorization_code"},
                                      {"code", code},
                                      {"redirect_uri", kRedirect},
                                      {"code_verifier", pkce.verifier}}),
                                {{"Authorization", basic_auth("odd-app", secret)}});
  REQUIRE(t.status == 200);
  std::string rt = std::string(t.json().at("refresh_token").as_string());

  // RFC 6749 2.3.1 encodes before Base64; the raw secret is not the same
  // credential (here its '%' is not even valid percent-encoding).
  Response raw = server.post_form("/oauth/token", refresh_body(rt),
                                  {{"Authorization", "Basic " + base64("odd-app:" + secret)}});
  CHECK(raw.status == 401);
  CHECK(error_of(raw) == "invalid_client");

  // client_secret_post takes the same secret, form-encoded as any body value.
  Response post = server.post_form(
      "/oauth/token",
      refresh_body(rt) + "&" + form({{"client_id", "odd-app"}, {"client_secret", secret}}));
  CHECK(post.status == 200);
}

TEST_CASE("client_secret_post works and both methods at once are refused") {
  DevServer server({"--auto-approve"});
  Tokens t = obtain_tokens(server);
  Response both = server.post_form(
      "/oauth/token",
      refresh_body(t.refresh) + "&" + form({{"client_id", kClient}, {"client_secret", kSecret}}),
      basic_header());
  CHECK(both.status == 400);
  CHECK(error_of(both) == "invalid_request");
  Response post = server.post_form(
      "/oauth/token",
      refresh_body(t.refresh) + "&" + form({{"client_id", kClient}, {"client_secret", kSecret}}));
  CHECK(post.status == 200);
}

TEST_CASE("a wrong secret, an unknown client or no authentication gets 401 invalid_client") {
  DevServer server({"--auto-approve"});
  Tokens t = obtain_tokens(server);
  for (const Fields& headers : {basic_header(kClient, "wrong"), basic_header("nobody", kSecret),
                                Fields{}, Fields{{"Authorization", "Basic !!!"}}}) {
    Response r = server.post_form("/oauth/token", refresh_body(t.refresh), headers);
    CHECK(r.status == 401);
    CHECK(error_of(r) == "invalid_client");
    CHECK(r.header("WWW-Authenticate").find("Basic") == 0);
  }
  // The refresh token was never used by those attempts.
  CHECK(refresh(server, t.refresh).status == 200);
}

TEST_CASE("a client's tokens are not usable by another client") {
  DevServer server({"--auto-approve", "--client", "a:secret-a", "--client", "b:secret-b"});
  Pkce pkce = make_pkce();
  Response a = server.get(authorize_target(pkce.challenge, "x", "read", "a"));
  REQUIRE(a.status == 302);
  std::string code = query_of(a.header("Location"))["code"];
  Response stolen = server.post_form("/oauth/token",
                                     form({{"grant_type", "authorization_code"},
                                           {"code", code},
                                           {"redirect_uri", kRedirect},
                                           {"code_verifier", pkce.verifier}}),
                                     basic_header("b", "secret-b"));
  CHECK(stolen.status == 400);
  CHECK(error_of(stolen) == "invalid_grant");
}

TEST_CASE("a redirect prefix admits only URIs under it") {
  DevServer server({"--auto-approve", "--client", "web:pw:http://127.0.0.1:5555/cb"});
  Pkce pkce = make_pkce();
  auto status_for = [&](const std::string& redirect) {
    return server.get(authorize_target(pkce.challenge, "x", "read", "web", redirect)).status;
  };
  CHECK(status_for("http://127.0.0.1:5555/cb") == 302);
  CHECK(status_for("http://127.0.0.1:5555/cb/done?x=1") == 302);
  CHECK(status_for("http://127.0.0.1:5555/cbx") == 400);
  CHECK(status_for("http://127.0.0.1:6666/cb") == 400);
}

TEST_CASE("revoking a refresh token revokes the grant, unknown tokens get 200") {
  DevServer server({"--auto-approve"});
  Tokens t = obtain_tokens(server);
  Response r = server.post_form("/oauth/revoke",
                                form({{"token", t.refresh}, {"token_type_hint", "refresh_token"}}),
                                basic_header());
  CHECK(r.status == 200);
  CHECK(error_of(refresh(server, t.refresh)) == "invalid_grant");
  CHECK(api_me(server, t.access).status == 401);

  CHECK(server.post_form("/oauth/revoke", form({{"token", "no-such-token"}}), basic_header())
            .status == 200);
  CHECK(server.post_form("/oauth/revoke", form({{"token", "x"}}), basic_header(kClient, "bad"))
            .status == 401);
  CHECK(server.post_form("/oauth/revoke", "", basic_header()).status == 400);
}

TEST_CASE("revoking an access token leaves the refresh token usable") {
  DevServer server({"--auto-approve"});
  Tokens t = obtain_tokens(server);
  // Hint deliberately wrong: the server must look further (RFC 7009 2.1).
  Response r = server.post_form(
      "/oauth/revoke", form({{"token", t.access}, {"token_type_hint", "refresh_token"}}),
      basic_header());
  CHECK(r.status == 200);
  CHECK(api_me(server, t.access).status == 401);
  CHECK(refresh(server, t.refresh).status == 200);
}

TEST_CASE("api me: 401 invalid_token without a valid bearer token") {
  DevServer server({"--auto-approve"});
  for (const Fields& headers : {Fields{}, Fields{{"Authorization", "Bearer nope"}},
                                Fields{{"Authorization", "Basic abc"}}}) {
    Response r = server.get("/api/me", headers);
    CHECK(r.status == 401);
    CHECK(r.header("WWW-Authenticate").find("Bearer error=\"invalid_token\"") == 0);
  }
  Tokens t = obtain_tokens(server);
  CHECK(server.get("/api/me", {{"Authorization", "bearer " + t.access}}).status == 200);
}

TEST_CASE("keys verify: sk_sandbox_ keys of 24 characters or more") {
  DevServer server;
  auto status_for = [&](const std::string& key) {
    return server.get("/keys/verify", {{"Authorization", "Bearer " + key}}).status;
  };
  CHECK(status_for("sk_sandbox_0123456789abc") == 200);  // 24 characters
  CHECK(server.get("/keys/verify", {{"Authorization", "Bearer sk_sandbox_0123456789abc"}})
            .json()
            .at("ok")
            .as_bool());
  CHECK(status_for("sk_sandbox_0123456789ab") == 401);  // 23
  CHECK(status_for("sk_live_0123456789abcdefghij") == 401);
  Response none = server.get("/keys/verify");
  CHECK(none.status == 401);
  CHECK(none.header("WWW-Authenticate").find("invalid_token") != std::string::npos);
}
