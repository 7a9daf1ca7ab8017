// The store file: encryption at rest, tamper detection, corruption, rotation.
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

using namespace refold_test;

namespace {

std::string bytes_of(const std::vector<std::uint8_t>& v) {
  return std::string(v.begin(), v.end());
}

// The raw bytes of the store and its WAL, if any.
std::string store_bytes(const std::string& path) {
  std::string out = read_file(path).value_or("");
  out += read_file(path + "-wal").value_or("");
  return out;
}

// Fills `c` with `n` twilio connections "acct-<i>"; returns account -> token.
std::map<std::string, std::string> fill(refold_client* c, int n) {
  std::map<std::string, std::string> tokens;
  for (int i = 0; i < n; ++i) {
    const std::string account = "acct-" + std::to_string(i);
    const std::string token = random_token(48);
    connect_ok(c, account.c_str(), "twilio", twilio_payload(token));
    tokens[account] = token;
  }
  return tokens;
}

// Reads twilio for `account`: REFOLD_OK only when the token is `token`;
// a successful read of anything else is reported as REFOLD_ERROR.
int read_token(refold_client* c, const std::string& account, const std::string& token) {
  char* out = nullptr;
  const int rc = refold_get_credentials(c, account.c_str(), "twilio", &out);
  const std::string text = take(out);
  if (rc != REFOLD_OK) return rc;
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return REFOLD_ERROR;
  const auto* fields = v.as_object().if_contains("fields");
  if (!fields || !fields->is_object()) return REFOLD_ERROR;
  return field_is(fields->as_object(), "auth_token", token) ? REFOLD_OK : REFOLD_ERROR;
}

void flip_byte(const std::string& path, std::size_t offset, std::uint8_t mask = 0xFF) {
  auto data = read_file(path);
  REQUIRE(data.has_value());
  REQUIRE(offset < data->size());
  (*data)[offset] = static_cast<char>(static_cast<std::uint8_t>((*data)[offset]) ^ mask);
  write_file(path, *data);
}

}  // namespace

TEST_CASE("storage: no plaintext secret or key in the store file") {
  Store s;
  const std::string t1 = random_token(40), t2 = random_token(40), t3 = random_token(40);
  const std::string wk = widget_key();
  const std::string sk = "sk-" + random_token(40);
  const std::vector<std::string> secrets = {t1, t2, t3, wk, sk, s.key};
  {
    ClientPtr c = open_client(s.config_with_catalog(widget_catalog()));
    connect_ok(c.get(), "alice", "twilio", twilio_payload(t1));
    connect_ok(c.get(), "bob", "twilio", twilio_payload(t2));
    connect_ok(c.get(), "bob", "twilio", twilio_payload(t3));  // replaces t2
    connect_ok(c.get(), "alice", "widget", to_json(widget_payload(wk)));
    connect_ok(c.get(), "alice", "openai", R"({"api_key": ")" + sk + "\"}");
    REQUIRE(refold_disconnect(c.get(), "alice", "openai") == REFOLD_OK);

    // While the client is open (data may sit in the WAL).
    const std::string bytes = store_bytes(s.path);
    REQUIRE(!bytes.empty());
    for (const auto& secret : secrets) CHECK(!contains(bytes, secret));
  }
  const std::string bytes = store_bytes(s.path);
  for (const auto& secret : secrets) CHECK(!contains(bytes, secret));
  // Nor the raw key bytes.
  std::vector<std::uint8_t> raw;
  for (std::size_t i = 0; i < s.key.size(); i += 2)
    raw.push_back(static_cast<std::uint8_t>(std::stoul(s.key.substr(i, 2), nullptr, 16)));
  CHECK(!contains(bytes, bytes_of(raw)));
}

TEST_CASE("storage: deleted and replaced ciphertext is wiped from the file") {
  Store s;
  std::string gone, replaced;
  {
    ClientPtr c = open_client(s.config());
    connect_ok(c.get(), "alice", "twilio", twilio_payload(random_token()));
    connect_ok(c.get(), "bob", "twilio", twilio_payload(random_token()));
    gone = bytes_of(sql_blob(s.path, "SELECT ciphertext FROM connections WHERE account = 'alice'"));
    replaced =
        bytes_of(sql_blob(s.path, "SELECT ciphertext FROM connections WHERE account = 'bob'"));
    REQUIRE(gone.size() >= 16);
    REQUIRE(replaced.size() >= 16);
    REQUIRE(refold_disconnect(c.get(), "alice", "twilio") == REFOLD_OK);
    connect_ok(c.get(), "bob", "twilio", twilio_payload(random_token()));
  }
  const std::string bytes = store_bytes(s.path);
  CHECK(!contains(bytes, gone.substr(0, 16)));
  CHECK(!contains(bytes, replaced.substr(0, 16)));
}

TEST_CASE("storage: a flipped ciphertext byte fails only that read") {
  Store s;
  std::map<std::string, std::string> tokens;
  {
    ClientPtr c = open_client(s.config());
    tokens = fill(c.get(), 3);
  }
  auto blob = sql_blob(s.path, "SELECT ciphertext FROM connections WHERE account = 'acct-1'");
  REQUIRE(blob.size() > 4);
  SUBCASE("first byte") {
    blob[0] ^= 0x01;
  }
  SUBCASE("middle byte") {
    blob[blob.size() / 2] ^= 0x80;
  }
  SUBCASE("last byte (tag)") {
    blob[blob.size() - 1] ^= 0x10;
  }
  CHECK(sql_exec_blob(s.path, "UPDATE connections SET ciphertext = ?1 WHERE account = 'acct-1'",
                      blob) == 1);

  ClientPtr c = open_client(s.config());
  CHECK(read_token(c.get(), "acct-1", tokens["acct-1"]) == REFOLD_ECRYPTO);
  CHECK(!last_error().empty());
  CHECK(!contains(last_error(), tokens["acct-1"]));
  CHECK(read_token(c.get(), "acct-0", tokens["acct-0"]) == REFOLD_OK);
  CHECK(read_token(c.get(), "acct-2", tokens["acct-2"]) == REFOLD_OK);
  // The damaged connection can still be replaced or removed.
  const std::string fresh = random_token();
  connect_ok(c.get(), "acct-1", "twilio", twilio_payload(fresh));
  CHECK(read_token(c.get(), "acct-1", fresh) == REFOLD_OK);
}

TEST_CASE("storage: a flipped nonce byte fails that read") {
  Store s;
  std::map<std::string, std::string> tokens;
  {
    ClientPtr c = open_client(s.config());
    tokens = fill(c.get(), 2);
  }
  auto nonce = sql_blob(s.path, "SELECT nonce FROM connections WHERE account = 'acct-0'");
  REQUIRE(!nonce.empty());
  nonce[0] ^= 0x01;
  CHECK(sql_exec_blob(s.path, "UPDATE connections SET nonce = ?1 WHERE account = 'acct-0'",
                      nonce) == 1);
  ClientPtr c = open_client(s.config());
  CHECK(read_token(c.get(), "acct-0", tokens["acct-0"]) == REFOLD_ECRYPTO);
  CHECK(read_token(c.get(), "acct-1", tokens["acct-1"]) == REFOLD_OK);
}

TEST_CASE("storage: a record moved to another row fails authentication") {
  Store s;
  std::map<std::string, std::string> tokens;
  {
    ClientPtr c = open_client(s.config());
    tokens = fill(c.get(), 3);
  }
  SUBCASE("ciphertext and nonce copied onto another connection") {
    sql_exec(s.path,
             "UPDATE connections SET "
             "nonce = (SELECT nonce FROM connections WHERE account = 'acct-0'), "
             "ciphertext = (SELECT ciphertext FROM connections WHERE account = 'acct-0') "
             "WHERE account = 'acct-1'");
    ClientPtr c = open_client(s.config());
    const int rc = read_token(c.get(), "acct-1", tokens["acct-1"]);
    CHECK(rc == REFOLD_ECRYPTO);
    CHECK(read_token(c.get(), "acct-0", tokens["acct-0"]) == REFOLD_OK);
    CHECK(read_token(c.get(), "acct-2", tokens["acct-2"]) == REFOLD_OK);
  }
  SUBCASE("a row relabelled to another account") {
    sql_exec(s.path, "UPDATE connections SET account = 'mallory' WHERE account = 'acct-0'");
    ClientPtr c = open_client(s.config());
    CHECK(read_token(c.get(), "mallory", tokens["acct-0"]) == REFOLD_ECRYPTO);
    CHECK(read_token(c.get(), "acct-1", tokens["acct-1"]) == REFOLD_OK);
  }
}

TEST_CASE("storage: a damaged data key fails with a crypto error") {
  Store s;
  std::map<std::string, std::string> tokens;
  {
    ClientPtr c = open_client(s.config());
    tokens = fill(c.get(), 2);
  }
  auto wrapped = sql_blob(s.path, "SELECT wrapped FROM data_keys LIMIT 1");
  REQUIRE(!wrapped.empty());
  wrapped[wrapped.size() / 2] ^= 0x04;
  CHECK(sql_exec_blob(s.path, "UPDATE data_keys SET wrapped = ?1", wrapped) >= 1);
  ClientPtr c;
  const int rc = try_open(s.config(), c);
  if (rc == REFOLD_OK) {
    CHECK(read_token(c.get(), "acct-0", tokens["acct-0"]) == REFOLD_ECRYPTO);
  } else {
    CHECK(rc == REFOLD_ECRYPTO);
  }
}

TEST_CASE("storage: a damaged file header is a store error") {
  Store s;
  {
    ClientPtr c = open_client(s.config());
    fill(c.get(), 3);
  }
  REQUIRE(!file_exists(s.path + "-wal"));
  SUBCASE("magic string") {
    flip_byte(s.path, 0);
  }
  SUBCASE("magic string end") {
    flip_byte(s.path, 10, 0x20);
  }
  SUBCASE("page size") {
    flip_byte(s.path, 16, 0x03);
  }
  SUBCASE("not a database at all") {
    write_file(s.path, std::string(8192, 'x'));
  }
  SUBCASE("truncated to half a page") {
    write_file(s.path, read_file(s.path)->substr(0, 2048));
  }
  ClientPtr c;
  const int rc = try_open(s.config(), c);
  INFO("rc " << rc << " message: " << last_error());
  CHECK((rc == REFOLD_ESTORE || rc == REFOLD_ECRYPTO));
  CHECK(!last_error().empty());
}

TEST_CASE("storage: damaged pages never give wrong data") {
  Store s;
  std::map<std::string, std::string> tokens;
  {
    ClientPtr c = open_client(s.config());
    tokens = fill(c.get(), 40);
  }
  REQUIRE(!file_exists(s.path + "-wal"));
  const std::string original = *read_file(s.path);
  REQUIRE(original.size() >= 100);
  const auto b16 = static_cast<std::uint8_t>(original[16]);
  const auto b17 = static_cast<std::uint8_t>(original[17]);
  std::size_t page = (std::size_t(b16) << 8) | b17;
  if (page == 1) page = 65536;
  REQUIRE(page >= 512);
  const std::size_t pages = original.size() / page;
  REQUIRE(pages >= 2);

  // Every page but the first, damaged in turn: every 97th byte inverted.
  for (std::size_t p = 1; p < pages; ++p) {
    CAPTURE(p);
    TempDir dir;
    const std::string path = dir.store();
    std::string damaged = original;
    for (std::size_t off = p * page + 7; off < (p + 1) * page; off += 97)
      damaged[off] = static_cast<char>(~static_cast<std::uint8_t>(damaged[off]));
    write_file(path, damaged);

    ClientPtr c;
    const int rc = try_open(make_config(path, s.key), c);
    if (rc != REFOLD_OK) {
      CHECK((rc == REFOLD_ESTORE || rc == REFOLD_ECRYPTO));
      continue;
    }
    for (const auto& [account, token] : tokens) {
      const int r = read_token(c.get(), account, token);
      INFO("account " << account << " rc " << r);
      // Right data, or an error; never another token (REFOLD_ERROR here).
      CHECK((r == REFOLD_OK || r == REFOLD_ENOTFOUND || r == REFOLD_ESTORE || r == REFOLD_ECRYPTO));
    }
    char* out = nullptr;
    const int lrc = refold_list_connections(c.get(), nullptr, &out);
    take(out);
    CHECK((lrc == REFOLD_OK || lrc == REFOLD_ESTORE));
  }
}

TEST_CASE("storage: rotating the master key") {
  Store s;
  std::map<std::string, std::string> tokens;
  ClientPtr c = open_client(s.config());
  tokens = fill(c.get(), 5);
  const auto new_bytes = random_key_bytes();
  const std::string new_key = to_hex(new_bytes);

  SUBCASE("given as hex") {
    REQUIRE(refold_rotate_master_key(c.get(), new_key.c_str()) == REFOLD_OK);
  }
  SUBCASE("given as base64") {
    REQUIRE(refold_rotate_master_key(c.get(), to_base64(new_bytes).c_str()) == REFOLD_OK);
  }
  CHECK(std::string(refold_last_error()).empty());
  // The same client keeps working, for old and new data.
  for (const auto& [account, token] : tokens)
    CHECK(read_token(c.get(), account, token) == REFOLD_OK);
  const std::string later = random_token();
  connect_ok(c.get(), "later", "twilio", twilio_payload(later));
  tokens["later"] = later;
  c.reset();

  ClientPtr old;
  CHECK(try_open(s.config(), old) == REFOLD_ECRYPTO);
  c = open_client(make_config(s.path, new_key));
  for (const auto& [account, token] : tokens)
    CHECK(read_token(c.get(), account, token) == REFOLD_OK);
  c.reset();
  CHECK(integrity_check(s.path) == "ok");
}

TEST_CASE("storage: rotating twice in a row") {
  Store s;
  ClientPtr c = open_client(s.config());
  const auto tokens = fill(c.get(), 3);
  const std::string k1 = random_hex_key(), k2 = random_hex_key();
  REQUIRE(refold_rotate_master_key(c.get(), k1.c_str()) == REFOLD_OK);
  REQUIRE(refold_rotate_master_key(c.get(), k2.c_str()) == REFOLD_OK);
  c.reset();
  ClientPtr bad;
  CHECK(try_open(make_config(s.path, k1), bad) == REFOLD_ECRYPTO);
  c = open_client(make_config(s.path, k2));
  for (const auto& [account, token] : tokens)
    CHECK(read_token(c.get(), account, token) == REFOLD_OK);
}

TEST_CASE("storage: a malformed new key changes nothing") {
  Store s;
  ClientPtr c = open_client(s.config());
  const auto tokens = fill(c.get(), 3);
  const std::string key = random_hex_key();
  const std::vector<std::string> bad = {"",
                                        "abc",
                                        key.substr(0, 62),
                                        key + "00",
                                        "zz" + key.substr(2),
                                        to_base64(std::vector<std::uint8_t>(31, 7))};
  for (const auto& k : bad) {
    INFO("key #" << (&k - bad.data()));
    CHECK(refold_rotate_master_key(c.get(), k.c_str()) == REFOLD_EINVALID);
    if (!k.empty()) CHECK(!contains(last_error(), k));
  }
  for (const auto& [account, token] : tokens)
    CHECK(read_token(c.get(), account, token) == REFOLD_OK);
  c.reset();
  c = open_client(s.config());
  for (const auto& [account, token] : tokens)
    CHECK(read_token(c.get(), account, token) == REFOLD_OK);
}

TEST_CASE("storage: rotation rewrites the key file") {
  TempDir dir;
  const std::string store = dir.store();
  ScopedEnv env("REFOLD_MASTER_KEY", std::nullopt);
  json::object cfg;
  cfg["store"] = store;
  std::string key_file = store + ".key";

  SUBCASE("the default key file") {}
  SUBCASE("an explicit key_file") {
    key_file = dir.file("my.key");
    write_private_file(key_file, random_hex_key());
    cfg["key_file"] = key_file;
  }
  const std::string config = to_json(cfg);

  ClientPtr c = open_client(config);
  const auto tokens = fill(c.get(), 3);
  const auto old_key = read_file(key_file);
  REQUIRE(old_key.has_value());

  const std::string new_key = random_hex_key();
  REQUIRE(refold_rotate_master_key(c.get(), new_key.c_str()) == REFOLD_OK);
  const auto rewritten = read_file(key_file);
  REQUIRE(rewritten.has_value());
  CHECK((*rewritten != *old_key));
  CHECK(file_mode(key_file) == 0600);
  for (const auto& [account, token] : tokens)
    CHECK(read_token(c.get(), account, token) == REFOLD_OK);
  c.reset();

  // Reopening the same way finds the new key in the file...
  c = open_client(config);
  for (const auto& [account, token] : tokens)
    CHECK(read_token(c.get(), account, token) == REFOLD_OK);
  c.reset();
  // ...which is the key that was given.
  c = open_client(make_config(store, new_key));
  c.reset();
  // The old key no longer opens the store.
  std::string old_text = *old_key;
  while (!old_text.empty() && (old_text.back() == '\n' || old_text.back() == '\r'))
    old_text.pop_back();
  ClientPtr old;
  CHECK(try_open(make_config(store, old_text), old) == REFOLD_ECRYPTO);
}

TEST_CASE("storage: the store stays sound and in WAL mode") {
  Store s;
  {
    ClientPtr c = open_client(s.config_with_catalog(widget_catalog()));
    fill(c.get(), 10);
    connect_ok(c.get(), "acct-3", "twilio", twilio_payload(random_token()));
    connect_ok(c.get(), "acct-3", "widget", to_json(widget_payload(widget_key())));
    REQUIRE(refold_disconnect(c.get(), "acct-4", "twilio") == REFOLD_OK);
    REQUIRE(refold_delete_account(c.get(), "acct-3") == REFOLD_OK);
    REQUIRE(refold_rotate_master_key(c.get(), random_hex_key().c_str()) == REFOLD_OK);
    // Checked while the client is open, too.
    CHECK(integrity_check(s.path) == "ok");
  }
  CHECK(integrity_check(s.path) == "ok");
  CHECK(sql_scalar(s.path, "PRAGMA journal_mode") == "wal");
  CHECK(sql_scalar(s.path, "SELECT count(*) FROM connections") == "8");
}

TEST_CASE("storage: a store written by a newer refold is refused") {
  Store s;
  const std::string token = random_token();
  {
    ClientPtr c = open_client(s.config());
    connect_ok(c.get(), "acct", "twilio", twilio_payload(token));
  }
  // The schema version lives where SQLite keeps it for applications.
  const std::string version = sql_scalar(s.path, "PRAGMA user_version");
  sql_exec(s.path, "PRAGMA user_version = 1000000");
  ClientPtr c;
  CHECK(try_open(s.config(), c) == REFOLD_ESTORE);
  CHECK(!last_error().empty());
  CHECK(sql_scalar(s.path, "PRAGMA user_version") == "1000000");
  // Back at its own version it opens, data intact.
  sql_exec(s.path, "PRAGMA user_version = " + version);
  c = open_client(s.config());
  CHECK(read_token(c.get(), "acct", token) == REFOLD_OK);
}

TEST_CASE("storage: a store path that cannot be created is a store error") {
  TempDir dir;
  write_file(dir.file("not-a-folder"), "x");
  ClientPtr c;
  CHECK(try_open(make_config(dir.file("not-a-folder/refold.db"), random_hex_key()), c) ==
        REFOLD_ESTORE);
  CHECK(contains(last_error(), "not-a-folder"));
}

TEST_CASE("storage: relative paths stay put when the host changes directory") {
  TempDir home, elsewhere;
  ScopedEnv env("REFOLD_MASTER_KEY", std::nullopt);
  namespace fs = std::filesystem;
  struct Back {
    fs::path dir = fs::current_path();
    ~Back() {
      std::error_code ignored;
      fs::current_path(dir, ignored);
    }
  } back;
  fs::current_path(home.path());

  std::string config = R"({"store": "data/refold.db"})";
  SUBCASE("the default key file") {}
  SUBCASE("an explicit key_file") {
    write_private_file(home.file("my.key"), random_hex_key());
    config = R"({"store": "./data/refold.db", "key_file": "my.key"})";
  }
  ClientPtr c = open_client(config);
  fs::current_path(elsewhere.path());

  // Threads at once may open more pooled connections than the open made,
  // and a rotation rewrites the key file: all must find the files opened
  // above.
  constexpr int kThreads = 6;
  std::vector<std::string> tokens(kThreads), failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      const auto idx = static_cast<std::size_t>(t);
      tokens[idx] = random_token();
      const std::string account = "acct-" + std::to_string(t);
      if (refold_connect(c.get(), account.c_str(), "twilio", twilio_payload(tokens[idx]).c_str()) != REFOLD_OK)
        failures[idx] = account + ": " + refold_last_error();
    });
  for (auto& th : threads) th.join();
  for (const auto& f : failures)
    if (!f.empty()) FAIL_CHECK(f);
  CHECK(refold_rotate_master_key(c.get(), random_hex_key().c_str()) == REFOLD_OK);
  c.reset();
  // Nothing was made where the host went (a store, a key, a rotated key).
  CHECK(fs::is_empty(elsewhere.path()));

  // Back where it was opened, the same config finds everything, under the
  // rotated key.
  fs::current_path(home.path());
  c = open_client(config);
  for (int t = 0; t < kThreads; ++t) {
    CAPTURE(t);
    CHECK(read_token(c.get(), "acct-" + std::to_string(t), tokens[static_cast<std::size_t>(t)]) ==
          REFOLD_OK);
  }
}
