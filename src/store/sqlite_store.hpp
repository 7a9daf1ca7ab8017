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
#include "store/sqlite_checkpoint.hpp"
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
  std::vector<DataKey> add_data_key(
      const std::function<DataKey(std::int64_t, const std::vector<DataKey>&)>& make) override;
  std::size_t reseal_batch(const Reseal& reseal, std::size_t limit, Millis now) override;
  DroppedKeys drop_retired_data_keys() override;
  std::int64_t current_data_key() override;
  void purge_old_pages() noexcept override;
  std::vector<DataKeyUse> data_key_use() override;
  UpsertResult upsert(const ConnectionId& id, const Sealer& seal, Millis now,
                      std::optional<Millis> expires_at,
                      std::optional<Millis> next_refresh_at, const std::string& config = "{}") override;
  LeaseResult acquire_lease(const ConnectionId& id, const std::string& owner, Millis now,
                            Millis until) override;
  void release_lease(const ConnectionId& id, const std::string& owner) override;
  bool record_refresh_failure(const ConnectionId& id, const std::string& owner, Millis now,
                              Millis retry_at, const std::string& reason) override;
  std::vector<Connection> mark_reauth(const std::string& account, const std::string& app,
                                      const std::optional<std::string>& auth_type,
                                      const std::string& reason, Millis now,
                                      const std::optional<std::string>& owner,
                                      std::optional<std::int64_t> version) override;
  std::vector<SaveOutcome> save_refreshed_batch(std::span<const RefreshSave* const> items,
                                                Millis now) override;
  std::vector<ConnectionId> due(Millis now, std::size_t limit,
                                const std::vector<std::string>& skip_apps) override;
  std::optional<Millis> next_due() override;
  std::int64_t data_version() override;
  std::int64_t last_change() override;
  Changes changes_since(std::int64_t after, std::size_t limit) override;
  void put_flow(const Flow& flow, const Sealer& seal, Millis now) override;
  std::optional<Flow> take_flow(const Bytes& state_hash) override;
  std::optional<ConnectionWithSecret> get(const ConnectionId& id) override;
  std::optional<ConnectionWithSecret> find(const std::string& account,
                                           const std::string& app) override;
  std::vector<ConnectionWithSecret> remove(const std::string& account,
                                 const std::optional<std::string>& app, Millis now) override;
  EventPage read_events(const std::string& consumer, std::size_t max) override;
  void ack_events(const std::string& consumer, std::int64_t seq, Millis now) override;
  std::vector<Connection> list(const std::optional<std::string>& account) override;
  std::vector<Connection> list_page(const PageFilter& filter) override;

  const std::string& path() const { return path_; }
  // WAL checkpoints that copied pages so far, by this store's checkpointer
  // (for tests).
  std::size_t checkpoints_copied() const { return checkpointer_.copied(); }
  // SQLite's EXPLAIN QUERY PLAN of the statement list_page() runs for
  // `filter`, one detail line per row (for tests: which index it uses).
  std::vector<std::string> page_plan(const PageFilter& filter);
  // The statements every credential read and every scheduler pass run, for
  // their query plans (for tests: each must stay an index search at any
  // number of connections).
  enum class HotQuery { find, due, next_due };
  std::vector<std::string> plan(HotQuery query);

 private:
  struct Conn;
  class Pooled;
  std::unique_ptr<Conn> connect();
  Pooled acquire();
  void release(std::unique_ptr<Conn> conn);
  // lease_conn_, opened on first use; call with write_mu_ held.
  Conn* lease_conn();
  // The data key every write seals under: the newest (sqlite_keys.cpp).
  std::int64_t current_key(Pooled& c);
  // Calls `seal` with the current key and checks it sealed under that key.
  Sealed seal_current(Pooled& c, const Sealer& seal);
  // Appends an event to the durable log inside the write transaction open
  // on `c`, pruning what retention lets go now and then (sqlite_events.cpp).
  void append_event(Pooled& c, const char* type, const ConnectionId& id, Millis at,
                    const std::optional<std::string>& reason = std::nullopt,
                    std::optional<Millis> retry_at = std::nullopt);

  std::string path_;
  // Before the connections: their commit hooks point at it.
  WalCheckpointer checkpointer_{path_};
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Conn>> idle_;
  // SQLite allows one writer per file; taking this first keeps this
  // process's threads from spinning in the busy handler against each other.
  std::mutex write_mu_;
  // Guarded by write_mu_: the connection lease transactions use, which
  // commits without a sync (a lease lost to a power cut simply expires; the
  // next synced commit, or a checkpoint, makes it durable anyway).
  std::unique_ptr<Conn> lease_conn_;
  // A connection of its own for data_version(): the value is per connection.
  std::mutex watch_mu_;
  std::unique_ptr<Conn> watch_;
};

}  // namespace refold::store
