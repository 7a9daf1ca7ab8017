// One refresh per connection in this process: the first caller for a key
// leads, later callers share its outcome through a std::shared_future,
// which carries the leader's real error (its exception) to each of them.
#pragma once

#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace refold::core::lifecycle {

template <class T>
class SingleFlight {
 public:
  struct Joined {
    std::shared_future<T> result;
    // Set for the leader only: it must settle the promise (value or
    // exception) after calling finish(key).
    std::optional<std::promise<T>> lead;
  };

  // Joins the flight for `key`, or starts one with the caller as leader.
  Joined join(std::string_view key) {
    std::lock_guard lock(mu_);
    auto it = flights_.find(key);
    if (it != flights_.end()) return Joined{it->second, std::nullopt};
    std::promise<T> p;
    std::shared_future<T> f = p.get_future().share();
    flights_.emplace(std::string(key), f);
    return Joined{std::move(f), std::move(p)};
  }

  // Ends the flight for `key` before its leader settles it, so that a caller
  // whose need the outcome does not meet starts a new flight instead of
  // joining this one again. Never throws.
  void finish(std::string_view key) noexcept {
    std::lock_guard lock(mu_);
    auto it = flights_.find(key);
    if (it != flights_.end()) flights_.erase(it);
  }

  bool in_flight(std::string_view key) const {
    std::lock_guard lock(mu_);
    return flights_.find(key) != flights_.end();
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_future<T>, std::less<>> flights_;
};

}  // namespace refold::core::lifecycle
