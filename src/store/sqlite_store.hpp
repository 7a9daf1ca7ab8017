// The embedded default store: one SQLite file in WAL mode, shared safely by
// many threads (a pool of connections) and many processes (SQLite locking,
// BEGIN IMMEDIATE for writes, a busy timeout).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/sqlite.hpp"
#include "store/store.hpp"

namespace refold::store {

class SqliteStore final : public Store {
 public:
  // Opens or creates the file. Touches nothing in an existing file beyond
  // what SQLite needs to read it. Throws REFOLD_ESTORE.
  explicit SqliteStore(std::string path);
  ~SqliteStore() override;

  Meta meta() override;
  Meta initialize(const Bytes& store_id, const Bytes& kdf_salt) override;
  void migrate() override;
  std::vector<DataKey> data_keys() override;
  std::vector<DataKey> ensure_data_key(const std::function<DataKey(std::int64_t)>& make) override;
  void rewrap_data_keys(const std::function<DataKey(const DataKey&)>& rewrap,
                        const std::function<void()>& before_commit) override;
  UpsertResult upsert(const ConnectionId& id, const Sealed& sealed, Millis now,
                      std::optional<Millis> expires_at) override;
  void put_flow(const Flow& flow, Millis now) override;
  std::optional<Flow> take_flow(const Bytes& state_hash) override;
  std::optional<ConnectionWithSecret> find(const std::string& account,
                                           const std::string& app) override;
  std::vector<Connection> remove(const std::string& account,
                                 const std::optional<std::string>& app) override;
  std::vector<Connection> list(const std::optional<std::string>& account) override;

  const std::string& path() const { return path_; }

 private:
  struct Conn;
  class Lease;
  std::unique_ptr<Conn> connect();
  Lease acquire();
  void release(std::unique_ptr<Conn> conn);

  std::string path_;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Conn>> idle_;
  // SQLite allows one writer per file; taking this first keeps this
  // process's threads from spinning in the busy handler against each other.
  std::mutex write_mu_;
};

}  // namespace refold::store
