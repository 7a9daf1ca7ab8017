// Core benchmarks: durable key-based connects, credential reads with many
// connections stored (beside a bare hash-map lookup and decrypt of the
// same keys), finding the few that need re-auth (a filtered page against
// the full listing), a data-key rotation of them all (with a reader
// running), client open time and resident memory.
//
//   refold_bench_core [--connections N] [--reads N] [--dir DIR] [--no-rotate]
//                     [--no-listing]
//
// A million-connection store is filled in seconds by refold_bench_seed.
// Figures go in bench/RESULTS.md; nothing here is asserted in tests.
#include <algorithm>
#include <atomic>
#include <chrono>
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

#include <sodium.h>
#include <unordered_map>

#include "refold.h"
#include "proc_memory.hpp"
#include "twilio_rows.hpp"

namespace {

using refold_bench::account;
using refold_bench::config_for;
using refold_bench::payload;
using refold_bench::print_memory;
using refold_bench::rss_kib;
using Clock = std::chrono::steady_clock;

double us_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

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

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// Median wall time of `runs` calls of `f`, in microseconds.
template <class F>
double median_us(int runs, F&& f) {
  std::vector<double> us;
  for (int i = 0; i < runs; ++i) {
    auto t0 = Clock::now();
    f();
    us.push_back(us_since(t0));
  }
  return median(us);
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

// The cursor in a page's JSON ("" when next_cursor is null).
std::string next_cursor(const std::string& page) {
  const std::string key = "\"next_cursor\":\"";
  auto at = page.rfind(key);
  if (at == std::string::npos) return "";
  at += key.size();
  return page.substr(at, page.find('"', at) - at);
}

// A host with many connections looks for the few that need re-auth: marks
// `reauth` of them (spread over the store), then finds them with one
// filtered page and with the full listing, and lists the whole store page
// by page (as `refold status` now does) against at once.
void measure_listing(refold_client* c, int connections, int reauth) {
  for (int i = 0; i < reauth; ++i) {
    // Never account 0: the open-time child reads it.
    const long long step = connections / reauth;
    const std::string acct = account(static_cast<int>(i * step + step / 2));
    must(refold_mark_reauth(c, acct.c_str(), "twilio", "revoked"), "mark_reauth");
  }
  const std::string marker = "\"status\":\"reauth_required\"";
  std::size_t page_bytes = 0, page_found = 0, full_bytes = 0, full_found = 0;
  const double page_us = median_us(51, [&] {
    char* json = nullptr;
    must(refold_list_connections_page(c, "{\"status\":\"reauth_required\",\"limit\":1000}", &json),
         "list page");
    std::string text = json;
    refold_free(json);
    page_bytes = text.size();
    page_found = count_of(text, marker);
  });
  // A host must parse the whole answer to find them; this only searches
  // it, so the full listing's time is a lower bound.
  const double full_us = median_us(connections > 200000 ? 3 : 7, [&] {
    char* json = nullptr;
    must(refold_list_connections(c, nullptr, &json), "list");
    std::string text = json;
    refold_free(json);
    full_bytes = text.size();
    full_found = count_of(text, marker);
  });
  std::printf("find %d reauth_required among %d: one filtered page %.3f ms (%zu bytes, %zu found); "
              "the full listing %.1f ms (%.1f MB, %zu found): %.0fx the time, %.0fx the bytes\n",
              reauth, connections, page_us / 1000.0, page_bytes, page_found, full_us / 1000.0,
              static_cast<double>(full_bytes) / 1e6, full_found, full_us / page_us,
              static_cast<double>(full_bytes) / static_cast<double>(page_bytes));

  std::size_t rows = 0, pages = 0;
  const double paged_us = median_us(3, [&] {
    rows = pages = 0;
    std::string cursor;
    do {
      std::string query = "{\"limit\":1000";
      if (!cursor.empty()) query += ",\"cursor\":\"" + cursor + "\"";
      query += "}";
      char* json = nullptr;
      must(refold_list_connections_page(c, query.c_str(), &json), "list page");
      std::string text = json;
      refold_free(json);
      rows += count_of(text, "\"account\":");
      ++pages;
      cursor = next_cursor(text);
    } while (!cursor.empty());
  });
  std::printf("list all %zu connections in %zu pages of 1000: %.1f ms, against %.1f ms at once: %.2fx\n",
              rows, pages, paged_us / 1000.0, full_us / 1000.0, paged_us / full_us);
}

// The floor under a credential read: the same records sealed in a hash
// map in memory (XChaCha20-Poly1305 with the key as associated data, as
// the vault seals), looked up and opened for the same random keys. Returns
// the median in microseconds.
double bare_lookup_us(int connections, const std::vector<std::string>& accts) {
  if (sodium_init() < 0) std::exit(1);
  std::vector<unsigned char> key(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
  crypto_aead_xchacha20poly1305_ietf_keygen(key.data());
  struct Sealed {
    std::vector<unsigned char> nonce, cipher;
  };
  std::unordered_map<std::string, Sealed> map;
  map.reserve(static_cast<std::size_t>(connections));
  for (int i = 0; i < connections; ++i) {
    const std::string acct = account(i), plain = payload(i), ad = acct + "/twilio";
    Sealed s{std::vector<unsigned char>(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES),
             std::vector<unsigned char>(plain.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES)};
    randombytes_buf(s.nonce.data(), s.nonce.size());
    unsigned long long len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        s.cipher.data(), &len, reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
        reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), nullptr, s.nonce.data(), key.data());
    map.emplace(acct, std::move(s));
  }
  std::vector<double> us;
  us.reserve(accts.size());
  for (const std::string& acct : accts) {
    auto t0 = Clock::now();
    const std::string ad = acct + "/twilio";
    const Sealed& s = map.find(acct)->second;
    std::string plain(s.cipher.size() - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
    unsigned long long len = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(
            reinterpret_cast<unsigned char*>(plain.data()), &len, nullptr, s.cipher.data(), s.cipher.size(),
            reinterpret_cast<const unsigned char*>(ad.data()), ad.size(), s.nonce.data(), key.data()) != 0)
      std::exit(1);
    us.push_back(us_since(t0));
  }
  return median(us);
}

// Child mode: open the client once and report open time and resident
// memory, then again after 100,000 reads of random connections (what the
// store's pages and the caches grow to in a process that only reads).
int open_only(const std::string& dir, int connections) {
  long before = rss_kib();
  auto t0 = Clock::now();
  refold_client* c = nullptr;
  must(refold_client_open(&c, config_for(dir).c_str()), "open");
  double us = us_since(t0);
  char* json = nullptr;
  must(refold_get_credentials(c, account(0).c_str(), "twilio", &json), "read");
  refold_free(json);
  std::printf("open: %.1f ms, resident memory after open and one read: %.1f MiB (process "
              "baseline %.1f MiB)\n",
              us / 1000.0, static_cast<double>(rss_kib()) / 1024.0,
              static_cast<double>(before) / 1024.0);
  if (connections > 1) {
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> pick(0, connections - 1);
    for (int i = 0; i < 100000; ++i) {
      json = nullptr;
      const int rc = refold_get_credentials(c, account(pick(rng)).c_str(), "twilio", &json);
      if (rc != REFOLD_EREAUTH) must(rc, "read");  // the 40 the listing case marked
      refold_free(json);
    }
    print_memory("after 100,000 random reads");
  }
  refold_client_free(c);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int connections = 100000;
  bool rotate = true;
  int reads = 200000;
  std::string dir;
  bool open_mode = false;
  bool reuse = false;
  bool listing = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--connections" && i + 1 < argc) connections = std::atoi(argv[++i]);
    else if (a == "--reads" && i + 1 < argc) reads = std::atoi(argv[++i]);
    else if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    else if (a == "--open-only") open_mode = true;
    else if (a == "--reuse") reuse = true;  // --dir already holds the connections
    else if (a == "--no-rotate") rotate = false;
    else if (a == "--no-listing") listing = false;
    else {
      std::fprintf(stderr,
                   "usage: %s [--connections N] [--reads N] [--dir DIR [--reuse]] [--no-rotate]"
                   " [--no-listing]\n",
                   argv[0]);
      return 2;
    }
  }
  bool own_dir = dir.empty();
  if (reuse && own_dir) {
    std::fprintf(stderr, "--reuse needs --dir\n");
    return 2;
  }
  if (own_dir) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "refold-bench-XXXXXX").string();
    dir = mkdtemp(tmpl.data());
  }
  if (open_mode) return open_only(dir, connections);

  std::printf("refold %s, %d connections, store in %s\n", refold_version(), connections, dir.c_str());
  refold_client* c = nullptr;
  must(refold_client_open(&c, config_for(dir).c_str()), "open");

  // Durable connects (synchronous=FULL: each commit fsyncs the WAL).
  std::vector<double> connect_us;
  connect_us.reserve(static_cast<std::size_t>(connections));
  auto t_all = Clock::now();
  for (int i = 0; i < (reuse ? 0 : connections); ++i) {
    std::string acct = account(i), p = payload(i);
    auto t0 = Clock::now();
    must(refold_connect(c, acct.c_str(), "twilio", p.c_str()), "connect");
    connect_us.push_back(us_since(t0));
  }
  double total_s = us_since(t_all) / 1e6;
  if (!reuse)
    std::printf("connect (durable): %.0f per second over %d; median %.1f us, p99 %.1f us\n",
              connections / total_s, connections, median(connect_us), percentile(connect_us, 0.99));

  // Reads of random connections.
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> pick(0, connections - 1);
  std::vector<double> read_us;
  read_us.reserve(static_cast<std::size_t>(reads));
  std::vector<std::string> accts;
  for (int i = 0; i < reads; ++i) accts.push_back(account(pick(rng)));
  for (int i = 0; i < reads; ++i) {
    char* json = nullptr;
    auto t0 = Clock::now();
    must(refold_get_credentials(c, accts[static_cast<std::size_t>(i)].c_str(), "twilio", &json), "read");
    refold_free(json);
    read_us.push_back(us_since(t0));
  }
  if (reads > 0) {
    std::printf("get_credentials: median %.2f us, p99 %.2f us over %d random reads\n",
                median(read_us), percentile(read_us, 0.99), reads);
    const double bare = bare_lookup_us(connections, accts);
    std::printf("the same keys in an in-memory hash map, looked up and decrypted: median %.2f us; "
                "get_credentials is %.2fx that\n",
                bare, median(read_us) / bare);
  }

  if (rotate) {
    // A reader on another thread, first alone for as long as the rotation
    // will take (guessed from a first rotation), then during a rotation:
    // the ratio of its medians is what a rotation costs a host's reads.
    const auto reader = [&](const std::atomic<bool>& stop, std::vector<double>& out) {
      std::mt19937 r(7);
      while (!stop.load()) {
        std::string acct = account(pick(r));
        char* json = nullptr;
        auto t0 = Clock::now();
        must(refold_get_credentials(c, acct.c_str(), "twilio", &json), "read");
        refold_free(json);
        out.push_back(us_since(t0));
      }
    };
    auto t0 = Clock::now();
    must(refold_rotate_data_key(c), "rotate");
    const double alone_s = us_since(t0) / 1e6;
    std::printf("rotate_data_key, nothing else running: %d records in %.2f s (%.0f / s)\n",
                connections, alone_s, connections / alone_s);

    std::vector<double> quiet, during;
    std::atomic<bool> stop{false};
    std::thread th([&] { reader(stop, quiet); });
    std::this_thread::sleep_for(std::chrono::duration<double>(alone_s));
    stop = true;
    th.join();
    stop = false;
    th = std::thread([&] { reader(stop, during); });
    t0 = Clock::now();
    must(refold_rotate_data_key(c), "rotate");
    const double busy_s = us_since(t0) / 1e6;
    stop = true;
    th.join();
    std::printf("rotate_data_key, one thread reading meanwhile: %.2f s (%.0f / s); the reader's "
                "median %.2f us (p99 %.2f us, %zu reads) against %.2f us (p99 %.2f us) alone: %.2fx\n",
                busy_s, connections / busy_s, median(during), percentile(during, 0.99), during.size(),
                median(quiet), percentile(quiet, 0.99), median(during) / median(quiet));
  }
  // Last: it marks connections for re-auth, which reads would then refuse.
  if (listing && connections > 0) measure_listing(c, connections, std::min(40, connections));
  refold_client_free(c);

  // Open time and memory, in a fresh process.
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    const std::string n = std::to_string(connections);
    execl("/proc/self/exe", argv[0], "--open-only", "--dir", dir.c_str(), "--connections", n.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (own_dir) std::filesystem::remove_all(dir);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
