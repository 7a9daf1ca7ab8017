#include "test_support.hpp"

#include <libpq-fe.h>

// Boost.JSON is used header-only: its implementation is compiled here, once
// (or, in a program that links refold's objects, in src/util/boost_json.cpp).
#ifndef REFOLD_TEST_LINKS_CORE
#include <boost/json/src.hpp>
#endif

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace refold_test {

// ---- Files and folders ------------------------------------------------------------

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = (base && *base) ? base : "/tmp";
  tmpl += "/refold-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  const char* made = ::mkdtemp(buf.data());
  REQUIRE_MESSAGE(made != nullptr, "mkdtemp failed: " << std::strerror(errno));
  path_ = made;
}

TempDir::~TempDir() {
  std::error_code ec;
  // Folders may have been made read-only by a test; removal copes or gives up.
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::file(std::string_view name) const {
  std::string p = path_;
  p += '/';
  p += name;
  return p;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const std::string& path, std::string_view data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  REQUIRE_MESSAGE(out.good(), "cannot write " << path);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  out.close();
  REQUIRE_MESSAGE(out.good(), "cannot write " << path);
}

void write_private_file(const std::string& path, std::string_view data) {
  write_file(path, data);
  REQUIRE(::chmod(path.c_str(), 0600) == 0);
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

int file_mode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

void remove_file(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
}

void copy_file(const std::string& from, const std::string& to) {
  auto data = read_file(from);
  REQUIRE_MESSAGE(data.has_value(), "cannot read " << from);
  write_file(to, *data);
}

ScopedEnv::ScopedEnv(std::string name, std::optional<std::string> value) : name_(std::move(name)) {
  if (const char* old = std::getenv(name_.c_str())) old_ = std::string(old);
  if (value)
    ::setenv(name_.c_str(), value->c_str(), 1);
  else
    ::unsetenv(name_.c_str());
}

ScopedEnv::~ScopedEnv() {
  if (old_)
    ::setenv(name_.c_str(), old_->c_str(), 1);
  else
    ::unsetenv(name_.c_str());
}

// ---- Keys and configs --------------------------------------------------------------

std::vector<std::uint8_t> random_key_bytes() {
  std::random_device rd;
  std::vector<std::uint8_t> key(32);
  for (auto& b : key) b = static_cast<std::uint8_t>(rd() & 0xFFu);
  return key;
}

std::string to_hex(const std::vector<std::uint8_t>& bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 0x0F];
  }
  return out;
}

std::string to_base64(const std::vector<std::uint8_t>& bytes) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (unsigned(bytes[i]) << 16) | (unsigned(bytes[i + 1]) << 8) | bytes[i + 2];
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const unsigned v = unsigned(bytes[i]) << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    const unsigned v = (unsigned(bytes[i]) << 16) | (unsigned(bytes[i + 1]) << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string random_hex_key() {
  return to_hex(random_key_bytes());
}

json::object config_object(const std::string& store, const std::string& master_key) {
  json::object o;
  o["store"] = store;
  o["master_key"] = master_key;
  return o;
}

std::string make_config(const std::string& store, const std::string& master_key) {
  return to_json(config_object(store, master_key));
}

std::string to_json(const json::value& v) {
  return json::serialize(v);
}

// ---- PostgreSQL -------------------------------------------------------------------

std::optional<std::string> postgres_uri() {
  const char* file = std::getenv("REFOLD_TEST_POSTGRES_URI_FILE");
  if (!file || !*file) return std::nullopt;
  auto text = read_file(file);
  REQUIRE_MESSAGE(text, "REFOLD_TEST_POSTGRES_URI_FILE names a missing file: is the test server up?");
  std::string uri = *text;
  while (!uri.empty() && (uri.back() == '\n' || uri.back() == ' ')) uri.pop_back();
  return uri;
}

std::string pg_exec(const std::string& uri, const std::string& sql) {
  PGconn* c = PQconnectdb(uri.c_str());
  const bool ok = PQstatus(c) == CONNECTION_OK;
  std::string error = ok ? "" : PQerrorMessage(c);
  std::string out;
  if (ok) {
    PGresult* r = PQexec(c, sql.c_str());
    const ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) error = PQresultErrorMessage(r);
    else if (st == PGRES_TUPLES_OK && PQntuples(r) > 0 && PQnfields(r) > 0) out = PQgetvalue(r, 0, 0);
    PQclear(r);
  }
  PQfinish(c);
  REQUIRE_MESSAGE(error.empty(), "PostgreSQL (" << pg_shown(uri) << "): " << error);
  return out;
}

std::string pg_shown(const std::string& uri) {
  const std::size_t scheme = uri.find("://");
  const std::size_t at = uri.find('@');
  if (scheme == std::string::npos || at == std::string::npos) return uri;
  const std::size_t colon = uri.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return uri;
  return uri.substr(0, colon) + uri.substr(at);
}

std::string new_postgres_database() {
  auto base = postgres_uri();
  REQUIRE_MESSAGE(base, "not a run against PostgreSQL");
  static std::atomic<unsigned> n{0};
  const std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(n++) + "_" +
                           to_hex(random_key_bytes()).substr(0, 8);
  pg_exec(*base, "CREATE DATABASE " + name);
  const std::size_t slash = base->rfind('/');
  REQUIRE(slash != std::string::npos);
  return base->substr(0, slash + 1) + name;
}

std::string test_store_location(const TempDir& dir) {
  return postgres_uri() ? new_postgres_database() : dir.store();
}

std::string Store::config_with_catalog(const json::array& catalog) const {
  auto o = config_object(path, key);
  o["catalog"] = catalog;
  return to_json(o);
}

// ---- Test apps and payloads ------------------------------------------------------------

std::string valid_sid() {
  return "AC0123456789abcdef0123456789ABCDEF";
}

std::string random_token(std::size_t n) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::string out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) out += alphabet[rd() % 62u];
  return out;
}

std::string twilio_payload(const std::string& auth_token,
                           const std::optional<std::string>& number) {
  json::object o;
  o["sid"] = valid_sid();
  o["auth_token"] = auth_token;
  if (number) o["number"] = *number;
  return to_json(o);
}

json::object widget_app() {
  return json::parse(R"({
      "slug": "widget",
      "name": "Widget",
      "description": "A test app with one field of each type.",
      "icon": "https://example.com/widget.png",
      "tags": ["test", "widgets"],
      "auth_types": ["keybased"],
      "keybased": {
        "fields": [
          {"name": "api_key", "label": "API key", "type": "text", "secret": true,
           "placeholder": "wk_...", "help_text": "From the widget console.",
           "pattern": "wk_[a-z0-9]{8,32}"},
          {"name": "nickname", "label": "Nickname", "type": "text", "required": false,
           "min_length": 3, "max_length": 5},
          {"name": "count", "label": "Count", "type": "number", "required": false,
           "minimum": 1, "maximum": 100},
          {"name": "enabled", "label": "Enabled", "type": "boolean", "required": false},
          {"name": "region", "label": "Region", "type": "select", "required": true,
           "options": [{"name": "United States", "value": "us"},
                       {"name": "Europe", "value": "eu"}]},
          {"name": "notes", "label": "Notes", "type": "text", "required": false}
        ]
      }
    })")
      .as_object();
}

json::array widget_catalog() {
  json::array a;
  a.push_back(widget_app());
  return a;
}

std::string widget_key() {
  std::string t = random_token(24);
  for (auto& ch : t) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return "wk_" + t;
}

json::object widget_payload(const std::string& api_key) {
  json::object o;
  o["api_key"] = api_key;
  o["region"] = "us";
  return o;
}

// ---- Clients -------------------------------------------------------------------------

int try_open(const char* config, ClientPtr& out) {
  refold_client* c = nullptr;
  const int rc = refold_client_open(&c, config);
  out.reset(c);
  if (rc != REFOLD_OK) CHECK_MESSAGE(c == nullptr, "a failed open must leave *out NULL");
  return rc;
}

int try_open(const std::string& config, ClientPtr& out) {
  return try_open(config.c_str(), out);
}

ClientPtr open_client(const std::string& config) {
  ClientPtr c;
  const int rc = try_open(config, c);
  INFO("refold_last_error: " << last_error());
  REQUIRE(rc == REFOLD_OK);
  REQUIRE(c != nullptr);
  return c;
}

void connect_ok(refold_client* c, const char* account, const char* app,
                const std::string& payload) {
  const int rc = refold_connect(c, account, app, payload.c_str());
  const std::string what = std::string("refold_connect(") + (account ? account : "NULL") + ", " +
                           (app ? app : "NULL") + "): " + last_error();
  INFO(what);
  REQUIRE(rc == REFOLD_OK);
}

std::string take(char* s) {
  if (s == nullptr) return {};
  std::string out(s);
  refold_free(s);
  return out;
}

std::string last_error() {
  const char* e = refold_last_error();
  return e ? std::string(e) : std::string("<NULL>");
}

std::string get_credentials(refold_client* c, const char* account, const char* app, int& rc) {
  char* out = nullptr;
  rc = refold_get_credentials(c, account, app, &out);
  if (rc != REFOLD_OK) CHECK_MESSAGE(out == nullptr, "a failed call must set *json_out to NULL");
  return take(out);
}

json::object credential_fields(refold_client* c, const char* account, const char* app) {
  int rc = 0;
  const std::string text = get_credentials(c, account, app, rc);
  INFO("refold_last_error: " << last_error());
  REQUIRE(rc == REFOLD_OK);
  const json::value v = parse(text);
  REQUIRE(v.is_object());
  const auto& o = v.as_object();
  CHECK(str_at(o, "auth_type") == "keybased");
  REQUIRE(o.contains("fields"));
  REQUIRE(o.at("fields").is_object());
  return o.at("fields").as_object();
}

std::string list_apps_text(refold_client* c, const char* account) {
  char* out = nullptr;
  const int rc = refold_list_apps(c, account, &out);
  INFO("refold_last_error: " << last_error());
  REQUIRE(rc == REFOLD_OK);
  REQUIRE(out != nullptr);
  return take(out);
}

std::string list_connections_text(refold_client* c, const char* account) {
  char* out = nullptr;
  const int rc = refold_list_connections(c, account, &out);
  INFO("refold_last_error: " << last_error());
  REQUIRE(rc == REFOLD_OK);
  REQUIRE(out != nullptr);
  return take(out);
}

json::array list_apps(refold_client* c, const char* account) {
  const json::value v = parse(list_apps_text(c, account));
  REQUIRE(v.is_array());
  return v.as_array();
}

json::array list_connections(refold_client* c, const char* account) {
  const json::value v = parse(list_connections_text(c, account));
  REQUIRE(v.is_array());
  return v.as_array();
}

json::object find_app(const json::array& apps, std::string_view slug) {
  for (const auto& a : apps) {
    if (!a.is_object()) continue;
    const auto& o = a.as_object();
    const auto* s = o.if_contains("slug");
    if (s && s->is_string() && s->as_string() == slug) return o;
  }
  FAIL("app not in the listing: " << slug);
  return {};
}

// ---- JSON ------------------------------------------------------------------------------

json::value parse(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) {
    FAIL_CHECK("the library returned text that is not valid JSON (" << text.size() << " bytes)");
    return nullptr;
  }
  return v;
}

bool is_rfc3339_utc(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z, checked by hand (std::regex trips
  // GCC 12's maybe-uninitialized warning in sanitizer builds).
  static constexpr std::string_view shape = "dddd-dd-ddTdd:dd:dd";
  if (s.size() < shape.size() + 1) return false;
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const char want = shape[i];
    const char got = s[i];
    if (want == 'd' ? !(got >= '0' && got <= '9') : got != want) return false;
  }
  std::size_t i = shape.size();
  if (s[i] == '.') {
    std::size_t digits = 0;
    for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) ++digits;
    if (digits < 1 || digits > 9) return false;
  }
  return i + 1 == s.size() && s[i] == 'Z';
}

std::string str_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) {
    FAIL_CHECK("missing key: " << key);
    return "<missing>";
  }
  if (!v->is_string()) {
    FAIL_CHECK("not a string: " << key);
    return "<not a string>";
  }
  return std::string(v->as_string());
}

bool has_key(const json::object& o, std::string_view key) {
  return o.contains(key);
}

bool field_is(const json::object& o, std::string_view name, std::string_view expected) {
  const auto* v = o.if_contains(name);
  return v != nullptr && v->is_string() && v->as_string() == expected;
}

// ---- Events --------------------------------------------------------------------------------

void EventRecorder::callback(const char* event_json, void* payload) {
  auto* self = static_cast<EventRecorder*>(payload);
  std::lock_guard<std::mutex> lock(self->mu_);
  self->events_.emplace_back(event_json ? event_json : "<NULL>");
}

void EventRecorder::install(refold_client* c) {
  const int rc = refold_set_event_handler(c, &EventRecorder::callback, this, nullptr);
  INFO("refold_last_error: " << last_error());
  REQUIRE(rc == REFOLD_OK);
}

std::vector<std::string> EventRecorder::texts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_;
}

std::vector<json::object> EventRecorder::events() const {
  std::vector<json::object> out;
  for (const auto& t : texts()) {
    json::value v = parse(t);
    if (v.is_object()) {
      out.push_back(v.as_object());
    } else {
      FAIL_CHECK("an event is not a JSON object");
      out.emplace_back();
    }
  }
  return out;
}

std::size_t EventRecorder::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_.size();
}

void EventRecorder::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  events_.clear();
}

// ---- SQLite ----------------------------------------------------------------------------------

namespace {

struct Db {
  sqlite3* db = nullptr;
  explicit Db(const std::string& path) {
    // A test of the SQLite file itself belongs to the SQLite store's suite
    // only (test suite "sqlite"; tests/postgres leaves it out).
    if (path.find("://") != std::string::npos)
      FAIL("a SQLite-only helper was given the PostgreSQL store " << pg_shown(path)
                                                                  << ": tag the test case test_suite(\"sqlite\")");
    const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr);
    if (rc != SQLITE_OK) {
      const std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
      sqlite3_close(db);
      db = nullptr;
      FAIL("sqlite3_open_v2(" << path << "): " << msg);
    }
    sqlite3_busy_timeout(db, 60000);
  }
  ~Db() { sqlite3_close(db); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
};

struct Stmt {
  sqlite3_stmt* st = nullptr;
  Stmt(sqlite3* db, const std::string& sql) {
    const int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
    REQUIRE_MESSAGE(rc == SQLITE_OK, "prepare failed: " << sqlite3_errmsg(db) << " in: " << sql);
  }
  ~Stmt() { sqlite3_finalize(st); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
};

}  // namespace

// The same helpers on a PostgreSQL store (a URI): the statements run with
// the store's default schema first in the search path; "?1" is the one
// bytea parameter; a bytea comes back as its bytes.
namespace {

bool is_uri(const std::string& db) { return db.find("://") != std::string::npos; }

struct PgSession {
  PGconn* c = nullptr;
  explicit PgSession(const std::string& uri) {
    c = PQconnectdb(uri.c_str());
    if (PQstatus(c) != CONNECTION_OK) {
      const std::string msg = PQerrorMessage(c);
      PQfinish(c);
      c = nullptr;
      FAIL("PostgreSQL (" << pg_shown(uri) << "): " << msg);
    }
    PGresult* r = PQexec(c, "SET search_path TO refold");
    PQclear(r);
  }
  ~PgSession() { PQfinish(c); }
  PgSession(const PgSession&) = delete;
  PgSession& operator=(const PgSession&) = delete;

  // Runs `sql` (with "?1" bound to `blob` when given); REQUIREs success.
  PGresult* run(std::string sql, const std::vector<std::uint8_t>* blob = nullptr) {
    PGresult* r = nullptr;
    if (blob) {
      for (std::size_t at = sql.find("?1"); at != std::string::npos; at = sql.find("?1", at))
        sql.replace(at, 2, "$1");
      const char* values[] = {reinterpret_cast<const char*>(blob->data())};
      const int lengths[] = {static_cast<int>(blob->size())};
      const int formats[] = {1};
      r = PQexecParams(c, sql.c_str(), 1, nullptr, values, lengths, formats, 0);
    } else {
      r = PQexec(c, sql.c_str());
    }
    const ExecStatusType st = PQresultStatus(r);
    const std::string msg = PQresultErrorMessage(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      PQclear(r);
      FAIL("PostgreSQL statement failed: " << msg << " in: " << sql);
    }
    return r;
  }
};

std::vector<std::uint8_t> bytea_of(const char* text) {
  std::vector<std::uint8_t> out;
  std::size_t n = 0;
  unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &n);
  REQUIRE(raw != nullptr);
  out.assign(raw, raw + n);
  PQfreemem(raw);
  return out;
}

}  // namespace

void sql_exec(const std::string& db, const std::string& sql) {
  if (is_uri(db)) {
    PgSession s(db);
    PQclear(s.run(sql));
    return;
  }
  Db d(db);
  char* err = nullptr;
  const int rc = sqlite3_exec(d.db, sql.c_str(), nullptr, nullptr, &err);
  const std::string msg = err ? err : "";
  sqlite3_free(err);
  REQUIRE_MESSAGE(rc == SQLITE_OK, "sqlite3_exec failed: " << msg << " in: " << sql);
}

std::vector<std::vector<std::string>> sql_query(const std::string& db, const std::string& sql) {
  if (is_uri(db)) {
    PgSession s(db);
    PGresult* r = s.run(sql);
    std::vector<std::vector<std::string>> rows;
    for (int i = 0; i < PQntuples(r); ++i) {
      std::vector<std::string> row;
      for (int j = 0; j < PQnfields(r); ++j)
        row.emplace_back(PQgetisnull(r, i, j) ? "<null>" : PQgetvalue(r, i, j));
      rows.push_back(std::move(row));
    }
    PQclear(r);
    return rows;
  }
  Db d(db);
  Stmt s(d.db, sql);
  std::vector<std::vector<std::string>> rows;
  for (;;) {
    const int rc = sqlite3_step(s.st);
    if (rc == SQLITE_DONE) break;
    REQUIRE_MESSAGE(rc == SQLITE_ROW, "step failed: " << sqlite3_errmsg(d.db) << " in: " << sql);
    std::vector<std::string> row;
    const int n = sqlite3_column_count(s.st);
    for (int i = 0; i < n; ++i) {
      if (sqlite3_column_type(s.st, i) == SQLITE_NULL) {
        row.emplace_back("<null>");
      } else {
        const auto* p = sqlite3_column_text(s.st, i);
        const int len = sqlite3_column_bytes(s.st, i);
        row.emplace_back(reinterpret_cast<const char*>(p), static_cast<std::size_t>(len));
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string sql_scalar(const std::string& db, const std::string& sql) {
  auto rows = sql_query(db, sql);
  REQUIRE_MESSAGE(!rows.empty(), "no row from: " << sql);
  REQUIRE(!rows[0].empty());
  return rows[0][0];
}

std::vector<std::uint8_t> sql_blob(const std::string& db, const std::string& sql) {
  if (is_uri(db)) {
    PgSession s(db);
    PGresult* r = s.run(sql);
    const bool row = PQntuples(r) > 0;
    std::vector<std::uint8_t> out = row ? bytea_of(PQgetvalue(r, 0, 0)) : std::vector<std::uint8_t>{};
    PQclear(r);
    REQUIRE_MESSAGE(row, "no row from: " << sql);
    return out;
  }
  Db d(db);
  Stmt s(d.db, sql);
  const int rc = sqlite3_step(s.st);
  REQUIRE_MESSAGE(rc == SQLITE_ROW, "no row from: " << sql);
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s.st, 0));
  const int len = sqlite3_column_bytes(s.st, 0);
  return std::vector<std::uint8_t>(p, p + len);
}

int sql_exec_blob(const std::string& db, const std::string& sql,
                  const std::vector<std::uint8_t>& blob) {
  if (is_uri(db)) {
    PgSession s(db);
    PGresult* r = s.run(sql, &blob);
    const int changed = std::atoi(PQcmdTuples(r));
    PQclear(r);
    return changed;
  }
  Db d(db);
  Stmt s(d.db, sql);
  REQUIRE(sqlite3_bind_blob(s.st, 1, blob.data(), static_cast<int>(blob.size()),
                            SQLITE_TRANSIENT) == SQLITE_OK);
  const int rc = sqlite3_step(s.st);
  REQUIRE_MESSAGE(rc == SQLITE_DONE, "step failed: " << sqlite3_errmsg(d.db) << " in: " << sql);
  return sqlite3_changes(d.db);
}

std::string integrity_check(const std::string& db) {
  auto rows = sql_query(db, "PRAGMA integrity_check");
  std::string out;
  for (const auto& r : rows) {
    if (!out.empty()) out += '\n';
    if (!r.empty()) out += r[0];
  }
  return out;
}

}  // namespace refold_test
