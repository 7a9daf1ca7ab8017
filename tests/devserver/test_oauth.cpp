// Authorization code + PKCE, code replay, refresh rotation and replay,
// expiry: the provider behaviour refold's OAuth client relies on.
#include <doctest/doctest.h>

#include "harness.hpp"

using namespace devtest;

namespace {
std::string str(const boost::json::value& v, const char* key) {
  return std::string(v.as_object().at(key).as_string());
}
bool has_in(const boost::json::value& v, const char* key, const char* item) {
  for (const auto& x : v.as_object().at(key).as_array())
    if (x.as_string() == item) return true;
  return false;
}
}  // namespace

TEST_CASE("metadata: RFC 8414 document with S256 only and the iss parameter") {
  DevServer server;
  CHECK(server.base_url() == "http://127.0.0.1:" + std::to_string(server.port()));
  CHECK(server.issuer() == server.base_url());
  Response r = server.get("/.well-known/oauth-authorization-server");
  REQUIRE(r.status == 200);
  CHECK(r.header("Content-Type") == "application/json");
  auto m = r.json();
  CHECK(str(m, "issuer") == server.issuer());
  CHECK(str(m, "authorization_endpoint") == server.base_url() + "/oauth/authorize");
  CHECK(str(m, "token_endpoint") == server.base_url() + "/oauth/token");
  CHECK(str(m, "revocation_endpoint") == server.base_url() + "/oauth/revoke");
  CHECK(m.at("code_challenge_methods_supported").as_array().size() == 1);
  CHECK(has_in(m, "code_challenge_methods_supported", "S256"));
  CHECK(has_in(m, "response_types_supported", "code"));
  CHECK(has_in(m, "grant_types_supported", "authorization_code"));
  CHECK(has_in(m, "grant_types_supported", "refresh_token"));
  CHECK(has_in(m, "token_endpoint_auth_methods_supported", "client_secret_basic"));
  CHECK(has_in(m, "token_endpoint_auth_methods_supported", "client_secret_post"));
  CHECK(m.at("authorization_response_iss_parameter_supported").as_bool());
  CHECK(!m.at("scopes_supported").as_array().empty());
}

TEST_CASE("metadata: --issuer overrides the issuer and the iss parameter") {
  DevServer server({"--issuer", "https://sandbox.example", "--auto-approve"});
  CHECK(server.issuer() == "https://sandbox.example");
  CHECK(str(server.get("/.well-known/oauth-authorization-server").json(), "issuer") ==
        "https://sandbox.example");
  Pkce pkce = make_pkce();
  Response r = server.get(authorize_target(pkce.challenge, "s1"));
  REQUIRE(r.status == 302);
  CHECK(query_of(r.header("Location"))["iss"] == "https://sandbox.example");
}

TEST_CASE("authorization code with PKCE: auto-approve, token, then api me") {
  DevServer server({"--auto-approve"});
  Pkce pkce = make_pkce();
  Response a = server.get(authorize_target(pkce.challenge, "state-123", "read write"));
  REQUIRE(a.status == 302);
  std::string location = a.header("Location");
  CHECK(location.rfind(std::string(kRedirect) + "?", 0) == 0);
  auto q = query_of(location);
  CHECK(q["state"] == "state-123");
  CHECK(q["iss"] == server.issuer());
  REQUIRE(!q["code"].empty());

  Response t = exchange_code(server, q["code"], pkce.verifier);
  REQUIRE(t.status == 200);
  CHECK(t.header("Content-Type") == "application/json");
  CHECK(t.header("Cache-Control") == "no-store");
  auto tok = t.json();
  CHECK(str(tok, "token_type") == "Bearer");
  CHECK(tok.at("expires_in").to_number<std::int64_t>() == 3600);
  CHECK(str(tok, "scope") == "read write");
  CHECK(!str(tok, "refresh_token").empty());

  Response me = api_me(server, str(tok, "access_token"));
  REQUIRE(me.status == 200);
  CHECK(str(me.json(), "client_id") == kClient);
  CHECK(str(me.json(), "scope") == "read write");
  CHECK(!str(me.json(), "sub").empty());
}

TEST_CASE("a wrong code verifier gets invalid_grant") {
  DevServer server({"--auto-approve"});
  Pkce pkce = make_pkce();
  std::string code = authorize_code(server, pkce);
  Response t = exchange_code(server, code, make_pkce().verifier);
  CHECK(t.status == 400);
  CHECK(str(t.json(), "error") == "invalid_grant");
  CHECK(t.header("Cache-Control") == "no-store");
}

TEST_CASE("the token request must repeat the exact redirect_uri") {
  DevServer server({"--auto-approve"});
  Pkce pkce = make_pkce();
  std::string code = authorize_code(server, pkce);
  Response t = exchange_code(server, code, pkce.verifier, std::string(kRedirect) + "/");
  CHECK(t.status == 400);
  CHECK(str(t.json(), "error") == "invalid_grant");
}

TEST_CASE("a reused code gets invalid_grant and revokes the tokens it produced") {
  DevServer server({"--auto-approve"});
  Pkce pkce = make_pkce();
  std::string code = authorize_code(server, pkce);
  Response first = exchange_code(server, code, pkce.verifier);
  REQUIRE(first.status == 200);
  std::string access = str(first.json(), "access_token");
  std::string refresh_token = str(first.json(), "refresh_token");
  CHECK(api_me(server, access).status == 200);

  Response second = exchange_code(server, code, pkce.verifier);
  CHECK(second.status == 400);
  CHECK(str(second.json(), "error") == "invalid_grant");

  Response me = api_me(server, access);
  CHECK(me.status == 401);
  CHECK(me.header("WWW-Authenticate").find("error=\"invalid_token\"") != std::string::npos);
  CHECK(str(refresh(server, refresh_token).json(), "error") == "invalid_grant");
}

TEST_CASE("refresh rotates the refresh token and may narrow the scope") {
  DevServer server({"--auto-approve"});
  Tokens t = obtain_tokens(server, "read write");
  Response r = refresh(server, t.refresh);
  REQUIRE(r.status == 200);
  CHECK(r.header("Cache-Control") == "no-store");
  std::string access2 = str(r.json(), "access_token");
  std::string refresh2 = str(r.json(), "refresh_token");
  CHECK(access2 != t.access);
  CHECK(refresh2 != t.refresh);
  CHECK(str(r.json(), "scope") == "read write");
  CHECK(api_me(server, access2).status == 200);

  Response narrow = refresh(server, refresh2, "read");
  REQUIRE(narrow.status == 200);
  CHECK(str(narrow.json(), "scope") == "read");
  Response wider = refresh(server, str(narrow.json(), "refresh_token"), "read admin");
  CHECK(wider.status == 400);
  CHECK(str(wider.json(), "error") == "invalid_scope");
}

TEST_CASE("replaying a rotated refresh token revokes the whole grant") {
  DevServer server({"--auto-approve"});
  Tokens t = obtain_tokens(server);
  Response r = refresh(server, t.refresh);
  REQUIRE(r.status == 200);
  std::string access2 = str(r.json(), "access_token");
  std::string refresh2 = str(r.json(), "refresh_token");

  Response replay = refresh(server, t.refresh);
  CHECK(replay.status == 400);
  CHECK(str(replay.json(), "error") == "invalid_grant");
  // Every token of the grant is gone, including the newest.
  CHECK(str(refresh(server, refresh2).json(), "error") == "invalid_grant");
  CHECK(api_me(server, access2).status == 401);
  CHECK(api_me(server, t.access).status == 401);

  auto grants = server.get("/admin/grants").json().at("grants").as_array();
  REQUIRE(grants.size() == 1);
  CHECK(grants[0].at("revoked").as_bool());
}

TEST_CASE("an access token past its lifetime gets 401 invalid_token") {
  DevServer server({"--auto-approve", "--access-token-ttl", "0"});
  Tokens t = obtain_tokens(server);
  Response me = api_me(server, t.access);
  CHECK(me.status == 401);
  CHECK(me.header("WWW-Authenticate").find("expired") != std::string::npos);
  // The refresh token still works: expiry is not revocation.
  CHECK(refresh(server, t.refresh).status == 200);
}

TEST_CASE("unsupported grant types and missing parameters get RFC 6749 errors") {
  DevServer server({"--auto-approve"});
  Response r = server.post_form("/oauth/token", form({{"grant_type", "password"}}), basic_header());
  CHECK(r.status == 400);
  CHECK(str(r.json(), "error") == "unsupported_grant_type");
  r = server.post_form("/oauth/token", form({{"grant_type", "authorization_code"}}), basic_header());
  CHECK(str(r.json(), "error") == "invalid_request");
  r = server.post_form("/oauth/token", "grant_type=refresh_token&refresh_token=a&refresh_token=b",
                       basic_header());
  CHECK(str(r.json(), "error") == "invalid_request");
  r = send(server.port(), Request{"POST", "/oauth/token",
                                  {{"Content-Type", "application/json"},
                                   {"Authorization", basic_auth(kClient, kSecret)}},
                                  "{}"});
  CHECK(str(r.json(), "error") == "invalid_request");
}

TEST_CASE("the client-credentials grant gives the client a token of its own, without a refresh token") {
  DevServer server({"--auto-approve"});
  Response r = server.post_form("/oauth/token", form({{"grant_type", "client_credentials"}, {"scope", "read write"}}),
                                basic_header());
  REQUIRE(r.status == 200);
  const auto body = r.json();
  CHECK(str(body, "token_type") == "Bearer");
  CHECK(str(body, "scope") == "read write");
  CHECK_FALSE(body.as_object().contains("refresh_token"));
  const std::string token = str(body, "access_token");
  Response me = api_me(server, token);
  REQUIRE(me.status == 200);
  CHECK(str(me.json(), "sub") == std::string("client:") + kClient);
  CHECK(server.get("/admin/counters").json().at("token_client_credentials").to_number<std::int64_t>() == 1);

  // Another grant gives another token; the first stays good until revoked.
  Response again = server.post_form("/oauth/token", form({{"grant_type", "client_credentials"}}), basic_header());
  REQUIRE(again.status == 200);
  CHECK(str(again.json(), "access_token") != token);
  CHECK(server.post_form("/oauth/revoke", form({{"token", token}}), basic_header()).status == 200);
  CHECK(api_me(server, token).status == 401);
  CHECK(api_me(server, str(again.json(), "access_token")).status == 200);

  r = server.post_form("/oauth/token", form({{"grant_type", "client_credentials"}}), basic_header(kClient, "wrong"));
  CHECK(r.status == 401);
  CHECK(str(r.json(), "error") == "invalid_client");
}
