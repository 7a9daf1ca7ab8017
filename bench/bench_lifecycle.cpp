// Token lifecycle benchmarks against the sandbox provider (refold-devserver,
// started here on an ephemeral port):
//
//   1. reading a valid OAuth token: per-call median on one thread, and the
//      rate of one thread against two threads together;
//   2. 64 threads reading one expired token: how many refreshes were sent,
//      and how long after the refresh every thread had its token;
//   3. refreshes in a row over a kept-alive connection: the rate.
//
//   refold_bench_lifecycle [--reads N] [--seconds S] [--refreshes N]
//
// Figures go in bench/RESULTS.md; nothing here is asserted in tests.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "refold.h"

#include "sandbox.hpp"

using namespace refold_bench;
namespace {

using Steady = std::chrono::steady_clock;

void must(int rc, const char* what) {
  if (rc != REFOLD_OK) {
    std::fprintf(stderr, "%s: %s (%s)\n", what, refold_strerror(rc), refold_last_error());
    std::exit(1);
  }
}

double wall_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The client's clock: real time plus an offset the bench moves.
std::atomic<double> g_offset{0};
double bench_clock(void*) { return wall_ms() + g_offset.load(); }


struct Event {
  std::mutex mu;
  double refreshed_at_ms = 0;  // wall time the refreshed event says
};

void on_event(const char* json, void* payload) {
  auto* e = static_cast<Event*>(payload);
  std::string s(json);
  if (json_field(s, "type") != "connection.refreshed") return;
  std::string at = json_field(s, "at");  // 2026-11-26T17:54:52.123Z
  std::tm tm{};
  strptime(at.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  double ms = static_cast<double>(timegm(&tm)) * 1000 + std::atof(at.c_str() + 19) * 1000;
  std::lock_guard lock(e->mu);
  e->refreshed_at_ms = ms;
}

void connect(refold_client* c, const char* account) {
  char* url = nullptr;
  must(refold_oauth_begin(c, account, "sandbox", nullptr, &url), "begin");
  std::string callback = run("curl -s -o /dev/null -w '%{redirect_url}' '" + std::string(url) + "'");
  refold_free(url);
  must(refold_oauth_complete(c, callback.c_str(), nullptr), "complete");
}

double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// Reads `account`'s token for `seconds`; returns reads done.
long read_for(refold_client* c, const char* account, double seconds, const std::atomic<bool>& go) {
  while (!go.load()) std::this_thread::yield();
  long n = 0;
  auto end = Steady::now() + std::chrono::duration<double>(seconds);
  while (Steady::now() < end) {
    for (int i = 0; i < 100; ++i) {
      char* json = nullptr;
      must(refold_get_credentials(c, account, "sandbox", &json), "read");
      refold_free(json);
    }
    n += 100;
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  long reads = 200000, refreshes = 300;
  double seconds = 2.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--reads")) reads = std::atol(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--refreshes")) refreshes = std::atol(argv[i + 1]);
  }
  char tmpl[] = "/tmp/refold-bench-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  Sandbox sandbox;
  std::string config = "{\"store\":\"" + dir + "/bench.db\",\"master_key\":\"" + std::string(64, 'c') +
                       "\",\"catalog\":[{\"slug\":\"sandbox\",\"name\":\"Sandbox\",\"auth_types\":[\"oauth2\"],"
                       "\"oauth2\":{\"authorization_endpoint\":\"" + sandbox.base + "/oauth/authorize\","
                       "\"token_endpoint\":\"" + sandbox.base + "/oauth/token\",\"revocation_endpoint\":\"" +
                       sandbox.base + "/oauth/revoke\",\"scopes\":[\"profile\"]}}],"
                       "\"oauth_clients\":{\"sandbox\":{\"client_id\":\"bench-client\",\"client_secret\":"
                       "\"bench-secret\",\"redirect_uri\":\"http://127.0.0.1:9/callback\"}}}";
  refold_client* c = nullptr;
  must(refold_client_open(&c, config.c_str()), "open");
  Event ev;
  must(refold_set_event_handler(c, on_event, &ev, nullptr), "events");
  connect(c, "a");
  connect(c, "b");

  // 1. Valid token reads.
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(reads));
  for (long i = 0; i < reads; ++i) {
    auto t0 = Steady::now();
    char* json = nullptr;
    must(refold_get_credentials(c, "a", "sandbox", &json), "read");
    refold_free(json);
    us.push_back(std::chrono::duration<double, std::micro>(Steady::now() - t0).count());
  }
  std::printf("valid token read, one thread: median %.2f us, p99 %.2f us (%ld reads)\n", median(us),
              percentile(us, 0.99), reads);

  std::atomic<bool> go{true};
  long one = read_for(c, "a", seconds, go);
  std::printf("one thread: %.0f reads/s\n", static_cast<double>(one) / seconds);
  for (const char* second : {"a", "b"}) {
    std::atomic<bool> start{false};
    long r1 = 0, r2 = 0;
    std::thread t1([&] { r1 = read_for(c, "a", seconds, start); });
    std::thread t2([&] { r2 = read_for(c, second, seconds, start); });
    start = true;
    t1.join();
    t2.join();
    std::printf("two threads (%s connection): %.0f reads/s together, %.2fx one thread\n",
                std::strcmp(second, "a") == 0 ? "same" : "different",
                static_cast<double>(r1 + r2) / seconds, static_cast<double>(r1 + r2) / static_cast<double>(one));
  }

  // 2. 64 threads on an expired token. The bench's clock (set only now: a
  // host clock costs a lock per read) moves time past expiry.
  must(refold_set_clock(c, bench_clock, nullptr, nullptr), "clock");
  for (int round = 0; round < 5; ++round) {
    long before = sandbox.counter("token_refresh");
    g_offset = g_offset.load() + 2 * 3600 * 1000.0;  // past expiry
    constexpr int kThreads = 64;
    std::vector<double> done_at(kThreads);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        ready.fetch_add(1);
        while (ready.load() < kThreads) std::this_thread::yield();
        char* json = nullptr;
        must(refold_get_credentials(c, "a", "sandbox", &json), "expired read");
        refold_free(json);
        done_at[static_cast<std::size_t>(i)] = wall_ms();
      });
    }
    for (auto& t : threads) t.join();
    double last = *std::max_element(done_at.begin(), done_at.end());
    double first = *std::min_element(done_at.begin(), done_at.end());
    double refreshed;
    {
      std::lock_guard lock(ev.mu);
      refreshed = ev.refreshed_at_ms;
    }
    std::printf("64 threads on an expired token: %ld refresh(es); all served %.2f ms after the "
                "response arrived (event time, 1 ms resolution), first to last %.2f ms\n",
                sandbox.counter("token_refresh") - before, last - (refreshed - g_offset.load()),
                last - first);
  }

  // 3. Refreshes in a row, each a read of a token made expired.
  std::vector<double> ms;
  auto t_all = Steady::now();
  for (long i = 0; i < refreshes; ++i) {
    g_offset = g_offset.load() + 2 * 3600 * 1000.0;
    auto t0 = Steady::now();
    char* json = nullptr;
    must(refold_get_credentials(c, "b", "sandbox", &json), "refresh read");
    refold_free(json);
    ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
  }
  double total = std::chrono::duration<double>(Steady::now() - t_all).count();
  std::printf("refreshes in a row: %.0f /s (median %.2f ms, p99 %.2f ms; %ld refreshes, %ld TCP "
              "connections accepted by the sandbox in all)\n",
              static_cast<double>(refreshes) / total, median(ms), percentile(ms, 0.99), refreshes,
              sandbox.counter("connections"));

  refold_client_free(c);
  std::filesystem::remove_all(dir);
  return 0;
}
