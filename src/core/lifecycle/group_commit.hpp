// Refreshes that complete together are saved together: one transaction and
// one sync for all of them (group commit). The first caller to find no
// commit running commits everything queued by then; the others wait for
// it, and the next batch forms while it runs. Each caller returns only
// once its own save is durable (or known to have failed).
//
// Thread safety: save() may be called from any thread.
#pragma once

#include <condition_variable>
#include <mutex>
#include <vector>

#include "store/store.hpp"
#include "util/time.hpp"

namespace refold::core::lifecycle {

class GroupCommit {
 public:
  GroupCommit(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

  // Saves `item` (fenced as Store::save_refreshed is) in the next batch.
  // Throws what saving it threw; false when the fence turned it away.
  bool save(const store::RefreshSave& item);

  // Batches committed so far and the refreshes they held (for benchmarks
  // and tests).
  std::size_t batches() const;
  std::size_t saved() const;

 private:
  struct Pending {
    const store::RefreshSave* item;
    bool done = false;
    store::SaveOutcome outcome;
  };

  store::Store& store_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Pending*> queue_;
  bool committing_ = false;
  std::size_t batches_ = 0;
  std::size_t saved_ = 0;
};

}  // namespace refold::core::lifecycle
