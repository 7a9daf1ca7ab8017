// RAII over the SQLite C API: a database handle and prepared statements.
// Every failure becomes REFOLD_ESTORE with SQLite's message (which never
// holds bound values, so no secret).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <sqlite3.h>
#include <string>
#include <string_view>
#include <vector>

namespace refold::sqlite {

class Db;

class Stmt {
 public:
  Stmt() = default;
  Stmt(Db& db, std::string_view sql);
  ~Stmt();
  Stmt(Stmt&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  // Binding (1-based index). Text and blobs are copied by SQLite only until
  // the statement is reset, so the caller's buffers must outlive the step.
  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
  Stmt& bind(int i, std::span<const std::uint8_t> v);
  Stmt& bind(int i, std::int64_t v);
  Stmt& bind(int i, std::nullopt_t);
  Stmt& bind(int i, const std::optional<std::string>& v);
  Stmt& bind(int i, const std::optional<std::int64_t>& v);

  // Steps once: true when a row is available.
  bool step();
  // Steps to completion, expecting no rows.
  void run();
  // Clears bindings and resets for reuse.
  void reset();

  std::int64_t integer(int col) const;
  std::optional<std::int64_t> opt_integer(int col) const;
  std::string text(int col) const;
  std::optional<std::string> opt_text(int col) const;
  std::vector<std::uint8_t> blob(int col) const;
  bool is_null(int col) const;

 private:
  Db* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

class Db {
 public:
  // Opens `path` (creating it if needed, when `create`) in multi-thread
  // mode: the caller guarantees one thread at a time per Db.
  explicit Db(const std::string& path, bool create = true);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(const char* sql);
  sqlite3* raw() { return db_; }
  [[noreturn]] void fail(std::string_view what);
  std::int64_t changes() const { return sqlite3_changes64(db_); }

 private:
  sqlite3* db_ = nullptr;
};

// A transaction on `db`, rolled back unless commit() is reached. IMMEDIATE
// takes the write lock at BEGIN, so two writers never deadlock upgrading.
class Transaction {
 public:
  enum Kind { deferred, immediate };
  Transaction(Db& db, Kind kind);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Db& db_;
  bool done_ = false;
};

}  // namespace refold::sqlite
