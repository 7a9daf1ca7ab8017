// Internals shared by the SQLite store's translation units: the pooled
// connection with its statement cache, and row decoding.
#pragma once

#include <span>
#include <unordered_map>

#include "store/sqlite.hpp"
#include "store/sqlite_store.hpp"

namespace refold::store {

// The columns read_connection() expects, as a literal so statements can be
// assembled at compile time.
#define REFOLD_CONNECTION_COLUMNS                                                        \
  "account, app, auth_type, status, reason, created_at, updated_at, expires_at, config," \
  " version, refresh_failures, next_refresh_at"

// One SQLite connection with its prepared statements, used by one thread at
// a time.
struct SqliteStore::Conn {
  explicit Conn(const std::string& path) : db(path) {}

  // The cached statement for `sql` (a string literal: its address is the key).
  sqlite::Stmt& stmt(const char* sql) {
    auto it = stmts.find(sql);
    if (it == stmts.end()) it = stmts.emplace(sql, sqlite::Stmt(db, sql)).first;
    return it->second;
  }

  sqlite::Db db;
  std::unordered_map<const char*, sqlite::Stmt> stmts;
};

// A pooled connection, returned to the pool when this goes out of scope.
class SqliteStore::Pooled {
 public:
  Pooled(SqliteStore& store, std::unique_ptr<Conn> conn) : store_(store), conn_(std::move(conn)) {}
  ~Pooled() {
    if (conn_) store_.release(std::move(conn_));
  }
  Pooled(Pooled&&) = default;
  Conn* operator->() { return conn_.get(); }

 private:
  SqliteStore& store_;
  std::unique_ptr<Conn> conn_;
};

namespace detail {

// The hot statements, shared with SqliteStore::plan(). Statements are
// cached by address, so each is one object.
extern const char* const kFindSql;     // find(), sqlite_store.cpp
extern const char* const kDueSql;      // due(), sqlite_lifecycle.cpp
extern const char* const kNextDueSql;  // next_due(), sqlite_lifecycle.cpp

// How long a connection waits for another's lock before SQLITE_BUSY.
inline constexpr int kBusyTimeoutMs = 10000;

// Resets a cached statement when the scope ends, so no read transaction
// stays open (it would pin the WAL).
class Use {
 public:
  explicit Use(sqlite::Stmt& s) : s_(s) {}
  ~Use() { s_.reset(); }
  sqlite::Stmt* operator->() { return &s_; }
  sqlite::Stmt& operator*() { return s_; }

 private:
  sqlite::Stmt& s_;
};

inline std::int64_t pragma_int(sqlite::Db& db, const char* sql) {
  sqlite::Stmt s(db, sql);
  return s.step() ? s.integer(0) : 0;
}


// Entry i takes the schema from version i to i + 1.
std::span<const char* const> migrations();

Connection read_connection(const sqlite::Stmt& s, int first);

}  // namespace detail

}  // namespace refold::store
