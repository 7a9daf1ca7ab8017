#include "core/lifecycle/group_commit.hpp"

#include <stdexcept>

namespace refold::core::lifecycle {

bool GroupCommit::save(const store::RefreshSave& item) {
  Pending me{&item, false, {}};
  std::unique_lock lock(mu_);
  queue_.push_back(&me);
  while (!me.done) {
    if (committing_) {
      cv_.wait(lock);
      continue;
    }
    // Lead the next batch: everything queued now, this caller's included.
    committing_ = true;
    std::vector<Pending*> batch;
    batch.swap(queue_);
    lock.unlock();
    std::vector<store::SaveOutcome> outcomes;
    std::exception_ptr failed;  // the whole batch's, when the store failed
    try {
      std::vector<const store::RefreshSave*> items;
      items.reserve(batch.size());
      for (Pending* p : batch) items.push_back(p->item);
      outcomes = store_.save_refreshed_batch(items, clock_.now());
      if (outcomes.size() != batch.size()) throw std::logic_error("group commit: outcome count");
    } catch (...) {
      failed = std::current_exception();
    }
    // From here nothing allocates or throws: every waiter is answered.
    lock.lock();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (failed) batch[i]->outcome = store::SaveOutcome{false, failed};
      else batch[i]->outcome = std::move(outcomes[i]);
      batch[i]->done = true;
      if (batch[i]->outcome.saved) ++saved_;
    }
    ++batches_;
    committing_ = false;
    cv_.notify_all();
  }
  if (me.outcome.error) std::rethrow_exception(me.outcome.error);
  return me.outcome.saved;
}

std::size_t GroupCommit::batches() const {
  std::lock_guard lock(mu_);
  return batches_;
}

std::size_t GroupCommit::saved() const {
  std::lock_guard lock(mu_);
  return saved_;
}

}  // namespace refold::core::lifecycle
