// The admin API: failure injection, counters, runtime config, grants.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include "harness.hpp"

using namespace devtest;

namespace {

std::int64_t counter(const DevServer& server, const char* name) {
  return server.get("/admin/counters").json().at(name).to_number<std::int64_t>();
}

std::string error_of(const Response& r) { return std::string(r.json().at("error").as_string()); }

}  // namespace

TEST_CASE("failure injection: 500 for the next request only, and counters count both") {
  DevServer server({"--auto-approve"});
  Tokens t = obtain_tokens(server);
  REQUIRE(server.post_json("/admin/reset-counters", "").status == 200);
  CHECK(counter(server, "token") == 0);
  REQUIRE(server.post_json("/admin/fail", R"({"endpoint":"token","mode":"500"})").status == 200);

  Response failed = refresh(server, t.refresh);
  CHECK(failed.status == 500);
  CHECK(error_of(failed) == "server_error");
  // The failed request did not consume the refresh token.
  Response ok = refresh(server, t.refresh);
  CHECK(ok.status == 200);

  auto c = server.get("/admin/counters").json().as_object();
  CHECK(c.at("token").to_number<std::int64_t>() == 2);
  CHECK(c.at("token_refresh").to_number<std::int64_t>() == 2);
  CHECK(c.at("token_authorization_code").to_number<std::int64_t>() == 0);
  CHECK(c.at("revoke").to_number<std::int64_t>() == 0);
  for (const char* key : {"authorize", "me", "keys_verify", "connections"}) CHECK(c.contains(key));
}

TEST_CASE("failure injection: 429 with Retry-After, count and queueing") {
  DevServer server({"--auto-approve"});
  Tokens t = obtain_tokens(server);
  REQUIRE(server.post_json("/admin/fail",
                           R"({"endpoint":"me","mode":"429","retry_after":7,"count":2})")
              .status == 200);
  REQUIRE(server.post_json("/admin/fail", R"({"endpoint":"me","mode":"500"})").status == 200);
  for (int i = 0; i < 2; ++i) {
    Response r = api_me(server, t.access);
    CHECK(r.status == 429);
    CHECK(r.header("Retry-After") == "7");
  }
  CHECK(api_me(server, t.access).status == 500);
  CHECK(api_me(server, t.access).status == 200);
  CHECK(counter(server, "me") == 4);
}

TEST_CASE("failure injection: malformed JSON is not JSON") {
  DevServer server({"--auto-approve"});
  Tokens t = obtain_tokens(server);
  REQUIRE(server.post_json("/admin/fail", R"({"endpoint":"token","mode":"malformed_json"})")
              .status == 200);
  Response r = refresh(server, t.refresh);
  CHECK(r.header("Content-Type") == "application/json");
  boost::system::error_code ec;
  boost::json::parse(r.body, ec);
  CHECK(ec);
}

TEST_CASE("failure injection: invalid_client and slow") {
  DevServer server({"--auto-approve"});
  Tokens t = obtain_tokens(server);
  REQUIRE(server.post_json("/admin/fail", R"({"endpoint":"token","mode":"invalid_client"})")
              .status == 200);
  Response r = refresh(server, t.refresh);
  CHECK(r.status == 401);
  CHECK(error_of(r) == "invalid_client");

  // "slow" answers normally, only later.
  REQUIRE(server.post_json("/admin/fail", R"({"endpoint":"revoke","mode":"slow","delay_ms":50})")
              .status == 200);
  CHECK(server.post_form("/oauth/revoke", form({{"token", t.refresh}}), basic_header()).status ==
        200);
  CHECK(error_of(refresh(server, t.refresh)) == "invalid_grant");
}

TEST_CASE("failure injection: pending faults are listed and can be cleared") {
  DevServer server;
  REQUIRE(server.post_json("/admin/fail", R"({"endpoint":"keys_verify","mode":"500","count":3})")
              .status == 200);
  auto pending = server.get("/admin/fail").json().at("pending").as_object();
  REQUIRE(pending.contains("keys_verify"));
  CHECK(pending.at("keys_verify").as_array()[0].at("count").to_number<int>() == 3);
  REQUIRE(server.post_json("/admin/fail/clear", "{}").status == 200);
  CHECK(server.get("/admin/fail").json().at("pending").as_object().empty());
  CHECK(server.get("/keys/verify", {{"Authorization", "Bearer sk_sandbox_0123456789abcdef"}})
            .status == 200);
}

TEST_CASE("admin rejects malformed requests") {
  DevServer server;
  CHECK(server.post_json("/admin/fail", R"({"endpoint":"token","mode":"teapot"})").status == 400);
  CHECK(server.post_json("/admin/fail", R"({"endpoint":"nowhere","mode":"500"})").status == 400);
  CHECK(server.post_json("/admin/fail", R"({"endpoint":"token","mode":"500","count":0})").status ==
        400);
  CHECK(server.post_json("/admin/fail", "not json").status == 400);
  CHECK(server.post_json("/admin/config", R"({"access_token_ttl":-1})").status == 400);
  CHECK(server.post_json("/admin/config", R"({"auto_approve":"yes"})").status == 400);
  CHECK(server.post_json("/admin/grants/revoke", R"({"refresh_token":"unknown"})").status == 404);
  CHECK(server.get("/admin/nothing").status == 404);
}

TEST_CASE("admin config switches auto-approve and the access token lifetime") {
  DevServer server;
  Pkce pkce = make_pkce();
  CHECK(server.get(authorize_target(pkce.challenge, "s")).status == 200);  // consent page
  Response c = server.post_json("/admin/config", R"({"auto_approve":true,"access_token_ttl":120})");
  REQUIRE(c.status == 200);
  CHECK(c.json().at("auto_approve").as_bool());
  CHECK(c.json().at("access_token_ttl").to_number<int>() == 120);
  std::string code = authorize_code(server, pkce);
  Response t = exchange_code(server, code, pkce.verifier);
  REQUIRE(t.status == 200);
  CHECK(t.json().at("expires_in").to_number<int>() == 120);
  CHECK(server.get("/admin/config").json().at("access_token_ttl").to_number<int>() == 120);
}

TEST_CASE("admin grants lists grants without token values and revokes them") {
  DevServer server({"--auto-approve"});
  Tokens t1 = obtain_tokens(server, "read write");
  Tokens t2 = obtain_tokens(server);
  Response list = server.get("/admin/grants");
  REQUIRE(list.status == 200);
  for (const auto& secret : {t1.access, t1.refresh, t2.access, t2.refresh})
    CHECK(list.body.find(secret) == std::string::npos);
  auto grants = list.json().at("grants").as_array();
  REQUIRE(grants.size() == 2);
  CHECK(std::string(grants[0].at("client_id").as_string()) == kClient);
  CHECK(std::string(grants[0].at("scope").as_string()) == "read write");
  CHECK_FALSE(grants[0].at("revoked").as_bool());
  CHECK(grants[0].at("access_tokens_issued").to_number<int>() == 1);

  Response r = server.post_json("/admin/grants/revoke", R"({"refresh_token":")" + t1.refresh + "\"}");
  CHECK(r.status == 200);
  CHECK(error_of(refresh(server, t1.refresh)) == "invalid_grant");
  CHECK(refresh(server, t2.refresh).status == 200);

  Tokens t3 = obtain_tokens(server);
  CHECK(server.post_json("/admin/grants/revoke", R"({"all":true})").status == 200);
  CHECK(error_of(refresh(server, t3.refresh)) == "invalid_grant");
  CHECK(api_me(server, t3.access).status == 401);
}

TEST_CASE("counters count TCP connections and reset to zero") {
  DevServer server;
  REQUIRE(server.post_json("/admin/reset-counters", "").status == 200);
  Connection c(server.port());
  for (int i = 0; i < 3; ++i)
    CHECK(c.send(Request{"GET", "/keys/verify", {}, {}}).status == 401);
  // The three requests shared one connection; the counters request is the
  // second connection since the reset.
  auto counters = server.get("/admin/counters").json();
  CHECK(counters.at("keys_verify").to_number<int>() == 3);
  CHECK(counters.at("connections").to_number<int>() == 2);
}
