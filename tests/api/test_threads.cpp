// Concurrency: one client from many threads, several clients on one store.
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace refold_test;

namespace {

constexpr int kThreads = 8;
constexpr int kRounds = 25;

// Apps "app0".."app7" and "common", each with one secret text field "token".
json::array thread_catalog() {
  json::array cat;
  for (int i = 0; i <= kThreads; ++i) {
    json::object app = json::parse(R"({
          "name": "Thread app", "description": "d", "icon": "i", "tags": ["t"],
          "auth_types": ["keybased"],
          "keybased": {"fields": [{"name": "token", "label": "Token", "type": "text", "secret": true}]}
        })")
                           .as_object();
    app["slug"] = i < kThreads ? "app" + std::to_string(i) : std::string("common");
    cat.push_back(app);
  }
  return cat;
}

std::string token_payload(const std::string& token) {
  return R"({"token": ")" + token + "\"}";
}

// Reads the "token" field; nullopt with rc set on failure.
std::optional<std::string> read_field(refold_client* c, const std::string& account,
                                      const std::string& app, int& rc) {
  char* out = nullptr;
  rc = refold_get_credentials(c, account.c_str(), app.c_str(), &out);
  const std::string text = take(out);
  if (rc != REFOLD_OK) return std::nullopt;
  boost::system::error_code ec;
  const json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::string("<bad json>");
  const auto* fields = v.as_object().if_contains("fields");
  if (!fields || !fields->is_object()) return std::string("<no fields>");
  const auto* t = fields->as_object().if_contains("token");
  if (!t || !t->is_string()) return std::string("<no token>");
  return std::string(t->as_string());
}

// What one thread did, and what it expects to be stored at the end.
struct ThreadLog {
  std::vector<std::string> failures;
  std::optional<std::string> own;          // own-<t>/app<t>
  std::optional<std::string> shared;       // shared/app<t>
  std::vector<std::string> common_tokens;  // every token it wrote to shared/common

  void fail(const std::string& what, int rc) {
    failures.push_back(what + " rc " + std::to_string(rc) + " (" + refold_last_error() + ")");
  }
};

void worker(refold_client* c, int t, ThreadLog& log) {
  const std::string own = "own-" + std::to_string(t);
  const std::string app = "app" + std::to_string(t);
  for (int i = 0; i < kRounds; ++i) {
    const std::string token =
        "t" + std::to_string(t) + "-i" + std::to_string(i) + "-" + random_token(16);
    int rc = refold_connect(c, own.c_str(), app.c_str(), token_payload(token).c_str());
    if (rc != REFOLD_OK)
      log.fail("connect own", rc);
    else
      log.own = token;

    auto got = read_field(c, own, app, rc);
    if (rc != REFOLD_OK)
      log.fail("get own", rc);
    else if (got != token)
      log.failures.push_back("get own: another value");

    rc = refold_connect(c, "shared", app.c_str(), token_payload(token).c_str());
    if (rc != REFOLD_OK)
      log.fail("connect shared", rc);
    else
      log.shared = token;
    got = read_field(c, "shared", app, rc);
    if (rc != REFOLD_OK)
      log.fail("get shared", rc);
    else if (got != token)
      log.failures.push_back("get shared: another value");

    rc = refold_connect(c, "shared", "common", token_payload(token).c_str());
    if (rc != REFOLD_OK) log.fail("connect common", rc);
    log.common_tokens.push_back(token);
    got = read_field(c, "shared", "common", rc);
    if (rc == REFOLD_OK) {
      if (!got || got->rfind('t', 0) != 0 || got->find("-i") == std::string::npos)
        log.failures.push_back("get common: not a written value");
    } else if (rc != REFOLD_ENOTFOUND) {
      log.fail("get common", rc);
    }

    char* list = nullptr;
    rc = refold_list_connections(c, "shared", &list);
    take(list);
    if (rc != REFOLD_OK) log.fail("list shared", rc);
    list = nullptr;
    rc = refold_list_apps(c, own.c_str(), &list);
    take(list);
    if (rc != REFOLD_OK) log.fail("list apps", rc);

    if (i % 3 == 2) {
      rc = refold_disconnect(c, own.c_str(), app.c_str());
      if (rc != REFOLD_OK)
        log.fail("disconnect own", rc);
      else
        log.own.reset();
      read_field(c, own, app, rc);
      if (rc != REFOLD_ENOTFOUND) log.fail("get own after disconnect", rc);
      rc = refold_disconnect(c, "shared", "common");
      if (rc != REFOLD_OK) log.fail("disconnect common", rc);
    }
    if (i % 5 == 4) {
      // Connected again first so that there is something to delete.
      rc = refold_connect(c, own.c_str(), app.c_str(), token_payload(token).c_str());
      if (rc != REFOLD_OK) log.fail("connect own before delete", rc);
      rc = refold_delete_account(c, own.c_str());
      if (rc != REFOLD_OK)
        log.fail("delete own", rc);
      else
        log.own.reset();
      read_field(c, own, app, rc);
      if (rc != REFOLD_ENOTFOUND) log.fail("get own after delete", rc);
    }
  }
}

}  // namespace

TEST_CASE("threads: eight threads on one client") {
  Store s;
  ClientPtr c = open_client(s.config_with_catalog(thread_catalog()));
  EventRecorder rec;
  rec.install(c.get());

  std::vector<ThreadLog> logs(kThreads);
  {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back(worker, c.get(), t, std::ref(logs[static_cast<std::size_t>(t)]));
    for (auto& th : threads) th.join();
  }

  std::size_t expected_rows = 0;
  std::vector<std::string> all_common;
  for (int t = 0; t < kThreads; ++t) {
    CAPTURE(t);
    const auto& log = logs[static_cast<std::size_t>(t)];
    for (const auto& f : log.failures) FAIL_CHECK(f);
    const std::string own = "own-" + std::to_string(t);
    const std::string app = "app" + std::to_string(t);
    int rc = 0;
    auto got = read_field(c.get(), own, app, rc);
    if (log.own) {
      CHECK(rc == REFOLD_OK);
      CHECK((got == log.own));
      ++expected_rows;
    } else {
      CHECK(rc == REFOLD_ENOTFOUND);
    }
    got = read_field(c.get(), "shared", app, rc);
    REQUIRE(log.shared.has_value());
    CHECK(rc == REFOLD_OK);
    CHECK((got == log.shared));
    ++expected_rows;
    all_common.insert(all_common.end(), log.common_tokens.begin(), log.common_tokens.end());
  }
  int rc = 0;
  const auto common = read_field(c.get(), "shared", "common", rc);
  if (rc == REFOLD_OK) {
    ++expected_rows;
    bool known = false;
    for (const auto& tok : all_common) known = known || (common == tok);
    CHECK(known);
  } else {
    CHECK(rc == REFOLD_ENOTFOUND);
  }
  CHECK(list_connections(c.get(), nullptr).size() == expected_rows);
  CHECK(list_connections(c.get(), "shared").size() == kThreads + (rc == REFOLD_OK ? 1 : 0));

  // Events arrived whole; none holds a token.
  const auto events = rec.events();
  CHECK(events.size() >= std::size_t(kThreads) * kRounds * 2);
  std::size_t leaks = 0;
  for (const auto& text : rec.texts())
    for (const auto& tok : all_common) leaks += contains(text, tok) ? 1 : 0;
  CHECK(leaks == 0);
  c.reset();
  if (!postgres_uri()) CHECK(integrity_check(s.path) == "ok");  // the SQLite file's own check
}

TEST_CASE("threads: two clients on one store") {
  Store s;
  ClientPtr c1 = open_client(s.config());
  ClientPtr c2 = open_client(s.config());

  const std::string t1 = random_token(), t2 = random_token();
  connect_ok(c1.get(), "A", "twilio", twilio_payload(t1));
  CHECK(field_is(credential_fields(c2.get(), "A", "twilio"), "auth_token", t1));
  connect_ok(c2.get(), "A", "twilio", twilio_payload(t2));
  CHECK(field_is(credential_fields(c1.get(), "A", "twilio"), "auth_token", t2));
  REQUIRE(refold_disconnect(c2.get(), "A", "twilio") == REFOLD_OK);
  int rc = 0;
  get_credentials(c1.get(), "A", "twilio", rc);
  CHECK(rc == REFOLD_ENOTFOUND);

  // Both write at once.
  constexpr int kEach = 30;
  std::vector<std::string> failures1, failures2;
  std::vector<std::string> tokens1(kEach), tokens2(kEach);
  auto run = [](refold_client* c, const char* prefix, std::vector<std::string>& tokens,
                std::vector<std::string>& failures) {
    for (int i = 0; i < kEach; ++i) {
      const std::string account = prefix + std::to_string(i);
      tokens[static_cast<std::size_t>(i)] = random_token();
      const int r = refold_connect(c, account.c_str(), "twilio",
                                   twilio_payload(tokens[static_cast<std::size_t>(i)]).c_str());
      if (r != REFOLD_OK) failures.push_back(account + " rc " + std::to_string(r));
    }
  };
  std::thread a(run, c1.get(), "one-", std::ref(tokens1), std::ref(failures1));
  std::thread b(run, c2.get(), "two-", std::ref(tokens2), std::ref(failures2));
  a.join();
  b.join();
  for (const auto& f : failures1) FAIL_CHECK(f);
  for (const auto& f : failures2) FAIL_CHECK(f);
  for (int i = 0; i < kEach; ++i) {
    const auto idx = static_cast<std::size_t>(i);
    const std::string one = "one-" + std::to_string(i), two = "two-" + std::to_string(i);
    CHECK(field_is(credential_fields(c2.get(), one.c_str(), "twilio"), "auth_token", tokens1[idx]));
    CHECK(field_is(credential_fields(c1.get(), two.c_str(), "twilio"), "auth_token", tokens2[idx]));
  }
  CHECK(list_connections(c1.get(), nullptr).size() == 2 * kEach);
  CHECK(list_connections(c2.get(), nullptr).size() == 2 * kEach);
}

TEST_CASE("threads: clients opened at once on a new store") {
  // The openers race to create the file, switch it to WAL, write the schema
  // and (by default) create the key file; each race is lost only now and
  // then, so the scenario runs on several new stores.
  TempDir dir;
  ScopedEnv env("REFOLD_MASTER_KEY", std::nullopt);
  std::optional<std::string> master_key;
  SUBCASE("with a master key") { master_key = random_hex_key(); }
  SUBCASE("with the default key file") {}

  constexpr int kStores = 12;
  constexpr int kOpeners = 4;
  for (int store = 0; store < kStores; ++store) {
    CAPTURE(store);
    json::object cfg;
    cfg["store"] = dir.file("store-" + std::to_string(store) + ".db");
    if (master_key) cfg["master_key"] = *master_key;
    const std::string config = to_json(cfg);

    std::vector<std::string> failures(kOpeners);
    std::vector<std::string> tokens(kOpeners);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kOpeners; ++t) {
      threads.emplace_back([&, t] {
        const auto idx = static_cast<std::size_t>(t);
        tokens[idx] = random_token();
        ready.fetch_add(1);
        while (ready.load() < kOpeners) std::this_thread::yield();  // start together
        refold_client* c = nullptr;
        int rc = refold_client_open(&c, config.c_str());
        if (rc != REFOLD_OK) {
          failures[idx] = "open rc " + std::to_string(rc) + " (" + refold_last_error() + ")";
          return;
        }
        const std::string account = "opener-" + std::to_string(t);
        rc = refold_connect(c, account.c_str(), "twilio", twilio_payload(tokens[idx]).c_str());
        if (rc != REFOLD_OK)
          failures[idx] = "connect rc " + std::to_string(rc) + " (" + refold_last_error() + ")";
        refold_client_free(c);
      });
    }
    for (auto& th : threads) th.join();
    bool failed = false;
    for (const auto& f : failures)
      if (!f.empty()) {
        FAIL_CHECK(f);
        failed = true;
      }
    if (failed) break;

    // Every opener's connection is there, readable under the one key.
    ClientPtr c = open_client(config);
    for (int t = 0; t < kOpeners; ++t) {
      const std::string account = "opener-" + std::to_string(t);
      CAPTURE(t);
      CHECK(field_is(credential_fields(c.get(), account.c_str(), "twilio"), "auth_token",
                     tokens[static_cast<std::size_t>(t)]));
    }
  }
}

TEST_CASE("threads: a new store another connection is writing opens once it is done") {
  // What an opener meets when another one is switching a new store to WAL
  // or writing its schema: SQLite answers the switch with SQLITE_BUSY at
  // once, without waiting, while another connection holds the write lock.
  TempDir dir;
  const std::string store = dir.store();
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(store.c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  std::atomic<bool> opening{false};
  std::thread writer([&] {
    while (!opening.load()) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);  // leaves the file new
  });
  refold_client* c = nullptr;
  opening.store(true);
  const int rc = refold_client_open(&c, make_config(store, random_hex_key()).c_str());
  const std::string error = rc == REFOLD_OK ? "" : refold_last_error();
  writer.join();
  sqlite3_close(other);
  CHECK_MESSAGE(rc == REFOLD_OK, error);
  ClientPtr client(c);
  if (client) {
    const std::string token = random_token();
    connect_ok(client.get(), "acct", "twilio", twilio_payload(token));
    CHECK(field_is(credential_fields(client.get(), "acct", "twilio"), "auth_token", token));
  }
}
