// A second token of one grant (Slack's user token beside its bot token,
// catalog key user_token_path): kept with the connection, served under
// "user", refreshed with the main token, revoked on disconnect; through the
// C API against the sandbox granting both.
#include <doctest/doctest.h>

#include "lifecycle_fixture.hpp"

using namespace refold_test;

namespace {

void two_token_app(Lifecycle& f) {
  f.server.admin_post("/admin/config", R"({"user_tokens": true})");
  f.reopen_with_sandbox([](bj::object& app) { app.at("oauth2").as_object()["user_token_path"] = "authed_user"; });
}

bj::object credentials(Lifecycle& f) {
  int rc = 0;
  bj::object creds = parse(get_credentials(f.client.get(), "acct", "sandbox", rc)).as_object();
  REQUIRE_MESSAGE(rc == REFOLD_OK, last_error());
  return creds;
}

bj::array sandbox_grants(Lifecycle& f) {
  return parse(curl("GET", f.server.base_url() + "/admin/grants").body).at("grants").as_array();
}

}  // namespace

TEST_CASE("user token: kept beside the main token, refreshed with it, and revoked with it") {
  Lifecycle f;
  two_token_app(f);
  f.connect();
  bj::object creds = credentials(f);
  REQUIRE(creds.contains("user"));
  const bj::object user = creds.at("user").as_object();
  const std::string user_token = str_at(user, "access_token");
  CHECK(user_token != str_at(creds, "access_token"));
  CHECK(str_at(user, "token_type") == "user");
  CHECK_FALSE(str_at(user, "id").empty());
  CHECK(user.at("expires_at").is_string());
  CHECK(user.at("scopes") == creds.at("scopes"));  // the sandbox grants the user what the app asked
  CHECK_FALSE(user.contains("refresh_token"));
  CHECK(f.me(user_token) == 200);
  // Listings show no token of either kind.
  CHECK(to_json(listed(f)).find(user_token) == std::string::npos);
  CHECK_FALSE(listed(f).contains("user"));

  // Both expire together here: one refresh renews both, each with its own
  // refresh token.
  f.clock.ms = f.expires_at() + 1000;
  f.token_ok();
  CHECK(f.count("token_refresh") == 2);
  bj::object after = credentials(f);
  const std::string new_user = str_at(after.at("user").as_object(), "access_token");
  CHECK(new_user != user_token);
  CHECK(f.me(new_user) == 200);
  CHECK(str_at(after.at("user").as_object(), "id") == str_at(user, "id"));
  CHECK(f.count_type("connection.refreshed") == 1);

  // A disconnect revokes both grants at the provider.
  REQUIRE_MESSAGE(refold_disconnect(f.client.get(), "acct", "sandbox") == REFOLD_OK, last_error());
  bj::array grants = sandbox_grants(f);
  REQUIRE(grants.size() == 2);
  for (const auto& g : grants) CHECK(g.at("revoked") == true);
  CHECK(f.me(new_user) == 401);
  CHECK(f.last_event("connection.deleted").at("revoked") == true);
}

TEST_CASE("user token: a passing failure keeps the old one and saves the rotated main token") {
  Lifecycle f;
  two_token_app(f);
  f.connect();
  const std::string user_token = str_at(credentials(f).at("user").as_object(), "access_token");
  const double connected_expiry = f.expires_at();
  // The main refresh passes; the user token's gets a 500.
  f.server.admin_post("/admin/fail", R"({"endpoint": "token", "mode": "500", "after": 1})");
  f.clock.ms = connected_expiry + 1000;
  const std::string main_token = f.token_ok();
  CHECK(f.count("token_refresh") == 2);
  CHECK(f.me(main_token) == 200);
  bj::object creds = credentials(f);
  CHECK(str_at(creds.at("user").as_object(), "access_token") == user_token);
  // The connection lives by the new main token meanwhile: it is not due
  // again at every read.
  CHECK(f.expires_at() > connected_expiry);
  f.token_ok();
  CHECK(f.count("token_refresh") == 2);

  // Both are tried again after a back-off, well before the new main token
  // is due; the rotated main refresh token was saved, so that works.
  const double retry_at = std::stod(sql_scalar(f.store.path, "SELECT next_refresh_at FROM connections"));
  CHECK(retry_at < f.expires_at() - 60 * 1000);
  f.clock.ms = retry_at + 1;
  f.token_ok();  // served at once; the refresh runs behind it
  REQUIRE(eventually([&] { return f.count("token_refresh") == 4; }));
  std::string renewed;
  REQUIRE(eventually([&] {
    renewed = str_at(credentials(f).at("user").as_object(), "access_token");
    return renewed != user_token;
  }));
  CHECK(f.me(renewed) == 200);
  CHECK(f.status() == "active/");
}

TEST_CASE("user token: a refused one is dropped, and the connection goes on with its main token") {
  Lifecycle f;
  two_token_app(f);
  f.connect();
  const std::string user_token = str_at(credentials(f).at("user").as_object(), "access_token");
  // The user's grant is revoked at the provider (the user took back their
  // own authorization), the main one is not.
  std::uint64_t user_grant = 0;
  for (const auto& g : sandbox_grants(f)) user_grant = std::max(user_grant, g.at("id").to_number<std::uint64_t>());
  f.server.admin_post("/admin/grants/revoke", "{\"grant_id\": " + std::to_string(user_grant) + "}");
  CHECK(f.me(user_token) == 401);
  f.clock.ms = f.expires_at() + 1000;
  const std::string main_token = f.token_ok();
  CHECK(f.count("token_refresh") == 2);
  CHECK(f.me(main_token) == 200);
  CHECK(f.status() == "active/");
  CHECK_FALSE(credentials(f).contains("user"));
  // The rotated main refresh token was saved: the next refresh works.
  f.clock.ms = f.expires_at() + 1000;
  CHECK(f.token_ok() != main_token);
  CHECK(f.count("token_refresh") == 3);
}

TEST_CASE("user token: an app without user_token_path ignores one, and a non-expiring one is never refreshed") {
  Lifecycle f;
  f.server.admin_post("/admin/config", R"({"user_tokens": true})");
  f.connect();
  CHECK_FALSE(credentials(f).contains("user"));
  REQUIRE_MESSAGE(refold_disconnect(f.client.get(), "acct", "sandbox") == REFOLD_OK, last_error());

  // Slack without token rotation: a user token with neither a lifetime nor
  // a refresh token is kept as it is, however long the main one lives.
  f.server.admin_post("/admin/config", R"({"omit_expires_in": true, "issue_refresh_tokens": false})");
  f.reopen_with_sandbox([](bj::object& app) {
    app.at("oauth2").as_object()["user_token_path"] = "authed_user";
    app.at("oauth2").as_object()["default_expires_in"] = "never";
  });
  f.connect();
  bj::object creds = credentials(f);
  CHECK(creds.at("user").at("expires_at").is_null());
  CHECK(listed(f).at("expires_at").is_null());
  f.clock.ms = f.clock.ms.load() + 30 * 24 * 3600 * 1000.0;
  f.token_ok();
  CHECK(f.count("token_refresh") == 0);
}

TEST_CASE("user token: user_token_path is checked, by app and key") {
  Lifecycle f;
  auto refused = [&](const char* key, const char* value, const char* want) {
    const std::string err = refused_catalog(f, [&](bj::object& app) {
      bj::object& oauth2 = app.at("oauth2").as_object();
      oauth2["user_token_path"] = "authed_user";
      oauth2[key] = value;
    });
    CAPTURE(err);
    CHECK(err.find("app 'sandbox'") != std::string::npos);
    CHECK(err.find(want) != std::string::npos);
  };
  refused("token_path", "data", "'user_token_path'");
  refused("user_token_path", "authed user", "'user_token_path'");
  refused("user_token_path", ".authed_user", "'user_token_path'");
}
