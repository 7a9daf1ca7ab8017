// Token lifetimes: a refresh token's expiry, from the provider's answer or
// the app's default, kept with the connection, shown in listings and
// credentials, carried over a refresh that keeps the old refresh token,
// and a connection whose refresh token has lapsed marked for re-auth
// without asking the provider. Through the C API against the sandbox.
#include <doctest/doctest.h>

#include <cmath>
#include <ctime>

#include "lifecycle_fixture.hpp"

using namespace refold_test;

namespace {

bj::object credentials(Lifecycle& f) {
  int rc = 0;
  std::string creds = get_credentials(f.client.get(), "acct", "sandbox", rc);
  REQUIRE_MESSAGE(rc == REFOLD_OK, last_error());
  return parse(creds).as_object();
}

// The refresh token's expiry as listed ("2026-12-06T10:00:00.123Z"), in
// ms since the epoch; -1 when not listed or not in that shape.
double lapses_at(const bj::object& row) {
  const bj::value* v = row.if_contains("refresh_token_expires_at");
  if (!v || !v->is_string() || !is_rfc3339_utc(v->get_string())) return -1;
  const std::string s(v->get_string());
  std::tm tm{};
  tm.tm_year = std::stoi(s.substr(0, 4)) - 1900;
  tm.tm_mon = std::stoi(s.substr(5, 2)) - 1;
  tm.tm_mday = std::stoi(s.substr(8, 2));
  tm.tm_hour = std::stoi(s.substr(11, 2));
  tm.tm_min = std::stoi(s.substr(14, 2));
  tm.tm_sec = std::stoi(s.substr(17, 2));
  double ms = static_cast<double>(timegm(&tm)) * 1000;
  if (s[19] == '.') ms += std::stod("0" + s.substr(19, s.size() - 20)) * 1000;
  return std::round(ms);
}

}  // namespace

TEST_CASE("lifetimes: a refresh token's lifetime from the answer is kept, renewed by rotation, and its lapse "
          "needs the user without a request") {
  Lifecycle f({"--auto-approve", "--access-token-ttl", "600", "--refresh-token-ttl", "7200"});
  const double connected_at = f.clock.ms.load();
  f.connect();
  bj::object row = listed(f);
  CHECK(lapses_at(row) == connected_at + 2 * kHour);
  CHECK(credentials(f).at("refresh_token_expires_at") == row.at("refresh_token_expires_at"));

  // A refresh rotates the refresh token: the new one brings its own lifetime.
  f.clock.ms = f.expires_at() + 1000;
  const double refreshed_at = f.clock.ms.load();
  f.token_ok();
  REQUIRE(f.count("token_refresh") == 1);
  CHECK(lapses_at(listed(f)) == refreshed_at + 2 * kHour);

  // Without rotation the answer has no refresh token, and the old one keeps
  // its expiry.
  f.server.admin_post("/admin/config", R"({"rotate_refresh_tokens": false})");
  const double lapse = lapses_at(listed(f));
  f.clock.ms = f.expires_at() + 1000;
  f.token_ok();
  REQUIRE(f.count("token_refresh") == 2);
  CHECK(lapses_at(listed(f)) == lapse);

  // Past that time the access token expires too: the read fails for re-auth
  // (reason expired) and the provider is not asked.
  f.clock.ms = lapse + 1000;
  REQUIRE(f.expires_at() < lapse);
  int rc = 0;
  f.token(rc);
  CHECK(rc == REFOLD_EREAUTH);
  CHECK(last_error().find("refresh token expired") != std::string::npos);
  CHECK(f.count("token_refresh") == 2);
  CHECK(f.status() == "reauth_required/expired");
  CHECK(f.count_type("connection.expired") == 1);
  CHECK(str_at(f.last_event("connection.expired"), "reason") == "expired");
  f.token(rc);
  CHECK(rc == REFOLD_EREAUTH);
  CHECK(f.count_type("connection.expired") == 1);
}

TEST_CASE("lifetimes: the app names the member that carries it, or gives a default, or there is none") {
  SUBCASE("QuickBooks' x_refresh_token_expires_in") {
    Lifecycle f;
    f.server.admin_post("/admin/config", R"({"token_response_extra": {"x_refresh_token_expires_in": 8726400}})");
    f.reopen_with_sandbox([](bj::object& app) {
      app.at("oauth2").as_object()["refresh_token_expires_in_key"] = "x_refresh_token_expires_in";
    });
    const double at = f.clock.ms.load();
    f.connect();
    CHECK(lapses_at(listed(f)) == at + 8726400.0 * 1000);
  }
  SUBCASE("a default lifetime") {
    Lifecycle f;
    f.reopen_with_sandbox([](bj::object& app) {
      app.at("oauth2").as_object()["default_refresh_token_expires_in"] = 5184000;
    });
    const double at = f.clock.ms.load();
    f.connect();
    CHECK(lapses_at(listed(f)) == at + 5184000.0 * 1000);
  }
  SUBCASE("none") {
    Lifecycle f;
    f.connect();
    CHECK_FALSE(listed(f).contains("refresh_token_expires_at"));
    CHECK_FALSE(credentials(f).contains("refresh_token_expires_at"));
    // Its refresh works however long after.
    f.clock.ms = f.clock.ms.load() + 400 * 24 * kHour;
    f.token_ok();
    CHECK(f.count("token_refresh") == 1);
  }
}

TEST_CASE("lifetimes: the catalog keys are checked") {
  Lifecycle f;
  auto refused = [&](const char* key, bj::value v, const char* says) {
    const std::string err = refused_catalog(f, [&](bj::object& app) { app.at("oauth2").as_object()[key] = v; });
    CHECK_MESSAGE(err.find(key) != std::string::npos, err);
    CHECK_MESSAGE(err.find(says) != std::string::npos, err);
  };
  refused("default_expires_in", "sometimes", "\"never\"");
  refused("default_expires_in", 0, "default_expires_in");
  refused("default_refresh_token_expires_in", -5, "default_refresh_token_expires_in");
  refused("refresh_token_expires_in_key", "a.b", "member name");
  refused("refresh_token_expires_in_key", "", "member name");
}
