// refold watch: prints connection events as they happen. Events of
// refold_set_event_handler are per process, so the changes another process
// makes are seen through the shared store: the connections are listed every
// interval and compared (watch_events.cpp says how). The tool's own client
// has a handler too, whose events are printed alike; it only reads, so they
// seldom come.
#include "commands.hpp"
#include "errors.hpp"
#include "output.hpp"
#include "session.hpp"
#include "timefmt.hpp"
#include "watch_events.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <poll.h>
#include <unistd.h>

namespace refold_cli {

namespace {

// The write end of the wake-up pipe. A signal handler takes no payload, so
// this one descriptor is global; it is set before the handlers are
// installed and cleared after they are removed.
std::atomic<int> g_wake_fd{-1};

extern "C" void on_stop_signal(int) {
  int saved = errno;
  char c = 's';
  if (int fd = g_wake_fd.load(); fd >= 0) {
    [[maybe_unused]] ssize_t n = ::write(fd, &c, 1);
  }
  errno = saved;
}

// A self-pipe that SIGINT, SIGTERM and a reached --count write to, so the
// poll loop sleeps until the next interval or a reason to stop, whichever
// comes first. Restores the previous signal handlers on destruction.
class Wakeup {
 public:
  Wakeup() {
    if (::pipe(fds_) != 0) throw Failure(kExitError, std::string("watch: pipe: ") + std::strerror(errno));
    for (int fd : fds_) {
      ::fcntl(fd, F_SETFD, FD_CLOEXEC);
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
    g_wake_fd.store(fds_[1]);
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a signal also interrupts a blocking call
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~Wakeup() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
    g_wake_fd.store(-1);
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;

  void wake() {
    char c = 'w';
    [[maybe_unused]] ssize_t n = ::write(fds_[1], &c, 1);
  }

  // Sleeps up to `ms`; true when woken (a signal, or the count reached).
  bool wait(long long ms) {
    const std::int64_t until = now_ms() + ms;
    for (;;) {
      std::int64_t left = until - now_ms();
      if (left <= 0) return false;
      pollfd p{fds_[0], POLLIN, 0};
      int n = ::poll(&p, 1, static_cast<int>(left));
      if (n < 0 && errno == EINTR) continue;
      if (n > 0) return true;
      if (n == 0) return false;
      throw Failure(kExitError, std::string("watch: poll: ") + std::strerror(errno));
    }
  }

 private:
  int fds_[2] = {-1, -1};
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

// Prints events from the poll loop and from the library's handler thread,
// one whole line at a time, and counts them for --count.
class Printer {
 public:
  Printer(bool json, std::optional<long long> count, Wakeup& wakeup)
      : json_(json), left_(count), wakeup_(wakeup) {}

  // False once --count events have been printed (this one may be the last)
  // or stdout failed.
  bool print(const WatchEvent& e) {
    std::lock_guard lock(mu_);
    if (stopped_) return false;
    std::string line = json_ ? boost::json::serialize(event_json(e)) : event_line(e, now_ms());
    line += '\n';
    if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size() || std::fflush(stdout) != 0) {
      write_errno_ = errno;
      stop();
      return false;
    }
    if (left_ && --*left_ == 0) stop();
    return !stopped_;
  }

  bool stopped() {
    std::lock_guard lock(mu_);
    return stopped_;
  }
  int write_errno() {
    std::lock_guard lock(mu_);
    return write_errno_;
  }

  static void on_event(const char* event_json, void* payload) {
    auto* self = static_cast<Printer*>(payload);
    if (auto e = library_event(event_json)) self->print(*e);
  }

 private:
  void stop() {
    stopped_ = true;
    wakeup_.wake();
  }

  const bool json_;
  std::optional<long long> left_;
  Wakeup& wakeup_;
  std::mutex mu_;
  bool stopped_ = false;
  int write_errno_ = 0;
};

// --consumer: the store's durable event log, read as a named consumer.
// Each event is printed, then acknowledged, so a run that dies prints again
// what it had not acknowledged: at least once, in commit order, whichever
// process made the change. --account filters what is printed; every event
// read is acknowledged.
int watch_log(const Args& args, Session& s, Printer& printer, Wakeup& wakeup) {
  const std::string& consumer = *args.consumer;
  bool warned = false;
  for (;;) {
    char* out = nullptr;
    const int rc = refold_read_events(s.client(), consumer.c_str(), 1000, &out);
    LibraryString text(out);
    check(rc, "watch");
    boost::system::error_code ec;
    boost::json::value page = boost::json::parse(text.get(), ec);
    if (ec || !page.is_object() || !page.get_object().contains("events"))
      throw Failure(kExitError, "watch: the library returned malformed JSON");
    if (const auto* m = page.get_object().if_contains("missed"); m && m->is_bool() && m->get_bool() && !warned) {
      std::fprintf(stderr, "refold: watch: events consumer '%s' had not acknowledged were removed by "
                           "event_retention before it read them\n", consumer.c_str());
      warned = true;
    }
    const auto& events = page.get_object().at("events");
    if (!events.is_array()) throw Failure(kExitError, "watch: the library returned malformed JSON");
    for (const auto& v : events.get_array()) {
      if (!v.is_object()) continue;
      const auto* seq = v.get_object().if_contains("seq");
      if (!seq || !seq->is_int64()) throw Failure(kExitError, "watch: an event without its seq");
      auto e = library_event(boost::json::serialize(v));
      if (e) e->source = "log";
      // Printed (or filtered out) before it is acknowledged; not when
      // stdout failed. The last event --count allows is printed and
      // acknowledged, then the loop stops.
      if (e && (!args.account_given || e->account == args.account)) printer.print(*e);
      if (printer.write_errno() != 0) break;
      check(refold_ack_events(s.client(), consumer.c_str(), seq->get_int64()), "watch");
      if (printer.stopped()) break;
    }
    if (printer.stopped()) break;
    if (events.get_array().empty() && wakeup.wait(args.interval_ms)) break;
  }
  if (int err = printer.write_errno()) throw Failure(kExitError, std::string("write: ") + std::strerror(err));
  return kExitOk;
}

}  // namespace

int cmd_watch(const Args& args) {
  Wakeup wakeup;
  Printer printer(args.json, args.count, wakeup);
  Session s(args, Use::observe);
  if (args.consumer) {
    std::fprintf(stderr, "watching the event log of %s as consumer '%s'; Ctrl-C stops\n",
                 s.store_path().c_str(), args.consumer->c_str());
    std::fflush(stderr);
    return watch_log(args, s, printer, wakeup);
  }
  const bool all = !args.account_given;
  check(refold_set_event_handler(s.client(), &Printer::on_event, &printer, nullptr), "watch");

  Snapshot seen = snapshot_of(s.connections(all));
  std::string what = all ? "all accounts" : "account '" + s.account() + "'";
  std::fprintf(stderr, "watching %s for %s (%zu connection%s), every %lld ms; Ctrl-C stops\n",
               s.store_path().c_str(), what.c_str(), seen.size(), seen.size() == 1 ? "" : "s",
               args.interval_ms);
  std::fflush(stderr);

  while (!wakeup.wait(args.interval_ms) && !printer.stopped()) {
    Snapshot now = snapshot_of(s.connections(all));
    for (const WatchEvent& e : diff_snapshots(seen, now, now_ms()))
      if (!printer.print(e)) break;
    seen = std::move(now);
    if (printer.stopped()) break;
  }
  // The handler must be gone before the printer it points to.
  refold_set_event_handler(s.client(), nullptr, nullptr, nullptr);
  if (int err = printer.write_errno()) throw Failure(kExitError, std::string("write: ") + std::strerror(err));
  return kExitOk;
}

}  // namespace refold_cli
