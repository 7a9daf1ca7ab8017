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
