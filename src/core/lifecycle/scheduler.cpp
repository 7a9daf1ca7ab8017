#include "core/lifecycle/scheduler.hpp"

#include <algorithm>

#include "util/error.hpp"

namespace refold::core::lifecycle {

namespace {

using namespace std::chrono_literals;

// The dispatcher looks at the store at least this often (another process
// or a clock set by the host may change what is due), and at most this
// often while a backlog drains.
constexpr auto kMaxSleep = 1000ms;
constexpr auto kMinPoll = 5ms;
// Reads inside the window ask for refreshes; past this many waiting, the
// background backlog (or the next read) picks them up instead.
constexpr std::size_t kMaxKicked = 10000;
// Due connections fetched per poll, beyond the free workers.
constexpr std::size_t kMaxFetch = 4096;

std::string key_of(const std::string& account, const std::string& app) {
  std::string k;
  k.reserve(account.size() + app.size() + 1);
  k.append(account).push_back('\0');
  k.append(app);
  return k;
}

}  // namespace

AppGate::AppGate(const Clock& clock, std::size_t default_cap,
                 std::map<std::string, std::size_t, std::less<>> caps)
    : clock_(clock), default_cap_(default_cap), caps_(std::move(caps)) {}

std::size_t AppGate::cap(const std::string& app) const {
  auto it = caps_.find(app);
  return it != caps_.end() ? it->second : default_cap_;
}

bool AppGate::full(const std::string& app, const State& s) const {
  const std::size_t c = cap(app);
  return c != 0 && s.in_flight >= c;
}

bool AppGate::try_enter(const std::string& app) {
  const Millis now = clock_.now();
  std::lock_guard lock(mu_);
  State& s = apps_[app];
  if (s.waiting > 0 || full(app, s) || now < s.paused_until) return false;
  s.peak = std::max(s.peak, ++s.in_flight);
  return true;
}

void AppGate::enter(const std::string& app) {
  std::unique_lock lock(mu_);
  State& s = apps_[app];
  ++s.waiting;
  cv_.wait(lock, [&] { return !full(app, s); });
  --s.waiting;
  const Millis now = clock_.now();
  if (now < s.paused_until) {
    const Millis until = s.paused_until;
    lock.unlock();
    cv_.notify_all();  // a background slot may be free again
    fail(REFOLD_EPROVIDER, "app '" + app + "': the provider asked for no token requests until " +
                               rfc3339(until) + " (Retry-After); not sent");
  }
  s.peak = std::max(s.peak, ++s.in_flight);
}

void AppGate::leave(const std::string& app) noexcept {
  {
    std::lock_guard lock(mu_);
    auto it = apps_.find(app);
    if (it != apps_.end() && it->second.in_flight > 0) --it->second.in_flight;
  }
  cv_.notify_all();
}

void AppGate::pause(const std::string& app, Millis until) {
  std::lock_guard lock(mu_);
  State& s = apps_[app];
  s.paused_until = std::max(s.paused_until, until);
}

std::vector<std::string> AppGate::blocked() const {
  const Millis now = clock_.now();
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [app, s] : apps_)
    if (s.waiting > 0 || full(app, s) || now < s.paused_until) out.push_back(app);
  return out;
}

std::size_t AppGate::peak(const std::string& app) const {
  std::lock_guard lock(mu_);
  auto it = apps_.find(app);
  return it == apps_.end() ? 0 : it->second.peak;
}

std::size_t AppGate::waiting(const std::string& app) const {
  std::lock_guard lock(mu_);
  auto it = apps_.find(app);
  return it == apps_.end() ? 0 : it->second.waiting;
}

Scheduler::Scheduler(Options options, store::Store& store, const Clock& clock, AppGate& gate, Work work)
    : options_(options), store_(store), clock_(clock), gate_(gate), work_(std::move(work)) {
  if (options_.background) {
    std::lock_guard lock(mu_);
    start_dispatcher();
  }
}

Scheduler::~Scheduler() { stop(); }

void Scheduler::stop() noexcept {
  {
    std::lock_guard lock(mu_);
    stopping_.store(true, std::memory_order_release);
  }
  dispatch_cv_.notify_all();
  work_cv_.notify_all();
  if (dispatcher_.joinable()) dispatcher_.join();
  for (auto& t : workers_)
    if (t.joinable()) t.join();
  // Items admitted but never run still hold their app's slot.
  for (const Item& it : ready_) gate_.leave(it.id.app);
  ready_.clear();
}

void Scheduler::start_dispatcher() {
  if (!dispatcher_.joinable()) dispatcher_ = std::thread([this] { dispatch(); });
}

void Scheduler::kick(const std::string& account, const std::string& app, const std::string& auth_type) {
  std::string key = key_of(account, app);
  {
    std::lock_guard lock(mu_);
    if (stopping_.load(std::memory_order_relaxed) || queued_.count(key) || kicked_.size() >= kMaxKicked)
      return;
    queued_.insert(key);
    kicked_.push_back(Item{store::ConnectionId{account, app, auth_type}, std::move(key), std::nullopt});
    start_dispatcher();
    wake_ = true;
  }
  dispatch_cv_.notify_one();
}

void Scheduler::admit(std::unique_lock<std::mutex>&) {
  const std::size_t busy = running_ + ready_.size();
  std::size_t free = options_.concurrency > busy ? options_.concurrency - busy : 0;
  // Kicked connections first, in the order asked, each as its app admits it.
  std::size_t passed = 0;
  for (auto it = kicked_.begin(); it != kicked_.end() && free > 0 && passed < 256;) {
    if (gate_.try_enter(it->id.app)) {
      ready_.push_back(std::move(*it));
      it = kicked_.erase(it);
      --free;
    } else {
      ++it;
      ++passed;
    }
  }
}

void Scheduler::dispatch() {
  std::unique_lock lock(mu_);
  auto next_poll = std::chrono::steady_clock::now();
  bool backlog = false;
  while (!stopping_.load(std::memory_order_acquire)) {
    admit(lock);
    auto sleep = std::chrono::duration_cast<std::chrono::milliseconds>(kMaxSleep);
    const auto steady = std::chrono::steady_clock::now();
    const std::size_t busy = running_ + ready_.size();
    const std::size_t free = options_.concurrency > busy ? options_.concurrency - busy : 0;
    if (options_.background && free > 0 && steady >= next_poll) {
      std::erase_if(skip_, [&](const auto& kv) { return kv.second <= steady; });
      // A claiming store leaves out the rows this lifecycle already leases
      // (those queued): it is asked for no more than there is room for.
      const bool claims = store_.claims();
      const std::size_t limit = claims ? std::min(kMaxFetch, free + skip_.size())
                                       : std::min(kMaxFetch, free + queued_.size() + skip_.size());
      const std::vector<std::string> skip_apps = gate_.blocked();
      lock.unlock();
      std::vector<store::ConnectionId> due;
      std::optional<Millis> next;
      bool ok = true;
      Millis until = 0;
      try {
        const Millis now = clock_.now();
        until = now + options_.lease_ms;
        due = claims ? store_.claim_due(now, limit, skip_apps, options_.owner, until)
                     : store_.due(now, limit, skip_apps);
        if (due.size() < limit) next = store_.next_due();
      } catch (const std::exception&) {
        ok = false;  // a store error: look again after the full sleep
      }
      lock.lock();
      std::size_t room = free;
      std::vector<store::ConnectionId> unclaim;  // claimed, but not run now
      for (auto& id : due) {
        std::string key = key_of(id.account, id.app);
        if (room == 0 || queued_.count(key) || skip_.count(key) || !gate_.try_enter(id.app)) {
          if (claims && !queued_.count(key)) unclaim.push_back(std::move(id));
          continue;
        }
        queued_.insert(key);
        std::optional<Millis> claim_until;
        if (claims) claim_until = until;
        ready_.push_back(Item{std::move(id), std::move(key), claim_until});
        --room;
      }
      const bool admitted = room < free;
      if (!unclaim.empty()) {
        // Another instance may take them at once.
        lock.unlock();
        for (const auto& id : unclaim) release_claim(id, until);
        lock.lock();
      }
      // A full answer means more may be due; but one that admitted nothing
      // (every row passed over) is no reason to ask again at once.
      backlog = ok && due.size() >= limit && (!claims || admitted);
      next_poll = steady + kMinPoll;
      if (ok && !backlog && next) {
        const Millis wait = *next - clock_.now();
        if (wait < static_cast<Millis>(kMaxSleep.count()))
          sleep = std::chrono::milliseconds(std::max<Millis>(wait, kMinPoll.count()));
      }
      if (backlog) sleep = std::chrono::milliseconds(kMinPoll);
    } else if (options_.background && free > 0) {
      sleep = std::chrono::duration_cast<std::chrono::milliseconds>(next_poll - steady) + 1ms;
    }
    // Enough threads for what is admitted, up to the concurrency.
    const std::size_t want = std::min(options_.concurrency, running_ + ready_.size());
    while (workers_.size() < want) workers_.emplace_back([this] { work(); });
    if (!ready_.empty()) work_cv_.notify_all();
    dispatch_cv_.wait_for(lock, sleep, [&] { return stopping_.load(std::memory_order_acquire) || wake_; });
    wake_ = false;
  }
}

void Scheduler::release_claim(const store::ConnectionId& id, Millis until) noexcept {
  try {
    store_.release_claim(id, options_.owner, until);
  } catch (...) {
    // The lease runs out on its own.
  }
}

void Scheduler::work() {
  std::unique_lock lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stopping_.load(std::memory_order_acquire) || !ready_.empty(); });
    if (stopping_.load(std::memory_order_acquire)) return;
    Item item = std::move(ready_.front());
    ready_.pop_front();
    ++running_;
    lock.unlock();
    const std::chrono::milliseconds pass_over = work_(item.id);
    if (item.claim_until) release_claim(item.id, *item.claim_until);
    gate_.leave(item.id.app);
    lock.lock();
    --running_;
    if (pass_over.count() > 0) skip_[item.key] = std::chrono::steady_clock::now() + pass_over;
    queued_.erase(item.key);
    wake_ = true;
    dispatch_cv_.notify_one();
  }
}

}  // namespace refold::core::lifecycle
