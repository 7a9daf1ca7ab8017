// The SQLite store's token-lifecycle operations: the refresh lease that
// lets processes sharing a store send one refresh per connection, and the
// fenced writes that end a refresh.
#include "store/apps_json.hpp"

#include "store/sqlite_internal.hpp"
#include "util/error.hpp"

namespace refold::store {

using detail::Use;

LeaseResult SqliteStore::acquire_lease(const ConnectionId& id, const std::string& owner,
                                       Millis now, Millis until) {
  static const char* kRead =
      "SELECT status, reason, created_at, updated_at, expires_at, key_id, nonce, ciphertext,"
      " version, refresh_failures, next_refresh_at, forced_refresh, config, lease_owner,"
      " lease_expires_at FROM connections WHERE account = ?1 AND app = ?2 AND auth_type = ?3";
  static const char* kTake =
      "UPDATE connections SET lease_owner = ?4, lease_expires_at = ?5"
      " WHERE account = ?1 AND app = ?2 AND auth_type = ?3";
  std::lock_guard wl(write_mu_);
  Conn* c = lease_conn();
  sqlite::Transaction tx(c->db, sqlite::Transaction::immediate);
  LeaseResult r;
  std::optional<std::string> holder;
  Millis holder_until = 0;
  {
    Use s(c->stmt(kRead));
    s->bind(1, id.account).bind(2, id.app).bind(3, id.auth_type);
    if (!s->step()) return r;  // missing; the empty transaction rolls back
    r.row.emplace();
    Connection& conn = r.row->connection;
    conn.id = id;
    conn.status = s->text(0);
    conn.reason = s->opt_text(1);
    conn.created_at = s->integer(2);
    conn.updated_at = s->integer(3);
    conn.expires_at = s->opt_integer(4);
    r.row->sealed.key_id = s->integer(5);
    r.row->sealed.nonce = s->blob(6);
    r.row->sealed.ciphertext = s->blob(7);
    conn.version = s->integer(8);
    conn.refresh_failures = static_cast<int>(s->integer(9));
    conn.next_refresh_at = s->opt_integer(10);
    conn.forced_refresh = s->integer(11) != 0;
    conn.config = s->text(12);
    holder = s->opt_text(13);
    holder_until = s->opt_integer(14).value_or(0);
  }
  if (holder && *holder != owner && holder_until > now) {
    r.state = LeaseResult::State::busy;
    r.lease_expires_at = holder_until;
    return r;
  }
  {
    Use w(c->stmt(kTake));
    w->bind(1, id.account).bind(2, id.app).bind(3, id.auth_type).bind(4, owner).bind(5, until);
    w->run();
  }
  tx.commit();
  r.state = LeaseResult::State::acquired;
  return r;
}

void SqliteStore::release_lease(const ConnectionId& id, const std::string& owner) {
  static const char* kRelease =
      "UPDATE connections SET lease_owner = NULL, lease_expires_at = NULL"
      " WHERE account = ?1 AND app = ?2 AND auth_type = ?3 AND lease_owner = ?4";
  std::lock_guard wl(write_mu_);
  Conn* c = lease_conn();
  sqlite::Transaction tx(c->db, sqlite::Transaction::immediate);
  {
    Use w(c->stmt(kRelease));
    w->bind(1, id.account).bind(2, id.app).bind(3, id.auth_type).bind(4, owner);
    w->run();
  }
  tx.commit();
}

std::vector<SaveOutcome> SqliteStore::save_refreshed_batch(std::span<const RefreshSave* const> items,
                                                           Millis now) {
  static const char* kSave =
      "UPDATE connections SET key_id = ?6, nonce = ?7, ciphertext = ?8, expires_at = ?9,"
      " next_refresh_at = ?10, forced_refresh = ?11, updated_at = ?12, reason = NULL,"
      " refresh_failures = 0, lease_owner = NULL, lease_expires_at = NULL, version = version + 1,"
      " config = COALESCE(?13, config)"
      " WHERE account = ?1 AND app = ?2 AND auth_type = ?3 AND lease_owner = ?4 AND version = ?5"
      " AND status = 'active'";
  std::vector<SaveOutcome> out(items.size());
  std::lock_guard wl(write_mu_);
  auto c = acquire();
  sqlite::Transaction tx(c->db, sqlite::Transaction::immediate);
  bool any = false;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const RefreshSave& it = *items[i];
    Sealed sealed;
    try {
      sealed = seal_current(c, it.tokens.seal);
    } catch (...) {
      // This refresh only: the others' rotated tokens must still be saved.
      out[i].error = std::current_exception();
      continue;
    }
    Use w(c->stmt(kSave));
    w->bind(1, it.id.account).bind(2, it.id.app).bind(3, it.id.auth_type).bind(4, it.owner)
        .bind(5, it.version).bind(6, sealed.key_id).bind(7, std::span(sealed.nonce))
        .bind(8, std::span(sealed.ciphertext)).bind(9, it.tokens.expires_at)
        .bind(10, it.tokens.next_refresh_at).bind(11, std::int64_t{it.tokens.forced ? 1 : 0})
        .bind(12, now).bind(13, it.tokens.config);
    w->run();
    out[i].saved = c->db.changes() != 0;
    if (out[i].saved) append_event(c, "connection.refreshed", it.id, now);
    any = any || out[i].saved;
  }
  if (any) tx.commit();  // else the transaction rolls back: nothing to sync
  return out;
}

bool SqliteStore::record_refresh_failure(const ConnectionId& id, const std::string& owner,
                                         Millis now, Millis retry_at, const std::string& reason) {
  static const char* kFail =
      "UPDATE connections SET refresh_failures = refresh_failures + 1, next_refresh_at = ?5,"
      " reason = ?6, updated_at = ?7, lease_owner = NULL, lease_expires_at = NULL"
      " WHERE account = ?1 AND app = ?2 AND auth_type = ?3 AND lease_owner = ?4"
      " AND status = 'active'";
  std::lock_guard wl(write_mu_);
  auto c = acquire();
  sqlite::Transaction tx(c->db, sqlite::Transaction::immediate);
  {
    Use w(c->stmt(kFail));
    w->bind(1, id.account).bind(2, id.app).bind(3, id.auth_type).bind(4, owner).bind(5, retry_at)
        .bind(6, reason).bind(7, now);
    w->run();
  }
  if (c->db.changes() == 0) return false;
  append_event(c, "connection.refresh_failed", id, now, reason, retry_at);
  tx.commit();
  return true;
}

std::vector<Connection> SqliteStore::mark_reauth(const std::string& account, const std::string& app,
                                                 const std::optional<std::string>& auth_type,
                                                 const std::string& reason, Millis now,
                                                 const std::optional<std::string>& owner,
                                                 std::optional<std::int64_t> version) {
  static const char* kMark =
      "UPDATE connections SET status = 'reauth_required', reason = ?4, updated_at = ?5,"
      " lease_owner = NULL, lease_expires_at = NULL, version = version + 1"
      " WHERE account = ?1 AND app = ?2 AND (?3 IS NULL OR auth_type = ?3)"
      " AND status = 'active' AND (?6 IS NULL OR lease_owner = ?6) AND (?7 IS NULL OR version = ?7)"
      " RETURNING " REFOLD_CONNECTION_COLUMNS;
  std::lock_guard wl(write_mu_);
  auto c = acquire();
  sqlite::Transaction tx(c->db, sqlite::Transaction::immediate);
  std::vector<Connection> changed;
  {
    Use w(c->stmt(kMark));
    w->bind(1, account).bind(2, app).bind(3, auth_type).bind(4, reason).bind(5, now).bind(6, owner).bind(7, version);
    while (w->step()) changed.push_back(detail::read_connection(*w, 0));
  }
  for (const auto& row : changed) append_event(c, "connection.expired", row.id, now, reason);
  tx.commit();
  return changed;
}

// Walks the connections_due index from its start; a row leased by a
// refresh under way (here or in another process) is passed over. Named:
// without statistics SQLite rates "status = 'active'" on
// connections_by_status above this range, and would read every active
// row and sort them.
const char* const detail::kDueSql =
    "SELECT account, app, auth_type FROM connections INDEXED BY connections_due"
    " WHERE auth_type <> 'keybased' AND status = 'active'"
    " AND next_refresh_at IS NOT NULL AND next_refresh_at <= ?1"
    " AND (lease_expires_at IS NULL OR lease_expires_at <= ?1)"
    " AND (?3 IS NULL OR app NOT IN (SELECT value FROM json_each(?3)))"
    " ORDER BY next_refresh_at LIMIT ?2";

std::vector<ConnectionId> SqliteStore::due(Millis now, std::size_t limit,
                                           const std::vector<std::string>& skip_apps) {
  const std::optional<std::string> skip = apps_json(skip_apps);
  auto c = acquire();
  Use s(c->stmt(detail::kDueSql));
  s->bind(1, now).bind(2, static_cast<std::int64_t>(limit)).bind(3, skip);
  std::vector<ConnectionId> out;
  while (s->step()) out.push_back({s->text(0), s->text(1), s->text(2)});
  return out;
}

// The first entry of connections_due (named, as in due()).
const char* const detail::kNextDueSql =
    "SELECT min(next_refresh_at) FROM connections INDEXED BY connections_due"
    " WHERE auth_type <> 'keybased'"
    " AND status = 'active' AND next_refresh_at IS NOT NULL";

std::optional<Millis> SqliteStore::next_due() {
  auto c = acquire();
  Use s(c->stmt(detail::kNextDueSql));
  return s->step() ? s->opt_integer(0) : std::nullopt;
}

std::int64_t SqliteStore::data_version() {
  std::lock_guard lock(watch_mu_);
  if (!watch_) watch_ = connect();
  Use s(watch_->stmt("PRAGMA data_version"));
  return s->step() ? s->integer(0) : 0;
}

std::int64_t SqliteStore::last_change() {
  auto c = acquire();
  Use s(c->stmt("SELECT max(seq) FROM changes"));
  return s->step() ? s->opt_integer(0).value_or(0) : 0;
}

Changes SqliteStore::changes_since(std::int64_t after, std::size_t limit) {
  static const char* kFirst = "SELECT min(seq), max(seq) FROM changes";
  static const char* kSince = "SELECT seq, account, app FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2";
  Changes out;
  out.last = after;
  auto c = acquire();
  sqlite::Transaction tx(c->db, sqlite::Transaction::deferred);
  {
    Use s(c->stmt(kFirst));
    if (!s->step()) return out;
    auto first = s->opt_integer(0), last = s->opt_integer(1);
    if (!last || *last <= after) return out;  // nothing new
    if (*first > after + 1) {                 // pruned past what the caller saw
      out.everything = true;
      out.last = *last;
      return out;
    }
  }
  {
    Use s(c->stmt(kSince));
    s->bind(1, after).bind(2, static_cast<std::int64_t>(limit) + 1);
    while (s->step()) {
      if (out.connections.size() == limit) {
        out.everything = true;
        break;
      }
      out.last = s->integer(0);
      out.connections.emplace_back(s->text(1), s->text(2));
    }
  }
  if (out.everything) {
    out.connections.clear();
    Use m(c->stmt(kFirst));
    if (m->step()) out.last = m->opt_integer(1).value_or(out.last);
  }
  return out;
}

SqliteStore::Conn* SqliteStore::lease_conn() {
  if (!lease_conn_) {
    auto conn = connect();
    conn->db.exec("PRAGMA synchronous=OFF");
    lease_conn_ = std::move(conn);
  }
  return lease_conn_.get();
}

}  // namespace refold::store
