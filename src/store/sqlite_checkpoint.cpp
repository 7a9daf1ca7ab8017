#include "store/sqlite_checkpoint.hpp"

#include <chrono>

namespace refold::store {

namespace {

// SQLite's default autocheckpoint threshold.
constexpr int kCheckpointPages = 1000;
// A checkpoint waits for this long without a commit, so it does not
// compete for the disk with a burst of commits (a refresh whose waiters
// wait for its commit)...
constexpr std::chrono::milliseconds kIdle{50};
// ...unless the WAL has grown this large meanwhile (16 MiB of 4 KiB pages).
constexpr int kForcePages = 4000;

std::int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WalCheckpointer::watch(sqlite::Db& db) {
  {
    std::lock_guard lock(mu_);
    // Opened now rather than on the first checkpoint: the file this store
    // opened, even if the host changes directory or the path is replaced.
    // A failure leaves checkpoints to the commits themselves (below).
    if (!db_) {
      try {
        db_ = std::make_unique<sqlite::Db>(path_, false);
      } catch (...) {
      }
    }
  }
  // Replaces the automatic checkpoint (itself a WAL hook).
  sqlite3_wal_hook(db.raw(), &WalCheckpointer::on_commit, this);
}

std::size_t WalCheckpointer::copied() const {
  std::lock_guard lock(mu_);
  return copied_;
}

int WalCheckpointer::on_commit(void* self_v, sqlite3* db, const char* schema, int wal_pages) noexcept {
  auto* self = static_cast<WalCheckpointer*>(self_v);
  self->last_commit_ns_.store(steady_ns(), std::memory_order_relaxed);
  self->wal_pages_.store(wal_pages, std::memory_order_relaxed);
  if (wal_pages < kCheckpointPages) return SQLITE_OK;
  bool inline_checkpoint = false;
  try {
    std::lock_guard lock(self->mu_);
    if (self->stop_) return SQLITE_OK;
    if (!self->db_) {
      inline_checkpoint = true;
    } else {
      self->due_ = true;
      if (!self->thread_.joinable()) self->thread_ = std::thread([self] { self->run(); });
    }
  } catch (...) {
    inline_checkpoint = true;  // no thread to be had
  }
  if (inline_checkpoint) {
    // As SQLite itself would: in this commit (allowed from the hook).
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
  }
  self->cv_.notify_one();
  return SQLITE_OK;
}

bool WalCheckpointer::checkpoint() {
  // A connection that has not read since the store went to WAL mode has
  // not opened the WAL, and a checkpoint on it silently does nothing: a
  // read of the header (ended at once) opens it.
  sqlite3* db = db_->raw();
  if (sqlite3_exec(db, "PRAGMA user_version", nullptr, nullptr, nullptr) != SQLITE_OK) return false;
  int log = -1, done = -1;
  // PASSIVE copies what no reader still needs and never waits; what it
  // leaves is taken by the next run, which the next commit asks for.
  const int rc = sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, &log, &done);
  return rc == SQLITE_OK && done > 0;
}

void WalCheckpointer::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || due_; });
    for (;;) {  // until the store is idle for kIdle, or the WAL is too large
      if (stop_) return;
      const auto idle = std::chrono::nanoseconds(steady_ns() - last_commit_ns_.load(std::memory_order_relaxed));
      if (idle >= kIdle || wal_pages_.load(std::memory_order_relaxed) >= kForcePages) break;
      cv_.wait_for(lock, kIdle - idle);
    }
    due_ = false;
    lock.unlock();
    const bool did = checkpoint();
    lock.lock();
    if (did) ++copied_;
  }
}

}  // namespace refold::store
