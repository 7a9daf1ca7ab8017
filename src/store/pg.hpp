// RAII over libpq: a connection with its prepared statements, parameters,
// results and transactions. Every failure becomes REFOLD_ESTORE with the
// server's primary message and SQLSTATE, never its DETAIL (which can quote
// the values of a row) and never the connection URI's password.
#pragma once

#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace refold::pg {

using Bytes = std::vector<std::uint8_t>;

// How to reach the server and what every session sets.
struct ConnectOptions {
  std::string uri;        // libpq connection URI, password included
  std::string shown;      // the URI without its password, for messages
  std::string password;   // to scrub from the driver's messages (decoded)
  std::string password_raw;  // and as the URI wrote it
  std::string schema;     // search_path of every session (a checked identifier)
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds statement_timeout{30000};
};

// Parameters of one statement: text values, and bytea values sent in
// binary. The values are copied in, so temporaries may be passed.
class Params {
 public:
  Params& add(std::string_view v);
  Params& add(const std::string& v) { return add(std::string_view(v)); }
  Params& add(const char* v) { return add(std::string_view(v)); }
  Params& add(std::int64_t v);
  Params& add(std::nullopt_t);
  Params& add(const std::optional<std::string>& v);
  Params& add(const std::optional<std::int64_t>& v);
  Params& add(std::span<const std::uint8_t> v);

  int size() const { return static_cast<int>(values_.size()); }
  // Pointers into the stored values; valid while this object is unchanged.
  const char* const* values() const;
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  std::vector<std::optional<std::string>> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  mutable std::vector<const char*> pointers_;
};

// A statement's rows, in text format (bytea as "\x" hex).
class Result {
 public:
  explicit Result(PGresult* r = nullptr) : r_(r) {}
  ~Result() { if (r_) PQclear(r_); }
  Result(Result&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  Result& operator=(Result&& o) noexcept;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;

  int rows() const { return r_ ? PQntuples(r_) : 0; }
  // Rows a write changed (UPDATE, DELETE, INSERT).
  std::int64_t affected() const;
  bool is_null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
  std::string text(int row, int col) const;
  std::optional<std::string> opt_text(int row, int col) const;
  std::int64_t integer(int row, int col) const;
  std::optional<std::int64_t> opt_integer(int row, int col) const;
  Bytes bytea(int row, int col) const;

 private:
  PGresult* r_ = nullptr;
};

class Conn {
 public:
  // Connects and sets up the session (search_path, timeouts), within the
  // connect timeout; gives up early once `stop` (when given) is set.
  // Throws REFOLD_ESTORE naming the store by its shown URI.
  explicit Conn(const ConnectOptions& options, const std::atomic<bool>* stop = nullptr);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Runs `sql` (one or more statements, no parameters).
  void exec(const char* sql);
  // Runs `sql` with `params`, prepared once per connection: `sql` must be a
  // string with static storage (its address names the statement).
  Result run(const char* sql, const Params& params = {});
  // Runs `sql` with `params` without preparing it (for one-off statements).
  Result run_once(const std::string& sql, const Params& params = {});

  // The session is unusable (the server went away or the link broke):
  // throw the connection away instead of pooling it again.
  bool broken() const { return PQstatus(c_) != CONNECTION_OK; }
  PGconn* raw() { return c_; }
  [[noreturn]] void fail(std::string_view what, const PGresult* r);

 private:
  Result check(PGresult* r, std::string_view what);

  PGconn* c_ = nullptr;
  const ConnectOptions& options_;
  std::unordered_map<const char*, std::string> prepared_;  // sql address -> statement name
};

// A transaction, rolled back unless commit() is reached.
class Transaction {
 public:
  explicit Transaction(Conn& c);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  Conn& c_;
  bool done_ = false;
};

// "schema" quoted as an identifier: the name is checked by the store
// (lower-case letters, digits and '_'), so quoting is only for form.
std::string quote_identifier(std::string_view name);

}  // namespace refold::pg
