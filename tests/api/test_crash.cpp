// Durability: a writer killed with SIGKILL loses nothing it was told was
// committed, and leaves a sound store.
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>

#include <poll.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace refold_test;

namespace {

constexpr std::uint32_t kChildFailed = 0xFFFFFFFFu;
constexpr std::size_t kWanted = 200;

// The auth_token the child writes for index i (39 characters).
std::string token_for(std::uint32_t i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "crash-token-%010u-abcdefghijklmnop", static_cast<unsigned>(i));
  return buf;
}

std::string account_for(std::uint32_t i) {
  return "crash-" + std::to_string(i);
}

bool write_all(int fd, const void* data, std::size_t n) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// The child: connect crash-0, crash-1, ... and report each index after its
// connect returned 0. Never returns; no doctest in here.
[[noreturn]] void child_main(const std::string& config, int fd) {
  refold_client* c = nullptr;
  if (refold_client_open(&c, config.c_str()) != REFOLD_OK) {
    write_all(fd, &kChildFailed, sizeof kChildFailed);
    ::_exit(2);
  }
  for (std::uint32_t i = 0; i < 1000000u; ++i) {
    const std::string account = account_for(i);
    const std::string payload = twilio_payload(token_for(i));
    if (refold_connect(c, account.c_str(), "twilio", payload.c_str()) != REFOLD_OK) {
      write_all(fd, &kChildFailed, sizeof kChildFailed);
      ::_exit(3);
    }
    if (!write_all(fd, &i, sizeof i)) ::_exit(4);
  }
  ::_exit(0);
}

}  // namespace

TEST_CASE("crash: a writer killed mid-run loses nothing it reported") {
  Store s;
  const std::string config = s.config();

  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    child_main(config, fds[1]);
  }
  ::close(fds[1]);

  std::set<std::uint32_t> reported;
  bool child_failed = false;
  bool killed = false;
  bool timed_out = false;
  std::string pending;  // partial record bytes
  for (;;) {
    pollfd pfd{fds[0], POLLIN, 0};
    // A generous bound so that a hung child fails the test instead of
    // hanging it; never a timing assertion.
    const int pr = ::poll(&pfd, 1, 300000);
    if (pr < 0 && errno == EINTR) continue;
    if (pr == 0) {
      timed_out = true;
      break;
    }
    char buf[256];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the child is gone
    pending.append(buf, static_cast<std::size_t>(n));
    while (pending.size() >= sizeof(std::uint32_t)) {
      std::uint32_t i = 0;
      std::memcpy(&i, pending.data(), sizeof i);
      pending.erase(0, sizeof i);
      if (i == kChildFailed)
        child_failed = true;
      else
        reported.insert(i);
    }
    if (!killed && reported.size() >= kWanted) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
  }
  if (!killed) ::kill(pid, SIGKILL);
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }

  REQUIRE_FALSE(timed_out);
  REQUIRE_FALSE(child_failed);
  REQUIRE(killed);
  CHECK(WIFSIGNALED(status));
  CHECK(reported.size() >= kWanted);
  // Indices are reported in order, none skipped.
  CHECK(*reported.rbegin() + 1 == reported.size());

  {
    ClientPtr c = open_client(config);
    std::size_t missing = 0, wrong = 0;
    for (const std::uint32_t i : reported) {
      int rc = 0;
      const std::string text = get_credentials(c.get(), account_for(i).c_str(), "twilio", rc);
      if (rc != REFOLD_OK) {
        ++missing;
        continue;
      }
      const json::value v = parse(text);
      const auto* fields = v.is_object() ? v.as_object().if_contains("fields") : nullptr;
      if (!fields || !fields->is_object() ||
          !field_is(fields->as_object(), "auth_token", token_for(i)))
        ++wrong;
    }
    CHECK(missing == 0);
    CHECK(wrong == 0);
    // At most the one connect in flight at the kill may be there unreported.
    const auto all = list_connections(c.get(), nullptr);
    CHECK(all.size() >= reported.size());
    CHECK(all.size() <= reported.size() + 1);
    // The store still takes writes.
    connect_ok(c.get(), "after-crash", "twilio", twilio_payload(random_token()));
  }
  CHECK(integrity_check(s.path) == "ok");
}
