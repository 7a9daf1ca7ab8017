// Crash consistency of the token lifecycle: a process refreshing in a loop
// against a sandbox that rotates refresh tokens is SIGKILLed at random
// moments, many times. After each kill a new process reads the connection
// and refreshes it; the sandbox must accept the refresh token it presents.
//
// One window is outside any client's control: the provider has rotated the
// token and sent its answer, and the process dies before the answer is in
// the store. The test tells that case apart by the sandbox's own count of
// refreshes: a rejected refresh is allowed only when the killed process had
// one answered refresh it never reported. A refresh token refold had
// committed (or an access token it had handed out) lost across the kill, or
// a spent one sent again, fails the test.
#include "lifecycle_fixture.hpp"

#include <csignal>
#include <cstdint>
#include <random>

using namespace refold_test;

namespace {

constexpr int kKills = 24;

// The sandbox's record of the newest grant: {refreshes accepted, revoked}.
std::pair<std::int64_t, bool> newest_grant(const Devserver& server) {
  HttpResult r = curl("GET", server.base_url() + "/admin/grants");
  REQUIRE(r.status == 200);
  const json::value body = parse(r.body);
  const bj::array& grants = body.at("grants").as_array();
  REQUIRE(!grants.empty());
  const bj::object* newest = nullptr;
  for (const auto& g : grants)
    if (!newest || g.at("id").to_number<std::int64_t>() > newest->at("id").to_number<std::int64_t>())
      newest = &g.as_object();
  return {newest->at("refreshes").to_number<std::int64_t>(), newest->at("revoked").as_bool()};
}

// The child: refreshes in a loop from `start` (client clock), writing one
// byte to `fd` after each read that refreshed, then idling a little, so
// kills land both inside refreshes and between them. Never returns.
[[noreturn]] void refresh_loop(const std::string& config, double start, unsigned seed, int fd) {
  refold_client* c = nullptr;
  if (refold_client_open(&c, config.c_str()) != REFOLD_OK) ::_exit(2);
  TestClock clock;
  clock.ms = start;
  refold_set_clock(c, &TestClock::now, &clock, nullptr);
  std::minstd_rand rng(seed);
  for (;;) {
    clock.advance(2 * 60 * 60 * 1000.0);  // past expiry: the read must refresh
    char* out = nullptr;
    if (refold_get_credentials(c, "acct", "sandbox", &out) != REFOLD_OK) ::_exit(3);
    refold_free(out);
    const char byte = 'r';
    if (::write(fd, &byte, 1) != 1) ::_exit(4);
    ::usleep(static_cast<useconds_t>(rng() % 2000));
  }
}

}  // namespace

TEST_CASE("crash: SIGKILL at random moments of a refresh loop loses no rotated refresh token") {
  Lifecycle f;
  f.connect();
  f.token_ok();
  f.client.reset();

  std::mt19937 rng(std::random_device{}());
  double start = f.expires_at();
  int lost_in_flight = 0;
  for (int kill = 0; kill < kKills; ++kill) {
    CAPTURE(kill);
    const auto [before, revoked_before] = newest_grant(f.server);
    REQUIRE_FALSE(revoked_before);

    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const unsigned seed = static_cast<unsigned>(rng());
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(fds[0]);
      refresh_loop(f.config, start, seed, fds[1]);
    }
    ::close(fds[1]);
    Child child{pid, fds[0]};

    // Let it refresh at least once, then kill it a random moment later.
    std::int64_t reported = 0;
    char byte;
    pollfd p{child.fd, POLLIN, 0};
    REQUIRE(::poll(&p, 1, 120000) == 1);
    REQUIRE(::read(child.fd, &byte, 1) == 1);
    ++reported;
    ::usleep(static_cast<useconds_t>(rng() % 20000));
    ::kill(child.pid, SIGKILL);
    for (;;) {
      const ssize_t n = ::read(child.fd, &byte, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      ++reported;
    }
    const int status = reap(child);
    REQUIRE(WIFSIGNALED(status));  // not an early exit from an error in the loop

    // A new process (this one) reads and refreshes.
    start += 1000.0 * 60 * 60 * 1000;  // far past anything the child's clock reached
    f.client = f.open(f.config);
    f.clock.ms = start;
    int rc = 0;
    f.token(rc);
    const auto [after, revoked] = newest_grant(f.server);
    const std::int64_t unreported = after - before - reported - (rc == REFOLD_OK ? 1 : 0);
    CAPTURE(reported);
    CAPTURE(unreported);
    // The child refreshes one at a time: at most the one refresh it was in.
    CHECK(unreported >= 0);
    CHECK(unreported <= 1);
    if (rc == REFOLD_OK) {
      CHECK_FALSE(revoked);
      CHECK(f.status() == "active/");
    } else {
      // Only the token the provider rotated as the process died may be lost.
      CHECK(rc == REFOLD_EREAUTH);
      CHECK(unreported == 1);
      CHECK(revoked);
      ++lost_in_flight;
      f.connect();  // the user reconnects
    }
    start = f.expires_at();
    f.client.reset();
  }
  const int accepted = kKills - lost_in_flight;
  MESSAGE(accepted << " of " << kKills << " kills left a refresh token the provider accepted; "
                   << lost_in_flight << " fell between its answer and the commit");
}

namespace {

// A client clock that runs 3,600 times faster than the steady clock from
// `start`: a one-hour token comes due about once a second.
struct FastClock {
  double start;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  static double now(void* p) {
    auto* c = static_cast<FastClock*>(p);
    const auto real = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - c->t0);
    return c->start + real.count() * 3600;
  }
};

constexpr int kGroupAccounts = 16;
constexpr int kGroupKills = 6;

// The child: background refresh eight at a time plus four reader threads
// over every connection; each access token a read hands out for the first
// time goes to `fd` as "<index> <token>\n" right after the read returns.
[[noreturn]] void group_loop(const std::string& config, double start, int fd) {
  refold_client* c = nullptr;
  if (refold_client_open(&c, config.c_str()) != REFOLD_OK) ::_exit(2);
  static FastClock clock{start};
  refold_set_clock(c, &FastClock::now, &clock, nullptr);
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t)
    readers.emplace_back([c, t, fd] {
      std::vector<std::string> last(kGroupAccounts);
      for (;;)
        for (int i = t; i < kGroupAccounts; i += 4) {
          char* out = nullptr;
          const std::string acct = "acct-" + std::to_string(i);
          if (refold_get_credentials(c, acct.c_str(), "sandbox", &out) != REFOLD_OK) continue;
          const std::string token = str_at(parse(out).as_object(), "access_token");
          refold_free(out);
          if (token == last[i]) continue;
          last[i] = token;
          const std::string line = std::to_string(i) + " " + token + "\n";
          if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) ::_exit(4);
        }
    });
  for (auto& r : readers) r.join();
  ::_exit(5);
}

}  // namespace

TEST_CASE("crash: SIGKILL during group commits never loses a token that was handed out") {
  bj::object extra{{"background_refresh", true}, {"refresh_concurrency", 8}};
  Lifecycle f({"--auto-approve"}, extra);
  for (int i = 0; i < kGroupAccounts; ++i) f.connect(("acct-" + std::to_string(i)).c_str());
  f.client.reset();
  std::mt19937 rng(std::random_device{}());
  int regressed = 0, reconnected = 0;
  std::size_t handed = 0;
  for (int kill = 0; kill < kGroupKills; ++kill) {
    CAPTURE(kill);
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const double start = wall_ms() + (kill + 1) * 1e10;  // past every earlier round's clock
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(fds[0]);
      group_loop(f.config, start, fds[1]);
    }
    ::close(fds[1]);
    Child child{pid, fds[0]};
    // Everything the child reported, by connection, oldest first.
    std::vector<std::vector<std::string>> reported(kGroupAccounts);
    std::string pending;
    auto take = [&](const char* data, ssize_t n) {
      pending.append(data, static_cast<std::size_t>(n));
      for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos; pending.erase(0, nl + 1)) {
        const std::string line = pending.substr(0, nl);
        const std::size_t sp = line.find(' ');
        reported.at(std::stoul(line.substr(0, sp))).push_back(line.substr(sp + 1));
      }
    };
    const auto kill_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(400 + rng() % 1200);
    char buf[4096];
    while (std::chrono::steady_clock::now() < kill_at) {
      pollfd p{child.fd, POLLIN, 0};
      if (::poll(&p, 1, 20) == 1) {
        const ssize_t n = ::read(child.fd, buf, sizeof buf);
        if (n > 0) take(buf, n);
      }
    }
    ::kill(child.pid, SIGKILL);
    for (;;) {
      const ssize_t n = ::read(child.fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      take(buf, n);
    }
    REQUIRE(WIFSIGNALED(reap(child)));

    // A new process reads what is stored, refreshing nothing (its clock is
    // at the epoch, long before any token is due).
    CHECK(sql_scalar(f.store.path, "PRAGMA integrity_check") == "ok");
    f.client = f.open(f.config);
    f.clock.ms = 1;
    for (int i = 0; i < kGroupAccounts; ++i) {
      const std::string acct = "acct-" + std::to_string(i);
      CAPTURE(i);
      const auto& r = reported[static_cast<std::size_t>(i)];
      handed += r.size();
      int rc = 0;
      const std::string stored = f.token(rc, acct.c_str());
      if (rc != REFOLD_OK) {
        // Marked by the child: a refresh the provider answered as an earlier
        // child died (its rotated token never reached the store) was refused.
        CHECK(rc == REFOLD_EREAUTH);
        f.connect(acct.c_str());
        ++reconnected;
        continue;
      }
      // The store holds the last token handed out, or a newer one saved
      // before the kill; never one older than a token handed out.
      for (std::size_t k = 0; k + 1 < r.size(); ++k)
        if (same(stored, r[k])) ++regressed;
    }
    f.client.reset();
  }
  CHECK(regressed == 0);
  CHECK(handed > static_cast<std::size_t>(kGroupAccounts));  // the children did refresh
  MESSAGE(handed << " tokens handed out over " << kGroupKills << " kills; " << reconnected
                 << " connections lost a refresh answered as a child died and were reconnected");
}
