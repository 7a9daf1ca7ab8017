// WAL checkpoints on a thread of their own.
//
// SQLite's automatic checkpoint runs inside the commit that grows the WAL
// past 1,000 pages, so that commit takes 10-25 ms more (copying pages into
// the database file and syncing it). When the commit is a refresh that 64
// threads wait for, they all wait for the checkpoint too. Here the commit
// only asks for a checkpoint; a thread started on the first request runs
// it (PASSIVE: it never blocks readers or writers) on a connection of its
// own, once the store's connections have made no commit for 50 ms (or the
// WAL has reached 4,000 pages).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "store/sqlite.hpp"

namespace refold::store {

class WalCheckpointer {
 public:
  explicit WalCheckpointer(std::string path) : path_(std::move(path)) {}
  // Stops the thread; a checkpoint running finishes first.
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Turns off `db`'s automatic checkpoint and has its commits ask this
  // checkpointer instead. `db` must not outlive it. The first call opens
  // the checkpointer's own connection (the file exists by then).
  void watch(sqlite::Db& db);

  // Checkpoints that copied at least one page so far (for tests).
  std::size_t copied() const;

 private:
  static int on_commit(void* self, sqlite3* db, const char* schema, int wal_pages) noexcept;
  void run();
  // Runs one PASSIVE checkpoint on db_; true when it copied pages.
  bool checkpoint();

  std::string path_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool due_ = false;
  bool stop_ = false;
  std::size_t copied_ = 0;
  // Opened by the first watch(), under mu_; used by the thread only after.
  std::unique_ptr<sqlite::Db> db_;
  // The last commit's time (steady clock) and WAL size, set by every commit.
  std::atomic<std::int64_t> last_commit_ns_{0};
  std::atomic<int> wal_pages_{0};
  std::thread thread_;
};

}  // namespace refold::store
