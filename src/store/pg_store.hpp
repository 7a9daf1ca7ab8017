// The shared store: PostgreSQL through libpq, for many instances of a host
// service on machines that share no disk. The same Store contract as the
// SQLite store: every write that changes what a reader sees takes one
// advisory lock per schema for its transaction (writes are serialized, as
// SQLite serializes them, so the change log's order is the commit order);
// refresh leases are row locks and row columns.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/pg.hpp"
#include "store/store.hpp"

namespace refold::store {

struct PgOptions {
  std::string uri;       // postgresql:// or postgres://, password included
  std::string shown;     // the URI without its password
  std::string password;  // scrubbed from messages (decoded)
  std::string password_raw;  // and as the URI wrote it
  std::string schema = "refold";
  std::size_t pool = 8;  // connections per client at most
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds statement_timeout{30000};
};

class PgStore final : public Store {
 public:
  // Connects once (so a wrong URI fails at open). Creates nothing until
  // initialize(). Throws REFOLD_ESTORE.
  explicit PgStore(PgOptions options);
  ~PgStore() override;

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
  std::vector<ConnectionId> claim_due(Millis now, std::size_t limit,
                                      const std::vector<std::string>& skip_apps,
                                      const std::string& owner, Millis until) override;
  bool claims() const override { return true; }
  void release_claim(const ConnectionId& id, const std::string& owner, Millis until) override;
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

  // The URI without its password.
  const std::string& shown() const { return options_.shown; }

 private:
  class Pooled;
  Pooled acquire();
  void release(std::unique_ptr<pg::Conn> conn);
  // Takes the schema's write lock for the transaction open on `c`.
  void lock_writes(pg::Conn& c);
  std::int64_t current_key(pg::Conn& c);
  Sealed seal_current(pg::Conn& c, const Sealer& seal);
  // Appends an event to the durable log in the transaction open on `c`.
  void append_event(pg::Conn& c, const char* type, const ConnectionId& id, Millis at,
                    const std::optional<std::string>& reason = std::nullopt,
                    std::optional<Millis> retry_at = std::nullopt);

  // The notification listener (a connection of its own, on a thread).
  void listen() noexcept;

  PgOptions options_;
  pg::ConnectOptions connect_;
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<pg::Conn>> idle_;
  std::size_t open_ = 0;  // guarded by pool_mu_: idle and in use

  // Cache coherence (data_version()): started on first use.
  std::mutex listen_mu_;
  std::thread listener_;
  std::atomic<bool> stop_listening_{false};
  std::atomic<bool> listening_{false};
  std::atomic<std::int64_t> notified_{0};
};

}  // namespace refold::store
