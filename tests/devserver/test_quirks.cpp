// The token endpoint's quirks (POST /admin/config): client authentication
// of one kind only, JSON bodies, errors with HTTP 200, answers without
// expires_in; and the after-connect lookup, GET /api/resources.
#include <doctest/doctest.h>

#include "harness.hpp"

using namespace devtest;

namespace {

void configure(const DevServer& server, const std::string& json) {
  Response r = server.post_json("/admin/config", json);
  REQUIRE_MESSAGE(r.status == 200, r.body);
}

Response post_token_json(const DevServer& server, const std::string& body, Fields headers) {
  headers.emplace_back("Content-Type", "application/json");
  return send(server.port(), Request{"POST", "/oauth/token", headers, body});
}

std::string error_of(const Response& r) { return std::string(r.json().at("error").as_string()); }

}  // namespace

TEST_CASE("quirks: client_auth takes one way of authenticating the client and refuses the other") {
  DevServer server({"--auto-approve"});
  Tokens t = obtain_tokens(server);
  configure(server, R"({"client_auth":"client_secret_post"})");
  Response basic = refresh(server, t.refresh);
  CHECK(basic.status == 401);
  CHECK(error_of(basic) == "invalid_client");
  CHECK(basic.json().at("error_description").as_string().find("client_secret_post only") != std::string::npos);
  Response post = server.post_form("/oauth/token", form({{"grant_type", "refresh_token"},
                                                          {"refresh_token", t.refresh},
                                                          {"client_id", kClient},
                                                          {"client_secret", kSecret}}));
  REQUIRE(post.status == 200);
  std::string rotated(post.json().at("refresh_token").as_string());

  configure(server, R"({"client_auth":"client_secret_basic"})");
  Response post_again = server.post_form("/oauth/token", form({{"grant_type", "refresh_token"},
                                                                {"refresh_token", rotated},
                                                                {"client_id", kClient},
                                                                {"client_secret", kSecret}}));
  CHECK(post_again.status == 401);
  CHECK(refresh(server, rotated).status == 200);
  // Revocation follows the same rule.
  Response revoke_post = server.post_form("/oauth/revoke", form({{"token", "x"}, {"client_id", kClient},
                                                                 {"client_secret", kSecret}}));
  CHECK(revoke_post.status == 401);

  CHECK(server.post_json("/admin/config", R"({"client_auth":"private_key_jwt"})").status == 400);
  CHECK(server.get("/admin/config").json().at("client_auth") == "client_secret_basic");
}

TEST_CASE("quirks: token_body json takes a JSON object of strings and refuses a form") {
  DevServer server({"--auto-approve"});
  Tokens t = obtain_tokens(server);
  configure(server, R"({"token_body":"json"})");
  CHECK(refresh(server, t.refresh).status == 400);
  Response bad = post_token_json(server, R"({"grant_type":"refresh_token","refresh_token":1})", basic_header());
  CHECK(bad.status == 400);
  CHECK(error_of(bad) == "invalid_request");
  Response ok = post_token_json(server, R"({"grant_type":"refresh_token","refresh_token":")" + t.refresh + "\"}",
                                basic_header());
  REQUIRE(ok.status == 200);
  // Counted by grant type from either kind of body (the refused form and
  // the good JSON; the bad JSON names no grant type the counter can read).
  CHECK(server.get("/admin/counters").json().at("token_refresh").to_number<int>() == 2);

  // Revocation stays a form.
  CHECK(server.post_form("/oauth/revoke", form({{"token", "x"}}), basic_header()).status == 200);
  // "any" takes both.
  configure(server, R"({"token_body":"any"})");
  CHECK(refresh(server, std::string(ok.json().at("refresh_token").as_string())).status == 200);
  CHECK(server.post_json("/admin/config", R"({"token_body":"xml"})").status == 400);
}

TEST_CASE("quirks: errors_with_200 answers as Slack does, and omit_expires_in leaves the lifetime out") {
  DevServer server({"--auto-approve"});
  Tokens t = obtain_tokens(server);
  configure(server, R"({"errors_with_200":true,"omit_expires_in":true})");
  Response refused = refresh(server, "no-such-token");
  CHECK(refused.status == 200);
  CHECK(refused.json().at("ok") == false);
  CHECK(error_of(refused) == "invalid_grant");
  Response unauthenticated = server.post_form("/oauth/token", form({{"grant_type", "refresh_token"},
                                                                    {"refresh_token", t.refresh}}));
  CHECK(unauthenticated.status == 200);
  CHECK(error_of(unauthenticated) == "invalid_client");

  Response ok = refresh(server, t.refresh);
  REQUIRE(ok.status == 200);
  CHECK(ok.json().at("ok") == true);
  CHECK_FALSE(ok.json().as_object().contains("expires_in"));
  CHECK(ok.json().as_object().contains("access_token"));

  // A rate limit keeps its status.
  REQUIRE(server.post_json("/admin/fail", R"({"endpoint":"token","mode":"429"})").status == 200);
  CHECK(refresh(server, "x").status == 429);
}

TEST_CASE("resources: the sites a token reaches, for an after-connect lookup") {
  DevServer server({"--auto-approve"});
  Tokens t = obtain_tokens(server);
  Response r = server.get("/api/resources", {{"Authorization", "Bearer " + t.access}});
  REQUIRE(r.status == 200);
  const boost::json::value body = r.json();
  const auto& sites = body.as_array();
  REQUIRE(sites.size() == 1);
  std::string sub(api_me(server, t.access).json().at("sub").as_string());
  CHECK(sites[0].at("id").as_string() == "site-" + sub);
  CHECK(server.get("/api/resources").status == 401);
  CHECK(server.get("/api/resources", {{"Authorization", "Bearer nope"}}).status == 401);
  CHECK(server.get("/admin/counters").json().at("resources").to_number<int>() == 3);
}

TEST_CASE("quirks: user_tokens grants a second token of its own grant under authed_user") {
  DevServer server({"--auto-approve"});
  configure(server, R"({"user_tokens":true})");
  Pkce pkce = make_pkce();
  Response r = exchange_code(server, authorize_code(server, pkce), pkce.verifier);
  REQUIRE(r.status == 200);
  const boost::json::value body = r.json();
  const auto& user = body.at("authed_user").as_object();
  const std::string user_access(user.at("access_token").as_string());
  const std::string user_refresh(user.at("refresh_token").as_string());
  CHECK(user_access != std::string(body.at("access_token").as_string()));
  CHECK(user.at("token_type") == "user");
  CHECK(user.contains("expires_in"));
  std::string sub(api_me(server, user_access).json().at("sub").as_string());
  CHECK(user.at("id").as_string() == sub);
  // Two grants: revoking the user's leaves the main token working.
  CHECK(server.get("/admin/grants").json().at("grants").as_array().size() == 2);
  REQUIRE(server.post_form("/oauth/revoke", form({{"token", user_refresh}}), basic_header()).status == 200);
  CHECK(api_me(server, user_access).status == 401);
  CHECK(api_me(server, std::string(body.at("access_token").as_string())).status == 200);
  // A refresh answers at the top, without a second token.
  Response again = refresh(server, std::string(body.at("refresh_token").as_string()));
  REQUIRE(again.status == 200);
  CHECK_FALSE(again.json().as_object().contains("authed_user"));

  // A replayed code revokes both grants it made.
  Pkce second = make_pkce();
  const std::string code = authorize_code(server, second);
  Response first = exchange_code(server, code, second.verifier);
  REQUIRE(first.status == 200);
  CHECK(exchange_code(server, code, second.verifier).status == 400);
  const boost::json::value grants = server.get("/admin/grants").json();
  int revoked = 0;
  for (const auto& g : grants.at("grants").as_array())
    if (g.at("revoked_reason") == "authorization code reused") ++revoked;
  CHECK(revoked == 2);
}

TEST_CASE("failure injection: after lets the first requests through") {
  DevServer server({"--auto-approve"});
  Tokens t = obtain_tokens(server);
  REQUIRE(server.post_json("/admin/fail", R"({"endpoint":"me","mode":"500","after":2})").status == 200);
  CHECK(server.get("/admin/fail").json().at("pending").at("me").at(0).at("after") == 2);
  CHECK(api_me(server, t.access).status == 200);
  CHECK(api_me(server, t.access).status == 200);
  CHECK(api_me(server, t.access).status == 500);
  CHECK(api_me(server, t.access).status == 200);
  CHECK(server.post_json("/admin/fail", R"({"endpoint":"me","mode":"500","after":-1})").status == 400);
}

TEST_CASE("revocations that are not RFC 7009: Slack's auth.revoke and HubSpot's DELETE") {
  DevServer server({"--auto-approve"});
  Tokens t = obtain_tokens(server);
  Request revoke{"POST", "/api/auth.revoke", {{"Authorization", "Bearer " + t.access}}, ""};
  Response ok = send(server.port(), revoke);
  CHECK(ok.status == 200);
  CHECK(ok.json().at("ok") == true);
  CHECK(api_me(server, t.access).status == 401);
  Response again = send(server.port(), revoke);
  CHECK(again.status == 200);
  CHECK(again.json().at("ok") == false);

  Tokens u = obtain_tokens(server);
  Response gone = send(server.port(), Request{"DELETE", "/oauth/refresh-tokens/" + u.refresh, {}, ""});
  CHECK(gone.status == 204);
  CHECK(refresh(server, u.refresh).status == 400);
  CHECK(send(server.port(), Request{"DELETE", "/oauth/refresh-tokens/nope", {}, ""}).status == 404);
  CHECK(send(server.port(), Request{"GET", "/oauth/refresh-tokens/x", {}, ""}).status == 405);
  CHECK(server.get("/admin/counters").json().at("revoke").to_number<int>() == 4);
}
