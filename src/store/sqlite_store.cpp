#include "store/sqlite_store.hpp"

#include "store/sqlite_internal.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <thread>
#include <unistd.h>

#include "util/error.hpp"
#include "util/files.hpp"

namespace refold::store {

namespace {

constexpr std::int64_t kApplicationId = 0x52464C44;  // "RFLD"
const std::int64_t kSchemaVersion = static_cast<std::int64_t>(detail::migrations().size());

// Runs "PRAGMA journal_mode=WAL" once; the SQLite result code, and the mode
// now in force in `mode`.
int switch_to_wal(sqlite3* db, std::string& mode) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &s, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
      const auto* text = sqlite3_column_text(s, 0);
      mode = text ? reinterpret_cast<const char*>(text) : "";
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(s);
  return rc;
}

}  // namespace

using detail::kBusyTimeoutMs;
using detail::pragma_int;
using detail::read_connection;
using detail::Use;

Connection detail::read_connection(const sqlite::Stmt& s, int first) {
  Connection c;
  c.id.account = s.text(first);
  c.id.app = s.text(first + 1);
  c.id.auth_type = s.text(first + 2);
  c.status = s.text(first + 3);
  c.reason = s.opt_text(first + 4);
  c.created_at = s.integer(first + 5);
  c.updated_at = s.integer(first + 6);
  c.expires_at = s.opt_integer(first + 7);
  c.config = s.text(first + 8);
  c.version = s.integer(first + 9);
  c.refresh_failures = static_cast<int>(s.integer(first + 10));
  c.next_refresh_at = s.opt_integer(first + 11);
  return c;
}

SqliteStore::SqliteStore(std::string path) : path_(files::absolute(path)) {
  // Create the file owner-only; SQLite gives the -wal and -shm files the
  // same permissions.
  int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) fail(REFOLD_ESTORE, "cannot open store '" + path_ + "': " + std::strerror(errno));
  ::close(fd);
  auto conn = connect();
  // WAL is a property of the file: set once, a no-op when already set.
  // Setting it takes an exclusive lock, and SQLite answers SQLITE_BUSY at
  // once, without the busy handler, while another connection is writing
  // the file: as another client opening the same new store at the same
  // moment does. So the switch is retried, for as long as the busy timeout.
  std::string mode;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  for (int pause_ms = 1;; pause_ms = std::min(pause_ms * 2, 50)) {
    int rc = switch_to_wal(conn->db.raw(), mode);
    if (rc == SQLITE_OK && mode == "wal") break;
    if ((rc & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() >= deadline)
      fail(REFOLD_ESTORE, "store '" + path_ + "': cannot switch to WAL journal mode: " +
                              (rc == SQLITE_OK ? "the journal mode stays '" + mode + "'"
                                               : std::string(sqlite3_errmsg(conn->db.raw()))));
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
  }
  release(std::move(conn));
}

SqliteStore::~SqliteStore() = default;

std::unique_ptr<SqliteStore::Conn> SqliteStore::connect() {
  auto conn = std::make_unique<Conn>(path_);
  sqlite3_busy_timeout(conn->db.raw(), kBusyTimeoutMs);
  // FULL: a commit survives a power cut, not only a process crash.
  // secure_delete: removed secrets are overwritten, not left in free pages.
  conn->db.exec(
      "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;"
      "PRAGMA cell_size_check=ON; PRAGMA trusted_schema=OFF;"
      // No memory map: pages are read with pread() into each connection's
      // page cache. A map makes uncached reads faster when nothing else
      // runs (random reads of 100,000 connections: a 256 MiB map was 1.33x
      // as fast), but each pooled connection maps the file on its own, and
      // with refreshes committing beside reads the profile fills with page
      // faults, page-table teardown and TLB flushes: uncached reads inside
      // the window while 30,000 refreshes drained took a median of 200 us
      // with 64 MiB mapped and 38 us without, p99 3.4 ms against 0.5 ms.
      // And mapped pages a process touched count in its resident memory
      // (263 MiB for a reader of a million connections with 256 MiB
      // mapped; container limits count them too). bench/RESULTS.md.
      "PRAGMA mmap_size=0;");
  // Commits ask for checkpoints instead of running them (sqlite_checkpoint.hpp).
  checkpointer_.watch(conn->db);
  return conn;
}

SqliteStore::Pooled SqliteStore::acquire() {
  {
    std::lock_guard lock(pool_mu_);
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return Pooled(*this, std::move(conn));
    }
  }
  return Pooled(*this, connect());
}

void SqliteStore::release(std::unique_ptr<Conn> conn) {
  std::lock_guard lock(pool_mu_);
  idle_.push_back(std::move(conn));
}

Meta SqliteStore::meta() {
  auto c = acquire();
  sqlite::Transaction tx(c->db, sqlite::Transaction::deferred);
  Meta m;
  std::int64_t app_id = pragma_int(c->db, "PRAGMA application_id");
  std::int64_t version = pragma_int(c->db, "PRAGMA user_version");
  if (app_id != kApplicationId) {
    if (app_id != 0 || pragma_int(c->db, "SELECT count(*) FROM sqlite_schema") != 0)
      fail(REFOLD_ESTORE, "'" + path_ + "' is not a refold store");
    return m;  // new and empty
  }
  if (version > kSchemaVersion)
    fail(REFOLD_ESTORE, "store '" + path_ + "' has schema version " + std::to_string(version) +
                            ", newer than this refold supports (" +
                            std::to_string(kSchemaVersion) + "); upgrade refold");
  m.initialized = true;
  sqlite::Stmt s(c->db, "SELECT key, value FROM meta");
  while (s.step()) {
    auto key = s.text(0);
    if (key == "store_id") m.store_id = s.blob(1);
    else if (key == "kdf_salt") m.kdf_salt = s.blob(1);
  }
  if (m.store_id.size() != 16 || m.kdf_salt.empty())
    fail(REFOLD_ESTORE, "store '" + path_ + "' is damaged: its meta table is incomplete");
  return m;
}

Meta SqliteStore::initialize(const Bytes& store_id, const Bytes& kdf_salt) {
  {
    std::lock_guard wl(write_mu_);
    auto c = acquire();
    sqlite::Transaction tx(c->db, sqlite::Transaction::immediate);
    // Someone (another process) may have won the race since meta() looked.
    if (pragma_int(c->db, "PRAGMA application_id") == 0 &&
        pragma_int(c->db, "SELECT count(*) FROM sqlite_schema") == 0) {
      for (const char* step : detail::migrations()) c->db.exec(step);
      sqlite::Stmt ins(c->db, "INSERT INTO meta (key, value) VALUES (?1, ?2)");
      ins.bind(1, std::string_view("store_id")).bind(2, std::span(store_id)).run();
      ins.reset();
      ins.bind(1, std::string_view("kdf_salt")).bind(2, std::span(kdf_salt)).run();
      c->db.exec(("PRAGMA application_id=" + std::to_string(kApplicationId) +
                  "; PRAGMA user_version=" + std::to_string(kSchemaVersion))
                     .c_str());
    }
    tx.commit();
  }
  return meta();
}

void SqliteStore::migrate() {
  std::lock_guard wl(write_mu_);
  auto c = acquire();
  sqlite::Transaction tx(c->db, sqlite::Transaction::immediate);
  std::int64_t version = pragma_int(c->db, "PRAGMA user_version");
  if (version >= kSchemaVersion) return;  // rolls back the empty transaction
  for (auto v = version; v < kSchemaVersion; ++v) c->db.exec(detail::migrations()[static_cast<std::size_t>(v)]);
  c->db.exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
  tx.commit();
}

UpsertResult SqliteStore::upsert(const ConnectionId& id, const Sealer& seal, Millis now,
                                 std::optional<Millis> expires_at,
                                 std::optional<Millis> next_refresh_at, const std::string& config) {
  static const char* kSelect =
      "SELECT status, created_at FROM connections WHERE account = ?1 AND app = ?2 AND auth_type = ?3";
  static const char* kUpdate =
      "UPDATE connections SET status = 'active', reason = NULL, updated_at = ?4, key_id = ?5,"
      " nonce = ?6, ciphertext = ?7, expires_at = ?8, refresh_failures = 0,"
      " next_refresh_at = ?9, forced_refresh = 0, lease_owner = NULL, lease_expires_at = NULL,"
      " version = version + 1, config = ?10"
      " WHERE account = ?1 AND app = ?2 AND auth_type = ?3";
  // A new row starts at a random version (below 2^62, so it never
  // overflows): a connection removed and made again must not pass through
  // versions the old one had, or a fence or a version a reader was handed
  // could take one for the other.
  static const char* kInsert =
      "INSERT INTO connections (account, app, auth_type, created_at, updated_at, key_id, nonce,"
      " ciphertext, expires_at, next_refresh_at, config, version)"
      " VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8, ?9, ?10, (random() & 0x3FFFFFFFFFFFFFFF) + 1)";

  std::lock_guard wl(write_mu_);
  auto c = acquire();
  sqlite::Transaction tx(c->db, sqlite::Transaction::immediate);
  UpsertResult r;
  {
    Use sel(c->stmt(kSelect));
    sel->bind(1, id.account).bind(2, id.app).bind(3, id.auth_type);
    if (sel->step()) {
      r.previous_status = sel->text(0);
      r.created_at = sel->integer(1);
    } else {
      r.created = true;
      r.created_at = now;
    }
  }
  const Sealed sealed = seal_current(c, seal);
  Use w(c->stmt(r.created ? kInsert : kUpdate));
  w->bind(1, id.account).bind(2, id.app).bind(3, id.auth_type).bind(4, now)
      .bind(5, sealed.key_id).bind(6, std::span(sealed.nonce)).bind(7, std::span(sealed.ciphertext))
      .bind(8, expires_at).bind(9, next_refresh_at).bind(10, config);
  w->run();
  append_event(c, r.created ? "connection.created" : "connection.reauthenticated", id, now);
  tx.commit();
  return r;
}

void SqliteStore::put_flow(const Flow& flow, const Sealer& seal, Millis now) {
  static const char* kPurge = "DELETE FROM oauth_flows WHERE expires_at < ?1";
  static const char* kInsert =
      "INSERT INTO oauth_flows (state_hash, created_at, expires_at, key_id, nonce, ciphertext)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
  std::lock_guard wl(write_mu_);
  auto c = acquire();
  sqlite::Transaction tx(c->db, sqlite::Transaction::immediate);
  {
    Use purge(c->stmt(kPurge));
    purge->bind(1, now).run();
  }
  {
    const Sealed sealed = seal_current(c, seal);
    Use ins(c->stmt(kInsert));
    ins->bind(1, std::span(flow.state_hash)).bind(2, flow.created_at).bind(3, flow.expires_at)
        .bind(4, sealed.key_id).bind(5, std::span(sealed.nonce))
        .bind(6, std::span(sealed.ciphertext));
    ins->run();
  }
  tx.commit();
}

std::optional<Flow> SqliteStore::take_flow(const Bytes& state_hash) {
  static const char* kTake =
      "DELETE FROM oauth_flows WHERE state_hash = ?1"
      " RETURNING created_at, expires_at, key_id, nonce, ciphertext";
  std::lock_guard wl(write_mu_);
  auto c = acquire();
  sqlite::Transaction tx(c->db, sqlite::Transaction::immediate);
  std::optional<Flow> out;
  {
    Use s(c->stmt(kTake));
    s->bind(1, std::span(state_hash));
    while (s->step()) {
      out.emplace();
      out->state_hash = state_hash;
      out->created_at = s->integer(0);
      out->expires_at = s->integer(1);
      out->sealed.key_id = s->integer(2);
      out->sealed.nonce = s->blob(3);
      out->sealed.ciphertext = s->blob(4);
    }
  }
  tx.commit();
  return out;
}

// The hot path of every credential read: only the columns it needs, and
// at most one row per auth type, picking the newest here rather than with
// an ORDER BY (which builds a temporary b-tree on every call).
const char* const detail::kFindSql =
    "SELECT auth_type, status, reason, created_at, updated_at, expires_at, key_id, nonce,"
    " ciphertext, version, refresh_failures, next_refresh_at, forced_refresh"
    " FROM connections WHERE account = ?1 AND app = ?2";

std::optional<ConnectionWithSecret> SqliteStore::find(const std::string& account,
                                                      const std::string& app) {
  auto c = acquire();
  Use s(c->stmt(detail::kFindSql));
  s->bind(1, account).bind(2, app);
  std::optional<ConnectionWithSecret> out;
  while (s->step()) {
    if (out && out->connection.updated_at >= s->integer(4)) continue;
    out.emplace();
    Connection& conn = out->connection;
    conn.id = {account, app, s->text(0)};
    conn.status = s->text(1);
    conn.reason = s->opt_text(2);
    conn.created_at = s->integer(3);
    conn.updated_at = s->integer(4);
    conn.expires_at = s->opt_integer(5);
    out->sealed.key_id = s->integer(6);
    out->sealed.nonce = s->blob(7);
    out->sealed.ciphertext = s->blob(8);
    conn.version = s->integer(9);
    conn.refresh_failures = static_cast<int>(s->integer(10));
    conn.next_refresh_at = s->opt_integer(11);
    conn.forced_refresh = s->integer(12) != 0;
  }
  return out;
}

std::optional<ConnectionWithSecret> SqliteStore::get(const ConnectionId& id) {
  static const char* kGet = "SELECT " REFOLD_CONNECTION_COLUMNS ", key_id, nonce, ciphertext, forced_refresh"
                            " FROM connections WHERE account = ?1 AND app = ?2 AND auth_type = ?3";
  auto c = acquire();
  Use s(c->stmt(kGet));
  s->bind(1, id.account).bind(2, id.app).bind(3, id.auth_type);
  if (!s->step()) return std::nullopt;
  ConnectionWithSecret out{read_connection(*s, 0), Sealed{s->integer(12), s->blob(13), s->blob(14)}};
  out.connection.forced_refresh = s->integer(15) != 0;
  return out;
}

std::vector<ConnectionWithSecret> SqliteStore::remove(const std::string& account,
                                                      const std::optional<std::string>& app, Millis now) {
  static const char* kDelete =
      "DELETE FROM connections WHERE account = ?1 AND (?2 IS NULL OR app = ?2)"
      " RETURNING " REFOLD_CONNECTION_COLUMNS ", key_id, nonce, ciphertext";
  std::lock_guard wl(write_mu_);
  auto c = acquire();
  sqlite::Transaction tx(c->db, sqlite::Transaction::immediate);
  std::vector<ConnectionWithSecret> removed;
  {
    Use s(c->stmt(kDelete));
    s->bind(1, account).bind(2, app);
    while (s->step())
      removed.push_back({read_connection(*s, 0), Sealed{s->integer(12), s->blob(13), s->blob(14)}});
  }
  for (const auto& row : removed)
    append_event(c, "connection.deleted", row.connection.id, now,
                 std::string(app ? "disconnected" : "account_deleted"));
  tx.commit();
  return removed;
}

std::vector<Connection> SqliteStore::list(const std::optional<std::string>& account) {
  static const char* kList = "SELECT " REFOLD_CONNECTION_COLUMNS
                            " FROM connections WHERE ?1 IS NULL OR account = ?1"
                            " ORDER BY account, app, auth_type";
  auto c = acquire();
  Use s(c->stmt(kList));
  s->bind(1, account);
  std::vector<Connection> out;
  while (s->step()) out.push_back(read_connection(*s, 0));
  return out;
}

std::vector<std::string> SqliteStore::plan(HotQuery query) {
  const char* sql = query == HotQuery::find  ? detail::kFindSql
                    : query == HotQuery::due ? detail::kDueSql
                                             : detail::kNextDueSql;
  auto c = acquire();
  sqlite::Stmt s(c->db, std::string("EXPLAIN QUERY PLAN ") + sql);
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(3));
  return out;
}

}  // namespace refold::store
