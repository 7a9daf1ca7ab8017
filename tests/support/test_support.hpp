// Helpers shared by the API tests: temporary folders, keys, configs, clients,
// JSON, an event recorder and direct access to the SQLite store file.
//
// Everything here goes through refold.h, sqlite3 or POSIX; nothing reaches
// into the library's internals.
#pragma once

#include <refold.h>

#include <boost/json.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace refold_test {

namespace json = boost::json;

// ---- Files and folders ------------------------------------------------------

// A fresh folder (mkdtemp under $TMPDIR, else /tmp), removed with everything
// in it when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string file(std::string_view name) const;
  // The store path tests use by default: path() + "/refold.db".
  std::string store() const { return file("refold.db"); }

 private:
  std::string path_;
};

// Whole-file helpers. read_file returns std::nullopt when the file is missing.
std::optional<std::string> read_file(const std::string& path);
void write_file(const std::string& path, std::string_view data);
// write_file, then chmod 0600: how a key file is kept.
void write_private_file(const std::string& path, std::string_view data);
bool file_exists(const std::string& path);
// st_mode & 07777 of a path; -1 when it does not exist.
int file_mode(const std::string& path);
void remove_file(const std::string& path);
// Copy a file byte for byte (REQUIREs success).
void copy_file(const std::string& from, const std::string& to);

// Sets (or, with std::nullopt, unsets) an environment variable for the
// lifetime of the object and restores the previous state afterwards. Only use
// while no other thread runs.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, std::optional<std::string> value);
  ~ScopedEnv();
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// ---- Keys and configs --------------------------------------------------------

// 32 random bytes.
std::vector<std::uint8_t> random_key_bytes();
std::string to_hex(const std::vector<std::uint8_t>& bytes);
std::string to_base64(const std::vector<std::uint8_t>& bytes);
// A random master key as 64 lower-case hex characters.
std::string random_hex_key();

// {"store": "<store>", "master_key": "<key>"} as JSON text.
std::string make_config(const std::string& store, const std::string& master_key);
// Same as a JSON object, to add keys to before serialising.
json::object config_object(const std::string& store, const std::string& master_key);
std::string to_json(const json::value& v);

// ---- PostgreSQL ----------------------------------------------------------------

// The test server's URI when this run is against PostgreSQL: the contents
// of the file REFOLD_TEST_POSTGRES_URI_FILE names (tests/postgres sets it
// for the suites it runs against a private server), else std::nullopt.
std::optional<std::string> postgres_uri();
// A new, empty database on the test server; returns its URI (REQUIREs
// postgres_uri()).
std::string new_postgres_database();
// Runs one or more statements against the database at `uri`; REQUIREs
// success. The first column of the first row of the last statement, or "".
std::string pg_exec(const std::string& uri, const std::string& sql);
// `uri` without its password (for messages).
std::string pg_shown(const std::string& uri);

// Where a test's store lives: a fresh database when the run is against
// PostgreSQL, else dir.store().
std::string test_store_location(const TempDir& dir);

// A store with its own folder and master key: the usual fixture. Against
// PostgreSQL, `path` is the URI of a database of its own.
struct Store {
  TempDir dir;
  std::string key = random_hex_key();
  std::string path = test_store_location(dir);
  std::string config() const { return make_config(path, key); }
  std::string config_with_catalog(const json::array& catalog) const;
};

// ---- Test apps and payloads -------------------------------------------------------

// A valid Twilio account SID ("AC" + 32 hex).
std::string valid_sid();
// `n` random letters and digits: distinctive secret values.
std::string random_token(std::size_t n = 40);
// {"sid": valid_sid(), "auth_token": token[, "number": number]}
std::string twilio_payload(const std::string& auth_token,
                           const std::optional<std::string>& number = std::nullopt);
// The "widget" app: key-based, one field of each type:
//   api_key   text, required (by default), secret, pattern wk_[a-z0-9]{8,32}
//   nickname  text, optional, 3..5 characters
//   count     number, optional, 1..100
//   enabled   boolean, optional
//   region    select, required, options us / eu
//   notes     text, optional, no explicit limits
json::object widget_app();
json::array widget_catalog();
// A random valid widget api_key: "wk_" + 24 lower-case letters and digits.
std::string widget_key();
// A valid widget payload with the given api_key.
json::object widget_payload(const std::string& api_key);

// ---- Clients -----------------------------------------------------------------

struct ClientDeleter {
  void operator()(refold_client* c) const noexcept { refold_client_free(c); }
};
using ClientPtr = std::unique_ptr<refold_client, ClientDeleter>;

// Opens a client, REQUIREs success (showing refold_last_error() otherwise).
ClientPtr open_client(const std::string& config);
// Opens a client and returns the code; `out` holds the client on success.
int try_open(const std::string& config, ClientPtr& out);
int try_open(const char* config, ClientPtr& out);

// A store and a client on it whose catalog adds the widget app.
struct WidgetClient {
  Store store;
  ClientPtr client = open_client(store.config_with_catalog(widget_catalog()));
  refold_client* c() const { return client.get(); }
};

// Turns a string returned by refold into std::string and refold_free()s it.
// NULL gives "".
std::string take(char* s);

// refold_connect that REQUIREs success (showing refold_last_error()).
void connect_ok(refold_client* c, const char* account, const char* app, const std::string& payload);

// refold_last_error() as std::string.
std::string last_error();

// refold_get_credentials; `rc` gets the code. Returns the JSON text ("" on
// failure).
std::string get_credentials(refold_client* c, const char* account, const char* app, int& rc);
// REQUIREs that the credentials read and returns the "fields" object.
json::object credential_fields(refold_client* c, const char* account, const char* app);
// refold_list_apps / refold_list_connections, parsed; REQUIRE success.
std::string list_apps_text(refold_client* c, const char* account);
std::string list_connections_text(refold_client* c, const char* account);
json::array list_apps(refold_client* c, const char* account);
json::array list_connections(refold_client* c, const char* account);
// The app with `slug` in a list_apps result (REQUIREs it is there).
json::object find_app(const json::array& apps, std::string_view slug);

// ---- JSON ------------------------------------------------------------------------

// Parses JSON text; a parse failure fails the current test without echoing
// the text (it may hold secrets) and gives null.
json::value parse(std::string_view text);
// Whether a string is an RFC 3339 UTC timestamp (YYYY-MM-DDTHH:MM:SS[.f]Z).
bool is_rfc3339_utc(std::string_view s);
// Convenience accessors that fail the test (not crash) on a missing key or a
// wrong type.
std::string str_at(const json::object& o, std::string_view key);
bool has_key(const json::object& o, std::string_view key);
// Whether o[name] is the string `expected`. For comparing secrets: a failed
// CHECK(field_is(...)) prints no value.
bool field_is(const json::object& o, std::string_view name, std::string_view expected);

// ---- Events ---------------------------------------------------------------------

// Records every event a client emits. Install with install(); the recorder
// must outlive the registration (refold_client_free or another
// set_event_handler ends it).
class EventRecorder {
 public:
  static void callback(const char* event_json, void* payload);
  // Registers this recorder as `c`'s handler (no free_payload); REQUIREs success.
  void install(refold_client* c);
  std::vector<std::string> texts() const;
  std::vector<json::object> events() const;
  std::size_t size() const;
  void clear();

 private:
  mutable std::mutex mu_;
  std::vector<std::string> events_;
};

// ---- SQLite, straight on the store file --------------------------------------------
// Given a PostgreSQL store's URI instead, sql_exec, sql_query, sql_scalar,
// sql_blob and sql_exec_blob run there (schema "refold"; "?1" is the blob),
// so a case that reads or changes rows in portable SQL runs on both stores.

// Runs one or more statements; REQUIREs success.
void sql_exec(const std::string& db, const std::string& sql);
// Runs a query and returns every row, each column as text (NULL -> "<null>").
std::vector<std::vector<std::string>> sql_query(const std::string& db, const std::string& sql);
// The first column of the first row (REQUIREs a row).
std::string sql_scalar(const std::string& db, const std::string& sql);
// The blob in the first column of the first row.
std::vector<std::uint8_t> sql_blob(const std::string& db, const std::string& sql);
// Runs a statement with one blob bound to ?1; returns sqlite3_changes().
int sql_exec_blob(const std::string& db, const std::string& sql,
                  const std::vector<std::uint8_t>& blob);
// PRAGMA integrity_check result ("ok" when sound).
std::string integrity_check(const std::string& db);

// ---- Misc -------------------------------------------------------------------------

// Whether `haystack` contains `needle`; for asserting a secret is absent
// without printing either.
inline bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace refold_test
