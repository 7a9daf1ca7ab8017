#include "store/pg.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <poll.h>
#include <charconv>

#include "util/error.hpp"
#include "util/store_location.hpp"

namespace refold::pg {

namespace {

// libpq's messages span lines ("...failed: Connection refused\n\tIs the
// server running...?\n"): one line, each run of white space one space.
std::string one_line(const char* s) {
  std::string out;
  for (const char* p = s ? s : ""; *p; ++p) {
    const bool space = *p == '\n' || *p == '\t' || *p == '\r' || *p == ' ';
    if (!space) out.push_back(*p);
    else if (!out.empty() && out.back() != ' ') out.push_back(' ');
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace

// ---- Params ----

Params& Params::add(std::string_view v) {
  values_.emplace_back(std::string(v));
  lengths_.push_back(0);
  formats_.push_back(0);
  return *this;
}

Params& Params::add(std::int64_t v) { return add(std::string_view(std::to_string(v))); }

Params& Params::add(std::nullopt_t) {
  values_.emplace_back(std::nullopt);
  lengths_.push_back(0);
  formats_.push_back(0);
  return *this;
}

Params& Params::add(const std::optional<std::string>& v) {
  return v ? add(std::string_view(*v)) : add(std::nullopt);
}

Params& Params::add(const std::optional<std::int64_t>& v) { return v ? add(*v) : add(std::nullopt); }

Params& Params::add(std::span<const std::uint8_t> v) {
  values_.emplace_back(std::string(reinterpret_cast<const char*>(v.data()), v.size()));
  lengths_.push_back(static_cast<int>(v.size()));
  formats_.push_back(1);
  return *this;
}

const char* const* Params::values() const {
  pointers_.clear();
  for (const auto& v : values_) pointers_.push_back(v ? v->c_str() : nullptr);
  return pointers_.data();
}

// ---- Result ----

Result& Result::operator=(Result&& o) noexcept {
  if (this != &o) {
    if (r_) PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}

std::int64_t Result::affected() const {
  const char* n = r_ ? PQcmdTuples(r_) : "";
  std::int64_t v = 0;
  if (n && *n) std::from_chars(n, n + std::char_traits<char>::length(n), v);
  return v;
}

std::string Result::text(int row, int col) const {
  return std::string(PQgetvalue(r_, row, col), static_cast<std::size_t>(PQgetlength(r_, row, col)));
}

std::optional<std::string> Result::opt_text(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return text(row, col);
}

std::int64_t Result::integer(int row, int col) const {
  const char* v = PQgetvalue(r_, row, col);
  std::int64_t out = 0;
  auto [end, ec] = std::from_chars(v, v + PQgetlength(r_, row, col), out);
  if (ec != std::errc()) fail(REFOLD_ESTORE, "PostgreSQL store: a column expected to hold an integer does not");
  (void)end;
  return out;
}

std::optional<std::int64_t> Result::opt_integer(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return integer(row, col);
}

Bytes Result::bytea(int row, int col) const {
  // Text format: libpq's own decoding of the hex (or escape) form.
  std::size_t n = 0;
  unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r_, row, col)), &n);
  if (!raw) fail(REFOLD_ESTORE, "PostgreSQL store: a bytea column does not decode");
  Bytes out(raw, raw + n);
  PQfreemem(raw);
  return out;
}

// ---- Conn ----

Conn::Conn(const ConnectOptions& options, const std::atomic<bool>* stop) : options_(options) {
  const std::string connect_timeout =
      std::to_string(std::max<long long>(2, (options.connect_timeout.count() + 999) / 1000));
  // Keepalives notice a server that vanished without closing the link
  // (about 10 s), so no call waits on a dead socket for long.
  const char* keys[] = {"dbname", "connect_timeout", "application_name", "client_encoding",
                        "keepalives", "keepalives_idle", "keepalives_interval",
                        "keepalives_count", nullptr};
  const char* values[] = {options.uri.c_str(), connect_timeout.c_str(), "refold", "UTF8",
                          "1", "5", "2", "3", nullptr};
  // Connected without blocking, polling its socket, so the connect
  // timeout holds over every step and `stop` can end the wait.
  c_ = PQconnectStartParams(keys, values, /*expand_dbname=*/1);
  if (!c_) refold::fail(REFOLD_ESTORE, "PostgreSQL store: libpq could not allocate a connection");
  // libpq prints the server's notices (and a FATAL that ends the session)
  // on stderr by default; a library keeps its host's stderr clean.
  PQsetNoticeProcessor(c_, [](void*, const char*) {}, nullptr);
  auto give_up = [&](const std::string& why) {
    std::string msg = store_location::scrub(store_location::scrub(why, options.password), options.password_raw);
    PQfinish(c_);
    c_ = nullptr;
    refold::fail(REFOLD_ESTORE, "PostgreSQL store '" + options.shown + "': cannot connect: " + msg);
  };
  const auto deadline = std::chrono::steady_clock::now() + options.connect_timeout;
  PostgresPollingStatusType st = PQstatus(c_) == CONNECTION_BAD ? PGRES_POLLING_FAILED : PGRES_POLLING_WRITING;
  while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
    if (stop && stop->load(std::memory_order_acquire)) give_up("the client is closing");
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      give_up("no answer within " + std::to_string(options.connect_timeout.count()) + " ms");
    pollfd p{PQsocket(c_), static_cast<short>(st == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 100)));
    if (n < 0 && errno != EINTR) give_up(std::string("poll: ") + std::strerror(errno));
    if (n > 0) st = PQconnectPoll(c_);
  }
  if (st == PGRES_POLLING_FAILED || PQstatus(c_) != CONNECTION_OK) give_up(one_line(PQerrorMessage(c_)));
  const std::string setup =
      "SET search_path TO " + quote_identifier(options.schema) +
      "; SET statement_timeout = " + std::to_string(options.statement_timeout.count()) +
      "; SET lock_timeout = " + std::to_string(options.statement_timeout.count()) +
      "; SET idle_in_transaction_session_timeout = " +
      std::to_string(options.statement_timeout.count() * 2) +
      "; SET bytea_output = 'hex'; SET client_min_messages = warning";
  try {
    exec(setup.c_str());
  } catch (...) {
    PQfinish(c_);
    c_ = nullptr;
    throw;
  }
}

Conn::~Conn() {
  if (c_) PQfinish(c_);
}

void Conn::fail(std::string_view what, const PGresult* r) {
  std::string msg;
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  if (primary) msg = primary;
  else msg = one_line(PQerrorMessage(c_));
  if (msg.empty()) msg = "unknown error";
  if (state) msg += " (SQLSTATE " + std::string(state) + ")";
  if (broken()) msg += "; the connection to the server is lost";
  refold::fail(REFOLD_ESTORE, "PostgreSQL store '" + options_.shown + "': " + std::string(what) +
                                  ": " + store_location::scrub(store_location::scrub(std::move(msg), options_.password),
                                                               options_.password_raw));
}

Result Conn::check(PGresult* r, std::string_view what) {
  Result res(r);
  const ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) fail(what, r);
  return res;
}

void Conn::exec(const char* sql) { check(PQexec(c_, sql), "statement failed"); }

Result Conn::run(const char* sql, const Params& params) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    std::string name = "refold_" + std::to_string(prepared_.size() + 1);
    check(PQprepare(c_, name.c_str(), sql, 0, nullptr), "preparing a statement failed");
    it = prepared_.emplace(sql, std::move(name)).first;
  }
  return check(PQexecPrepared(c_, it->second.c_str(), params.size(), params.values(),
                              params.lengths(), params.formats(), 0),
               "statement failed");
}

Result Conn::run_once(const std::string& sql, const Params& params) {
  return check(PQexecParams(c_, sql.c_str(), params.size(), nullptr, params.values(),
                            params.lengths(), params.formats(), 0),
               "statement failed");
}

// ---- Transaction ----

Transaction::Transaction(Conn& c) : c_(c) { c_.exec("BEGIN"); }

Transaction::~Transaction() {
  if (done_ || c_.broken()) return;
  PGresult* r = PQexec(c_.raw(), "ROLLBACK");
  if (r) PQclear(r);
}

void Transaction::commit() {
  // PostgreSQL answers COMMIT on a transaction a failed statement aborted
  // with a rollback (tag ROLLBACK, status OK): that must not pass for a
  // commit.
  if (PQtransactionStatus(c_.raw()) != PQTRANS_INTRANS) c_.fail("commit: the transaction was aborted", nullptr);
  PGresult* r = PQexec(c_.raw(), "COMMIT");
  const bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK && std::string_view(PQcmdStatus(r)) == "COMMIT";
  if (!ok) {
    Result held(r);
    c_.fail("commit failed", r);
  }
  PQclear(r);
  done_ = true;
}

std::string quote_identifier(std::string_view name) {
  std::string out = "\"";
  for (char ch : name) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

}  // namespace refold::pg
