// The sandbox fixture of the token lifecycle tests: a store, a sandbox
// provider with a registered client, a client with a test clock and an
// event recorder, and children forked to act as other processes.
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <poll.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "devserver.hpp"
#include "test_support.hpp"

namespace refold_test {
namespace bj = boost::json;

inline const char* kClientId = "life-client";
inline const char* kSecret = "life-secret-0a1b2c3d4e5f";
constexpr double kMinute = 60.0 * 1000;
constexpr double kHour = 60 * kMinute;

inline double wall_ms() {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count());
}

// The client's clock, moved by hand.
struct TestClock {
  std::atomic<double> ms{wall_ms()};
  static double now(void* p) { return static_cast<TestClock*>(p)->ms.load(); }
  void advance(double by) { ms.store(ms.load() + by); }
  void install(refold_client* c) { REQUIRE(refold_set_clock(c, &TestClock::now, this, nullptr) == REFOLD_OK); }
};

struct Lifecycle {
  explicit Lifecycle(std::vector<std::string> server_args = {"--auto-approve"},
                     bj::object extra_config = {})
      : server(with_client(std::move(server_args))) {
    bj::object cfg = config_object(store.path, store.key);
    cfg["catalog"] = bj::array{server.sandbox_app(), server.sandbox_keys_app()};
    cfg["oauth_clients"] = bj::object{{"sandbox", bj::object{{"client_id", kClientId},
                                                             {"client_secret", kSecret},
                                                             {"redirect_uri", "http://127.0.0.1:9/callback"}}}};
    for (const auto& kv : extra_config) cfg[kv.key()] = kv.value();
    config = to_json(cfg);
    client = open(config);
  }

  static std::vector<std::string> with_client(std::vector<std::string> args) {
    args.push_back("--client");
    args.push_back(std::string(kClientId) + ":" + kSecret);
    return args;
  }

  ClientPtr open(const std::string& cfg) {
    ClientPtr c = open_client(cfg);
    clock.install(c.get());
    events.install(c.get());
    return c;
  }

  // Opens the client again with its config changed by `change` (given the
  // config object).
  template <class F>
  void reopen_with_config(F&& change) {
    bj::object cfg = parse(config).as_object();
    change(cfg);
    config = to_json(cfg);
    client.reset();
    client = open(config);
  }

  // The same with the config's sandbox app changed by `change` (given the
  // app's definition).
  template <class F>
  void reopen_with_sandbox(F&& change) {
    reopen_with_config([&](bj::object& cfg) { change(cfg.at("catalog").as_array().at(0).as_object()); });
  }

  // Connects `account` to the sandbox through begin/complete.
  void connect(const char* account = "acct") {
    char* url = nullptr;
    REQUIRE_MESSAGE(refold_oauth_begin(client.get(), account, "sandbox", nullptr, &url) == REFOLD_OK,
                    last_error());
    std::string callback = follow_authorize(take(url));
    REQUIRE_MESSAGE(refold_oauth_complete(client.get(), callback.c_str(), nullptr) == REFOLD_OK,
                    last_error());
  }

  // The access token a read returns; "" with rc set on failure.
  std::string token(int& rc, const char* account = "acct") {
    std::string creds = get_credentials(client.get(), account, "sandbox", rc);
    if (rc != REFOLD_OK) return "";
    return str_at(parse(creds).as_object(), "access_token");
  }
  std::string token_ok(const char* account = "acct") {
    int rc = 0;
    std::string t = token(rc, account);
    REQUIRE_MESSAGE(rc == REFOLD_OK, last_error());
    return t;
  }

  // When the stored token expires, in client-clock milliseconds.
  double expires_at(const char* account = "acct") {
    return std::stod(sql_scalar(store.path, std::string("SELECT expires_at FROM connections WHERE account = '") +
                                                account + "' AND app = 'sandbox'"));
  }
  std::string status(const char* account = "acct") {
    return sql_scalar(store.path, std::string("SELECT status || '/' || coalesce(reason, '') FROM connections"
                                              " WHERE account = '") + account + "' AND app = 'sandbox'");
  }
  std::int64_t count(const char* name) { return server.counters().at(name).to_number<std::int64_t>(); }
  int me(const std::string& token) {
    return curl("GET", server.base_url() + "/api/me", "", {"Authorization: Bearer " + token}).status;
  }
  std::vector<std::string> types() {
    std::vector<std::string> out;
    for (const auto& e : events.events()) out.push_back(str_at(e, "type"));
    return out;
  }
  std::size_t count_type(const std::string& type) {
    std::size_t n = 0;
    for (const auto& t : types()) n += t == type ? 1 : 0;
    return n;
  }
  bj::object last_event(const std::string& type) {
    bj::object found;
    for (const auto& e : events.events())
      if (str_at(e, "type") == type) found = e;
    REQUIRE_MESSAGE(!found.empty(), (std::string("no ") + type + " event"));
    return found;
  }

  Store store;
  Devserver server;
  TestClock clock;
  EventRecorder events;
  std::string config;
  ClientPtr client;
};

// The error of opening a client whose sandbox app `change` edited, which
// the catalog must refuse (REFOLD_EINVALID); `f` itself is left as it was.
template <class F>
std::string refused_catalog(const Lifecycle& f, F&& change) {
  bj::object cfg = parse(f.config).as_object();
  change(cfg.at("catalog").as_array().at(0).as_object());
  refold_client* c = nullptr;
  CHECK(refold_client_open(&c, to_json(cfg).c_str()) == REFOLD_EINVALID);
  refold_client_free(c);
  return last_error();
}

// The one connection of account "acct" as refold_list_connections shows it.
inline bj::object listed(Lifecycle& f) {
  char* out = nullptr;
  REQUIRE(refold_list_connections(f.client.get(), "acct", &out) == REFOLD_OK);
  bj::array rows = parse(take(out)).as_array();
  REQUIRE(rows.size() == 1);
  return rows[0].as_object();
}

// Token comparison that prints no token when it fails.
inline bool same(const std::string& a, const std::string& b) { return a == b; }

// Waits (at most `limit`) for `done` to hold: for work a read started in
// the background. Returns whether it held.
template <class Done>
bool eventually(Done&& done, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// One thread kept alive that runs what it is given, in turn: its reads and
// reports are one thread's, as a host's worker thread's are.
class Worker {
 public:
  Worker() : thread_([this] { loop(); }) {}
  ~Worker() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs `f` on the worker and returns what it returned.
  template <class F>
  auto run(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    {
      std::lock_guard lock(mu_);
      job_ = [&task] { task(); };
    }
    cv_.notify_all();
    return result.get();
  }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || job_; });
      if (job_) {
        std::function<void()> job = std::move(job_);
        job_ = nullptr;
        lock.unlock();
        job();
        lock.lock();
      } else {
        return;
      }
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::function<void()> job_;
  bool stop_ = false;
  std::thread thread_;
};

inline bj::object http_config(int timeout_ms) {
  return bj::object{{"http", bj::object{{"timeout_ms", timeout_ms}}}};
}


// Runs `body` in a forked child that reports one line through a pipe.
struct Child {
  pid_t pid = -1;
  int fd = -1;
};

inline Child spawn(const std::function<std::string()>& body) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    std::string line;
    try {
      line = body();
    } catch (...) {
      line = "exception";
    }
    line += "\n";
    ssize_t n = ::write(fds[1], line.data(), line.size());
    (void)n;
    ::_exit(0);
  }
  ::close(fds[1]);
  return {pid, fds[0]};
}

// The child's line (a generous bound turns a hang into a failure).
inline std::string read_line(const Child& c) {
  std::string out;
  for (;;) {
    pollfd p{c.fd, POLLIN, 0};
    int pr = ::poll(&p, 1, 120000);
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) return "timeout";
    char ch;
    ssize_t n = ::read(c.fd, &ch, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || ch == '\n') return out;
    out += ch;
  }
}

inline int reap(Child& c) {
  ::close(c.fd);
  int status = 0;
  while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// A digest of a token to compare across processes without printing it.
inline std::string digest(const std::string& token) { return std::to_string(std::hash<std::string>{}(token)); }

}  // namespace refold_test
