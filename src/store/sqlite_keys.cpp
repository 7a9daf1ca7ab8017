// The SQLite store's data keys: the key table, master-key re-wrapping, and
// data-key rotation (a new current key, records re-sealed in batches, the
// retired keys dropped).
#include "store/sqlite_internal.hpp"
#include "util/error.hpp"

namespace refold::store {

using detail::kBusyTimeoutMs;
using detail::Use;

namespace {

std::vector<DataKey> read_keys(sqlite::Db& db) {
  std::vector<DataKey> keys;
  sqlite::Stmt s(db, "SELECT id, nonce, wrapped, created_at FROM data_keys ORDER BY id");
  while (s.step()) keys.push_back({s.integer(0), s.blob(1), s.blob(2), s.integer(3)});
  return keys;
}

void insert_key(sqlite::Db& db, const DataKey& k) {
  sqlite::Stmt s(db, "INSERT INTO data_keys (id, nonce, wrapped, created_at) VALUES (?1, ?2, ?3, ?4)");
  s.bind(1, k.id).bind(2, std::span(k.nonce)).bind(3, std::span(k.wrapped)).bind(4, k.created_at).run();
}

}  // namespace

std::int64_t SqliteStore::current_key(Pooled& c) {
  Use s(c->stmt("SELECT max(id) FROM data_keys"));
  auto id = s->step() ? s->opt_integer(0) : std::nullopt;
  if (!id) fail(REFOLD_ESTORE, "store '" + path_ + "' is damaged: it has no data key");
  return *id;
}

Sealed SqliteStore::seal_current(Pooled& c, const Sealer& seal) {
  const std::int64_t key = current_key(c);
  Sealed sealed = seal(key);
  // The rule rotation relies on: nothing is written under a retiring key.
  if (sealed.key_id != key)
    fail(REFOLD_ESTORE, "store '" + path_ + "': a record was sealed under data key " +
                            std::to_string(sealed.key_id) + ", not the current key " +
                            std::to_string(key));
  return sealed;
}

std::int64_t SqliteStore::current_data_key() {
  auto c = acquire();
  return current_key(c);
}

std::vector<DataKey> SqliteStore::data_keys() {
  auto c = acquire();
  return read_keys(c->db);
}

std::vector<DataKey> SqliteStore::ensure_data_key(
    const std::function<DataKey(std::int64_t)>& make) {
  std::lock_guard wl(write_mu_);
  auto c = acquire();
  sqlite::Transaction tx(c->db, sqlite::Transaction::immediate);
  auto keys = read_keys(c->db);
  if (keys.empty()) {
    DataKey k = make(1);
    insert_key(c->db, k);
    keys.push_back(std::move(k));
  }
  tx.commit();
  return keys;
}

void SqliteStore::rewrap_data_keys(const std::function<DataKey(const DataKey&)>& rewrap,
                                   const std::function<void()>& before_commit) {
  std::lock_guard wl(write_mu_);
  auto c = acquire();
  sqlite::Transaction tx(c->db, sqlite::Transaction::immediate);
  sqlite::Stmt upd(c->db, "UPDATE data_keys SET nonce = ?2, wrapped = ?3 WHERE id = ?1");
  for (const auto& k : read_keys(c->db)) {
    DataKey n = rewrap(k);
    upd.bind(1, k.id).bind(2, std::span(n.nonce)).bind(3, std::span(n.wrapped)).run();
    upd.reset();
  }
  before_commit();
  tx.commit();
}

std::vector<DataKey> SqliteStore::add_data_key(
    const std::function<DataKey(std::int64_t, const std::vector<DataKey>&)>& make) {
  std::lock_guard wl(write_mu_);
  auto c = acquire();
  sqlite::Transaction tx(c->db, sqlite::Transaction::immediate);
  auto keys = read_keys(c->db);
  if (keys.size() > 1) return keys;  // a rotation is under way; the empty transaction rolls back
  const std::int64_t id = keys.empty() ? 1 : keys.back().id + 1;
  DataKey k = make(id, keys);
  insert_key(c->db, k);
  keys.push_back(std::move(k));
  tx.commit();
  return keys;
}

std::size_t SqliteStore::reseal_batch(const Reseal& reseal, std::size_t limit, Millis now) {
  // In the index's order (key, then the primary key): no sort.
  static const char* kConnections =
      "SELECT account, app, auth_type, key_id, nonce, ciphertext FROM connections"
      " WHERE key_id < ?1 ORDER BY key_id, account, app, auth_type LIMIT ?2";
  static const char* kPurgeFlows = "DELETE FROM oauth_flows WHERE expires_at < ?1";
  static const char* kResealConnection =
      "UPDATE connections SET key_id = ?4, nonce = ?5, ciphertext = ?6"
      " WHERE account = ?1 AND app = ?2 AND auth_type = ?3";
  static const char* kFlows =
      "SELECT state_hash, key_id, nonce, ciphertext FROM oauth_flows WHERE key_id < ?1 LIMIT ?2";
  static const char* kResealFlow =
      "UPDATE oauth_flows SET key_id = ?2, nonce = ?3, ciphertext = ?4 WHERE state_hash = ?1";

  std::lock_guard wl(write_mu_);
  auto c = acquire();
  sqlite::Transaction tx(c->db, sqlite::Transaction::immediate);
  const std::int64_t current = current_key(c);
  {
    // An expired flow can never be used; a damaged one must not hold the
    // rotation up for longer than its lifetime.
    Use purge(c->stmt(kPurgeFlows));
    purge->bind(1, now).run();
  }
  // Read first, then write: the rows are re-sealed outside the scan.
  std::vector<std::pair<ConnectionId, Sealed>> conns;
  {
    Use s(c->stmt(kConnections));
    s->bind(1, current).bind(2, static_cast<std::int64_t>(limit));
    while (s->step())
      conns.push_back({{s->text(0), s->text(1), s->text(2)}, {s->integer(3), s->blob(4), s->blob(5)}});
  }
  for (const auto& [id, old] : conns) {
    const Sealed fresh = reseal.connection(id, old, current);
    Use w(c->stmt(kResealConnection));
    w->bind(1, id.account).bind(2, id.app).bind(3, id.auth_type).bind(4, fresh.key_id)
        .bind(5, std::span(fresh.nonce)).bind(6, std::span(fresh.ciphertext));
    w->run();
  }
  std::vector<std::pair<Bytes, Sealed>> flows;
  if (conns.size() < limit) {
    Use s(c->stmt(kFlows));
    s->bind(1, current).bind(2, static_cast<std::int64_t>(limit - conns.size()));
    while (s->step()) flows.push_back({s->blob(0), {s->integer(1), s->blob(2), s->blob(3)}});
  }
  for (const auto& [hash, old] : flows) {
    const Sealed fresh = reseal.flow(hash, old, current);
    Use w(c->stmt(kResealFlow));
    w->bind(1, std::span(hash)).bind(2, fresh.key_id).bind(3, std::span(fresh.nonce))
        .bind(4, std::span(fresh.ciphertext));
    w->run();
  }
  const std::size_t done = conns.size() + flows.size();
  tx.commit();
  return done;
}

DroppedKeys SqliteStore::drop_retired_data_keys() {
  // The foreign keys from connections and flows would refuse the delete of
  // a key still in use; the NOT EXISTS keep such a key without an error.
  static const char* kDrop =
      "DELETE FROM data_keys WHERE id < (SELECT max(id) FROM data_keys)"
      " AND NOT EXISTS (SELECT 1 FROM connections WHERE key_id = data_keys.id)"
      " AND NOT EXISTS (SELECT 1 FROM oauth_flows WHERE key_id = data_keys.id)"
      " RETURNING id";
  std::lock_guard wl(write_mu_);
  auto c = acquire();
  sqlite::Transaction tx(c->db, sqlite::Transaction::immediate);
  DroppedKeys out;
  {
    Use s(c->stmt(kDrop));
    while (s->step()) out.ids.push_back(s->integer(0));
  }
  {
    Use n(c->stmt("SELECT count(*) FROM data_keys"));
    out.remaining = n->step() ? static_cast<std::size_t>(n->integer(0)) : 0;
  }
  tx.commit();
  return out;  // nothing after the commit can fail
}

void SqliteStore::purge_old_pages() noexcept {
  // TRUNCATE copies every frame into the database file (where secure_delete
  // has zeroed what was deleted) and empties the WAL, which held the old
  // pages. It waits for readers through the busy handler, so the wait is
  // kept short here: with readers still busy it gives up, and the old frames
  // go when the WAL is next reset, at the latest when the last client closes.
  try {
    auto c = acquire();
    sqlite3_busy_timeout(c->db.raw(), 200);
    sqlite3_wal_checkpoint_v2(c->db.raw(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    sqlite3_busy_timeout(c->db.raw(), kBusyTimeoutMs);
  } catch (...) {
    // Best effort: a new pooled connection could not be opened.
  }
}

std::vector<DataKeyUse> SqliteStore::data_key_use() {
  static const char* kUse =
      "SELECT id, created_at,"
      " (SELECT count(*) FROM connections WHERE key_id = data_keys.id),"
      " (SELECT count(*) FROM oauth_flows WHERE key_id = data_keys.id)"
      " FROM data_keys ORDER BY id";
  auto c = acquire();
  // One read transaction: the counts agree with each other.
  sqlite::Transaction tx(c->db, sqlite::Transaction::deferred);
  std::vector<DataKeyUse> out;
  Use s(c->stmt(kUse));
  while (s->step()) out.push_back({s->integer(0), s->integer(1), s->integer(2), s->integer(3)});
  return out;
}

}  // namespace refold::store
