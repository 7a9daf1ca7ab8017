// Opening a client: configuration, key sources, error reporting, catalogs.
#include "test_support.hpp"

#include <sys/stat.h>


#include <doctest/doctest.h>

#include <cctype>
#include <functional>
#include <string>
#include <thread>
#include <vector>

using namespace refold_test;

namespace {

// Connects twilio for `account` with `token` and checks it reads back.
void put_twilio(refold_client* c, const char* account, const std::string& token) {
  connect_ok(c, account, "twilio", twilio_payload(token));
  CHECK(field_is(credential_fields(c, account, "twilio"), "auth_token", token));
}

// Whether `c` returns `token` as the twilio auth_token of `account`.
bool reads_twilio(refold_client* c, const char* account, const std::string& token) {
  int rc = 0;
  const std::string text = get_credentials(c, account, "twilio", rc);
  if (rc != REFOLD_OK) return false;
  const json::value v = parse(text);
  if (!v.is_object()) return false;
  const auto* fields = v.as_object().if_contains("fields");
  if (fields == nullptr || !fields->is_object()) return false;
  const auto* t = fields->as_object().if_contains("auth_token");
  return t != nullptr && t->is_string() && t->as_string() == token;
}

// A config object with only "store".
json::object store_only(const std::string& store) {
  json::object o;
  o["store"] = store;
  return o;
}

}  // namespace

// ---- Defaults ------------------------------------------------------------------------

TEST_CASE("open: NULL and empty config use the XDG data folder") {
  TempDir home;
  const std::string xdg = home.file("xdg");
  ScopedEnv h("HOME", home.path());
  ScopedEnv x("XDG_DATA_HOME", xdg);
  ScopedEnv k("REFOLD_MASTER_KEY", std::nullopt);

  const std::string store = xdg + "/refold/refold.db";
  const std::string token = random_token();
  {
    ClientPtr c;
    const int rc = try_open(nullptr, c);
    INFO("refold_last_error: " << last_error());
    REQUIRE(rc == REFOLD_OK);
    put_twilio(c.get(), "acct", token);
  }
  CHECK(file_exists(store));
  CHECK(file_mode(store + ".key") == 0600);
  CHECK(file_mode(xdg + "/refold") == 0700);
  {
    // "{}" finds the same store and key file.
    ClientPtr c;
    const int rc = try_open("{}", c);
    INFO("refold_last_error: " << last_error());
    REQUIRE(rc == REFOLD_OK);
    CHECK(reads_twilio(c.get(), "acct", token));
  }
  CHECK(!file_exists(home.file(".local/share/refold/refold.db")));
}

TEST_CASE("open: without an XDG data folder the store goes under HOME/.local/share") {
  TempDir home;
  ScopedEnv h("HOME", home.path());
  ScopedEnv x("XDG_DATA_HOME", std::nullopt);
  ScopedEnv k("REFOLD_MASTER_KEY", std::nullopt);

  const std::string store = home.file(".local/share/refold/refold.db");
  const std::string token = random_token();
  {
    ClientPtr c;
    const int rc = try_open("{}", c);
    INFO("refold_last_error: " << last_error());
    REQUIRE(rc == REFOLD_OK);
    put_twilio(c.get(), "acct", token);
  }
  CHECK(file_exists(store));
  CHECK(file_mode(store + ".key") == 0600);
  ClientPtr c;
  REQUIRE(try_open(nullptr, c) == REFOLD_OK);
  CHECK(reads_twilio(c.get(), "acct", token));
}

TEST_CASE("open: missing parent folders of the store are created with mode 0700") {
  TempDir dir;
  const std::string store = dir.file("a/b/refold.db");
  { ClientPtr c = open_client(make_config(store, random_hex_key())); }
  CHECK(file_exists(store));
  CHECK(file_mode(dir.file("a")) == 0700);
  CHECK(file_mode(dir.file("a/b")) == 0700);
}

TEST_CASE("open: reopening after close keeps every connection") {
  Store s;
  const std::string t1 = random_token(), t2 = random_token(), t3 = random_token();
  {
    ClientPtr c = open_client(s.config());
    put_twilio(c.get(), "alice", t1);
    put_twilio(c.get(), "bob", t2);
    connect_ok(c.get(), "alice", "openai", R"({"api_key":"sk-)" + t3 + R"("})");
  }
  ClientPtr c = open_client(s.config());
  CHECK(reads_twilio(c.get(), "alice", t1));
  CHECK(reads_twilio(c.get(), "bob", t2));
  CHECK(field_is(credential_fields(c.get(), "alice", "openai"), "api_key", "sk-" + t3));
  CHECK(list_connections(c.get(), nullptr).size() == 3);
}

TEST_CASE("open: NULL out parameter is rejected") {
  Store s;
  CHECK(refold_client_open(nullptr, s.config().c_str()) == REFOLD_EINVALID);
  CHECK(std::string(refold_last_error()) != "");
}

TEST_CASE("open: freeing a NULL client is a no-op") {
  refold_client_free(nullptr);
  refold_free(nullptr);
  CHECK(true);
}

// ---- Config validation --------------------------------------------------------------------

TEST_CASE("open: an unknown config key is rejected by name") {
  Store s;
  auto o = config_object(s.path, s.key);
  o["stroage_path"] = "/nowhere";
  ClientPtr c;
  CHECK(try_open(to_json(o), c) == REFOLD_EINVALID);
  const std::string msg = last_error();
  INFO("message: " << msg);
  CHECK(contains(msg, "stroage_path"));
  CHECK(!contains(msg, s.key));
  CHECK(!file_exists(s.path));
}

TEST_CASE("open: malformed configs are rejected") {
  Store s;
  const std::vector<std::string> bad = {
      R"({"store": )",
      R"({store: "x"})",
      "not json at all",
      R"([])",
      R"(["store"])",
      R"("store")",
      R"(42)",
      R"({"store": 5, "master_key": ")" + s.key + R"("})",
      R"({"store": ["a"], "master_key": ")" + s.key + R"("})",
      R"({"store": ")" + s.path + R"(", "master_key": 7})",
      R"({"store": ")" + s.path + R"(", "master_key": ")" + s.key + R"(", "catalog": 5})",
      R"({"store": ")" + s.path + R"(", "master_key": ")" + s.key + R"(", "catalog": {}})",
  };
  for (const auto& cfg : bad) {
    ClientPtr c;
    const int rc = try_open(cfg, c);
    const std::string msg = last_error();
    INFO("config #" << (&cfg - bad.data()) << " message: " << msg);
    CHECK(rc == REFOLD_EINVALID);
    CHECK(!msg.empty());
    CHECK(!contains(msg, s.key));
  }
  CHECK(!file_exists(s.path));
}

TEST_CASE("open: a master key of the wrong length or encoding is rejected") {
  Store s;
  const auto bytes = random_key_bytes();
  const std::string hex = to_hex(bytes);
  std::vector<std::uint8_t> short_bytes(bytes.begin(), bytes.end() - 1);
  std::vector<std::uint8_t> long_bytes = bytes;
  long_bytes.push_back(0x42);
  std::string not_hex = hex;
  not_hex[10] = 'g';
  not_hex[11] = 'z';
  std::string bad_b64 = to_base64(bytes);
  bad_b64[5] = '*';
  bad_b64[6] = '!';
  const std::vector<std::string> bad = {
      "",
      hex.substr(0, 62),
      hex + "ab",
      not_hex,
      to_base64(short_bytes),
      to_base64(long_bytes),
      bad_b64,
      "correct horse battery staple",
  };
  for (const auto& key : bad) {
    ClientPtr c;
    const int rc = try_open(make_config(s.path, key), c);
    const std::string msg = last_error();
    INFO("key #" << (&key - bad.data()));
    CHECK(rc == REFOLD_EINVALID);
    CHECK(contains(msg, "master_key"));
    if (!key.empty()) CHECK(!contains(msg, key));
  }
  // The rejected opens did not make the store unusable: it opens without a
  // key in the config, taking a fresh key file since it holds no data.
  ScopedEnv env("REFOLD_MASTER_KEY", std::nullopt);
  json::object o;
  o["store"] = s.path;
  const std::string token = random_token();
  {
    ClientPtr c = open_client(to_json(o));
    put_twilio(c.get(), "acct", token);
  }
  CHECK(file_mode(s.path + ".key") == 0600);
  ClientPtr c = open_client(to_json(o));
  CHECK(reads_twilio(c.get(), "acct", token));
}

TEST_CASE("open: at most one key source among master key and key file and passphrase") {
  Store s;
  const std::string key_file = s.dir.file("key");
  write_private_file(key_file, random_hex_key());
  struct Combo {
    bool key, file, pass;
  };
  for (const Combo combo : {Combo{true, true, false}, Combo{true, false, true},
                            Combo{false, true, true}, Combo{true, true, true}}) {
    json::object o = store_only(s.path);
    if (combo.key) o["master_key"] = s.key;
    if (combo.file) o["key_file"] = key_file;
    if (combo.pass) o["passphrase"] = "open sesame 123";
    ClientPtr c;
    INFO("master_key " << combo.key << " key_file " << combo.file << " passphrase " << combo.pass);
    CHECK(try_open(to_json(o), c) == REFOLD_EINVALID);
    const std::string msg = last_error();
    CHECK(!contains(msg, s.key));
    CHECK(!contains(msg, "open sesame 123"));
  }
}

// ---- Key sources ---------------------------------------------------------------------------

TEST_CASE("open: the master key is accepted as hex and as base64") {
  TempDir dir;
  const std::string store = dir.store();
  const auto bytes = random_key_bytes();
  const std::string token = random_token();

  SUBCASE("created with hex and reopened with base64") {
    {
      ClientPtr c = open_client(make_config(store, to_hex(bytes)));
      put_twilio(c.get(), "acct", token);
    }
    ClientPtr c = open_client(make_config(store, to_base64(bytes)));
    CHECK(reads_twilio(c.get(), "acct", token));
  }
  SUBCASE("created with base64 and reopened with hex") {
    {
      ClientPtr c = open_client(make_config(store, to_base64(bytes)));
      put_twilio(c.get(), "acct", token);
    }
    ClientPtr c = open_client(make_config(store, to_hex(bytes)));
    CHECK(reads_twilio(c.get(), "acct", token));
  }
  SUBCASE("upper-case hex is the same key") {
    {
      ClientPtr c = open_client(make_config(store, to_hex(bytes)));
      put_twilio(c.get(), "acct", token);
    }
    std::string upper = to_hex(bytes);
    for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    ClientPtr c = open_client(make_config(store, upper));
    CHECK(reads_twilio(c.get(), "acct", token));
  }
}

TEST_CASE("open: a key file other users can read is refused") {
  TempDir dir;
  const std::string key_file = dir.file("master.key");
  const std::string key = to_hex(random_key_bytes());
  write_private_file(key_file, key);
  REQUIRE(::chmod(key_file.c_str(), 0644) == 0);
  json::object o = store_only(dir.store());
  o["key_file"] = key_file;
  ClientPtr c;
  CHECK(try_open(to_json(o), c) == REFOLD_EINVALID);
  const std::string msg = last_error();
  CHECK(contains(msg, "other users"));
  CHECK_FALSE(contains(msg, key));
  // Once the file is private again, the same config opens.
  REQUIRE(::chmod(key_file.c_str(), 0600) == 0);
  CHECK(try_open(to_json(o), c) == REFOLD_OK);
}

TEST_CASE("open: a key file holding the key") {
  TempDir dir;
  const std::string store = dir.store();
  const std::string key_file = dir.file("master.key");
  const auto bytes = random_key_bytes();
  const std::string token = random_token();

  SUBCASE("hex") {
    write_private_file(key_file, to_hex(bytes));
  }
  SUBCASE("base64") {
    write_private_file(key_file, to_base64(bytes));
  }

  json::object o = store_only(store);
  o["key_file"] = key_file;
  {
    ClientPtr c = open_client(to_json(o));
    put_twilio(c.get(), "acct", token);
  }
  // The key in the file is the store's key: the same bytes given inline open it.
  ClientPtr c = open_client(make_config(store, to_hex(bytes)));
  CHECK(reads_twilio(c.get(), "acct", token));
  c.reset();
  // And the key file reopens it too.
  c = open_client(to_json(o));
  CHECK(reads_twilio(c.get(), "acct", token));
}

TEST_CASE("open: a key file with a trailing newline") {
  // What `openssl rand -hex 32 > key` writes.
  TempDir dir;
  const std::string key_file = dir.file("master.key");
  const auto bytes = random_key_bytes();
  write_private_file(key_file, to_hex(bytes) + "\n");
  json::object o = store_only(dir.store());
  o["key_file"] = key_file;
  const std::string token = random_token();
  {
    ClientPtr c = open_client(to_json(o));
    put_twilio(c.get(), "acct", token);
  }
  ClientPtr c = open_client(make_config(dir.store(), to_hex(bytes)));
  CHECK(reads_twilio(c.get(), "acct", token));
}

TEST_CASE("open: a key file with a malformed key is rejected") {
  TempDir dir;
  const std::string key_file = dir.file("master.key");
  const std::string bad = "not-a-key-" + random_token(20);
  write_private_file(key_file, bad);
  json::object o = store_only(dir.store());
  o["key_file"] = key_file;
  ClientPtr c;
  const int rc = try_open(to_json(o), c);
  CHECK((rc == REFOLD_EINVALID || rc == REFOLD_ECRYPTO));
  CHECK(!contains(last_error(), bad));
}

TEST_CASE("open: passphrase derives the key") {
  Store s;
  const std::string pass = "correct horse battery staple " + random_token(8);
  json::object o = store_only(s.path);
  o["passphrase"] = pass;
  const std::string token = random_token();
  {
    ClientPtr c = open_client(to_json(o));
    put_twilio(c.get(), "acct", token);
  }
  {
    ClientPtr c = open_client(to_json(o));
    CHECK(reads_twilio(c.get(), "acct", token));
  }
  json::object wrong = store_only(s.path);
  wrong["passphrase"] = "incorrect horse battery staple";
  ClientPtr c;
  CHECK(try_open(to_json(wrong), c) == REFOLD_ECRYPTO);
  const std::string msg = last_error();
  CHECK(!msg.empty());
  CHECK(!contains(msg, "incorrect horse"));
  CHECK(!contains(msg, pass));
  // The passphrase is not stored anywhere in the file.
  auto db = read_file(s.path);
  REQUIRE(db.has_value());
  CHECK(!contains(*db, pass));
}

TEST_CASE("open: the master key environment variable is used when the config has no key") {
  TempDir dir;
  const std::string store = dir.store();
  const std::string key = random_hex_key();
  const std::string token = random_token();
  {
    ScopedEnv env("REFOLD_MASTER_KEY", key);
    ClientPtr c = open_client(to_json(store_only(store)));
    put_twilio(c.get(), "acct", token);
  }
  // The key came from the environment, so no key file was made.
  CHECK(!file_exists(store + ".key"));
  {
    ScopedEnv env("REFOLD_MASTER_KEY", std::nullopt);
    ClientPtr c = open_client(make_config(store, key));
    CHECK(reads_twilio(c.get(), "acct", token));
  }
  {
    // A different key in the environment is a wrong key.
    ScopedEnv env("REFOLD_MASTER_KEY", random_hex_key());
    ClientPtr c;
    CHECK(try_open(to_json(store_only(store)), c) == REFOLD_ECRYPTO);
  }
  {
    // A key in the config wins over the environment.
    ScopedEnv env("REFOLD_MASTER_KEY", random_hex_key());
    ClientPtr c = open_client(make_config(store, key));
    CHECK(reads_twilio(c.get(), "acct", token));
  }
}

TEST_CASE("open: an empty master key environment variable counts as unset") {
  TempDir dir;
  const std::string store = dir.store();
  const std::string token = random_token();
  ScopedEnv env("REFOLD_MASTER_KEY", std::string());
  {
    ClientPtr c = open_client(to_json(store_only(store)));
    put_twilio(c.get(), "acct", token);
  }
  CHECK(file_mode(store + ".key") == 0600);
  ClientPtr c = open_client(to_json(store_only(store)));
  CHECK(reads_twilio(c.get(), "acct", token));
}

TEST_CASE("open: a wrong master key fails and leaves the store untouched") {
  Store s;
  const std::string t1 = random_token(), t2 = random_token();
  {
    ClientPtr c = open_client(s.config());
    put_twilio(c.get(), "alice", t1);
    put_twilio(c.get(), "bob", t2);
  }
  const auto before = read_file(s.path);
  REQUIRE(before.has_value());
  const bool wal_before = file_exists(s.path + "-wal");

  const std::string wrong = random_hex_key();
  ClientPtr bad;
  CHECK(try_open(make_config(s.path, wrong), bad) == REFOLD_ECRYPTO);
  const std::string msg = last_error();
  CHECK(!msg.empty());
  CHECK(!contains(msg, wrong));
  CHECK(!contains(msg, s.key));

  const auto after = read_file(s.path);
  REQUIRE(after.has_value());
  CHECK(before->size() == after->size());
  CHECK(*before == *after);
  CHECK(file_exists(s.path + "-wal") == wal_before);

  ClientPtr c = open_client(s.config());
  CHECK(reads_twilio(c.get(), "alice", t1));
  CHECK(reads_twilio(c.get(), "bob", t2));
}

TEST_CASE("open: a missing key file over existing data is a crypto error") {
  TempDir dir;
  const std::string store = dir.store();
  const std::string key_file = store + ".key";
  ScopedEnv env("REFOLD_MASTER_KEY", std::nullopt);
  const std::string token = random_token();
  {
    ClientPtr c = open_client(to_json(store_only(store)));
    put_twilio(c.get(), "acct", token);
  }
  const auto key = read_file(key_file);
  REQUIRE(key.has_value());
  remove_file(key_file);
  const auto before = read_file(store);
  REQUIRE(before.has_value());
  {
    ClientPtr c;
    CHECK(try_open(to_json(store_only(store)), c) == REFOLD_ECRYPTO);
    CHECK(!last_error().empty());
  }
  // No fresh key was made over the old data, and the data is untouched.
  CHECK(!file_exists(key_file));
  CHECK(read_file(store) == before);
  // Putting the key file back opens it again.
  write_private_file(key_file, *key);
  ClientPtr c = open_client(to_json(store_only(store)));
  CHECK(reads_twilio(c.get(), "acct", token));
}

// ---- Errors and version ------------------------------------------------------------------

TEST_CASE("errors: codes have their stable values") {
  CHECK(REFOLD_OK == 0);
  CHECK(REFOLD_ERROR == -1);
  CHECK(REFOLD_EINVALID == -2);
  CHECK(REFOLD_ENOTFOUND == -3);
  CHECK(REFOLD_EREAUTH == -4);
  CHECK(REFOLD_EAUTH == -5);
  CHECK(REFOLD_ENETWORK == -6);
  CHECK(REFOLD_EPROVIDER == -7);
  CHECK(REFOLD_ESTATE == -8);
  CHECK(REFOLD_ESTORE == -9);
  CHECK(REFOLD_ECRYPTO == -10);
  CHECK(REFOLD_ETIMEOUT == -11);
  CHECK(REFOLD_ECANCELLED == -12);
}

TEST_CASE("errors: strerror gives distinct text for every code") {
  const std::string unknown = refold_strerror(12345);
  CHECK(unknown == "unknown error code");
  CHECK(std::string(refold_strerror(-13)) == "unknown error code");
  CHECK(std::string(refold_strerror(1)) == "unknown error code");
  std::vector<std::string> seen;
  for (int code = 0; code >= -12; --code) {
    const char* text = refold_strerror(code);
    INFO("code " << code);
    REQUIRE(text != nullptr);
    CHECK(std::string(text) != "");
    CHECK(std::string(text) != unknown);
    for (const auto& s : seen) CHECK(s != text);
    seen.emplace_back(text);
  }
}

TEST_CASE("errors: the runtime version matches the header") {
  REQUIRE(refold_version() != nullptr);
  CHECK(std::string(refold_version()) == REFOLD_VERSION_STRING);
}

TEST_CASE("errors: the last error is empty after a success and never NULL") {
  REQUIRE(refold_last_error() != nullptr);
  Store s;
  ClientPtr c = open_client(s.config());
  CHECK(std::string(refold_last_error()).empty());

  CHECK(refold_connect(c.get(), "acct", "no-such-app", "{}") == REFOLD_ENOTFOUND);
  REQUIRE(refold_last_error() != nullptr);
  CHECK(contains(last_error(), "no-such-app"));

  char* out = nullptr;
  REQUIRE(refold_list_apps(c.get(), nullptr, &out) == REFOLD_OK);
  take(out);
  REQUIRE(refold_last_error() != nullptr);
  CHECK(std::string(refold_last_error()).empty());

  CHECK(refold_connect(c.get(), "", "twilio", "{}") == REFOLD_EINVALID);
  CHECK(!last_error().empty());
  connect_ok(c.get(), "acct", "twilio", twilio_payload(random_token()));
  CHECK(std::string(refold_last_error()).empty());
}

TEST_CASE("errors: the last error is per thread") {
  Store s;
  ClientPtr c = open_client(s.config());
  CHECK(refold_connect(c.get(), "acct", "no-such-app", "{}") == REFOLD_ENOTFOUND);
  std::string other;
  std::thread t([&] {
    other = last_error();  // nothing failed on this thread
  });
  t.join();
  CHECK(other.empty());
  CHECK(contains(last_error(), "no-such-app"));
}

// ---- Catalog ------------------------------------------------------------------------------

TEST_CASE("catalog: inline app definitions are added to the built-ins") {
  Store s;
  ClientPtr c = open_client(s.config_with_catalog(widget_catalog()));
  const auto apps = list_apps(c.get(), nullptr);
  const auto widget = find_app(apps, "widget");
  CHECK(str_at(widget, "name") == "Widget");
  CHECK(str_at(widget, "description") == "A test app with one field of each type.");
  CHECK(str_at(widget, "icon") == "https://example.com/widget.png");
  find_app(apps, "twilio");
  find_app(apps, "github");
  const std::string key = widget_key();
  connect_ok(c.get(), "acct", "widget", to_json(widget_payload(key)));
  CHECK(field_is(credential_fields(c.get(), "acct", "widget"), "api_key", key));
}

TEST_CASE("catalog: a JSON file holding an array of app definitions") {
  Store s;
  const std::string file = s.dir.file("apps.json");
  write_file(file, to_json(widget_catalog()));
  auto o = config_object(s.path, s.key);
  o["catalog"] = file;
  ClientPtr c = open_client(to_json(o));
  const auto apps = list_apps(c.get(), nullptr);
  find_app(apps, "widget");
  find_app(apps, "twilio");
}

TEST_CASE("catalog: a missing catalog file is rejected naming the path") {
  Store s;
  const std::string file = s.dir.file("no-such-apps.json");
  auto o = config_object(s.path, s.key);
  o["catalog"] = file;
  ClientPtr c;
  CHECK(try_open(to_json(o), c) == REFOLD_EINVALID);
  INFO("message: " << last_error());
  CHECK(contains(last_error(), file));
}

TEST_CASE("catalog: a catalog file that is not an array of apps is rejected") {
  Store s;
  const std::string file = s.dir.file("apps.json");
  auto o = config_object(s.path, s.key);
  o["catalog"] = file;
  SUBCASE("not JSON") {
    write_file(file, "[{\"slug\": ");
  }
  SUBCASE("an object") {
    write_file(file, to_json(widget_app()));
  }
  ClientPtr c;
  CHECK(try_open(to_json(o), c) == REFOLD_EINVALID);
  INFO("message: " << last_error());
  CHECK(!last_error().empty());
}

TEST_CASE("catalog: an app with a built-in slug replaces the built-in one") {
  Store s;
  json::object app = widget_app();
  app["slug"] = "twilio";
  app["name"] = "My Twilio";
  json::array cat;
  cat.push_back(app);
  ClientPtr c = open_client(s.config_with_catalog(cat));
  const auto apps = list_apps(c.get(), nullptr);
  const auto twilio = find_app(apps, "twilio");
  CHECK(str_at(twilio, "name") == "My Twilio");
  std::size_t twilios = 0;
  for (const auto& a : apps)
    if (a.is_object() && a.as_object().if_contains("slug") && a.as_object().at("slug") == "twilio")
      ++twilios;
  CHECK(twilios == 1);
  find_app(apps, "stripe");
  // The replacement's fields apply, the built-in's do not.
  CHECK(refold_connect(c.get(), "acct", "twilio", twilio_payload(random_token()).c_str()) ==
        REFOLD_EINVALID);
  connect_ok(c.get(), "acct", "twilio", to_json(widget_payload(widget_key())));
}

TEST_CASE("catalog: oauth2 endpoints may use http only on loopback hosts") {
  Store s;
  json::object app = json::parse(R"({
      "slug": "local-oauth", "name": "Local", "description": "d", "icon": "i", "tags": [],
      "auth_types": ["oauth2"],
      "oauth2": {"authorization_endpoint": "http://127.0.0.1:8080/authorize",
                 "token_endpoint": "http://localhost:8080/token",
                 "revocation_endpoint": "http://[::1]:8080/revoke",
                 "scopes": ["a", "b"], "scope_separator": " ",
                 "token_endpoint_auth_method": "client_secret_basic", "pkce": true,
                 "extra_authorize_params": []}
    })")
                         .as_object();
  json::array cat;
  cat.push_back(app);
  ClientPtr c = open_client(s.config_with_catalog(cat));
  const auto local = find_app(list_apps(c.get(), nullptr), "local-oauth");
  REQUIRE(local.at("auth_types").is_array());
  CHECK(local.at("auth_types").as_array().size() == 1);
  CHECK(local.at("auth_types").as_array().at(0) == "oauth2");
  // A NULL payload asks for OAuth, which needs an oauth_clients registration
  // this config lacks: refused before any flow starts.
  CHECK(refold_connect(c.get(), "acct", "local-oauth", nullptr) == REFOLD_EINVALID);
  CHECK(contains(last_error(), "oauth_clients"));
}

namespace {

struct BadApp {
  const char* what;
  std::function<void(json::object&)> mutate;
  const char* names;  // the text the error must name (besides the slug)
  const char* slug = "widget";
};

json::object& field(json::object& app, std::size_t i) {
  return app["keybased"].as_object()["fields"].as_array()[i].as_object();
}

json::object oauth2_block() {
  return json::parse(R"({"authorization_endpoint": "https://example.com/authorize",
                           "token_endpoint": "https://example.com/token",
                           "scopes": ["read"], "scope_separator": " ",
                           "token_endpoint_auth_method": "client_secret_post", "pkce": true,
                           "extra_authorize_params": []})")
      .as_object();
}

}  // namespace

TEST_CASE("catalog: bad app definitions are rejected naming the slug and the key") {
  // Field indexes in widget_app(): 0 api_key text, 1 nickname text,
  // 2 count number, 3 enabled boolean, 4 region select, 5 notes text.
  const std::vector<BadApp> cases = {
      {"unknown field type", [](json::object& a) { field(a, 0)["type"] = "color"; }, "type"},
      {"type not a string", [](json::object& a) { field(a, 0)["type"] = 5; }, "type"},
      {"invalid regex", [](json::object& a) { field(a, 0)["pattern"] = "([a-z"; }, "pattern"},
      {"pattern on a number field", [](json::object& a) { field(a, 2)["pattern"] = "[0-9]+"; },
       "pattern"},
      {"min_length on a number field", [](json::object& a) { field(a, 2)["min_length"] = 1; },
       "min_length"},
      {"minimum on a text field", [](json::object& a) { field(a, 0)["minimum"] = 1; }, "minimum"},
      {"select without options", [](json::object& a) { field(a, 4).erase("options"); }, "options"},
      {"select with empty options", [](json::object& a) { field(a, 4)["options"] = json::array(); },
       "options"},
      {"required not a boolean", [](json::object& a) { field(a, 1)["required"] = "yes"; },
       "required"},
      {"unknown key in a field", [](json::object& a) { field(a, 1)["colour"] = "red"; }, "colour"},
      {"field name with capitals", [](json::object& a) { field(a, 1)["name"] = "Nick-Name"; },
       "name"},
      {"duplicate field name", [](json::object& a) { field(a, 1)["name"] = "api_key"; }, "api_key"},
      {"unknown key in the app", [](json::object& a) { a["colour"] = "red"; }, "colour"},
      {"tags not strings",
       [](json::object& a) {
         a["tags"] = json::array({1, 2});
       },
       "tags"},
      {"empty auth_types", [](json::object& a) { a["auth_types"] = json::array(); }, "auth_types"},
      {"unknown auth type",
       [](json::object& a) {
         a["auth_types"] = json::array({"keybased", "password"});
       },
       "auth_types"},
      {"duplicate auth type",
       [](json::object& a) {
         a["auth_types"] = json::array({"keybased", "keybased"});
       },
       "auth_types"},
      {"keybased offered without definition", [](json::object& a) { a.erase("keybased"); },
       "keybased"},
      {"keybased defined but not offered",
       [](json::object& a) {
         a["auth_types"] = json::array({"oauth2"});
         a["oauth2"] = oauth2_block();
       },
       "keybased"},
      {"oauth2 offered without definition",
       [](json::object& a) {
         a["auth_types"] = json::array({"keybased", "oauth2"});
       },
       "oauth2"},
      {"oauth2 defined but not offered", [](json::object& a) { a["oauth2"] = oauth2_block(); },
       "oauth2"},
      {"http token endpoint on a remote host",
       [](json::object& a) {
         a["auth_types"] = json::array({"keybased", "oauth2"});
         auto o = oauth2_block();
         o["token_endpoint"] = "http://example.com/token";
         a["oauth2"] = o;
       },
       "token_endpoint"},
      {"authorization endpoint not a URL",
       [](json::object& a) {
         a["auth_types"] = json::array({"keybased", "oauth2"});
         auto o = oauth2_block();
         o["authorization_endpoint"] = "ftp://example.com/authorize";
         a["oauth2"] = o;
       },
       "authorization_endpoint"},
      {"unknown token endpoint auth method",
       [](json::object& a) {
         a["auth_types"] = json::array({"keybased", "oauth2"});
         auto o = oauth2_block();
         o["token_endpoint_auth_method"] = "client_secret_jwt";
         a["oauth2"] = o;
       },
       "token_endpoint_auth_method"},
      {"pkce not a boolean",
       [](json::object& a) {
         a["auth_types"] = json::array({"keybased", "oauth2"});
         auto o = oauth2_block();
         o["pkce"] = "yes";
         a["oauth2"] = o;
       },
       "pkce"},
      // An invalid slug cannot name the app: "slug" is enough.
      {"slug with capitals and a space", [](json::object& a) { a["slug"] = "Bad Slug"; }, "slug",
       "slug"},
      {"slug too long", [](json::object& a) { a["slug"] = std::string(65, 'a'); }, "slug", "slug"},
      {"slug missing", [](json::object& a) { a.erase("slug"); }, "slug", "slug"},
  };
  Store s;
  for (const auto& bad : cases) {
    json::object app = widget_app();
    bad.mutate(app);
    json::array cat;
    cat.push_back(app);
    ClientPtr c;
    const int rc = try_open(s.config_with_catalog(cat), c);
    const std::string msg = last_error();
    INFO("case: " << std::string(bad.what) << " / message: " << msg);
    CHECK(rc == REFOLD_EINVALID);
    CHECK(contains(msg, bad.slug));
    CHECK(contains(msg, bad.names));
  }
}

TEST_CASE("catalog: the unmodified test app is valid") {
  // Guards the test above: each of its failures comes from its one change.
  Store s;
  ClientPtr c = open_client(s.config_with_catalog(widget_catalog()));
  CHECK(c != nullptr);
}
