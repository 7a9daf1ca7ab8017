#include "store/sqlite_checkpoint.hpp"

#include <chrono>
#include <memory>

namespace refold::store {

namespace {

// SQLite's default autocheckpoint threshold.
constexpr int kCheckpointPages = 1000;
// A checkpoint waits for this long without a commit (from this process),
// so it does not compete for the disk with a burst of commits (a refresh
// whose waiters wait for its commit)...
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
  // Replaces the automatic checkpoint (itself a WAL hook).
  sqlite3_wal_hook(db.raw(), &WalCheckpointer::on_commit, this);
}

std::size_t WalCheckpointer::runs() const {
  std::lock_guard lock(mu_);
  return runs_;
}

int WalCheckpointer::on_commit(void* self_v, sqlite3* db, const char* schema, int wal_pages) {
  auto* self = static_cast<WalCheckpointer*>(self_v);
  self->last_commit_ns_.store(steady_ns(), std::memory_order_relaxed);
  self->wal_pages_.store(wal_pages, std::memory_order_relaxed);
  if (wal_pages < kCheckpointPages) return SQLITE_OK;
  bool started = true;
  {
    std::lock_guard lock(self->mu_);
    if (self->stop_) return SQLITE_OK;
    self->due_ = true;
    if (!self->thread_.joinable()) {
      try {
        self->thread_ = std::thread([self] { self->run(); });
      } catch (...) {
        started = false;
      }
    }
  }
  if (!started) {
    // No thread to be had: checkpoint here, as SQLite itself would.
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    return SQLITE_OK;
  }
  self->cv_.notify_one();
  return SQLITE_OK;
}

void WalCheckpointer::run() {
  std::unique_ptr<sqlite::Db> db;
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
    try {
      if (!db) db = std::make_unique<sqlite::Db>(path_, false);  // never a new, empty file
      // PASSIVE copies what no reader still needs and never waits; what it
      // leaves is taken by the next run, which the next commit asks for.
      sqlite3_wal_checkpoint_v2(db->raw(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } catch (...) {
      db.reset();  // the store could not be opened: try again next time
    }
    lock.lock();
    ++runs_;
  }
}

}  // namespace refold::store
