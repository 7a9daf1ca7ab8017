// The storage interface the core talks to. Secrets reach it only as
// ciphertext; it never sees a key.
#pragma once

#include <cstdint>
#include <exception>
#include <span>
#include <utility>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "util/time.hpp"

namespace refold::store {

using Bytes = std::vector<std::uint8_t>;

// What identifies a connection: one (account, app, auth type) triple.
struct ConnectionId {
  std::string account;
  std::string app;
  std::string auth_type;
};

// An encrypted record: which data key sealed it, its nonce and ciphertext.
struct Sealed {
  std::int64_t key_id = 0;
  Bytes nonce;
  Bytes ciphertext;
};

// Seals a record under the data key `key_id`. A store calls it inside the
// write transaction that saves the record, with the key current there, so
// no record is ever written under a key a data-key rotation has retired
// (in this process or another).
using Sealer = std::function<Sealed(std::int64_t key_id)>;

// The non-secret columns of a connection row.
struct Connection {
  ConnectionId id;
  std::string status;                 // "active" or "reauth_required"
  std::optional<std::string> reason;  // why re-auth is required
  Millis created_at = 0;
  Millis updated_at = 0;
  std::optional<Millis> expires_at;   // access token expiry, for scheduling
  std::string config = "{}";          // non-secret JSON
  // Token lifecycle (oauth2): the row's version (bumped by every change of
  // credentials or status; fences late writers), failed refreshes in a row,
  // and when the next refresh is due (the refresh-ahead point, or the end of
  // a back-off after a failure).
  std::int64_t version = 0;
  int refresh_failures = 0;
  std::optional<Millis> next_refresh_at;
  bool forced_refresh = false;  // the token came from a refresh forced by a 401
};

struct ConnectionWithSecret {
  Connection connection;
  Sealed sealed;
};

// A data key wrapped by the master key.
struct DataKey {
  std::int64_t id = 0;
  Bytes nonce;
  Bytes wrapped;
  Millis created_at = 0;
};

// How many records a data key seals (for rotation progress).
struct DataKeyUse {
  std::int64_t id = 0;
  Millis created_at = 0;
  std::int64_t connections = 0;
  std::int64_t flows = 0;  // pending OAuth flows
};

// What drop_retired_data_keys() did: the keys it deleted, and how many
// keys the store holds after (1 once a rotation is over).
struct DroppedKeys {
  std::vector<std::int64_t> ids;
  std::size_t remaining = 0;
};

// Re-seals a record under `key_id`, from what it was sealed as.
struct Reseal {
  std::function<Sealed(const ConnectionId&, const Sealed&, std::int64_t key_id)> connection;
  std::function<Sealed(const Bytes& state_hash, const Sealed&, std::int64_t key_id)> flow;
};

// Store-wide values fixed when the store is created.
struct Meta {
  bool initialized = false;
  Bytes store_id;  // 16 random bytes; bound into every record's associated data
  Bytes kdf_salt;  // Argon2id salt for passphrase-derived master keys
};

// A pending OAuth authorization (begin done, complete not yet), found by
// the SHA-256 of its state; everything else about it is sealed.
struct Flow {
  Bytes state_hash;
  Millis created_at = 0;
  Millis expires_at = 0;
  Sealed sealed;
};

// What acquire_lease() found.
struct LeaseResult {
  enum class State { acquired, busy, missing } state = State::missing;
  std::optional<ConnectionWithSecret> row;  // read under the write lock
  Millis lease_expires_at = 0;              // busy: when the holder's lease runs out
};

// A refresh's outcome to write, fenced by the lease and the row version.
struct RefreshedTokens {
  Sealer seal;
  std::optional<Millis> expires_at;
  std::optional<Millis> next_refresh_at;
  bool forced = false;
  std::optional<std::string> config;  // replaces the row's config when set
};

// One refresh's outcome in a group commit (Store::save_refreshed_batch).
struct RefreshSave {
  ConnectionId id;
  std::string owner;
  std::int64_t version = 0;
  RefreshedTokens tokens;
};

// What became of one RefreshSave: saved, fenced off (someone else changed
// the row meanwhile), or failed before it was written (its seal threw).
struct SaveOutcome {
  bool saved = false;
  std::exception_ptr error;
};

// The connections changed since a point in the store's change log.
struct Changes {
  std::vector<std::pair<std::string, std::string>> connections;  // (account, app)
  std::int64_t last = 0;  // pass to the next changes_since()
  // More changed than the caller asked for, or the log no longer reaches
  // back that far: treat every connection as changed.
  bool everything = false;
};

// A filtered page of connections (Store::list_page), in (account, app,
// auth type) order. Each filter given is an equality on its column.
struct PageFilter {
  std::optional<std::string> account;
  std::optional<std::string> app;
  std::optional<std::string> status;
  // Keyset paging: only rows after this key. It is the last row of the
  // previous page of the same filter, so its account and app equal the
  // filter's where those are given.
  std::optional<ConnectionId> after;
  std::size_t limit = 100;
};

// One entry of the durable event log: what a change reported, appended in
// the transaction that made the change (docs: refold_read_events).
struct StoredEvent {
  std::int64_t seq = 0;  // the log's order: the order the changes committed in
  std::string type;      // "connection.created", ...
  ConnectionId id;
  Millis at = 0;
  std::optional<std::string> reason;
  std::optional<Millis> retry_at;
};

// What read_events() found after a consumer's cursor.
struct EventPage {
  std::vector<StoredEvent> events;
  // Retention removed events the consumer had not acknowledged: some were
  // never seen.
  bool missed = false;
};

struct UpsertResult {
  bool created = false;             // no row existed before
  std::string previous_status;      // when one did
  Millis created_at = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // How long the durable event log keeps an event (by the writer's clock):
  // older events go as new ones are appended, read or not.
  void set_event_retention(Millis ms) { event_retention_ = ms; }

  // Store-wide values; `initialized` is false for a new, empty store.
  virtual Meta meta() = 0;
  // Creates the schema and meta values if no one has yet (safe against a
  // concurrent creator in another process). Returns the meta that won.
  virtual Meta initialize(const Bytes& store_id, const Bytes& kdf_salt) = 0;
  // Brings an older schema up to date. Called after the key is verified.
  virtual void migrate() = 0;

  virtual std::vector<DataKey> data_keys() = 0;
  // Adds a data key made by `make(id)` unless one exists; returns all keys.
  virtual std::vector<DataKey> ensure_data_key(const std::function<DataKey(std::int64_t id)>& make) = 0;
  // Replaces every data key's wrapping in one transaction. `rewrap` gets each
  // stored key and returns it re-wrapped; `before_commit` runs last inside
  // the transaction (a throw rolls everything back).
  virtual void rewrap_data_keys(const std::function<DataKey(const DataKey&)>& rewrap,
                                const std::function<void()>& before_commit) = 0;

  // ---- Data-key rotation ----
  // The newest data key is the current one: every write seals under it.
  // Older keys are retiring: rotation re-seals their records, then drops
  // them.
  //
  // Starts a rotation: adds the key `make(id, stored)` returns with the next
  // id, which becomes current at once. `make` runs inside the transaction
  // with the keys stored then (a throw adds nothing). When a rotation is
  // already under way (a retiring key is stored), adds nothing: the caller
  // finishes that one. Returns the keys stored after.
  virtual std::vector<DataKey> add_data_key(
      const std::function<DataKey(std::int64_t id, const std::vector<DataKey>& stored)>& make) = 0;
  // Re-seals, in one transaction, up to `limit` records (connections, then
  // pending flows) held under a retiring key, without changing anything
  // else of them; first drops the flows that expired before `now`. Returns
  // how many it re-sealed; 0 when none is left.
  virtual std::size_t reseal_batch(const Reseal& reseal, std::size_t limit, Millis now) = 0;
  // Deletes (overwriting them on disk) the retiring keys no record uses.
  virtual DroppedKeys drop_retired_data_keys() = 0;
  // The id of the current data key.
  virtual std::int64_t current_data_key() = 0;
  // Best effort, without waiting long for other readers: makes the store's
  // files stop holding old versions of what was just overwritten (SQLite:
  // checkpoints and truncates the WAL).
  virtual void purge_old_pages() noexcept = 0;
  // Every data key, oldest first, with how many records each seals.
  virtual std::vector<DataKeyUse> data_key_use() = 0;

  // Inserts or replaces the connection's secret and its non-secret
  // `config` (JSON), keeping created_at of an existing row, setting it
  // active. Durable when it returns. Clears any refresh lease and failure
  // count.
  virtual UpsertResult upsert(const ConnectionId& id, const Sealer& seal, Millis now,
                              std::optional<Millis> expires_at = std::nullopt,
                              std::optional<Millis> next_refresh_at = std::nullopt,
                              const std::string& config = "{}") = 0;

  // ---- Token lifecycle: the cross-process refresh lease ----
  // In one write transaction: reads the row and, unless another owner holds
  // an unexpired lease, takes the lease for `owner` until `until`.
  virtual LeaseResult acquire_lease(const ConnectionId& id, const std::string& owner, Millis now,
                                    Millis until) = 0;
  // Gives the lease up if `owner` still holds it.
  virtual void release_lease(const ConnectionId& id, const std::string& owner) = 0;
  // A lease is not made durable on its own (no sync): after a crash it
  // simply expires.
  //
  // Saves refreshed credentials and releases the lease, only if `owner`
  // still holds the lease and the row is still at `version`. Durable when it
  // returns true; false means someone else changed the row meanwhile.
  virtual bool save_refreshed(const ConnectionId& id, const std::string& owner,
                              std::int64_t version, const RefreshedTokens& tokens, Millis now) {
    const RefreshSave item{id, owner, version, tokens};
    const RefreshSave* items[] = {&item};
    SaveOutcome out = save_refreshed_batch(items, now).at(0);
    if (out.error) std::rethrow_exception(out.error);
    return out.saved;
  }
  // save_refreshed for several refreshes in one transaction, made durable
  // with one sync (group commit). Outcome i is item i's. A throw (the
  // store failed) means none was saved.
  virtual std::vector<SaveOutcome> save_refreshed_batch(std::span<const RefreshSave* const> items,
                                                        Millis now) = 0;
  // Counts a failed refresh, sets when to try again and why it failed, and
  // releases the lease; only if `owner` holds it.
  virtual bool record_refresh_failure(const ConnectionId& id, const std::string& owner, Millis now,
                                      Millis retry_at, const std::string& reason) = 0;
  // Marks the active connections of (account, app) (of `auth_type` only,
  // when given) reauth_required with `reason` and returns those it changed.
  // With `owner`, only a row whose lease `owner` holds (and the lease is
  // released); with `version`, only a row still at that version (a decision
  // made on what was read then must not mark what replaced it).
  virtual std::vector<Connection> mark_reauth(const std::string& account, const std::string& app,
                                              const std::optional<std::string>& auth_type,
                                              const std::string& reason, Millis now,
                                              const std::optional<std::string>& owner,
                                              std::optional<std::int64_t> version) = 0;
  // Active oauth2 connections whose next refresh is due at `now` and whose
  // lease is free, soonest first, at most `limit`, leaving out the apps in
  // `skip_apps`. An index range, never a scan of every connection.
  virtual std::vector<ConnectionId> due(Millis now, std::size_t limit,
                                        const std::vector<std::string>& skip_apps = {}) = 0;
  // For stores that many machines share: due() that also takes each row's
  // refresh lease for `owner` until `until`, in the same statement, passing
  // over rows another instance is claiming at that moment. Instances that
  // poll at once get disjoint work; acquire_lease() by `owner` then finds
  // its own lease. Stores on one machine need no claim: due().
  virtual std::vector<ConnectionId> claim_due(Millis now, std::size_t limit,
                                              const std::vector<std::string>& skip_apps,
                                              const std::string& owner, Millis until) {
    (void)owner;
    (void)until;
    return due(now, limit, skip_apps);
  }
  // Whether claim_due() takes leases.
  virtual bool claims() const { return false; }
  // Gives back a lease claim_due() took for `owner` until `until`, only if
  // it is still that claim's: a refresh that took the lease over since
  // (acquire_lease sets its own expiry) keeps it.
  virtual void release_claim(const ConnectionId& id, const std::string& owner, Millis until) {
    (void)id;
    (void)owner;
    (void)until;
  }
  // When the soonest refresh of any active oauth2 connection is due.
  virtual std::optional<Millis> next_due() = 0;
  // Changes whenever another connection (this process's others included)
  // has committed to the store since the last call.
  virtual std::int64_t data_version() = 0;
  // The change log: every change to a connection's credentials, status or
  // schedule (by any process) appends (account, app), in the transaction
  // that makes it. last_change() is where the log ends now; changes_since()
  // what it holds after `after`, at most `limit` entries.
  virtual std::int64_t last_change() = 0;
  virtual Changes changes_since(std::int64_t after, std::size_t limit) = 0;

  // Saves a pending flow (its record sealed by `seal`; flow.sealed is
  // ignored), first dropping flows that expired before `now`.
  virtual void put_flow(const Flow& flow, const Sealer& seal, Millis now) = 0;
  // Removes and returns the flow with this state hash: a state is usable
  // once, whatever happens next.
  virtual std::optional<Flow> take_flow(const Bytes& state_hash) = 0;
  // The connection `id`, with its sealed record and config.
  virtual std::optional<ConnectionWithSecret> get(const ConnectionId& id) = 0;
  // The most recently updated connection of (account, app), any auth type.
  virtual std::optional<ConnectionWithSecret> find(const std::string& account,
                                                   const std::string& app) = 0;
  // Removes connections of `account` (of `app` only, when given) and returns
  // what was removed (so tokens can be revoked after the local delete).
  virtual std::vector<ConnectionWithSecret> remove(const std::string& account,
                                         const std::optional<std::string>& app, Millis now) = 0;
  // ---- The durable event log ----
  // Every write below that changes a connection appends the event it
  // reports, in its own transaction: upsert "connection.created" or
  // "connection.reauthenticated"; a saved refresh "connection.refreshed";
  // record_refresh_failure "connection.refresh_failed" (reason, retry_at);
  // mark_reauth "connection.expired" (reason); remove "connection.deleted"
  // (reason "disconnected" with an app, "account_deleted" without).
  //
  // Up to `max` events after `consumer`'s acknowledged cursor (a consumer
  // never seen starts before the oldest event kept), in order.
  virtual EventPage read_events(const std::string& consumer, std::size_t max) = 0;
  // Moves `consumer`'s cursor to `seq` (never back). REFOLD_EINVALID when
  // `seq` is past the last event appended.
  virtual void ack_events(const std::string& consumer, std::int64_t seq, Millis now) = 0;

  // Connections of `account`, or of every account, ordered by account, app.
  virtual std::vector<Connection> list(const std::optional<std::string>& account) = 0;
  // At most `limit` connections matching `filter`, after `filter.after`,
  // ordered by account, app, auth type. An index range with a limit for
  // every combination of filters, never a scan of every connection.
  virtual std::vector<Connection> list_page(const PageFilter& filter) = 0;

 protected:
  Millis event_retention_ = 7LL * 24 * 3600 * 1000;
  // Appended events are pruned (those older than the retention) when the
  // log's sequence reaches a multiple of this.
  static constexpr std::int64_t kEventPruneEvery = 1024;
};

}  // namespace refold::store
