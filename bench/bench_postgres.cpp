// The PostgreSQL store against the SQLite store, in one run, pair by pair:
// durable key-based connects, cached and uncached credential reads, and
// background refreshes by one, two and three instances (processes sharing
// the store) against the sandbox answering 200 ms late. Each figure is
// printed for both stores with the ratio PostgreSQL / SQLite, which is what
// bench/RESULTS.md records (absolute figures move with the machine).
//
//   refold_bench_postgres --uri postgresql://... [--connects N] [--reads N] [--due N]
//
// The URI's database gets schemas of its own (dropped at the end). Nothing
// here is asserted in tests.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "refold.h"
#include "sandbox.hpp"

namespace {

using Clock = std::chrono::steady_clock;

void must(int rc, const char* what) {
  if (rc != REFOLD_OK) {
    std::fprintf(stderr, "%s: %s (%s)\n", what, refold_strerror(rc), refold_last_error());
    std::exit(1);
  }
}

double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + static_cast<long>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

const char* kKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

// A store to measure: its config's "store" (and schema) part.
struct Target {
  const char* name;
  std::string store_json;  // "\"store\": ..., ..." without braces
};

std::string config(const Target& t, const std::string& extra = "") {
  return "{" + t.store_json + ", \"master_key\": \"" + kKey + "\"" + (extra.empty() ? "" : ", " + extra) + "}";
}

std::string twilio(int i) {
  char token[40];
  std::snprintf(token, sizeof token, "tok%029d", i);
  return std::string("{\"sid\":\"AC0123456789abcdef0123456789ABCDEF\",\"auth_token\":\"") + token + "\"}";
}

// Connects `n` key-based accounts one after another; connects a second.
double connects_per_second(const Target& t, int n) {
  refold_client* c = nullptr;
  must(refold_client_open(&c, config(t).c_str()), "open");
  const auto t0 = Clock::now();
  for (int i = 0; i < n; ++i)
    must(refold_connect(c, ("acct-" + std::to_string(i)).c_str(), "twilio", twilio(i).c_str()), "connect");
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  refold_client_free(c);
  return n / s;
}

// Median microseconds of a credential read of random accounts among the
// `n` connected, with the cache (after one pass) or without it.
double read_median_us(const Target& t, int n, int reads, bool cached) {
  refold_client* c = nullptr;
  must(refold_client_open(&c, config(t, cached ? "" : "\"credential_cache\": 0").c_str()), "open");
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(reads));
  unsigned seed = 7;
  if (cached)
    for (int i = 0; i < n; ++i) {
      char* out = nullptr;
      must(refold_get_credentials(c, ("acct-" + std::to_string(i)).c_str(), "twilio", &out), "read");
      refold_free(out);
    }
  for (int r = 0; r < reads; ++r) {
    seed = seed * 1103515245 + 12345;
    const std::string account = "acct-" + std::to_string((seed >> 8) % static_cast<unsigned>(n));
    char* out = nullptr;
    const auto t0 = Clock::now();
    must(refold_get_credentials(c, account.c_str(), "twilio", &out), "read");
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    refold_free(out);
  }
  refold_client_free(c);
  return median(us);
}

// Background refreshes a second by `instances` processes sharing the store,
// of `due` client-credentials connections all due at once, against the
// sandbox answering every token request 200 ms late.
double refreshes_per_second(const Target& t, refold_bench::Sandbox& sandbox, int due, int instances) {
  const std::string catalog =
      "\"catalog\": [{\"slug\": \"bench-cc\", \"name\": \"Bench M2M\", \"auth_types\": [\"oauth2_cc\"],"
      " \"oauth2_cc\": {\"token_endpoint\": \"" + sandbox.base + "/oauth/token\", \"scopes\": [\"read\"]}}]";
  const std::string base_config = config(t, catalog);
  refold_client* c = nullptr;
  must(refold_client_open(&c, base_config.c_str()), "open");
  const std::string client = R"({"client_id":"bench-client","client_secret":"bench-secret"})";
  const std::string prefix = "cc" + std::to_string(instances) + "-";
  for (int i = 0; i < due; ++i)
    must(refold_connect(c, (prefix + std::to_string(i)).c_str(), "bench-cc", client.c_str()), "connect cc");
  refold_client_free(c);
  sandbox.post("/admin/fail", R"({"endpoint":"token","mode":"slow","count":1000000,"delay_ms":200})");
  sandbox.post("/admin/reset-counters", "{}");
  // Each instance's clock is two hours ahead: every token of this round
  // (they live an hour) is due; earlier rounds' were refreshed already.
  const std::string instance_config =
      config(t, catalog + ", \"background_refresh\": true, \"refresh_concurrency\": 64");
  const std::string stop = "/tmp/refold-bench-pg-stop-" + std::to_string(getpid());
  std::filesystem::remove(stop);
  const auto t0 = Clock::now();
  std::vector<pid_t> pids;
  for (int k = 0; k < instances; ++k) {
    pid_t pid = fork();
    if (pid == 0) {
      refold_client* ic = nullptr;
      if (refold_client_open(&ic, instance_config.c_str()) != REFOLD_OK) _exit(1);
      struct Ahead {
        static double now(void*) {
          return std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch())
                     .count() + 2 * 3600 * 1000.0;
        }
      };
      refold_set_clock(ic, &Ahead::now, nullptr, nullptr);
      while (!std::filesystem::exists(stop)) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      refold_client_free(ic);
      _exit(0);
    }
    pids.push_back(pid);
  }
  while (sandbox.counter("token_client_credentials") < due) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  // Until the last answer arrived and was saved.
  while (sandbox.counter("token_in_flight") > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  FILE* f = std::fopen(stop.c_str(), "w");
  if (f) std::fclose(f);
  for (pid_t pid : pids) waitpid(pid, nullptr, 0);
  std::filesystem::remove(stop);
  sandbox.post("/admin/fail/clear", R"({"endpoint":"token"})");
  const long sent = sandbox.counter("token_client_credentials");
  if (sent != due) std::printf("  (note: %ld token requests for %d due connections)\n", sent, due);
  return due / s;
}

}  // namespace

int main(int argc, char** argv) {
  std::string uri;
  int connects = 2000, reads = 20000, due = 1000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--uri" && i + 1 < argc) uri = argv[++i];
    else if (a == "--connects" && i + 1 < argc) connects = std::atoi(argv[++i]);
    else if (a == "--reads" && i + 1 < argc) reads = std::atoi(argv[++i]);
    else if (a == "--due" && i + 1 < argc) due = std::atoi(argv[++i]);
    else {
      std::fprintf(stderr, "usage: %s --uri postgresql://... [--connects N] [--reads N] [--due N]\n", argv[0]);
      return 2;
    }
  }
  if (uri.empty() || connects < 1 || reads < 1 || due < 1) {
    std::fprintf(stderr, "usage: %s --uri postgresql://... [--connects N] [--reads N] [--due N]\n", argv[0]);
    return 2;
  }
  char dir_template[] = "/tmp/refold-bench-pg-XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (!dir) return 1;
  const std::string schema = "bench_" + std::to_string(getpid());
  const Target sqlite{"SQLite", "\"store\": \"" + std::string(dir) + "/bench.db\""};
  const Target pg{"PostgreSQL", "\"store\": \"" + uri + "\", \"postgresql_schema\": \"" + schema + "\""};
  const Target* targets[] = {&sqlite, &pg};
  std::printf("refold %s: PostgreSQL / SQLite, pair by pair\n", refold_version());

  double v[2];
  for (int k = 0; k < 2; ++k) v[k] = connects_per_second(*targets[k], connects);
  std::printf("durable connects/s (%d in a row):  SQLite %.0f  PostgreSQL %.0f  ratio %.2f\n", connects, v[0],
              v[1], v[1] / v[0]);
  for (int k = 0; k < 2; ++k) v[k] = read_median_us(*targets[k], connects, reads, true);
  std::printf("cached read, median us:            SQLite %.2f  PostgreSQL %.2f  ratio %.2f\n", v[0], v[1],
              v[1] / v[0]);
  for (int k = 0; k < 2; ++k) v[k] = read_median_us(*targets[k], connects, reads / 4, false);
  std::printf("uncached read, median us:          SQLite %.1f  PostgreSQL %.1f  ratio %.2f\n", v[0], v[1],
              v[1] / v[0]);
  refold_bench::Sandbox sandbox({"--access-token-ttl", "3600"});
  for (int instances = 1; instances <= 3; ++instances) {
    for (int k = 0; k < 2; ++k) v[k] = refreshes_per_second(*targets[k], sandbox, due, instances);
    std::printf("background refreshes/s, %d instance%s (%d due, 200 ms answers):  SQLite %.0f  PostgreSQL %.0f  "
                "ratio %.2f\n",
                instances, instances == 1 ? "" : "s", due, v[0], v[1], v[1] / v[0]);
    std::fflush(stdout);
  }
  std::filesystem::remove_all(dir);
  std::printf("(drop the schema with: DROP SCHEMA %s CASCADE)\n", schema.c_str());
  return 0;
}
