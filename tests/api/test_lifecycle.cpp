// The token lifecycle against the sandbox provider: refresh ahead of
// expiry, one refresh per connection across threads and processes, durable
// rotation, failure classification and back-off, re-auth, revocation.
//
// Time is the client's clock (refold_set_clock), moved by the test; the
// sandbox keeps its own real time, which only matters for its token
// lifetimes (an hour by default).
#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <poll.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "lifecycle_fixture.hpp"

using namespace refold_test;

TEST_CASE("lifecycle: inside the window a read gets the valid token at once and one refresh follows") {
  Lifecycle f;
  f.connect();
  const double exp = f.expires_at();
  const std::string first = f.token_ok();
  CHECK(f.count("token_refresh") == 0);

  // Six minutes before expiry is outside the five-minute window: no request.
  f.clock.ms = exp - 6 * kMinute;
  CHECK(same(f.token_ok(), first));
  CHECK(f.count("token_refresh") == 0);

  // Two minutes before (the due point falls between five and two and a
  // half minutes before expiry): the valid token is returned at once, and
  // reads meanwhile ask for no second refresh.
  f.clock.ms = exp - 2 * kMinute;
  CHECK(same(f.token_ok(), first));
  for (int i = 0; i < 20; ++i) f.token_ok();
  REQUIRE(eventually([&] { return f.count_type("connection.refreshed") == 1; }));
  const std::string second = f.token_ok();
  CHECK_FALSE(same(second, first));
  CHECK(f.count("token_refresh") == 1);
  CHECK(f.me(second) == 200);
  CHECK(f.expires_at() > exp);
  // Served from then on without another request.
  CHECK(same(f.token_ok(), second));
  CHECK(f.count("token_refresh") == 1);
  CHECK(f.status() == "active/");
}

TEST_CASE("lifecycle: an expired token is never returned") {
  Lifecycle f;
  f.connect();
  const std::string first = f.token_ok();
  f.server.admin_post("/admin/fail", R"({"endpoint":"token","mode":"500","count":100})");
  f.clock.ms = f.expires_at() + 1000;
  int rc = 0;
  CHECK(f.token(rc).empty());
  CHECK(rc == REFOLD_EPROVIDER);
  CHECK(last_error().find("server_error") != std::string::npos);
  // Not a re-auth: the connection stays active and says why it struggles.
  CHECK(f.status() == "active/server_error");
  f.server.admin_post("/admin/fail/clear", "{}");
  f.clock.advance(10 * kMinute);  // past any back-off
  const std::string second = f.token_ok();
  CHECK_FALSE(same(second, first));
  CHECK(f.status() == "active/");
}

TEST_CASE("lifecycle: 32 threads reading one expired connection send one refresh") {
  Lifecycle f;
  f.connect();
  const std::string first = f.token_ok();
  f.clock.ms = f.expires_at() + 1000;
  // The refresh answers slowly, so every thread arrives while it runs.
  f.server.admin_post("/admin/fail", R"({"endpoint":"token","mode":"slow","delay_ms":300})");

  constexpr int kThreads = 32;
  std::vector<std::string> got(kThreads);
  std::vector<int> codes(kThreads, 1);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      char* out = nullptr;
      codes[static_cast<std::size_t>(i)] = refold_get_credentials(f.client.get(), "acct", "sandbox", &out);
      got[static_cast<std::size_t>(i)] = take(out);
    });
  }
  for (auto& t : threads) t.join();

  CHECK(f.count("token_refresh") == 1);
  std::set<std::string> tokens;
  for (int i = 0; i < kThreads; ++i) {
    CHECK(codes[static_cast<std::size_t>(i)] == REFOLD_OK);
    if (codes[static_cast<std::size_t>(i)] == REFOLD_OK)
      tokens.insert(str_at(parse(got[static_cast<std::size_t>(i)]).as_object(), "access_token"));
  }
  CHECK(tokens.size() == 1);
  CHECK(tokens.count(first) == 0);
  CHECK(f.count_type("connection.refreshed") == 1);
}


TEST_CASE("lifecycle: two processes sharing one store send one refresh") {
  Lifecycle f;
  f.connect();
  const std::string first = f.token_ok();
  const double at = f.expires_at() + 1000;
  f.client.reset();
  f.server.admin_post("/admin/fail", R"({"endpoint":"token","mode":"slow","delay_ms":500})");

  // Both children open their client, then wait for the go byte.
  int go[2];
  REQUIRE(::pipe(go) == 0);
  auto body = [&]() -> std::string {
    ::close(go[1]);
    refold_client* c = nullptr;
    if (refold_client_open(&c, f.config.c_str()) != REFOLD_OK) return "open failed";
    TestClock clock;
    clock.ms = at;
    refold_set_clock(c, &TestClock::now, &clock, nullptr);
    char byte;
    if (::read(go[0], &byte, 1) != 1) return "no go";
    char* out = nullptr;
    int rc = refold_get_credentials(c, "acct", "sandbox", &out);
    std::string creds = take(out);
    refold_client_free(c);
    if (rc != REFOLD_OK) return "error " + std::to_string(rc);
    boost::system::error_code ec;
    bj::value v = bj::parse(creds, ec);
    if (ec) return "bad json";
    return "token " + digest(std::string(v.at("access_token").as_string()));
  };
  Child a = spawn(body);
  Child b = spawn(body);
  ::close(go[0]);
  const char bytes[2] = {'g', 'g'};
  REQUIRE(::write(go[1], bytes, 2) == 2);
  ::close(go[1]);
  std::string ra = read_line(a), rb = read_line(b);
  reap(a);
  reap(b);

  CHECK(ra.rfind("token ", 0) == 0);
  CHECK(ra == rb);
  CHECK(ra != "token " + digest(first));
  CHECK(f.count("token_refresh") == 1);
}

TEST_CASE("lifecycle: a rotated refresh token survives a SIGKILL right after the refresh") {
  Lifecycle f;
  f.connect();
  const double at = f.expires_at() + 1000;
  f.client.reset();

  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    refold_client* cl = nullptr;
    if (refold_client_open(&cl, f.config.c_str()) != REFOLD_OK) ::_exit(2);
    TestClock clock;
    clock.ms = at;
    refold_set_clock(cl, &TestClock::now, &clock, nullptr);
    char* out = nullptr;
    int rc = refold_get_credentials(cl, "acct", "sandbox", &out);
    refold_free(out);
    // Report, then wait to be killed while the client is still open.
    const char* line = rc == REFOLD_OK ? "refreshed\n" : "error\n";
    if (::write(fds[1], line, std::strlen(line)) < 0) ::_exit(3);
    for (;;) ::pause();
  }
  ::close(fds[1]);
  Child c{pid, fds[0]};
  std::string line = read_line(c);
  ::kill(c.pid, SIGKILL);
  int status = reap(c);
  CHECK(WIFSIGNALED(status));
  REQUIRE(line == "refreshed");
  REQUIRE(f.count("token_refresh") == 1);

  // The next refresh must use the rotated refresh token: the old one would
  // be a reuse, which revokes the grant.
  ClientPtr again = f.open(f.config);
  f.clock.ms = at + 2 * kHour;
  int rc = 0;
  std::string creds = get_credentials(again.get(), "acct", "sandbox", rc);
  CHECK_MESSAGE(rc == REFOLD_OK, last_error());
  CHECK(f.count("token_refresh") == 2);
  CHECK(f.status() == "active/");
}

TEST_CASE("lifecycle: a replayed rotated refresh token makes the connection reauth_required once") {
  Lifecycle f;
  f.connect();
  const double exp = f.expires_at();
  // Keep the sealed record holding the first refresh token.
  const std::string where = " FROM connections WHERE account = 'acct' AND app = 'sandbox'";
  const std::string row = " WHERE account = 'acct' AND app = 'sandbox'";
  const auto old_nonce = sql_blob(f.store.path, "SELECT nonce" + where);
  const auto old_cipher = sql_blob(f.store.path, "SELECT ciphertext" + where);
  f.clock.ms = exp + 1000;
  f.token_ok();  // refreshed: the sandbox rotated the refresh token
  REQUIRE(f.count("token_refresh") == 1);

  // Put the old record back, as a restored backup would: its refresh token
  // was rotated away, so presenting it again is a reuse.
  CHECK(sql_exec_blob(f.store.path, "UPDATE connections SET nonce = ?1" + row, old_nonce) == 1);
  CHECK(sql_exec_blob(f.store.path, "UPDATE connections SET ciphertext = ?1" + row, old_cipher) == 1);
  sql_exec(f.store.path, "UPDATE connections SET expires_at = " + std::to_string(static_cast<long long>(exp)) +
                             ", next_refresh_at = " + std::to_string(static_cast<long long>(exp)) + row);
  f.clock.advance(2 * kHour);
  f.events.clear();
  int rc = 0;
  CHECK(f.token(rc).empty());
  CHECK(rc == REFOLD_EREAUTH);
  CHECK(last_error().find("invalid_grant") != std::string::npos);
  CHECK(f.count("token_refresh") == 2);
  CHECK(f.status() == "reauth_required/invalid_grant");
  CHECK(f.count_type("connection.expired") == 1);
  CHECK(str_at(f.last_event("connection.expired"), "reason") == "invalid_grant");

  // From now on: fail fast, no request, no further event.
  for (int i = 0; i < 5; ++i) {
    CHECK(f.token(rc).empty());
    CHECK(rc == REFOLD_EREAUTH);
  }
  CHECK(f.count("token") == 3);  // one code exchange, two refreshes
  CHECK(f.count_type("connection.expired") == 1);
  bj::object app = find_app(list_apps(f.client.get(), "acct"), "sandbox");
  CHECK(app.at("reauth_required") == true);
  bj::object conn = list_connections(f.client.get(), "acct").at(0).as_object();
  CHECK(str_at(conn, "status") == "reauth_required");
  CHECK(str_at(conn, "reason") == "invalid_grant");

  // Connecting again brings it back, keeping its creation time.
  const std::string created = sql_scalar(f.store.path, "SELECT created_at" + where);
  f.connect();
  CHECK(f.count_type("connection.reauthenticated") == 1);
  CHECK(f.status() == "active/");
  CHECK(sql_scalar(f.store.path, "SELECT created_at" + where) == created);
  CHECK(f.me(f.token_ok()) == 200);
}

TEST_CASE("lifecycle: without a refresh token an expired connection is reauth_required (expired)") {
  Lifecycle f({"--auto-approve", "--issue-refresh-tokens", "false"});
  f.connect();
  const double exp = f.expires_at();
  const std::string first = f.token_ok();

  // Inside the window there is nothing to refresh with: the valid token is
  // served as it is, with no request and no event.
  f.clock.ms = exp - kMinute;
  CHECK(same(f.token_ok(), first));
  CHECK(f.count("token") == 1);  // the code exchange only
  CHECK(f.status() == "active/");
  CHECK(f.count_type("connection.expired") == 0);

  // Expired: re-auth with reason "expired", one event, then fail fast.
  f.clock.ms = exp + 1000;
  int rc = 0;
  CHECK(f.token(rc).empty());
  CHECK(rc == REFOLD_EREAUTH);
  CHECK(f.status() == "reauth_required/expired");
  CHECK(f.count_type("connection.expired") == 1);
  CHECK(str_at(f.last_event("connection.expired"), "reason") == "expired");
  CHECK(f.token(rc).empty());
  CHECK(rc == REFOLD_EREAUTH);
  CHECK(f.count_type("connection.expired") == 1);
  CHECK(f.count("token") == 1);
  bj::object conn = list_connections(f.client.get(), "acct").at(0).as_object();
  CHECK(str_at(conn, "reason") == "expired");
}

TEST_CASE("lifecycle: a refresh answered without a refresh token keeps the old one") {
  Lifecycle f({"--auto-approve", "--rotate-refresh-tokens", "false"});
  f.connect();
  const std::string first = f.token_ok();
  f.clock.ms = f.expires_at() + 1000;
  const std::string second = f.token_ok();
  CHECK_FALSE(same(second, first));
  CHECK(f.count("token_refresh") == 1);

  // The next refresh presents the kept refresh token, which still works.
  f.clock.ms = f.expires_at() + 1000;
  const std::string third = f.token_ok();
  CHECK_FALSE(same(third, second));
  CHECK(f.count("token_refresh") == 2);
  CHECK(f.status() == "active/");
  CHECK(f.me(third) == 200);
}

TEST_CASE("lifecycle: 429 with Retry-After backs off without re-auth") {
  Lifecycle f;
  f.connect();
  const std::string first = f.token_ok();
  f.server.admin_post("/admin/fail", R"({"endpoint":"token","mode":"429","count":1,"retry_after":300})");
  const double exp = f.expires_at();
  // Inside the window: the refresh fails, the valid token is still served.
  f.clock.ms = exp - 2 * kMinute;
  CHECK(same(f.token_ok(), first));
  // The refresh runs in the background; its failure is an event.
  REQUIRE(eventually([&] { return f.count_type("connection.refresh_failed") == 1; }));
  CHECK(f.count("token_refresh") == 1);
  bj::object failed = f.last_event("connection.refresh_failed");
  CHECK(str_at(failed, "reason") == "rate_limited");
  CHECK(is_rfc3339_utc(str_at(failed, "retry_at")));
  // During the back-off nothing is sent, even after expiry.
  f.clock.advance(60 * 1000);
  CHECK(same(f.token_ok(), first));
  f.clock.ms = exp + 30 * 1000;  // expired, Retry-After not over (it ends at exp + 3 min)
  int rc = 0;
  CHECK(f.token(rc).empty());
  CHECK(rc == REFOLD_EPROVIDER);
  CHECK(f.count("token_refresh") == 1);
  CHECK(f.status() == "active/rate_limited");
  // After Retry-After: one request, which succeeds.
  f.clock.ms = exp + 3 * kMinute + 1000;
  const std::string second = f.token_ok();
  CHECK_FALSE(same(second, first));
  CHECK(f.count("token_refresh") == 2);
  CHECK(f.count_type("connection.expired") == 0);
}

TEST_CASE("lifecycle: 500s back off exponentially and never mark re-auth") {
  Lifecycle f;
  f.connect();
  f.server.admin_post("/admin/fail", R"({"endpoint":"token","mode":"500","count":100})");
  f.clock.ms = f.expires_at() + 1000;
  int rc = 0;
  // Many reads, few requests: each retry waits for its back-off.
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 10; ++i) {
      f.token(rc);
      CHECK(rc == REFOLD_EPROVIDER);
    }
    CHECK(f.count("token_refresh") == round + 1);
    f.clock.advance(static_cast<double>(1000 << round));  // the longest back-off after round+1 failures
  }
  CHECK(std::stoi(sql_scalar(f.store.path, "SELECT refresh_failures FROM connections")) == 4);
  CHECK(f.count_type("connection.refresh_failed") == 4);
  CHECK(f.count_type("connection.expired") == 0);
  CHECK(f.status() == "active/server_error");
}

TEST_CASE("lifecycle: malformed JSON and a hung endpoint keep the valid token") {
  Lifecycle f({"--auto-approve"}, http_config(700));
  f.connect();
  const std::string first = f.token_ok();
  const double exp = f.expires_at();

  f.server.admin_post("/admin/fail", R"({"endpoint":"token","mode":"malformed_json"})");
  f.clock.ms = exp - 2 * kMinute;
  CHECK(same(f.token_ok(), first));  // the refresh runs in the background
  REQUIRE(eventually([&] { return f.count_type("connection.refresh_failed") == 1; }));
  CHECK(str_at(f.last_event("connection.refresh_failed"), "reason") == "malformed_response");

  f.server.admin_post("/admin/fail", R"({"endpoint":"token","mode":"hang"})");
  f.clock.advance(10 * 1000);  // past the first back-off
  CHECK(same(f.token_ok(), first));
  REQUIRE(eventually([&] { return f.count_type("connection.refresh_failed") == 2; }));
  CHECK(str_at(f.last_event("connection.refresh_failed"), "reason") == "timeout");
  CHECK(f.count("token_refresh") == 2);
  CHECK(f.count_type("connection.expired") == 0);
  CHECK(f.status() == "active/timeout");

  // Expired while the endpoint hangs: a timeout error, not a re-auth.
  f.server.admin_post("/admin/fail", R"({"endpoint":"token","mode":"hang"})");
  f.clock.ms = exp + 60 * 1000;
  int rc = 0;
  CHECK(f.token(rc).empty());
  CHECK(rc == REFOLD_ETIMEOUT);
  CHECK(f.count_type("connection.expired") == 0);
}

TEST_CASE("lifecycle: invalid_client is a config error that keeps the tokens") {
  Lifecycle f;
  f.connect();
  const std::string first = f.token_ok();
  f.server.admin_post("/admin/fail", R"({"endpoint":"token","mode":"invalid_client","count":100})");
  const double exp = f.expires_at();
  f.clock.ms = exp - 10 * 1000;
  CHECK(same(f.token_ok(), first));  // still valid; refreshed in the background
  REQUIRE(eventually([&] { return f.count_type("connection.refresh_failed") == 1; }));
  CHECK(str_at(f.last_event("connection.refresh_failed"), "reason") == "invalid_client");
  f.clock.ms = exp + 5 * 1000;  // expired, inside the back-off (at least 24 s)
  int rc = 0;
  CHECK(f.token(rc).empty());
  CHECK(rc == REFOLD_EAUTH);
  CHECK(last_error().find("oauth_clients.sandbox") != std::string::npos);
  CHECK(f.status() == "active/invalid_client");
  CHECK(f.count_type("connection.expired") == 0);
  CHECK(f.count("token_refresh") == 1);
}

TEST_CASE("lifecycle: report_unauthorized refreshes once then requires re-auth") {
  Lifecycle f;
  f.connect();
  const std::string first = f.token_ok();
  REQUIRE_MESSAGE(refold_report_unauthorized(f.client.get(), "acct", "sandbox") == REFOLD_OK, last_error());
  CHECK(f.count("token_refresh") == 1);
  const std::string second = f.token_ok();
  CHECK_FALSE(same(second, first));
  CHECK(f.me(second) == 200);
  // The refreshed token is rejected too: now the user must reconnect.
  CHECK(refold_report_unauthorized(f.client.get(), "acct", "sandbox") == REFOLD_EREAUTH);
  CHECK(f.count("token_refresh") == 1);
  CHECK(f.status() == "reauth_required/unauthorized");
  CHECK(f.count_type("connection.expired") == 1);
  int rc = 0;
  f.token(rc);
  CHECK(rc == REFOLD_EREAUTH);

  // A refresh the provider refuses also ends in re-auth.
  f.connect();
  f.token_ok();
  f.server.admin_post("/admin/grants/revoke", R"({"all":true})");
  CHECK(refold_report_unauthorized(f.client.get(), "acct", "sandbox") == REFOLD_EREAUTH);
  CHECK(f.status() == "reauth_required/invalid_grant");

  CHECK(refold_report_unauthorized(f.client.get(), "nobody", "sandbox") == REFOLD_ENOTFOUND);
  CHECK(refold_report_unauthorized(f.client.get(), "acct", "no-such-app") == REFOLD_ENOTFOUND);
}

TEST_CASE("lifecycle: report_unauthorized about a token already replaced sends nothing") {
  Lifecycle f;
  f.connect();
  // Two threads hold the same token and both get 401 with it.
  Worker other;
  const std::string first = f.token_ok();
  CHECK(same(other.run([&] { return f.token_ok(); }), first));
  REQUIRE_MESSAGE(refold_report_unauthorized(f.client.get(), "acct", "sandbox") == REFOLD_OK, last_error());
  CHECK(f.count("token_refresh") == 1);

  // The other thread's report comes late, long after the refresh: it is
  // about the token that thread was handed, replaced since, so nothing is
  // sent and the connection stays active.
  f.clock.advance(60 * 1000);
  auto report = [&] { return refold_report_unauthorized(f.client.get(), "acct", "sandbox"); };
  CHECK(other.run(report) == REFOLD_OK);
  CHECK(f.count("token_refresh") == 1);
  CHECK(f.status() == "active/");
  // Read again, it gets the new token; a 401 on that one is final.
  CHECK_FALSE(same(other.run([&] { return f.token_ok(); }), first));
  CHECK(other.run(report) == REFOLD_EREAUTH);
  CHECK(f.count("token_refresh") == 1);
  CHECK(f.status() == "reauth_required/unauthorized");
  CHECK(f.count_type("connection.expired") == 1);

  // A thread this client never handed a token: a report just after a
  // forced refresh is taken for a late one; later, it is final.
  f.connect();
  f.token_ok();
  REQUIRE_MESSAGE(refold_report_unauthorized(f.client.get(), "acct", "sandbox") == REFOLD_OK, last_error());
  CHECK(f.count("token_refresh") == 2);
  auto report_from_new_thread = [&] {
    int rc = 0;
    std::thread([&] { rc = refold_report_unauthorized(f.client.get(), "acct", "sandbox"); }).join();
    return rc;
  };
  CHECK(report_from_new_thread() == REFOLD_OK);
  CHECK(f.status() == "active/");
  f.clock.advance(60 * 1000);
  CHECK(report_from_new_thread() == REFOLD_EREAUTH);
  CHECK(f.status() == "reauth_required/unauthorized");
  CHECK(f.count("token_refresh") == 2);
}

TEST_CASE("lifecycle: a 401 reported after a failed refresh refreshes rather than marking re-auth") {
  Lifecycle f;
  f.connect();
  f.token_ok();
  REQUIRE_MESSAGE(refold_report_unauthorized(f.client.get(), "acct", "sandbox") == REFOLD_OK, last_error());
  CHECK(f.count("token_refresh") == 1);
  const std::string forced = f.token_ok();
  // Long after that forced refresh, a refresh ahead of expiry fails.
  f.server.admin_post("/admin/fail", R"({"endpoint":"token","mode":"500","count":1})");
  f.clock.ms = f.expires_at() - 2 * kMinute;
  CHECK(same(f.token_ok(), forced));
  REQUIRE(eventually([&] { return f.count_type("connection.refresh_failed") == 1; }));
  CHECK(f.count("token_refresh") == 2);
  CHECK(f.status() == "active/server_error");
  // Two seconds later (past the first back-off), a thread this client never
  // handed the token reports a 401. The failure, not the forced refresh,
  // was the row's last change, so its time says nothing about the report:
  // refresh once more instead of ignoring it or requiring re-auth.
  f.clock.advance(2000);
  int rc = -1;
  std::string error;
  std::thread([&] {
    rc = refold_report_unauthorized(f.client.get(), "acct", "sandbox");
    if (rc != REFOLD_OK) error = last_error();
  }).join();
  CHECK_MESSAGE(rc == REFOLD_OK, error);
  CHECK(f.count("token_refresh") == 3);
  CHECK(f.status() == "active/");
  CHECK(f.count_type("connection.expired") == 0);
  CHECK_FALSE(same(f.token_ok(), forced));
}

TEST_CASE("lifecycle: report_unauthorized_token acts on the token named, from any thread") {
  Lifecycle f;
  f.connect();
  const std::string first = f.token_ok();
  auto report_from_new_thread = [&](const std::string& token) {
    int rc = -1;
    std::thread([&] { rc = refold_report_unauthorized_token(f.client.get(), "acct", "sandbox", token.c_str()); })
        .join();
    return rc;
  };
  // The current token, named from a thread that never read it: refreshed.
  REQUIRE(report_from_new_thread(first) == REFOLD_OK);
  CHECK(f.count("token_refresh") == 1);
  const std::string second = f.token_ok();
  CHECK_FALSE(same(second, first));

  // A late report naming the first token, long after (when one from a
  // thread that never read the token would be taken as final): nothing
  // happens.
  f.clock.advance(60 * 1000);
  CHECK(report_from_new_thread(first) == REFOLD_OK);
  CHECK(refold_report_unauthorized_token(f.client.get(), "acct", "sandbox", first.c_str()) == REFOLD_OK);
  CHECK(refold_report_unauthorized_token(f.client.get(), "acct", "sandbox", "not-a-token-it-handed-out") == REFOLD_OK);
  CHECK(f.count("token_refresh") == 1);
  CHECK(f.status() == "active/");
  CHECK(same(f.token_ok(), second));

  // Bad tokens are refused by name, without echoing them; nothing changes.
  const std::string huge(64 * 1024 + 1, 'x');
  for (const char* bad : {static_cast<const char*>(nullptr), "", huge.c_str()}) {
    CHECK(refold_report_unauthorized_token(f.client.get(), "acct", "sandbox", bad) == REFOLD_EINVALID);
    CHECK(last_error().find("access_token") != std::string::npos);
    CHECK(last_error().find("xxxxxxxx") == std::string::npos);
  }
  CHECK(f.status() == "active/");

  // Connected again, a 401 forces a refresh, and the token of that refresh
  // is named at once from a thread that never read it (which a report by
  // thread would take for a late one): rejected again, so the user must
  // connect again.
  f.connect();
  const std::string third = f.token_ok();
  REQUIRE(report_from_new_thread(third) == REFOLD_OK);
  CHECK(f.count("token_refresh") == 2);
  const std::string fourth = f.token_ok();
  CHECK_FALSE(same(fourth, third));
  CHECK(report_from_new_thread(fourth) == REFOLD_EREAUTH);
  CHECK(f.status() == "reauth_required/unauthorized");
  CHECK(f.count_type("connection.expired") == 1);
  CHECK(f.count("token_refresh") == 2);

  // A key-based connection has no token to compare: the report is final.
  connect_ok(f.client.get(), "acct", "twilio", twilio_payload(random_token()));
  CHECK(refold_report_unauthorized_token(f.client.get(), "acct", "twilio", "anything") == REFOLD_EREAUTH);
  CHECK(refold_report_unauthorized_token(f.client.get(), "nobody", "sandbox", "t") == REFOLD_ENOTFOUND);
}

TEST_CASE("lifecycle: a thread is remembered for the 16 connections it read most recently") {
  Lifecycle f;
  f.connect();
  for (int i = 0; i < 16; ++i)
    connect_ok(f.client.get(), ("k" + std::to_string(i)).c_str(), "twilio", twilio_payload(random_token()));
  f.token_ok();
  REQUIRE_MESSAGE(refold_report_unauthorized(f.client.get(), "acct", "sandbox") == REFOLD_OK, last_error());
  // This thread reads the refreshed token, 15 other connections, the
  // token again and one more: 17 connections, the token among the 16 read
  // most recently (though the first of them this thread ever read).
  f.token_ok();
  for (int i = 0; i < 15; ++i) credential_fields(f.client.get(), ("k" + std::to_string(i)).c_str(), "twilio");
  f.token_ok();
  credential_fields(f.client.get(), "k15", "twilio");
  // So its report of a 401 on that token, at once, is about the token it
  // was handed: final. Forgotten, it would be taken for a late report.
  CHECK(refold_report_unauthorized(f.client.get(), "acct", "sandbox") == REFOLD_EREAUTH);
  CHECK(f.status() == "reauth_required/unauthorized");
  CHECK(f.count("token_refresh") == 1);
}

namespace {

// An event handler that reads another connection, under a long account
// name, from inside the refresh that emitted the event.
struct Rereader {
  refold_client* client = nullptr;
  std::string account = long_account();
  static std::string long_account() {  // 250 bytes, in words (no run looks like a token)
    std::string a;
    while (a.size() < 250) a += "reader ";
    return a.substr(0, 250);
  }
  std::atomic<int> reads{0};
  static void on_event(const char* event_json, void* payload) {
    auto* self = static_cast<Rereader*>(payload);
    if (std::string_view(event_json).find("connection.refreshed") == std::string_view::npos) return;
    char* json = nullptr;
    if (refold_get_credentials(self->client, self->account.c_str(), "twilio", &json) == REFOLD_OK) ++self->reads;
    refold_free(json);
  }
};

}  // namespace

TEST_CASE("lifecycle: a handler that reads from inside a refresh leaves the read that refreshed intact") {
  Lifecycle f;
  f.connect();
  Rereader r;
  r.client = f.client.get();
  connect_ok(f.client.get(), r.account.c_str(), "twilio", twilio_payload(random_token()));
  REQUIRE(refold_set_event_handler(f.client.get(), &Rereader::on_event, &r, nullptr) == REFOLD_OK);
  const std::string first = f.token_ok();
  f.clock.ms = f.expires_at() + 1000;  // expired: the read refreshes, the handler reads meanwhile
  const std::string second = f.token_ok();
  CHECK(r.reads == 1);
  CHECK(f.count("token_refresh") == 1);
  CHECK_FALSE(same(second, first));
  // The read noted the token it handed this thread under the right
  // connection: a 401 on it forces one refresh.
  REQUIRE_MESSAGE(refold_report_unauthorized(f.client.get(), "acct", "sandbox") == REFOLD_OK, last_error());
  CHECK(f.count("token_refresh") == 2);
  CHECK(r.reads == 2);
}

TEST_CASE("lifecycle: report_unauthorized on a key-based connection requires re-auth") {
  Lifecycle f;
  connect_ok(f.client.get(), "acct", "twilio", twilio_payload(random_token()));
  CHECK(refold_report_unauthorized(f.client.get(), "acct", "twilio") == REFOLD_EREAUTH);
  int rc = 0;
  get_credentials(f.client.get(), "acct", "twilio", rc);
  CHECK(rc == REFOLD_EREAUTH);
  CHECK(str_at(f.last_event("connection.expired"), "reason") == "unauthorized");
}

TEST_CASE("lifecycle: mark_reauth marks once and connecting again clears it") {
  Lifecycle f;
  f.connect();
  connect_ok(f.client.get(), "acct", "twilio", twilio_payload(random_token()));
  f.token_ok();
  f.events.clear();

  CHECK(refold_mark_reauth(f.client.get(), "acct", "sandbox", "uninstalled") == REFOLD_OK);
  CHECK(f.count_type("connection.expired") == 1);
  CHECK(str_at(f.last_event("connection.expired"), "reason") == "uninstalled");
  int rc = 0;
  f.token(rc);
  CHECK(rc == REFOLD_EREAUTH);
  CHECK(last_error().find("uninstalled") != std::string::npos);
  CHECK(f.status() == "reauth_required/uninstalled");
  // Other connections are untouched.
  credential_fields(f.client.get(), "acct", "twilio");

  // Idempotent: no second event, the first reason stays.
  CHECK(refold_mark_reauth(f.client.get(), "acct", "sandbox", "deleted") == REFOLD_OK);
  CHECK(f.count_type("connection.expired") == 1);
  CHECK(f.status() == "reauth_required/uninstalled");

  CHECK(refold_mark_reauth(f.client.get(), "acct", "sandbox", "bad reason!") == REFOLD_EINVALID);
  CHECK(refold_mark_reauth(f.client.get(), "acct", "sandbox", "") == REFOLD_EINVALID);
  CHECK(refold_mark_reauth(f.client.get(), "nobody", "sandbox", nullptr) == REFOLD_ENOTFOUND);
  CHECK(refold_mark_reauth(f.client.get(), "acct", "twilio", nullptr) == REFOLD_OK);
  CHECK(str_at(f.last_event("connection.expired"), "reason") == "revoked");

  // A key-based reconnect brings that one back.
  connect_ok(f.client.get(), "acct", "twilio", twilio_payload(random_token()));
  CHECK(f.count_type("connection.reauthenticated") == 1);
  credential_fields(f.client.get(), "acct", "twilio");
}

TEST_CASE("lifecycle: disconnect revokes at the sandbox") {
  Lifecycle f;
  f.connect();
  const std::string token = f.token_ok();
  REQUIRE(refold_disconnect(f.client.get(), "acct", "sandbox") == REFOLD_OK);
  CHECK(f.count("revoke") == 2);  // refresh token, then access token
  bj::object deleted = f.last_event("connection.deleted");
  CHECK(deleted.at("revoked") == true);
  CHECK(f.me(token) == 401);
  HttpResult grants = curl("GET", f.server.base_url() + "/admin/grants");
  bj::array g = parse(grants.body).at("grants").as_array();
  REQUIRE(g.size() == 1);
  CHECK(g[0].at("revoked") == true);
  int rc = 0;
  f.token(rc);
  CHECK(rc == REFOLD_ENOTFOUND);
}

TEST_CASE("lifecycle: disconnect sends the app's declared revocation request") {
  // The sandbox app with its RFC 7009 endpoint swapped for a request
  // template aimed at the same endpoint: one request, for the refresh token.
  Lifecycle f;
  f.reopen_with_sandbox([](bj::object& app) {
    bj::object& oauth2 = app.at("oauth2").as_object();
    const bj::value endpoint = oauth2.at("revocation_endpoint");
    oauth2.erase("revocation_endpoint");
    oauth2["revocation"] = bj::object{
        {"url", endpoint},
        {"token", "refresh_token"},
        {"client_auth", "client_secret_basic"},
        {"params", bj::object{{"token", "{token}"}, {"token_type_hint", "refresh_token"}}}};
  });
  f.connect();
  const std::string token = f.token_ok();
  REQUIRE(refold_disconnect(f.client.get(), "acct", "sandbox") == REFOLD_OK);
  CHECK(f.count("revoke") == 1);
  CHECK(f.last_event("connection.deleted").at("revoked") == true);
  // The sandbox revokes the whole grant with its refresh token.
  HttpResult grants = curl("GET", f.server.base_url() + "/admin/grants");
  bj::array g = parse(grants.body).at("grants").as_array();
  REQUIRE(g.size() == 1);
  CHECK(g[0].at("revoked") == true);
  CHECK(f.me(token) == 401);
}

TEST_CASE("lifecycle: an app that declares no revocation is disconnected without a request") {
  Lifecycle f;
  f.reopen_with_sandbox([](bj::object& app) {
    bj::object& oauth2 = app.at("oauth2").as_object();
    oauth2.erase("revocation_endpoint");
    oauth2["revocation"] = "none";
  });
  f.connect();
  f.token_ok();
  REQUIRE(refold_disconnect(f.client.get(), "acct", "sandbox") == REFOLD_OK);
  CHECK(f.count("revoke") == 0);
  // Nothing was tried, so the event says nothing about revocation.
  CHECK_FALSE(f.last_event("connection.deleted").contains("revoked"));
  CHECK(sql_scalar(f.store.path, "SELECT count(*) FROM connections") == "0");
}

TEST_CASE("lifecycle: a failing revocation endpoint still leaves nothing stored") {
  Lifecycle f;
  f.connect();
  f.token_ok();
  f.server.admin_post("/admin/fail", R"({"endpoint":"revoke","mode":"500","count":10})");
  REQUIRE(refold_disconnect(f.client.get(), "acct", "sandbox") == REFOLD_OK);
  CHECK(f.last_event("connection.deleted").at("revoked") == false);
  CHECK(sql_scalar(f.store.path, "SELECT count(*) FROM connections") == "0");
  int rc = 0;
  f.token(rc);
  CHECK(rc == REFOLD_ENOTFOUND);
  // Idempotent.
  CHECK(refold_disconnect(f.client.get(), "acct", "sandbox") == REFOLD_OK);
}

TEST_CASE("lifecycle: the background refresher refreshes due tokens and stops promptly") {
  bj::object extra{{"background_refresh", true}};
  Lifecycle f({"--auto-approve"}, extra);
  f.connect();
  const std::string first = f.token_ok();
  f.clock.ms = f.expires_at() - 2 * kMinute;
  // It looks at the store at least once a second: wait (bounded) for it.
  for (int i = 0; i < 200 && f.count("token_refresh") == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(f.count("token_refresh") == 1);
  for (int i = 0; i < 100 && f.count_type("connection.refreshed") == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(f.count_type("connection.refreshed") == 1);
  CHECK_FALSE(same(f.token_ok(), first));
  CHECK(f.count("token_refresh") == 1);

  // A refresh hanging in flight does not hold up closing the client.
  f.server.admin_post("/admin/fail", R"({"endpoint":"token","mode":"hang"})");
  f.clock.ms = f.expires_at() - 2 * kMinute;
  for (int i = 0; i < 200 && f.count("token_refresh") == 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK(f.count("token_refresh") == 2);
  f.client.reset();  // must return although the request never gets an answer
}

TEST_CASE("lifecycle: the clock must be a sane number") {
  Lifecycle f;
  CHECK(refold_set_clock(nullptr, &TestClock::now, nullptr, nullptr) == REFOLD_EINVALID);
  // A nonsense clock is ignored in favour of the system clock.
  struct Bad {
    static double nan(void*) { return std::nan(""); }
  };
  REQUIRE(refold_set_clock(f.client.get(), &Bad::nan, nullptr, nullptr) == REFOLD_OK);
  f.connect();
  bj::object c = parse([&] {
    int rc = 0;
    return get_credentials(f.client.get(), "acct", "sandbox", rc);
  }()).as_object();
  CHECK(is_rfc3339_utc(str_at(c, "expires_at")));
  REQUIRE(refold_set_clock(f.client.get(), nullptr, nullptr, nullptr) == REFOLD_OK);
  f.token_ok();
}
