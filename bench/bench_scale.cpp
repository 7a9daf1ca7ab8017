// Refresh at scale (issue 12), against the sandbox provider with every token
// request answered `--delay` ms late:
//
//   1. the background refresher draining a backlog of due connections, for
//      several refresh_concurrency values (the curve), and once with
//      `--backlog` connections at the default;
//   2. during that drain: reads of tokens inside their window (served at
//      once) and reads of expired tokens (one refresh latency each);
//   3. refreshes against a near-free endpoint, concurrent beside sequential;
//   4. cached reads of a working set while another thread connects other
//      accounts at 100 a second, beside the same reads alone.
//
//   5. (only with --only 5) the due query over `--due-rows` connections.
//
//   refold_bench_scale [--backlog N] [--curve N] [--delay MS] [--only 1|3|4|5] [--due-rows N]
//
// Connections are seeded straight into the store (sealed by the vault with
// the record of one real OAuth connection; the sandbox runs without refresh
// token rotation so every row's refresh token stays good). Figures go in
// bench/RESULTS.md; nothing here is asserted in tests.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "core/client.hpp"
#include "core/config.hpp"
#include "vault/master_key.hpp"
#include "vault/vault.hpp"
#include "store/sqlite.hpp"
#include "store/sqlite_store.hpp"
#include "util/time.hpp"

#include "proc_memory.hpp"
#include "sandbox.hpp"

using namespace refold_bench;
using namespace refold;

namespace {

using Steady = std::chrono::steady_clock;
const std::string kKey(64, 'c');

double since(Steady::time_point t0) { return std::chrono::duration<double>(Steady::now() - t0).count(); }

// Every token request answered `ms` late (0: at once).
void set_delay(const Sandbox& sb, int ms) {
  sb.post("/admin/fail/clear", "{}");
  if (ms > 0)
    sb.post("/admin/fail", "{\"endpoint\":\"token\",\"mode\":\"slow\",\"count\":1000000,\"delay_ms\":" +
                               std::to_string(ms) + "}");
}

// A store in a directory of its own with one real OAuth connection, and the
// means to seed many more from its record.
struct Bench {
  Bench(const Sandbox& sb, const std::string& extra) : sandbox(sb) {
    char tmpl[] = "/tmp/refold-bench-XXXXXX";
    dir = mkdtemp(tmpl);
    path = dir + "/bench.db";
    config = "{\"store\":\"" + path + "\",\"master_key\":\"" + kKey +
             "\",\"catalog\":[{\"slug\":\"sandbox\",\"name\":\"Sandbox\",\"auth_types\":[\"oauth2\"],"
             "\"oauth2\":{\"authorization_endpoint\":\"" + sb.base + "/oauth/authorize\","
             "\"token_endpoint\":\"" + sb.base + "/oauth/token\",\"revocation_endpoint\":\"" + sb.base +
             "/oauth/revoke\",\"scopes\":[\"profile\"]}}],"
             "\"oauth_clients\":{\"sandbox\":{\"client_id\":\"bench-client\",\"client_secret\":"
             "\"bench-secret\",\"redirect_uri\":\"http://127.0.0.1:9/callback\"}}" + extra + "}";
    core::Client c(core::parse_config(config.c_str()));
    std::string url = c.oauth_begin("seed", "sandbox", nullptr);
    c.oauth_complete(run("curl -s -o /dev/null -w '%{redirect_url}' '" + url + "'"));
  }
  ~Bench() {
    client.reset();
    std::filesystem::remove_all(dir);
  }

  // Adds `n` connections "<prefix><i>" holding the seed's tokens, with the
  // given expiry and next refresh, in one transaction. With a `spread`,
  // connection i's expiry and refresh are both later by a share of it that
  // is scattered over the accounts (i * 7919 mod n of n parts).
  void seed(const std::string& prefix, long n, Millis expires_at, Millis next_refresh_at, Millis spread = 0) {
    store::SqliteStore st(path);
    SystemClock clock;
    vault::Vault sealer(st, vault::parse_key(kKey, "key", REFOLD_EINVALID), st.meta().store_id, clock);
    auto row = st.find("seed", "sandbox");
    crypto::WipedBytes plain = sealer.open(row->connection.id, row->sealed);
    const std::int64_t key_id = st.current_data_key();
    sqlite::Db db(path);
    db.exec("BEGIN IMMEDIATE");
    sqlite::Stmt ins(db,
                     "INSERT INTO connections (account, app, auth_type, created_at, updated_at, expires_at,"
                     " next_refresh_at, version, key_id, nonce, ciphertext)"
                     " VALUES (?1, 'sandbox', 'oauth2', ?2, ?2, ?3, ?4, 1, ?5, ?6, ?7)");
    const Millis now = clock.now();
    for (long i = 0; i < n; ++i) {
      store::ConnectionId id{prefix + std::to_string(i), "sandbox", "oauth2"};
      store::Sealed s = sealer.seal(id, std::span<const std::uint8_t>(plain.data(), plain.size()), key_id);
      const Millis later = spread * static_cast<Millis>((i * 7919) % n) / n;
      ins.bind(1, id.account).bind(2, now).bind(3, expires_at + later).bind(4, next_refresh_at + later)
          .bind(5, key_id)
          .bind(6, std::span(s.nonce)).bind(7, std::span(s.ciphertext));
      ins.run();
      ins.reset();
    }
    db.exec("COMMIT");
  }

  // Whether a row of `prefix` is still due at `at`. Walks the due index
  // (as the refresher's own query does) and stops at the first row, so the
  // bench's polling costs the machine's two cores next to nothing; a count
  // over the backlog took milliseconds of CPU per poll.
  bool still_due(const std::string& prefix, Millis at) {
    sqlite::Db db(path);
    sqlite::Stmt s(db, "SELECT 1 FROM connections INDEXED BY connections_due"
                       " WHERE auth_type = 'oauth2' AND status = 'active' AND next_refresh_at IS NOT NULL"
                       " AND next_refresh_at <= ?3 AND account >= ?1 AND account < ?2 LIMIT 1");
    s.bind(1, prefix).bind(2, prefix + "\x7f").bind(3, at);
    return s.step();
  }

  void open() { client = std::make_unique<core::Client>(core::parse_config(config.c_str())); }

  const Sandbox& sandbox;
  std::string dir, path, config;
  std::unique_ptr<core::Client> client;
};

double pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// Seeds `n` due connections and lets the background drain them at
// `concurrency`; returns refreshes per second.
struct Drain {
  double seconds = 0;
  long refreshes = 0;
  // Reads inside the window: of random connections of the whole backlog
  // (almost all miss the cache: a store read and a decrypt each), and of a
  // working set of 1,000 that a host keeps using (cached once read).
  std::vector<double> window_us, hot_us, expired_ms;
};

Drain drain(const Sandbox& sb, long n, int concurrency, bool readers) {
  Bench b(sb, ",\"background_refresh\":true,\"refresh_concurrency\":" + std::to_string(concurrency));
  SystemClock clock;
  const Millis now = clock.now();
  b.seed("d", n, now + 20 * 60 * 1000, now - 1000);  // valid for 20 minutes, due
  if (readers) b.seed("x", 100, now - 1000, now + 24 * 3600 * 1000);  // expired, not on the due list
  const long before = sb.counter("token_refresh");
  Drain d;
  std::atomic<bool> done{false};
  std::thread window, expired;
  const auto t0 = Steady::now();
  b.open();
  if (readers) {
    window = std::thread([&] {
      std::mt19937 rng(1);
      const unsigned hot = static_cast<unsigned>(std::min(n, 1000L));
      for (bool random = true; !done; random = !random) {
        const unsigned of = random ? static_cast<unsigned>(n) : hot;
        const std::string acct = "d" + std::to_string(rng() % of);
        const auto r0 = Steady::now();
        b.client->credentials(acct, "sandbox");
        (random ? d.window_us : d.hot_us)
            .push_back(std::chrono::duration<double, std::micro>(Steady::now() - r0).count());
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
    expired = std::thread([&] {
      for (int i = 0; i < 100 && !done; ++i) {
        const auto r0 = Steady::now();
        b.client->credentials("x" + std::to_string(i), "sandbox");
        d.expired_ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - r0).count());
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
      }
    });
  }
  while (b.still_due("d", now)) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  d.seconds = since(t0);
  done = true;
  if (window.joinable()) window.join();
  if (expired.joinable()) expired.join();
  d.refreshes = sb.counter("token_refresh") - before;
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  long backlog = 100000, curve = 3000, due_rows = 1000000;
  int delay = 200, only = 0;
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 < argc && !std::strcmp(argv[i], "--backlog")) backlog = std::atol(argv[i + 1]);
    else if (i + 1 < argc && !std::strcmp(argv[i], "--curve")) curve = std::atol(argv[i + 1]);
    else if (i + 1 < argc && !std::strcmp(argv[i], "--delay")) delay = std::atoi(argv[i + 1]);
    else if (i + 1 < argc && !std::strcmp(argv[i], "--only")) only = std::atoi(argv[i + 1]);
    else if (i + 1 < argc && !std::strcmp(argv[i], "--due-rows")) due_rows = std::atol(argv[i + 1]);
    else {
      std::fprintf(stderr,
                   "usage: %s [--backlog N] [--curve N] [--delay MS] [--only 1|3|4|5] [--due-rows N]\n", argv[0]);
      return 2;
    }
  }
  if (curve < 1 || due_rows < 1 || backlog < 0 || delay < 0) {
    std::fprintf(stderr, "--curve and --due-rows must be at least 1, --backlog and --delay at least 0\n");
    return 2;
  }
  Sandbox sb({"--rotate-refresh-tokens", "false"});

  if (only == 0 || only == 1) {
    set_delay(sb, delay);
    std::printf("1. background refresh of due connections, every token request answered %d ms late\n", delay);
    for (int c : {8, 16, 32, 64, 128}) {
      Drain d = drain(sb, curve, c, false);
      std::printf("   refresh_concurrency %3d: %ld connections in %.2f s = %.0f refreshes/s (%ld sent)\n", c,
                  curve, d.seconds, static_cast<double>(curve) / d.seconds, d.refreshes);
    }
    if (backlog > 0) {
      const int def = static_cast<int>(core::Config{}.refresh_concurrency);
      Drain d = drain(sb, backlog, def, true);
      std::printf("   default (%d), %ld connections: %.1f s = %.0f refreshes/s (%ld sent)\n", def, backlog, d.seconds,
                  static_cast<double>(backlog) / d.seconds, d.refreshes);
      std::printf("2. meanwhile, reads inside the window: of 1,000 connections in use: median %.1f us, p99 %.1f us"
                  " (%zu reads);\n"
                  "   of random connections of the backlog (uncached): median %.1f us, p99 %.1f us (%zu reads);\n"
                  "   a read of an expired token: median %.1f ms, p99 %.1f ms (%zu reads; the endpoint takes %d ms)\n",
                  pct(d.hot_us, 0.5), pct(d.hot_us, 0.99), d.hot_us.size(), pct(d.window_us, 0.5),
                  pct(d.window_us, 0.99), d.window_us.size(), pct(d.expired_ms, 0.5), pct(d.expired_ms, 0.99),
                  d.expired_ms.size(), delay);
      refold_bench::print_memory("of this process after the drain");
    }
  }
  if (only == 0 || only == 3) {
    set_delay(sb, 0);
    Drain seq = drain(sb, curve, 1, false);
    const int def = static_cast<int>(core::Config{}.refresh_concurrency);
    Drain par = drain(sb, curve, def, false);
    std::printf("3. near-free endpoint, %ld due connections: one at a time %.0f refreshes/s, %d at a time "
                "%.0f refreshes/s (%.2fx)\n",
                curve, static_cast<double>(curve) / seq.seconds, def, static_cast<double>(curve) / par.seconds,
                seq.seconds / par.seconds);
  }
  if (only == 5) {
    // The dispatcher's queries over a store of `due_rows` OAuth connections
    // whose refreshes fall over an hour: a million hourly tokens. Timed
    // straight on the store, as the dispatcher runs them, at the end of that
    // hour (everything due, a backlog): the next 128 due (a batch of
    // workers) and the earliest due time it sleeps until. Between queries
    // the batch is moved two hours on, as refreshing it would, so each
    // query reads the next part of the index and other table rows.
    Bench b(sb, "");
    SystemClock clock;
    const Millis now = clock.now(), hour = 3600 * 1000;
    const auto t0 = Steady::now();
    b.seed("h", due_rows, now + 5 * 60 * 1000, now, hour);
    std::printf("5. %ld OAuth connections due over an hour, seeded in %.1f s\n", due_rows, since(t0));
    store::SqliteStore st(b.path);
    sqlite::Db db(b.path);
    sqlite::Stmt later(db, "UPDATE connections SET next_refresh_at = next_refresh_at + ?2"
                           " WHERE account = ?1 AND app = 'sandbox' AND auth_type = 'oauth2'");
    std::vector<double> due_ms, next_ms;
    std::size_t rows = 0;
    for (int i = 0; i < 1000; ++i) {
      auto q0 = Steady::now();
      const std::vector<store::ConnectionId> batch = st.due(now + hour, 128, {});
      due_ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - q0).count());
      q0 = Steady::now();
      st.next_due();
      next_ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - q0).count());
      rows += batch.size();
      db.exec("BEGIN");
      for (const auto& id : batch) {
        later.bind(1, id.account).bind(2, 2 * hour).run();
        later.reset();
      }
      db.exec("COMMIT");
    }
    std::printf("   due (128 at most): median %.3f ms, p99 %.3f ms (%.1f rows a query); next due: median"
                " %.3f ms, p99 %.3f ms\n",
                pct(due_ms, 0.5), pct(due_ms, 0.99), static_cast<double>(rows) / 1000.0, pct(next_ms, 0.5),
                pct(next_ms, 0.99));
  }
  if (only == 0 || only == 4) {
    Bench b(sb, "");
    b.open();
    constexpr int kSet = 5000;
    for (int i = 0; i < kSet; ++i)
      b.client->connect("w" + std::to_string(i), "openai",
                        ("{\"api_key\":\"sk-" + std::string(24, static_cast<char>('a' + i % 26)) + "\"}").c_str());
    auto reads = [&](double seconds, std::vector<double>* lat) {
      std::mt19937 rng(7);
      long n = 0;
      const auto t0 = Steady::now();
      while (since(t0) < seconds) {
        const std::string acct = "w" + std::to_string(rng() % kSet);
        const auto r0 = Steady::now();
        b.client->credentials(acct, "openai");
        if (lat && (n & 63) == 0)
          lat->push_back(std::chrono::duration<double, std::micro>(Steady::now() - r0).count());
        ++n;
      }
      return static_cast<double>(n) / seconds;
    };
    reads(1.0, nullptr);  // warm the cache
    for (int round = 0; round < 3; ++round) {
      std::vector<double> alone_lat, busy_lat;
      const double alone = reads(2.0, &alone_lat);
      std::atomic<bool> stop{false};
      std::thread writer([&] {
        int i = 0;
        auto next = Steady::now();
        while (!stop) {
          b.client->connect("other" + std::to_string(round) + "-" + std::to_string(i++), "openai",
                            "{\"api_key\":\"sk-zzzzzzzzzzzzzzzzzzzzzzzz\"}");
          next += std::chrono::milliseconds(10);
          std::this_thread::sleep_until(next);
        }
      });
      const double busy = reads(2.0, &busy_lat);
      stop = true;
      writer.join();
      std::printf("4. cached reads of %d connections: alone %.0f/s (p99 %.1f us), with a writer at 100/s "
                  "%.0f/s (p99 %.1f us) = %.2fx\n",
                  kSet, alone, pct(alone_lat, 0.99), busy, pct(busy_lat, 0.99), busy / alone);
    }
  }
  return 0;
}
