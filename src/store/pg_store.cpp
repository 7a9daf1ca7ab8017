#include "store/pg_store.hpp"

#include "store/apps_json.hpp"

#include <algorithm>
#include <cerrno>
#include <poll.h>
#include <thread>

#include "util/error.hpp"

namespace refold::store {

namespace {

// Advisory lock keys, (class, schema): taken per schema, so two refold
// stores in one database never wait for each other.
// The trigger in kMigrations takes the write lock too, by the same number.
constexpr int kLockClassWrites = 1380338756;      // 0x52464C44, "RFLD"
constexpr int kLockClassMigrations = 1380338757;
static_assert(kLockClassWrites == 0x52464C44 && kLockClassMigrations == kLockClassWrites + 1);

// Schema migrations: entry i takes the schema from version i to i + 1.
// Version 1 is the SQLite store's version 8, in PostgreSQL's types.
//
// The change log: every change to what a reader caches of a connection
// (credentials, status, schedule, failures) appends the connection in the
// same transaction. Writers hold the schema's write lock until they
// commit, so sequence numbers are handed out in commit order and a reader
// that has seen seq n has seen everything before it.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE meta (
  key   text PRIMARY KEY,
  value bytea NOT NULL
);
CREATE TABLE schema_version (
  version integer NOT NULL
);
CREATE TABLE data_keys (
  id         bigint PRIMARY KEY,
  nonce      bytea NOT NULL,
  wrapped    bytea NOT NULL,
  created_at bigint NOT NULL
);
CREATE TABLE connections (
  account          text NOT NULL,
  app              text NOT NULL,
  auth_type        text NOT NULL CHECK (auth_type IN ('oauth2', 'oauth2_cc', 'keybased')),
  status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'reauth_required')),
  reason           text,
  created_at       bigint NOT NULL,
  updated_at       bigint NOT NULL,
  expires_at       bigint,
  refresh_failures integer NOT NULL DEFAULT 0,
  next_refresh_at  bigint,
  lease_owner      text,
  lease_expires_at bigint,
  version          bigint NOT NULL DEFAULT 1,
  key_id           bigint NOT NULL REFERENCES data_keys (id),
  nonce            bytea NOT NULL,
  ciphertext       bytea NOT NULL,
  config           text NOT NULL DEFAULT '{}',
  forced_refresh   integer NOT NULL DEFAULT 0,
  PRIMARY KEY (account, app, auth_type)
);
CREATE INDEX connections_by_key ON connections (key_id);
CREATE INDEX connections_by_status ON connections (status, account, app, auth_type);
CREATE INDEX connections_by_app ON connections (app, account, auth_type);
CREATE INDEX connections_by_app_status ON connections (app, status, account, auth_type);
CREATE INDEX connections_due ON connections (next_refresh_at)
  WHERE auth_type <> 'keybased' AND status = 'active' AND next_refresh_at IS NOT NULL;
CREATE TABLE oauth_flows (
  state_hash bytea PRIMARY KEY,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  key_id     bigint NOT NULL REFERENCES data_keys (id),
  nonce      bytea NOT NULL,
  ciphertext bytea NOT NULL
);
CREATE INDEX oauth_flows_by_key ON oauth_flows (key_id);
CREATE TABLE changes (
  seq     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account text NOT NULL,
  app     text NOT NULL
);
CREATE FUNCTION log_change() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  s bigint;
BEGIN
  -- kLockClassWrites, which the store's writes take first (re-entrant).
  PERFORM pg_advisory_xact_lock(1380338756, hashtext(TG_TABLE_SCHEMA));
  IF TG_OP = 'DELETE' THEN
    INSERT INTO changes (account, app) VALUES (OLD.account, OLD.app) RETURNING seq INTO s;
  ELSE
    INSERT INTO changes (account, app) VALUES (NEW.account, NEW.app) RETURNING seq INTO s;
  END IF;
  IF s % 4096 = 0 THEN
    DELETE FROM changes WHERE seq <= s - 65536;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER connections_inserted_or_deleted AFTER INSERT OR DELETE ON connections
  FOR EACH ROW EXECUTE FUNCTION log_change();
CREATE TRIGGER connections_updated AFTER UPDATE ON connections
  FOR EACH ROW WHEN (OLD.version IS DISTINCT FROM NEW.version OR OLD.status IS DISTINCT FROM NEW.status
    OR OLD.refresh_failures IS DISTINCT FROM NEW.refresh_failures OR OLD.reason IS DISTINCT FROM NEW.reason
    OR OLD.next_refresh_at IS DISTINCT FROM NEW.next_refresh_at OR OLD.expires_at IS DISTINCT FROM NEW.expires_at)
  EXECUTE FUNCTION log_change();
)sql",
    // 1 -> 2: the durable event log (sqlite_schema.cpp, 8 -> 9, says how
    // it works). Appends hold the write lock, so seq is the commit order.
    R"sql(
CREATE TABLE events (
  seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  type      text NOT NULL,
  account   text NOT NULL,
  app       text NOT NULL,
  auth_type text NOT NULL,
  at        bigint NOT NULL,
  reason    text,
  retry_at  bigint
);
CREATE INDEX events_by_at ON events (at);
CREATE TABLE event_consumers (
  name       text PRIMARY KEY,
  acked      bigint NOT NULL,
  updated_at bigint NOT NULL
);
CREATE TABLE event_log (
  id             integer PRIMARY KEY CHECK (id = 1),
  pruned_through bigint NOT NULL
);
INSERT INTO event_log (id, pruned_through) VALUES (1, 0);
)sql",
    // 2 -> 3: cache coherence across instances. Every change logged also
    // notifies the schema's channel; PostgreSQL sends one notification per
    // transaction (equal ones are folded) when it commits. Each client
    // listens and drops from its cache what the change log says changed.
    R"sql(
CREATE OR REPLACE FUNCTION log_change() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
DECLARE
  s bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(1380338756, hashtext(TG_TABLE_SCHEMA));
  IF TG_OP = 'DELETE' THEN
    INSERT INTO changes (account, app) VALUES (OLD.account, OLD.app) RETURNING seq INTO s;
  ELSE
    INSERT INTO changes (account, app) VALUES (NEW.account, NEW.app) RETURNING seq INTO s;
  END IF;
  IF s % 4096 = 0 THEN
    DELETE FROM changes WHERE seq <= s - 65536;
  END IF;
  PERFORM pg_notify('refold_' || TG_TABLE_SCHEMA, '');
  RETURN NULL;
END
$$;
)sql",
};
constexpr std::int64_t kSchemaVersion = static_cast<std::int64_t>(std::size(kMigrations));

#define REFOLD_PG_CONNECTION_COLUMNS                                                     \
  "account, app, auth_type, status, reason, created_at, updated_at, expires_at, config," \
  " version, refresh_failures, next_refresh_at"

Connection read_connection(const pg::Result& r, int row, int first) {
  Connection c;
  c.id.account = r.text(row, first);
  c.id.app = r.text(row, first + 1);
  c.id.auth_type = r.text(row, first + 2);
  c.status = r.text(row, first + 3);
  c.reason = r.opt_text(row, first + 4);
  c.created_at = r.integer(row, first + 5);
  c.updated_at = r.integer(row, first + 6);
  c.expires_at = r.opt_integer(row, first + 7);
  c.config = r.text(row, first + 8);
  c.version = r.integer(row, first + 9);
  c.refresh_failures = static_cast<int>(r.integer(row, first + 10));
  c.next_refresh_at = r.opt_integer(row, first + 11);
  return c;
}

std::vector<DataKey> read_keys(pg::Conn& c) {
  static const char* kKeys = "SELECT id, nonce, wrapped, created_at FROM data_keys ORDER BY id";
  pg::Result r = c.run(kKeys);
  std::vector<DataKey> keys;
  for (int i = 0; i < r.rows(); ++i) keys.push_back({r.integer(i, 0), r.bytea(i, 1), r.bytea(i, 2), r.integer(i, 3)});
  return keys;
}

void insert_key(pg::Conn& c, const DataKey& k) {
  static const char* kInsert = "INSERT INTO data_keys (id, nonce, wrapped, created_at) VALUES ($1, $2, $3, $4)";
  c.run(kInsert, pg::Params().add(k.id).add(std::span(k.nonce)).add(std::span(k.wrapped)).add(k.created_at));
}

}  // namespace

// A pooled connection: back to the pool when this goes out of scope,
// unless it broke (the server restarted or went away): then it is closed,
// and the next caller connects afresh.
class PgStore::Pooled {
 public:
  Pooled(PgStore& store, std::unique_ptr<pg::Conn> conn) : store_(store), conn_(std::move(conn)) {}
  ~Pooled() {
    if (conn_) store_.release(std::move(conn_));
  }
  Pooled(Pooled&&) = default;
  pg::Conn& operator*() { return *conn_; }
  pg::Conn* operator->() { return conn_.get(); }

 private:
  PgStore& store_;
  std::unique_ptr<pg::Conn> conn_;
};

PgStore::PgStore(PgOptions options) : options_(std::move(options)) {
  connect_.uri = options_.uri;
  connect_.shown = options_.shown;
  connect_.password = options_.password;
  connect_.password_raw = options_.password_raw;
  connect_.schema = options_.schema;
  connect_.connect_timeout = options_.connect_timeout;
  connect_.statement_timeout = options_.statement_timeout;
  auto c = acquire();  // fails now on a wrong URI, password or unreachable server
}

PgStore::~PgStore() {
  stop_listening_.store(true, std::memory_order_release);
  std::lock_guard lock(listen_mu_);
  if (listener_.joinable()) listener_.join();
}

PgStore::Pooled PgStore::acquire() {
  {
    std::unique_lock lock(pool_mu_);
    const auto deadline = std::chrono::steady_clock::now() + options_.connect_timeout;
    while (idle_.empty() && open_ >= options_.pool) {
      if (pool_cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= options_.pool)
        fail(REFOLD_ESTORE, "PostgreSQL store '" + options_.shown + "': all " +
                                std::to_string(options_.pool) +
                                " pooled connections stayed busy (config postgresql_pool_size)");
    }
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return Pooled(*this, std::move(conn));
    }
    ++open_;
  }
  try {
    return Pooled(*this, std::make_unique<pg::Conn>(connect_));
  } catch (...) {
    std::lock_guard lock(pool_mu_);
    --open_;
    pool_cv_.notify_one();
    throw;
  }
}

void PgStore::release(std::unique_ptr<pg::Conn> conn) {
  const bool keep = !conn->broken() && PQtransactionStatus(conn->raw()) == PQTRANS_IDLE;
  if (!keep) conn.reset();
  std::lock_guard lock(pool_mu_);
  if (keep) idle_.push_back(std::move(conn));
  else --open_;
  pool_cv_.notify_one();
}

void PgStore::lock_writes(pg::Conn& c) {
  static const char* kLock = "SELECT pg_advisory_xact_lock($1::integer, hashtext($2::text))";
  c.run(kLock, pg::Params().add(std::int64_t{kLockClassWrites}).add(options_.schema));
}

Meta PgStore::meta() {
  static const char* kTables =
      "SELECT count(*) FILTER (WHERE tablename = 'meta'), count(*) FROM pg_tables WHERE schemaname = $1";
  static const char* kVersion = "SELECT max(version) FROM schema_version";
  static const char* kMeta = "SELECT key, value FROM meta";
  auto c = acquire();
  pg::Transaction tx(*c);
  Meta m;
  pg::Result t = c->run(kTables, pg::Params().add(options_.schema));
  if (t.integer(0, 0) == 0) {
    if (t.integer(0, 1) != 0)
      fail(REFOLD_ESTORE, "PostgreSQL store '" + options_.shown + "': schema '" + options_.schema +
                              "' holds tables that are not a refold store");
    return m;  // new and empty
  }
  pg::Result v = c->run(kVersion);
  const std::int64_t version = v.opt_integer(0, 0).value_or(0);
  if (version > kSchemaVersion)
    fail(REFOLD_ESTORE, "PostgreSQL store '" + options_.shown + "' has schema version " +
                            std::to_string(version) + ", newer than this refold supports (" +
                            std::to_string(kSchemaVersion) + "); upgrade refold");
  m.initialized = true;
  pg::Result r = c->run(kMeta);
  for (int i = 0; i < r.rows(); ++i) {
    const std::string key = r.text(i, 0);
    if (key == "store_id") m.store_id = r.bytea(i, 1);
    else if (key == "kdf_salt") m.kdf_salt = r.bytea(i, 1);
  }
  if (m.store_id.size() != 16 || m.kdf_salt.empty())
    fail(REFOLD_ESTORE, "PostgreSQL store '" + options_.shown + "' is damaged: its meta table is incomplete");
  return m;
}

Meta PgStore::initialize(const Bytes& store_id, const Bytes& kdf_salt) {
  static const char* kMigrationLock = "SELECT pg_advisory_xact_lock($1::integer, hashtext($2::text))";
  static const char* kSchemaExists = "SELECT count(*) FROM pg_namespace WHERE nspname = $1";
  static const char* kHasMeta = "SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 'meta'";
  static const char* kInsertMeta = "INSERT INTO meta (key, value) VALUES ($1, $2)";
  static const char* kSetVersion = "INSERT INTO schema_version (version) VALUES ($1)";
  {
    auto c = acquire();
    pg::Transaction tx(*c);
    // Many instances starting together: one creates, the others wait here
    // and then find the store made.
    c->run(kMigrationLock, pg::Params().add(std::int64_t{kLockClassMigrations}).add(options_.schema));
    if (c->run(kSchemaExists, pg::Params().add(options_.schema)).integer(0, 0) == 0)
      c->run_once("CREATE SCHEMA " + pg::quote_identifier(options_.schema));
    if (c->run(kHasMeta, pg::Params().add(options_.schema)).integer(0, 0) == 0) {
      for (const char* step : kMigrations) c->exec(step);
      c->run(kInsertMeta, pg::Params().add("store_id").add(std::span(store_id)));
      c->run(kInsertMeta, pg::Params().add("kdf_salt").add(std::span(kdf_salt)));
      c->run(kSetVersion, pg::Params().add(kSchemaVersion));
    }
    tx.commit();
  }
  return meta();
}

void PgStore::migrate() {
  static const char* kMigrationLock = "SELECT pg_advisory_xact_lock($1::integer, hashtext($2::text))";
  static const char* kVersion = "SELECT max(version) FROM schema_version";
  static const char* kSetVersion = "UPDATE schema_version SET version = $1";
  auto c = acquire();
  pg::Transaction tx(*c);
  c->run(kMigrationLock, pg::Params().add(std::int64_t{kLockClassMigrations}).add(options_.schema));
  const std::int64_t version = c->run(kVersion).opt_integer(0, 0).value_or(0);
  if (version >= kSchemaVersion) return;  // rolls back the empty transaction
  lock_writes(*c);
  for (auto v = version; v < kSchemaVersion; ++v) c->exec(kMigrations[static_cast<std::size_t>(v)]);
  c->run(kSetVersion, pg::Params().add(kSchemaVersion));
  tx.commit();
}

// ---- Data keys ----

std::int64_t PgStore::current_key(pg::Conn& c) {
  static const char* kCurrent = "SELECT max(id) FROM data_keys";
  auto id = c.run(kCurrent).opt_integer(0, 0);
  if (!id) fail(REFOLD_ESTORE, "PostgreSQL store '" + options_.shown + "' is damaged: it has no data key");
  return *id;
}

Sealed PgStore::seal_current(pg::Conn& c, const Sealer& seal) {
  const std::int64_t key = current_key(c);
  Sealed sealed = seal(key);
  if (sealed.key_id != key)
    fail(REFOLD_ESTORE, "PostgreSQL store '" + options_.shown + "': a record was sealed under data key " +
                            std::to_string(sealed.key_id) + ", not the current key " + std::to_string(key));
  return sealed;
}

std::int64_t PgStore::current_data_key() {
  auto c = acquire();
  return current_key(*c);
}

std::vector<DataKey> PgStore::data_keys() {
  auto c = acquire();
  return read_keys(*c);
}

std::vector<DataKey> PgStore::ensure_data_key(const std::function<DataKey(std::int64_t)>& make) {
  auto c = acquire();
  pg::Transaction tx(*c);
  lock_writes(*c);
  auto keys = read_keys(*c);
  if (keys.empty()) {
    DataKey k = make(1);
    insert_key(*c, k);
    keys.push_back(std::move(k));
  }
  tx.commit();
  return keys;
}

void PgStore::rewrap_data_keys(const std::function<DataKey(const DataKey&)>& rewrap,
                               const std::function<void()>& before_commit) {
  static const char* kUpdate = "UPDATE data_keys SET nonce = $2, wrapped = $3 WHERE id = $1";
  auto c = acquire();
  pg::Transaction tx(*c);
  lock_writes(*c);
  for (const auto& k : read_keys(*c)) {
    DataKey n = rewrap(k);
    c->run(kUpdate, pg::Params().add(k.id).add(std::span(n.nonce)).add(std::span(n.wrapped)));
  }
  before_commit();
  tx.commit();
}

std::vector<DataKey> PgStore::add_data_key(
    const std::function<DataKey(std::int64_t, const std::vector<DataKey>&)>& make) {
  auto c = acquire();
  pg::Transaction tx(*c);
  lock_writes(*c);
  auto keys = read_keys(*c);
  if (keys.size() > 1) return keys;  // a rotation is under way
  const std::int64_t id = keys.empty() ? 1 : keys.back().id + 1;
  DataKey k = make(id, keys);
  insert_key(*c, k);
  keys.push_back(std::move(k));
  tx.commit();
  return keys;
}

std::size_t PgStore::reseal_batch(const Reseal& reseal, std::size_t limit, Millis now) {
  static const char* kConnections =
      "SELECT account, app, auth_type, key_id, nonce, ciphertext FROM connections"
      " WHERE key_id < $1 ORDER BY key_id, account, app, auth_type LIMIT $2";
  static const char* kPurgeFlows = "DELETE FROM oauth_flows WHERE expires_at < $1";
  static const char* kResealConnection =
      "UPDATE connections SET key_id = $4, nonce = $5, ciphertext = $6"
      " WHERE account = $1 AND app = $2 AND auth_type = $3";
  static const char* kFlows =
      "SELECT state_hash, key_id, nonce, ciphertext FROM oauth_flows WHERE key_id < $1 LIMIT $2";
  static const char* kResealFlow =
      "UPDATE oauth_flows SET key_id = $2, nonce = $3, ciphertext = $4 WHERE state_hash = $1";
  auto c = acquire();
  pg::Transaction tx(*c);
  lock_writes(*c);
  const std::int64_t current = current_key(*c);
  c->run(kPurgeFlows, pg::Params().add(now));
  pg::Result conns = c->run(kConnections, pg::Params().add(current).add(static_cast<std::int64_t>(limit)));
  for (int i = 0; i < conns.rows(); ++i) {
    const ConnectionId id{conns.text(i, 0), conns.text(i, 1), conns.text(i, 2)};
    const Sealed fresh = reseal.connection(id, {conns.integer(i, 3), conns.bytea(i, 4), conns.bytea(i, 5)}, current);
    c->run(kResealConnection, pg::Params().add(id.account).add(id.app).add(id.auth_type).add(fresh.key_id)
                                  .add(std::span(fresh.nonce)).add(std::span(fresh.ciphertext)));
  }
  std::size_t done = static_cast<std::size_t>(conns.rows());
  if (done < limit) {
    pg::Result flows = c->run(kFlows, pg::Params().add(current).add(static_cast<std::int64_t>(limit - done)));
    for (int i = 0; i < flows.rows(); ++i) {
      const Bytes hash = flows.bytea(i, 0);
      const Sealed fresh = reseal.flow(hash, {flows.integer(i, 1), flows.bytea(i, 2), flows.bytea(i, 3)}, current);
      c->run(kResealFlow, pg::Params().add(std::span(hash)).add(fresh.key_id).add(std::span(fresh.nonce))
                              .add(std::span(fresh.ciphertext)));
    }
    done += static_cast<std::size_t>(flows.rows());
  }
  tx.commit();
  return done;
}

DroppedKeys PgStore::drop_retired_data_keys() {
  static const char* kDrop =
      "DELETE FROM data_keys WHERE id < (SELECT max(id) FROM data_keys)"
      " AND NOT EXISTS (SELECT 1 FROM connections WHERE key_id = data_keys.id)"
      " AND NOT EXISTS (SELECT 1 FROM oauth_flows WHERE key_id = data_keys.id)"
      " RETURNING id";
  static const char* kCount = "SELECT count(*) FROM data_keys";
  auto c = acquire();
  pg::Transaction tx(*c);
  lock_writes(*c);
  DroppedKeys out;
  pg::Result r = c->run(kDrop);
  for (int i = 0; i < r.rows(); ++i) out.ids.push_back(r.integer(i, 0));
  out.remaining = static_cast<std::size_t>(c->run(kCount).integer(0, 0));
  tx.commit();
  return out;
}

void PgStore::purge_old_pages() noexcept {
  // PostgreSQL keeps dead row versions until VACUUM reclaims them, which
  // autovacuum does; refold does not force it (it would need table
  // ownership and block writers). docs/deployment.md says so.
}

std::vector<DataKeyUse> PgStore::data_key_use() {
  static const char* kUse =
      "SELECT id, created_at,"
      " (SELECT count(*) FROM connections WHERE key_id = data_keys.id),"
      " (SELECT count(*) FROM oauth_flows WHERE key_id = data_keys.id)"
      " FROM data_keys ORDER BY id";
  auto c = acquire();
  pg::Result r = c->run(kUse);  // one statement: one snapshot
  std::vector<DataKeyUse> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back({r.integer(i, 0), r.integer(i, 1), r.integer(i, 2), r.integer(i, 3)});
  return out;
}

// ---- Connections ----

UpsertResult PgStore::upsert(const ConnectionId& id, const Sealer& seal, Millis now,
                             std::optional<Millis> expires_at, std::optional<Millis> next_refresh_at,
                             const std::string& config) {
  static const char* kSelect =
      "SELECT status, created_at FROM connections WHERE account = $1 AND app = $2 AND auth_type = $3";
  static const char* kUpdate =
      "UPDATE connections SET status = 'active', reason = NULL, updated_at = $4, key_id = $5,"
      " nonce = $6, ciphertext = $7, expires_at = $8, refresh_failures = 0,"
      " next_refresh_at = $9, forced_refresh = 0, lease_owner = NULL, lease_expires_at = NULL,"
      " version = version + 1, config = $10"
      " WHERE account = $1 AND app = $2 AND auth_type = $3";
  // A new row starts at a random version below 2^62 (sqlite_store.cpp says why).
  static const char* kInsert =
      "INSERT INTO connections (account, app, auth_type, created_at, updated_at, key_id, nonce,"
      " ciphertext, expires_at, next_refresh_at, config, version)"
      " VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9, $10,"
      " floor(random() * 4611686018427387903)::bigint + 1)";
  auto c = acquire();
  pg::Transaction tx(*c);
  lock_writes(*c);
  UpsertResult r;
  pg::Result sel = c->run(kSelect, pg::Params().add(id.account).add(id.app).add(id.auth_type));
  if (sel.rows() > 0) {
    r.previous_status = sel.text(0, 0);
    r.created_at = sel.integer(0, 1);
  } else {
    r.created = true;
    r.created_at = now;
  }
  const Sealed sealed = seal_current(*c, seal);
  c->run(r.created ? kInsert : kUpdate,
         pg::Params().add(id.account).add(id.app).add(id.auth_type).add(now).add(sealed.key_id)
             .add(std::span(sealed.nonce)).add(std::span(sealed.ciphertext)).add(expires_at)
             .add(next_refresh_at).add(config));
  append_event(*c, r.created ? "connection.created" : "connection.reauthenticated", id, now);
  tx.commit();
  return r;
}

void PgStore::put_flow(const Flow& flow, const Sealer& seal, Millis now) {
  static const char* kPurge = "DELETE FROM oauth_flows WHERE expires_at < $1";
  static const char* kInsert =
      "INSERT INTO oauth_flows (state_hash, created_at, expires_at, key_id, nonce, ciphertext)"
      " VALUES ($1, $2, $3, $4, $5, $6)";
  auto c = acquire();
  pg::Transaction tx(*c);
  lock_writes(*c);  // no record is sealed under a key a rotation retires meanwhile
  c->run(kPurge, pg::Params().add(now));
  const Sealed sealed = seal_current(*c, seal);
  c->run(kInsert, pg::Params().add(std::span(flow.state_hash)).add(flow.created_at).add(flow.expires_at)
                      .add(sealed.key_id).add(std::span(sealed.nonce)).add(std::span(sealed.ciphertext)));
  tx.commit();
}

std::optional<Flow> PgStore::take_flow(const Bytes& state_hash) {
  static const char* kTake =
      "DELETE FROM oauth_flows WHERE state_hash = $1"
      " RETURNING created_at, expires_at, key_id, nonce, ciphertext";
  auto c = acquire();
  pg::Result r = c->run(kTake, pg::Params().add(std::span(state_hash)));  // one statement: atomic
  std::optional<Flow> out;
  if (r.rows() > 0) {
    out.emplace();
    out->state_hash = state_hash;
    out->created_at = r.integer(0, 0);
    out->expires_at = r.integer(0, 1);
    out->sealed.key_id = r.integer(0, 2);
    out->sealed.nonce = r.bytea(0, 3);
    out->sealed.ciphertext = r.bytea(0, 4);
  }
  return out;
}

std::optional<ConnectionWithSecret> PgStore::find(const std::string& account, const std::string& app) {
  static const char* kFind =
      "SELECT auth_type, status, reason, created_at, updated_at, expires_at, key_id, nonce,"
      " ciphertext, version, refresh_failures, next_refresh_at, forced_refresh"
      " FROM connections WHERE account = $1 AND app = $2";
  auto c = acquire();
  pg::Result r = c->run(kFind, pg::Params().add(account).add(app));
  std::optional<ConnectionWithSecret> out;
  for (int i = 0; i < r.rows(); ++i) {
    if (out && out->connection.updated_at >= r.integer(i, 4)) continue;
    out.emplace();
    Connection& conn = out->connection;
    conn.id = {account, app, r.text(i, 0)};
    conn.status = r.text(i, 1);
    conn.reason = r.opt_text(i, 2);
    conn.created_at = r.integer(i, 3);
    conn.updated_at = r.integer(i, 4);
    conn.expires_at = r.opt_integer(i, 5);
    out->sealed.key_id = r.integer(i, 6);
    out->sealed.nonce = r.bytea(i, 7);
    out->sealed.ciphertext = r.bytea(i, 8);
    conn.version = r.integer(i, 9);
    conn.refresh_failures = static_cast<int>(r.integer(i, 10));
    conn.next_refresh_at = r.opt_integer(i, 11);
    conn.forced_refresh = r.integer(i, 12) != 0;
  }
  return out;
}

std::optional<ConnectionWithSecret> PgStore::get(const ConnectionId& id) {
  static const char* kGet = "SELECT " REFOLD_PG_CONNECTION_COLUMNS ", key_id, nonce, ciphertext, forced_refresh"
                            " FROM connections WHERE account = $1 AND app = $2 AND auth_type = $3";
  auto c = acquire();
  pg::Result r = c->run(kGet, pg::Params().add(id.account).add(id.app).add(id.auth_type));
  if (r.rows() == 0) return std::nullopt;
  ConnectionWithSecret out{read_connection(r, 0, 0), Sealed{r.integer(0, 12), r.bytea(0, 13), r.bytea(0, 14)}};
  out.connection.forced_refresh = r.integer(0, 15) != 0;
  return out;
}

std::vector<ConnectionWithSecret> PgStore::remove(const std::string& account,
                                                  const std::optional<std::string>& app, Millis now) {
  static const char* kDelete =
      "DELETE FROM connections WHERE account = $1 AND ($2::text IS NULL OR app = $2)"
      " RETURNING " REFOLD_PG_CONNECTION_COLUMNS ", key_id, nonce, ciphertext";
  auto c = acquire();
  pg::Transaction tx(*c);
  lock_writes(*c);
  pg::Result r = c->run(kDelete, pg::Params().add(account).add(app));
  std::vector<ConnectionWithSecret> removed;
  for (int i = 0; i < r.rows(); ++i)
    removed.push_back({read_connection(r, i, 0), Sealed{r.integer(i, 12), r.bytea(i, 13), r.bytea(i, 14)}});
  for (const auto& row : removed)
    append_event(*c, "connection.deleted", row.connection.id, now,
                 std::string(app ? "disconnected" : "account_deleted"));
  tx.commit();
  return removed;
}

std::vector<Connection> PgStore::list(const std::optional<std::string>& account) {
  static const char* kList = "SELECT " REFOLD_PG_CONNECTION_COLUMNS
                             " FROM connections WHERE $1::text IS NULL OR account = $1"
                             " ORDER BY account, app, auth_type";
  auto c = acquire();
  pg::Result r = c->run(kList, pg::Params().add(account));
  std::vector<Connection> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_connection(r, i, 0));
  return out;
}

std::vector<Connection> PgStore::list_page(const PageFilter& filter) {
  // One statement for every combination of filters: each filter given is
  // an equality, the keyset a row comparison; PostgreSQL plans it with
  // the parameters' values (a custom plan), using the index that fits.
  static const char* kPage =
      "SELECT " REFOLD_PG_CONNECTION_COLUMNS " FROM connections"
      " WHERE ($1::text IS NULL OR account = $1) AND ($2::text IS NULL OR app = $2)"
      " AND ($3::text IS NULL OR status = $3)"
      " AND ($4::text IS NULL OR (account, app, auth_type) > ($4::text, $5::text, $6::text))"
      " ORDER BY account, app, auth_type LIMIT $7";
  if (filter.after && ((filter.account && filter.after->account != *filter.account) ||
                       (filter.app && filter.after->app != *filter.app)))
    fail(REFOLD_EINVALID, "list_page: the key to page after does not match the filter");
  std::vector<Connection> out;
  if (filter.limit == 0) return out;
  pg::Params p;
  p.add(filter.account).add(filter.app).add(filter.status);
  if (filter.after) p.add(filter.after->account).add(filter.after->app).add(filter.after->auth_type);
  else p.add(std::nullopt).add(std::nullopt).add(std::nullopt);
  p.add(static_cast<std::int64_t>(filter.limit));
  auto c = acquire();
  pg::Result r = c->run(kPage, p);
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(read_connection(r, i, 0));
  return out;
}

// ---- Token lifecycle ----

LeaseResult PgStore::acquire_lease(const ConnectionId& id, const std::string& owner, Millis now,
                                   Millis until) {
  static const char* kRead =
      "SELECT status, reason, created_at, updated_at, expires_at, key_id, nonce, ciphertext,"
      " version, refresh_failures, next_refresh_at, forced_refresh, config, lease_owner,"
      " lease_expires_at FROM connections WHERE account = $1 AND app = $2 AND auth_type = $3"
      " FOR UPDATE";
  static const char* kTake =
      "UPDATE connections SET lease_owner = $4, lease_expires_at = $5"
      " WHERE account = $1 AND app = $2 AND auth_type = $3";
  auto c = acquire();
  pg::Transaction tx(*c);
  // A lease is not made durable on its own: after a crash it expires.
  c->exec("SET LOCAL synchronous_commit = off");
  LeaseResult out;
  pg::Result r = c->run(kRead, pg::Params().add(id.account).add(id.app).add(id.auth_type));
  if (r.rows() == 0) return out;  // missing
  out.row.emplace();
  Connection& conn = out.row->connection;
  conn.id = id;
  conn.status = r.text(0, 0);
  conn.reason = r.opt_text(0, 1);
  conn.created_at = r.integer(0, 2);
  conn.updated_at = r.integer(0, 3);
  conn.expires_at = r.opt_integer(0, 4);
  out.row->sealed.key_id = r.integer(0, 5);
  out.row->sealed.nonce = r.bytea(0, 6);
  out.row->sealed.ciphertext = r.bytea(0, 7);
  conn.version = r.integer(0, 8);
  conn.refresh_failures = static_cast<int>(r.integer(0, 9));
  conn.next_refresh_at = r.opt_integer(0, 10);
  conn.forced_refresh = r.integer(0, 11) != 0;
  conn.config = r.text(0, 12);
  const auto holder = r.opt_text(0, 13);
  const Millis holder_until = r.opt_integer(0, 14).value_or(0);
  if (holder && *holder != owner && holder_until > now) {
    out.state = LeaseResult::State::busy;
    out.lease_expires_at = holder_until;
    return out;
  }
  c->run(kTake, pg::Params().add(id.account).add(id.app).add(id.auth_type).add(owner).add(until));
  tx.commit();
  out.state = LeaseResult::State::acquired;
  return out;
}

void PgStore::release_lease(const ConnectionId& id, const std::string& owner) {
  static const char* kRelease =
      "UPDATE connections SET lease_owner = NULL, lease_expires_at = NULL"
      " WHERE account = $1 AND app = $2 AND auth_type = $3 AND lease_owner = $4";
  auto c = acquire();
  pg::Transaction tx(*c);
  c->exec("SET LOCAL synchronous_commit = off");
  c->run(kRelease, pg::Params().add(id.account).add(id.app).add(id.auth_type).add(owner));
  tx.commit();
}

std::vector<SaveOutcome> PgStore::save_refreshed_batch(std::span<const RefreshSave* const> items,
                                                       Millis now) {
  static const char* kSave =
      "UPDATE connections SET key_id = $6, nonce = $7, ciphertext = $8, expires_at = $9,"
      " next_refresh_at = $10, forced_refresh = $11, updated_at = $12, reason = NULL,"
      " refresh_failures = 0, lease_owner = NULL, lease_expires_at = NULL, version = version + 1,"
      " config = COALESCE($13, config)"
      " WHERE account = $1 AND app = $2 AND auth_type = $3 AND lease_owner = $4 AND version = $5"
      " AND status = 'active'";
  std::vector<SaveOutcome> out(items.size());
  auto c = acquire();
  pg::Transaction tx(*c);
  lock_writes(*c);
  bool any = false;
  // Read once, outside the per-item catch: a statement that fails leaves
  // the transaction aborted, and must fail the batch, not one item.
  const std::int64_t key = current_key(*c);
  for (std::size_t i = 0; i < items.size(); ++i) {
    const RefreshSave& it = *items[i];
    Sealed sealed;
    try {
      sealed = it.tokens.seal(key);  // no SQL: only this refresh's sealing can fail here
      if (sealed.key_id != key)
        fail(REFOLD_ESTORE, "PostgreSQL store '" + options_.shown + "': a record was sealed under data key " +
                                std::to_string(sealed.key_id) + ", not the current key " + std::to_string(key));
    } catch (...) {
      out[i].error = std::current_exception();  // this refresh only
      continue;
    }
    pg::Result r = c->run(kSave, pg::Params().add(it.id.account).add(it.id.app).add(it.id.auth_type)
                                     .add(it.owner).add(it.version).add(sealed.key_id)
                                     .add(std::span(sealed.nonce)).add(std::span(sealed.ciphertext))
                                     .add(it.tokens.expires_at).add(it.tokens.next_refresh_at)
                                     .add(std::int64_t{it.tokens.forced ? 1 : 0}).add(now)
                                     .add(it.tokens.config));
    out[i].saved = r.affected() != 0;
    if (out[i].saved) append_event(*c, "connection.refreshed", it.id, now);
    any = any || out[i].saved;
  }
  if (any) tx.commit();
  return out;
}

bool PgStore::record_refresh_failure(const ConnectionId& id, const std::string& owner, Millis now,
                                     Millis retry_at, const std::string& reason) {
  static const char* kFail =
      "UPDATE connections SET refresh_failures = refresh_failures + 1, next_refresh_at = $5,"
      " reason = $6, updated_at = $7, lease_owner = NULL, lease_expires_at = NULL"
      " WHERE account = $1 AND app = $2 AND auth_type = $3 AND lease_owner = $4"
      " AND status = 'active'";
  auto c = acquire();
  pg::Transaction tx(*c);
  lock_writes(*c);
  pg::Result r = c->run(kFail, pg::Params().add(id.account).add(id.app).add(id.auth_type).add(owner)
                                   .add(retry_at).add(reason).add(now));
  if (r.affected() == 0) return false;
  append_event(*c, "connection.refresh_failed", id, now, reason, retry_at);
  tx.commit();
  return true;
}

std::vector<Connection> PgStore::mark_reauth(const std::string& account, const std::string& app,
                                             const std::optional<std::string>& auth_type,
                                             const std::string& reason, Millis now,
                                             const std::optional<std::string>& owner,
                                             std::optional<std::int64_t> version) {
  static const char* kMark =
      "UPDATE connections SET status = 'reauth_required', reason = $4, updated_at = $5,"
      " lease_owner = NULL, lease_expires_at = NULL, version = version + 1"
      " WHERE account = $1 AND app = $2 AND ($3::text IS NULL OR auth_type = $3)"
      " AND status = 'active' AND ($6::text IS NULL OR lease_owner = $6)"
      " AND ($7::bigint IS NULL OR version = $7)"
      " RETURNING " REFOLD_PG_CONNECTION_COLUMNS;
  auto c = acquire();
  pg::Transaction tx(*c);
  lock_writes(*c);
  pg::Result r = c->run(kMark, pg::Params().add(account).add(app).add(auth_type).add(reason).add(now)
                                   .add(owner).add(version));
  std::vector<Connection> changed;
  for (int i = 0; i < r.rows(); ++i) changed.push_back(read_connection(r, i, 0));
  for (const auto& row : changed) append_event(*c, "connection.expired", row.id, now, reason);
  tx.commit();
  return changed;
}

// Due at $1 and not leased; $3: the apps left out (JSON array, or null).
#define REFOLD_PG_DUE                                                         \
  " WHERE auth_type <> 'keybased' AND status = 'active'"                     \
  " AND next_refresh_at IS NOT NULL AND next_refresh_at <= $1"               \
  " AND (lease_expires_at IS NULL OR lease_expires_at <= $1)"                \
  " AND ($3::jsonb IS NULL OR app NOT IN (SELECT jsonb_array_elements_text($3::jsonb)))"

std::vector<ConnectionId> PgStore::due(Millis now, std::size_t limit,
                                       const std::vector<std::string>& skip_apps) {
  static const char* kDue =
      "SELECT account, app, auth_type FROM connections" REFOLD_PG_DUE
      " ORDER BY next_refresh_at LIMIT $2";
  const std::optional<std::string> skip = apps_json(skip_apps);
  auto c = acquire();
  pg::Result r = c->run(kDue, pg::Params().add(now).add(static_cast<std::int64_t>(limit)).add(skip));
  std::vector<ConnectionId> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back({r.text(i, 0), r.text(i, 1), r.text(i, 2)});
  return out;
}

std::vector<ConnectionId> PgStore::claim_due(Millis now, std::size_t limit,
                                             const std::vector<std::string>& skip_apps,
                                             const std::string& owner, Millis until) {
  // FOR UPDATE SKIP LOCKED: rows another instance's claim (or a lease
  // being taken) has locked are passed over, not waited for, so instances
  // polling together split the due rows between them.
  static const char* kClaim =
      "WITH picked AS ("
      " SELECT account, app, auth_type FROM connections" REFOLD_PG_DUE
      " ORDER BY next_refresh_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
      " UPDATE connections c SET lease_owner = $4, lease_expires_at = $5 FROM picked"
      " WHERE c.account = picked.account AND c.app = picked.app AND c.auth_type = picked.auth_type"
      " RETURNING c.account, c.app, c.auth_type, c.next_refresh_at";
  const std::optional<std::string> skip = apps_json(skip_apps);
  auto c = acquire();
  pg::Transaction tx(*c);
  c->exec("SET LOCAL synchronous_commit = off");  // a lease: after a crash it simply expires
  pg::Result r = c->run(kClaim, pg::Params().add(now).add(static_cast<std::int64_t>(limit)).add(skip)
                                    .add(owner).add(until));
  tx.commit();
  std::vector<std::pair<Millis, ConnectionId>> rows;
  for (int i = 0; i < r.rows(); ++i)
    rows.push_back({r.integer(i, 3), {r.text(i, 0), r.text(i, 1), r.text(i, 2)}});
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<ConnectionId> out;
  for (auto& [at, id] : rows) out.push_back(std::move(id));
  return out;
}

void PgStore::release_claim(const ConnectionId& id, const std::string& owner, Millis until) {
  static const char* kRelease =
      "UPDATE connections SET lease_owner = NULL, lease_expires_at = NULL"
      " WHERE account = $1 AND app = $2 AND auth_type = $3 AND lease_owner = $4 AND lease_expires_at = $5";
  auto c = acquire();
  pg::Transaction tx(*c);
  c->exec("SET LOCAL synchronous_commit = off");
  c->run(kRelease, pg::Params().add(id.account).add(id.app).add(id.auth_type).add(owner).add(until));
  tx.commit();
}

std::optional<Millis> PgStore::next_due() {
  static const char* kNextDue =
      "SELECT min(next_refresh_at) FROM connections"
      " WHERE auth_type <> 'keybased' AND status = 'active' AND next_refresh_at IS NOT NULL";
  auto c = acquire();
  return c->run(kNextDue).opt_integer(0, 0);
}

std::int64_t PgStore::data_version() {
  // While the listener is connected, a notification (or its connecting)
  // moves the value: no round trip per call. While it is down, every call
  // gives a new value, so the caller consults the change log each time:
  // it revalidates instead of trusting what it cached.
  {
    std::lock_guard lock(listen_mu_);
    if (!listener_.joinable()) listener_ = std::thread([this] { listen(); });
  }
  if (listening_.load(std::memory_order_acquire)) return notified_.load(std::memory_order_acquire);
  return notified_.fetch_add(1, std::memory_order_acq_rel) + 1;
}

void PgStore::listen() noexcept {
  const std::string channel = "LISTEN " + pg::quote_identifier("refold_" + options_.schema);
  while (!stop_listening_.load(std::memory_order_acquire)) {
    std::unique_ptr<pg::Conn> conn;
    try {
      conn = std::make_unique<pg::Conn>(connect_, &stop_listening_);
      conn->exec(channel.c_str());
    } catch (const std::exception&) {
      conn.reset();
    }
    if (conn) {
      // Changes made while no one listened are in the change log: a new
      // value makes the caller read it.
      notified_.fetch_add(1, std::memory_order_acq_rel);
      listening_.store(true, std::memory_order_release);
      const int fd = PQsocket(conn->raw());
      while (!stop_listening_.load(std::memory_order_acquire)) {
        pollfd p{fd, POLLIN, 0};
        const int n = ::poll(&p, 1, 100);
        if (n < 0 && errno != EINTR) break;
        if (n <= 0) continue;
        if (!PQconsumeInput(conn->raw())) break;  // the link broke
        bool any = false;
        while (PGnotify* note = PQnotifies(conn->raw())) {
          any = true;
          PQfreemem(note);
        }
        if (any) notified_.fetch_add(1, std::memory_order_acq_rel);
      }
      listening_.store(false, std::memory_order_release);
    }
    // Down: data_version() revalidates meanwhile; try again in a second.
    for (int i = 0; i < 10 && !stop_listening_.load(std::memory_order_acquire); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::int64_t PgStore::last_change() {
  static const char* kLast = "SELECT max(seq) FROM changes";
  auto c = acquire();
  return c->run(kLast).opt_integer(0, 0).value_or(0);
}

Changes PgStore::changes_since(std::int64_t after, std::size_t limit) {
  static const char* kBounds = "SELECT min(seq), max(seq) FROM changes";
  static const char* kSince = "SELECT seq, account, app FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2";
  Changes out;
  out.last = after;
  auto c = acquire();
  pg::Transaction tx(*c);
  c->exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
  pg::Result b = c->run(kBounds);
  const auto first = b.opt_integer(0, 0), last = b.opt_integer(0, 1);
  if (!last || *last <= after) return out;  // nothing new
  if (*first > after + 1) {                 // pruned past what the caller saw (or a gap)
    out.everything = true;
    out.last = *last;
    return out;
  }
  pg::Result r = c->run(kSince, pg::Params().add(after).add(static_cast<std::int64_t>(limit) + 1));
  for (int i = 0; i < r.rows(); ++i) {
    if (out.connections.size() == limit) {
      out.everything = true;
      break;
    }
    out.last = r.integer(i, 0);
    out.connections.emplace_back(r.text(i, 1), r.text(i, 2));
  }
  if (out.everything) {
    out.connections.clear();
    out.last = *last;
  }
  tx.commit();
  return out;
}

// ---- The durable event log ----

void PgStore::append_event(pg::Conn& c, const char* type, const ConnectionId& id, Millis at,
                           const std::optional<std::string>& reason, std::optional<Millis> retry_at) {
  static const char* kAppend =
      "INSERT INTO events (type, account, app, auth_type, at, reason, retry_at)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq";
  static const char* kPrune =
      "WITH gone AS (DELETE FROM events WHERE at < $1 RETURNING seq)"
      " UPDATE event_log SET pruned_through = greatest(pruned_through, (SELECT max(seq) FROM gone))"
      " WHERE id = 1 AND EXISTS (SELECT 1 FROM gone)";
  pg::Result r = c.run(kAppend, pg::Params().add(type).add(id.account).add(id.app).add(id.auth_type)
                                    .add(at).add(reason).add(retry_at));
  if (r.integer(0, 0) % kEventPruneEvery == 0) c.run(kPrune, pg::Params().add(at - event_retention_));
}

EventPage PgStore::read_events(const std::string& consumer, std::size_t max) {
  static const char* kCursor =
      "SELECT coalesce((SELECT acked FROM event_consumers WHERE name = $1), 0),"
      " (SELECT pruned_through FROM event_log WHERE id = 1)";
  static const char* kEvents =
      "SELECT seq, type, account, app, auth_type, at, reason, retry_at FROM events"
      " WHERE seq > $1 ORDER BY seq LIMIT $2";
  auto c = acquire();
  pg::Transaction tx(*c);
  c->exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");  // one snapshot
  EventPage page;
  pg::Result cur = c->run(kCursor, pg::Params().add(consumer));
  const std::int64_t acked = cur.integer(0, 0);
  page.missed = acked > 0 && cur.integer(0, 1) > acked;
  pg::Result r = c->run(kEvents, pg::Params().add(acked).add(static_cast<std::int64_t>(max)));
  for (int i = 0; i < r.rows(); ++i) {
    StoredEvent e;
    e.seq = r.integer(i, 0);
    e.type = r.text(i, 1);
    e.id = {r.text(i, 2), r.text(i, 3), r.text(i, 4)};
    e.at = r.integer(i, 5);
    e.reason = r.opt_text(i, 6);
    e.retry_at = r.opt_integer(i, 7);
    page.events.push_back(std::move(e));
  }
  tx.commit();
  return page;
}

void PgStore::ack_events(const std::string& consumer, std::int64_t seq, Millis now) {
  static const char* kLast =
      "SELECT greatest(coalesce((SELECT max(seq) FROM events), 0),"
      " (SELECT pruned_through FROM event_log WHERE id = 1))";
  static const char* kAck =
      "INSERT INTO event_consumers (name, acked, updated_at) VALUES ($1, $2, $3)"
      " ON CONFLICT (name) DO UPDATE SET acked = greatest(event_consumers.acked, excluded.acked),"
      " updated_at = excluded.updated_at";
  auto c = acquire();
  pg::Transaction tx(*c);
  lock_writes(*c);
  const std::int64_t last = c->run(kLast).integer(0, 0);
  if (seq > last)
    fail(REFOLD_EINVALID, "seq " + std::to_string(seq) + " is past the last event (" + std::to_string(last) + ")");
  c->run(kAck, pg::Params().add(consumer).add(seq).add(now));
  tx.commit();
}

}  // namespace refold::store
