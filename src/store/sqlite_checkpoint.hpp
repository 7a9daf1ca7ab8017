// WAL checkpoints on a thread of their own.
//
// SQLite's automatic checkpoint runs inside the commit that grows the WAL
// past 1,000 pages, so that commit takes 10-25 ms more (copying pages into
// the database file and syncing it). When the commit is a refresh that 64
// threads wait for, they all wait for the checkpoint too. Here the commit
// only asks for a checkpoint; a thread started on the first request runs
// it (PASSIVE: it never blocks readers or writers) on a connection of its
// own, once this process has made no commit for 50 ms (or the WAL has
// reached 4,000 pages).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "store/sqlite.hpp"

namespace refold::store {

class WalCheckpointer {
 public:
  explicit WalCheckpointer(std::string path) : path_(std::move(path)) {}
  // Stops the thread (a checkpoint running finishes first).
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Turns off `db`'s automatic checkpoint and has its commits ask this
  // checkpointer instead. `db` must not outlive it.
  void watch(sqlite::Db& db);

  // Checkpoints run so far (for tests).
  std::size_t runs() const;

 private:
  static int on_commit(void* self, sqlite3* db, const char* schema, int wal_pages);
  void run();

  std::string path_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool due_ = false;
  bool stop_ = false;
  std::size_t runs_ = 0;
  // The last commit's time (steady clock) and WAL size, set by every commit.
  std::atomic<std::int64_t> last_commit_ns_{0};
  std::atomic<int> wal_pages_{0};
  std::thread thread_;
};

}  // namespace refold::store
