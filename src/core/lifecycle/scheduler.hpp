// Where refreshes run: a bounded pool of worker threads fed by a
// dispatcher that takes due connections from the store (most urgent
// first) and refreshes asked for by reads inside the refresh-ahead window
// (ahead of that backlog), within a cap per app and a pause per app that a
// provider's Retry-After sets.
//
// Thread safety: every member may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/store.hpp"
#include "util/time.hpp"

namespace refold::core::lifecycle {

// Refreshes in flight per app, and pauses. A foreground caller (a read of
// an expired token) waits for a slot ahead of background work: while one
// waits, background work for that app is not admitted.
class AppGate {
 public:
  // `default_cap` for apps without an entry in `caps`; 0 means no cap.
  AppGate(const Clock& clock, std::size_t default_cap, std::map<std::string, std::size_t, std::less<>> caps);

  // Background: takes a slot unless the app is at its cap, paused, or a
  // foreground caller is waiting for one.
  bool try_enter(const std::string& app);
  // Foreground: waits for a slot. Throws REFOLD_EPROVIDER, naming the app
  // and until when, while the app is paused.
  void enter(const std::string& app);
  // Gives a slot back. Never throws.
  void leave(const std::string& app) noexcept;
  // Holds background refreshes of `app` (and fails foreground ones) until
  // `until` on the clock: the provider asked for it (Retry-After).
  void pause(const std::string& app, Millis until);
  // The apps background work must pass over now.
  std::vector<std::string> blocked() const;
  // The most refreshes of `app` ever in flight at once, and the foreground
  // callers waiting for a slot now (for tests).
  std::size_t peak(const std::string& app) const;
  std::size_t waiting(const std::string& app) const;

 private:
  struct State {
    std::size_t in_flight = 0;
    std::size_t waiting = 0;  // foreground callers waiting for a slot
    std::size_t peak = 0;
    Millis paused_until = 0;
  };
  std::size_t cap(const std::string& app) const;
  bool full(const std::string& app, const State& s) const;

  const Clock& clock_;
  const std::size_t default_cap_;
  const std::map<std::string, std::size_t, std::less<>> caps_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, State, std::less<>> apps_;
};

class Scheduler {
 public:
  struct Options {
    std::size_t concurrency = 128;  // worker threads at most
    bool background = false;        // poll the store for due connections
    // Where the store claims due rows (Store::claims()), the lease taken
    // with them: this lifecycle's owner name and the lease's length.
    std::string owner;
    Millis lease_ms = 45000;
  };
  // Refreshes one connection if it still needs it, on a worker thread,
  // holding a slot of its app. Returns how long to pass the connection
  // over: zero once it moved forward (refreshed, backing off as recorded,
  // or nothing to do); longer when it could not be (an unreadable record:
  // minutes; the store failing: seconds), so it cannot crowd the others
  // out of the head of the due list. Must not throw.
  using Work = std::function<std::chrono::milliseconds(const store::ConnectionId&)>;

  Scheduler(Options options, store::Store& store, const Clock& clock, AppGate& gate, Work work);
  // stop().
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Asks for a refresh of (account, app) soon, ahead of the due backlog.
  // Cheap, and does nothing when one is already queued or running.
  void kick(const std::string& account, const std::string& app, const std::string& auth_type);
  // Set when the scheduler stops: work under way should give up.
  const std::atomic<bool>& stopping() const { return stopping_; }
  // Stops dispatching, cancels (through stopping()) and joins everything.
  void stop() noexcept;

 private:
  struct Item {
    store::ConnectionId id;
    std::string key;
    // Claimed from the store with a lease until then (Store::claims()):
    // the claim is released after the work unless a refresh took the
    // lease over.
    std::optional<Millis> claim_until;
  };
  void start_dispatcher();  // with mu_ held
  // Gives a claimed row's lease back if it is still the claim's (no mu_).
  void release_claim(const store::ConnectionId& id, Millis until) noexcept;
  void dispatch();
  void work();
  // Moves what may run now into ready_; with mu_ held.
  void admit(std::unique_lock<std::mutex>& lock);

  const Options options_;
  store::Store& store_;
  const Clock& clock_;
  AppGate& gate_;
  const Work work_;

  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable dispatch_cv_;  // the dispatcher waits here
  std::condition_variable work_cv_;      // workers wait here
  std::deque<Item> kicked_;              // asked for by reads, oldest first
  std::deque<Item> ready_;               // admitted, waiting for a worker
  std::set<std::string, std::less<>> queued_;  // keys in kicked_, ready_ or running
  std::map<std::string, std::chrono::steady_clock::time_point, std::less<>> skip_;
  std::size_t running_ = 0;
  std::size_t idle_workers_ = 0;
  bool wake_ = false;
  std::vector<std::thread> workers_;
  std::thread dispatcher_;
};

}  // namespace refold::core::lifecycle
