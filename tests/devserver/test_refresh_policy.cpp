// Refresh token policy (issue_refresh_tokens, rotate_refresh_tokens), by
// flag and through POST /admin/config; and the counters and grant listing
// that show refreshes and revocations.
#include <doctest/doctest.h>

#include "harness.hpp"

using namespace devtest;

namespace {

std::string str(const boost::json::value& v, const char* key) {
  return std::string(v.as_object().at(key).as_string());
}

std::string error_of(const Response& r) { return str(r.json(), "error"); }

std::int64_t counter(const DevServer& server, const char* name) {
  return server.get("/admin/counters").json().at(name).to_number<std::int64_t>();
}

boost::json::object only_grant(const DevServer& server) {
  auto grants = server.get("/admin/grants").json().at("grants").as_array();
  REQUIRE(grants.size() == 1);
  return grants[0].as_object();
}

// authorize + code exchange; the whole token answer.
boost::json::object exchange(const DevServer& server) {
  Pkce pkce = make_pkce();
  Response r = exchange_code(server, authorize_code(server, pkce), pkce.verifier);
  REQUIRE(r.status == 200);
  return r.json().as_object();
}

}  // namespace

TEST_CASE("refresh policy: both on by default, listed by GET /admin/config") {
  DevServer server;
  auto c = server.get("/admin/config").json();
  CHECK(c.at("issue_refresh_tokens").as_bool());
  CHECK(c.at("rotate_refresh_tokens").as_bool());
}

TEST_CASE("refresh policy: --issue-refresh-tokens false answers without refresh_token") {
  DevServer server({"--auto-approve", "--issue-refresh-tokens", "false"});
  CHECK_FALSE(server.get("/admin/config").json().at("issue_refresh_tokens").as_bool());
  boost::json::object t = exchange(server);
  CHECK_FALSE(t.contains("refresh_token"));
  CHECK(str(t, "token_type") == "Bearer");
  CHECK(api_me(server, str(t, "access_token")).status == 200);

  // Switched on at run time: the next code exchange has one again.
  Response c = server.post_json("/admin/config", R"({"issue_refresh_tokens":true})");
  REQUIRE(c.status == 200);
  CHECK(c.json().at("issue_refresh_tokens").as_bool());
  boost::json::object with = exchange(server);
  REQUIRE(with.contains("refresh_token"));
  std::string rt = str(with, "refresh_token");

  // Off again: a refresh answers without one and the one presented stays
  // valid (it was not spent without a successor).
  REQUIRE(server.post_json("/admin/config", R"({"issue_refresh_tokens":false})").status == 200);
  for (int i = 0; i < 2; ++i) {
    Response r = refresh(server, rt);
    REQUIRE(r.status == 200);
    CHECK_FALSE(r.json().as_object().contains("refresh_token"));
    CHECK(api_me(server, str(r.json(), "access_token")).status == 200);
  }
}

TEST_CASE("refresh policy: rotate_refresh_tokens false keeps the refresh token valid") {
  DevServer server({"--auto-approve", "--rotate-refresh-tokens=false"});
  CHECK_FALSE(server.get("/admin/config").json().at("rotate_refresh_tokens").as_bool());
  Tokens t = obtain_tokens(server);  // the code exchange still issues one
  for (int i = 0; i < 3; ++i) {
    Response r = refresh(server, t.refresh);
    REQUIRE(r.status == 200);
    CHECK_FALSE(r.json().as_object().contains("refresh_token"));
    CHECK(api_me(server, str(r.json(), "access_token")).status == 200);
  }
  boost::json::object g = only_grant(server);
  CHECK_FALSE(g.at("revoked").as_bool());
  CHECK(g.at("refreshes").to_number<int>() == 3);
  CHECK(g.at("access_tokens_issued").to_number<int>() == 4);

  // Rotation back on: the next refresh spends it for a new one, and a
  // replay of the spent one revokes the grant as before.
  Response c = server.post_json("/admin/config", R"({"rotate_refresh_tokens":true})");
  REQUIRE(c.status == 200);
  CHECK(c.json().at("rotate_refresh_tokens").as_bool());
  Response r = refresh(server, t.refresh);
  REQUIRE(r.status == 200);
  std::string next = str(r.json(), "refresh_token");
  CHECK(next != t.refresh);
  CHECK(error_of(refresh(server, t.refresh)) == "invalid_grant");
  CHECK(only_grant(server).at("revoked").as_bool());
  CHECK(error_of(refresh(server, next)) == "invalid_grant");
}

TEST_CASE("refresh policy: admin and flags refuse what is not a bool") {
  DevServer server;
  CHECK(server.post_json("/admin/config", R"({"issue_refresh_tokens":"no"})").status == 400);
  CHECK(server.post_json("/admin/config", R"({"rotate_refresh_tokens":0})").status == 400);
  // A bad member changes nothing, not even the good ones beside it.
  CHECK(server.post_json("/admin/config", R"({"issue_refresh_tokens":false,"rotate_refresh_tokens":1})")
            .status == 400);
  auto c = server.get("/admin/config").json();
  CHECK(c.at("issue_refresh_tokens").as_bool());
  CHECK(c.at("rotate_refresh_tokens").as_bool());

  CHECK(run_to_exit({"--issue-refresh-tokens", "maybe"}).first == 2);
  CHECK(run_to_exit({"--rotate-refresh-tokens"}).first == 2);
  auto [status, out] = run_to_exit({"--help"});
  CHECK(status == 0);
  CHECK(out.find("--issue-refresh-tokens") != std::string::npos);
  CHECK(out.find("--rotate-refresh-tokens") != std::string::npos);
}

TEST_CASE("counters count refreshes and revocations, and grants show what was revoked") {
  DevServer server({"--auto-approve"});
  Tokens t = obtain_tokens(server);
  REQUIRE(server.post_json("/admin/reset-counters", "").status == 200);
  Response r = refresh(server, t.refresh);
  REQUIRE(r.status == 200);
  std::string rt = str(r.json(), "refresh_token");
  CHECK(counter(server, "token_refresh") == 1);
  CHECK(counter(server, "revoke") == 0);

  // Revoking an access token leaves the grant alone; revoking the refresh
  // token revokes the grant.
  CHECK(server.post_form("/oauth/revoke", form({{"token", str(r.json(), "access_token")}}),
                         basic_header())
            .status == 200);
  CHECK_FALSE(only_grant(server).at("revoked").as_bool());
  CHECK(server.post_form("/oauth/revoke",
                         form({{"token", rt}, {"token_type_hint", "refresh_token"}}), basic_header())
            .status == 200);
  CHECK(counter(server, "revoke") == 2);
  boost::json::object g = only_grant(server);
  CHECK(g.at("revoked").as_bool());
  CHECK(str(g, "revoked_reason") == "refresh token revoked by the client");
  CHECK(g.at("refreshes").to_number<int>() == 1);
  CHECK(error_of(refresh(server, rt)) == "invalid_grant");
  CHECK(counter(server, "token_refresh") == 2);
}
