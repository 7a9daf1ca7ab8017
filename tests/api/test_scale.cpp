// The token lifecycle at scale, against the sandbox: many refreshes in
// flight within a cap per app, a provider's Retry-After pausing the app,
// reads that never wait for a valid token, an expired read ahead of the
// background backlog, idle grants kept alive, and other processes' writes
// reaching this process's cache one connection at a time.
#include "lifecycle_fixture.hpp"

#include <set>

using namespace refold_test;

namespace {

bj::object clients(std::optional<int> max_in_flight = std::nullopt) {
  bj::object sandbox{{"client_id", kClientId},
                     {"client_secret", kSecret},
                     {"redirect_uri", "http://127.0.0.1:9/callback"}};
  if (max_in_flight) sandbox["max_in_flight"] = *max_in_flight;
  return bj::object{{"sandbox", std::move(sandbox)}};
}

std::string account(int i) { return "acct-" + std::to_string(i); }

void connect_all(Lifecycle& f, int n) {
  for (int i = 0; i < n; ++i) f.connect(account(i).c_str());
}

// Every token request from now on answered `delay_ms` late.
void slow_token_endpoint(Lifecycle& f, int delay_ms) {
  f.server.admin_post("/admin/fail", R"({"endpoint":"token","mode":"slow","count":100000,"delay_ms":)" +
                                         std::to_string(delay_ms) + "}");
}

std::int64_t refreshed_rows(const Store& store, double after) {
  return std::stoll(sql_scalar(store.path, "SELECT count(*) FROM connections WHERE expires_at > " +
                                               std::to_string(static_cast<std::int64_t>(after))));
}

}  // namespace

TEST_CASE("scale: the background keeps many refreshes in flight, never more than an app's max_in_flight") {
  SUBCASE("capped at 3 for the app") {
    Lifecycle f({"--auto-approve"}, bj::object{{"background_refresh", true},
                                               {"refresh_concurrency", 16},
                                               {"oauth_clients", clients(3)}});
    connect_all(f, 12);
    const double exp = f.expires_at(account(11).c_str());
    slow_token_endpoint(f, 300);
    f.server.admin_post("/admin/reset-counters", "{}");
    f.clock.ms = exp - 2 * kMinute;  // all twelve are due
    REQUIRE(eventually([&] { return f.count_type("connection.refreshed") == 12; }));
    CHECK(f.count("token_refresh") == 12);
    const auto peak = f.count("token_peak_in_flight");
    CHECK(peak <= 3);
    CHECK(peak >= 2);
  }
  SUBCASE("no cap: up to refresh_concurrency") {
    Lifecycle f({"--auto-approve"}, bj::object{{"background_refresh", true}, {"refresh_concurrency", 6}});
    connect_all(f, 12);
    const double exp = f.expires_at(account(11).c_str());
    slow_token_endpoint(f, 300);
    f.server.admin_post("/admin/reset-counters", "{}");
    f.clock.ms = exp - 2 * kMinute;
    REQUIRE(eventually([&] { return f.count_type("connection.refreshed") == 12; }));
    CHECK(f.count("token_refresh") == 12);
    const auto peak = f.count("token_peak_in_flight");
    CHECK(peak <= 6);
    CHECK(peak > 3);  // more than one at a time, and more than the cap above
    CHECK(refreshed_rows(f.store, exp) == 12);
  }
}

TEST_CASE("scale: a 429 with Retry-After pauses the app's refreshes, not only that connection's") {
  Lifecycle f({"--auto-approve"}, bj::object{{"background_refresh", true}, {"refresh_concurrency", 1}});
  connect_all(f, 4);
  const double exp = f.expires_at(account(0).c_str());
  f.server.admin_post("/admin/fail", R"({"endpoint":"token","mode":"429","retry_after":600})");
  f.server.admin_post("/admin/reset-counters", "{}");
  f.clock.ms = exp - 2 * kMinute;  // all four due, none expired
  REQUIRE(eventually([&] { return f.count_type("connection.refresh_failed") == 1; }));
  CHECK(str_at(f.last_event("connection.refresh_failed"), "reason") == "rate_limited");
  // The dispatcher looks at the store at least once a second: give it two
  // looks. Nothing more is sent while the app is paused.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  CHECK(f.count("token_refresh") == 1);
  // A read of another connection's expired token during the pause fails at
  // once, sending nothing.
  const std::string failed = str_at(f.last_event("connection.refresh_failed"), "account");
  const std::string other = failed == account(3) ? account(2) : account(3);
  f.clock.ms = exp + 10 * 1000;
  int rc = 0;
  CHECK(f.token(rc, other.c_str()).empty());
  CHECK(rc == REFOLD_EPROVIDER);
  CHECK_MESSAGE(last_error().find("Retry-After") != std::string::npos, last_error());
  CHECK(f.count("token_refresh") == 1);
  CHECK(f.count_type("connection.expired") == 0);
  // Past the pause every connection is refreshed.
  f.clock.ms = exp + 11 * kMinute;
  REQUIRE(eventually([&] { return f.count_type("connection.refreshed") == 4; }));
  for (int i = 0; i < 4; ++i) CHECK(f.status(account(i).c_str()) == "active/");
}

TEST_CASE("scale: a read inside the window returns while its refresh is still in flight") {
  Lifecycle f({"--auto-approve"}, http_config(3000));
  f.connect();
  const std::string first = f.token_ok();
  f.server.admin_post("/admin/fail", R"({"endpoint":"token","mode":"hang"})");
  f.clock.ms = f.expires_at() - 2 * kMinute;
  CHECK(same(f.token_ok(), first));
  // The read returned; its refresh is on the wire and will hang until the
  // three-second timeout: the read did not wait for it.
  CHECK(f.count_type("connection.refresh_failed") == 0);
  REQUIRE(eventually([&] { return f.count("token_in_flight") == 1; }));
  for (int i = 0; i < 50; ++i) CHECK(same(f.token_ok(), first));
  CHECK(f.count("token_refresh") == 1);  // one refresh for all those reads
  REQUIRE(eventually([&] { return f.count_type("connection.refresh_failed") == 1; }));
  CHECK(str_at(f.last_event("connection.refresh_failed"), "reason") == "timeout");
}

TEST_CASE("scale: a read of an expired token refreshes at once, ahead of busy workers") {
  bj::object extra = http_config(4000);
  extra["refresh_concurrency"] = 1;
  Lifecycle f({"--auto-approve"}, extra);
  f.connect("expired");
  f.clock.advance(2 * kMinute);
  f.connect("due");
  // Now: "expired" has expired, "due" is inside its window.
  f.clock.ms = f.expires_at("expired") + 1000;
  // The only worker gets the refresh of "due", which hangs.
  f.server.admin_post("/admin/fail", R"({"endpoint":"token","mode":"hang"})");
  f.token_ok("due");
  REQUIRE(eventually([&] { return f.count("token_in_flight") == 1; }));
  // The expired read does not queue behind it: it is answered while the
  // worker's refresh still hangs.
  const std::string fresh = f.token_ok("expired");
  CHECK(f.me(fresh) == 200);
  CHECK(f.count_type("connection.refresh_failed") == 0);
  CHECK(f.count_type("connection.refreshed") >= 1);
}

TEST_CASE("scale: refresh_at_least_every refreshes an idle connection whose token lives longer") {
  const std::string month = std::to_string(30 * 24 * 3600);
  Lifecycle f({"--auto-approve", "--access-token-ttl", month},
              bj::object{{"background_refresh", true}, {"refresh_at_least_every", "1d"}});
  f.connect();
  const std::string first = f.token_ok();
  const double connected = f.clock.ms.load();
  // Half a day: nothing to do.
  f.clock.ms = connected + 12 * kHour;
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(f.count("token_refresh") == 0);
  // A day later, with 29 days left on the token, the grant is exercised.
  f.clock.ms = connected + 25 * kHour;
  REQUIRE(eventually([&] { return f.count_type("connection.refreshed") == 1; }));
  CHECK(f.count("token_refresh") == 1);
  CHECK_FALSE(same(f.token_ok(), first));
  const double next = std::stod(sql_scalar(f.store.path, "SELECT next_refresh_at FROM connections"));
  CHECK(next <= f.clock.ms.load() + 24 * kHour);
  CHECK(next > f.clock.ms.load() + 20 * kHour);
}

TEST_CASE("scale: refresh settings are checked when the client opens") {
  Store s;
  struct Bad {
    const char* key;
    bj::value value;
  };
  const Bad bad[] = {{"refresh_at_least_every", "1x"},  {"refresh_at_least_every", "10s"},
                     {"refresh_at_least_every", 3600},  {"refresh_at_least_every", "400d"},
                     {"refresh_concurrency", 0},        {"refresh_concurrency", 5000},
                     {"refresh_concurrency", "many"}};
  for (const Bad& b : bad) {
    auto o = config_object(s.path, s.key);
    o[b.key] = b.value;
    ClientPtr c;
    CAPTURE(b.key);
    CHECK(try_open(to_json(o), c) == REFOLD_EINVALID);
    CHECK(last_error().find(b.key) != std::string::npos);
  }
  auto o = config_object(s.path, s.key);
  o["oauth_clients"] = bj::object{{"sandbox", bj::object{{"client_id", "x"}, {"max_in_flight", 0}}}};
  ClientPtr c;
  CHECK(try_open(to_json(o), c) == REFOLD_EINVALID);
  CHECK(last_error().find("max_in_flight") != std::string::npos);
}
