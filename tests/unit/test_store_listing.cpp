// The store's filtered, paged listing (Store::list_page): the rows each
// filter selects, keyset paging, and the query plans that keep every
// filtered page an index range.
#include <doctest/doctest.h>

#include <sqlite3.h>
#include <string>
#include <vector>

#include "temp_store.hpp"
#include "util/error.hpp"

using namespace refold;

namespace {

struct ListingStore : test::TempStore {
  ListingStore() {
    store->migrate();
    key_id = store->ensure_data_key([](std::int64_t id) {
                     return store::DataKey{id, store::Bytes(24, 1), store::Bytes(48, 2), 0};
                   }).at(0).id;
  }
  void add(const std::string& account, const std::string& app,
           const std::string& auth_type = "keybased") {
    const std::int64_t k = key_id;
    store->upsert({account, app, auth_type},
                  [k](std::int64_t) { return store::Sealed{k, store::Bytes(24, 3), store::Bytes(40, 4)}; },
                  1000, std::nullopt, std::nullopt);
  }
  void reauth(const std::string& account, const std::string& app) {
    store->mark_reauth(account, app, std::nullopt, "revoked", 2000, std::nullopt, std::nullopt);
  }
  // Every page of `f` with pages of `limit`, as "account/app/auth_type".
  std::vector<std::string> all_pages(store::PageFilter f, std::size_t limit) {
    std::vector<std::string> out;
    f.limit = limit;
    for (;;) {
      auto page = store->list_page(f);
      CHECK(page.size() <= limit);
      for (const auto& c : page) out.push_back(c.id.account + "/" + c.id.app + "/" + c.id.auth_type);
      if (page.size() < limit) return out;
      f.after = page.back().id;
    }
  }
  // Takes the store back to an older schema: closes it, runs `sql` on the
  // file (which ends by setting user_version), and opens it again without
  // migrating, as an older refold would have left it.
  void rewind(const char* sql) {
    const std::string path = dir + "/s.db";
    store.reset();
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    // Every rewind goes back to before version 9 first: no event log.
    std::string all = "DROP TABLE events; DROP TABLE event_consumers; DROP TABLE event_log; PRAGMA user_version = 8;";
    all += sql;
    const int rc = sqlite3_exec(db, all.c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(db);
    REQUIRE(rc == SQLITE_OK);
    store = std::make_unique<store::SqliteStore>(path);
  }
  std::int64_t key_id = 0;
};

bool mentions(const std::vector<std::string>& plan, std::string_view what) {
  for (const auto& line : plan)
    if (line.find(what) != std::string::npos) return true;
  return false;
}

std::string joined(const std::vector<std::string>& plan) {
  std::string s;
  for (const auto& line : plan) s += line + "; ";
  return s;
}

}  // namespace

TEST_CASE("store list_page: each filter, in (account, app, auth type) order, page by page") {
  ListingStore t;
  for (const char* a : {"carol", "alice", "bob"}) {
    t.add(a, "twilio");
    t.add(a, "slack", "oauth2");
    t.add(a, "github", "oauth2");
  }
  t.add("alice", "github", "keybased");
  t.reauth("bob", "slack");
  t.reauth("alice", "github");  // both auth types

  const std::vector<std::string> every = {
      "alice/github/keybased", "alice/github/oauth2", "alice/slack/oauth2", "alice/twilio/keybased",
      "bob/github/oauth2",     "bob/slack/oauth2",    "bob/twilio/keybased", "carol/github/oauth2",
      "carol/slack/oauth2",    "carol/twilio/keybased"};
  for (std::size_t limit : {1, 2, 3, 4, 100}) {
    INFO("limit " << limit);
    CHECK(t.all_pages({}, limit) == every);
    store::PageFilter f;
    f.status = "reauth_required";
    CHECK(t.all_pages(f, limit) ==
          std::vector<std::string>{"alice/github/keybased", "alice/github/oauth2", "bob/slack/oauth2"});
    f = {};
    f.app = "github";
    CHECK(t.all_pages(f, limit) == std::vector<std::string>{"alice/github/keybased", "alice/github/oauth2",
                                                            "bob/github/oauth2", "carol/github/oauth2"});
    f.status = "active";
    CHECK(t.all_pages(f, limit) == std::vector<std::string>{"bob/github/oauth2", "carol/github/oauth2"});
    f = {};
    f.account = "alice";
    CHECK(t.all_pages(f, limit) == std::vector<std::string>{"alice/github/keybased", "alice/github/oauth2",
                                                            "alice/slack/oauth2", "alice/twilio/keybased"});
    f.status = "active";
    CHECK(t.all_pages(f, limit) == std::vector<std::string>{"alice/slack/oauth2", "alice/twilio/keybased"});
    f.app = "slack";
    CHECK(t.all_pages(f, limit) == std::vector<std::string>{"alice/slack/oauth2"});
    f.status = "reauth_required";
    CHECK(t.all_pages(f, limit).empty());
  }
}

TEST_CASE("store list_page: a key to page after that does not match the filter is refused") {
  ListingStore t;
  t.add("alice", "twilio");
  store::PageFilter f;
  f.app = "twilio";
  f.after = store::ConnectionId{"alice", "slack", "oauth2"};
  CHECK_THROWS_AS(t.store->list_page(f), Error);
  f.app.reset();
  f.account = "bob";
  CHECK_THROWS_AS(t.store->list_page(f), Error);
}

TEST_CASE("store list_page: every filtered page is an index range, never a scan or a sort") {
  ListingStore t;
  t.add("alice", "twilio");
  t.add("bob", "slack", "oauth2");
  const store::ConnectionId after{"alice", "twilio", "keybased"};
  for (unsigned shape = 0; shape < 16; ++shape) {
    store::PageFilter f;
    if (shape & 1) f.account = "alice";
    if (shape & 2) f.app = "twilio";
    if (shape & 4) f.status = "reauth_required";
    if (shape & 8) f.after = after;
    const auto plan = t.store->page_plan(f);
    INFO("filters " << shape << ": " << joined(plan));
    REQUIRE(!plan.empty());
    CHECK_FALSE(mentions(plan, "TEMP B-TREE"));
    // The first page of everything reads the primary key from its start
    // (a SCAN that the LIMIT stops); every other page seeks.
    if (shape != 0) CHECK_FALSE(mentions(plan, "SCAN"));
    if (shape != 0) CHECK(mentions(plan, "SEARCH connections USING"));
  }
  // The filter a host with a million connections runs: by status alone.
  store::PageFilter f;
  f.status = "reauth_required";
  CHECK(mentions(t.store->page_plan(f), "USING INDEX connections_by_status (status=?)"));
  f.after = after;
  CHECK(mentions(t.store->page_plan(f), "USING INDEX connections_by_status"));
  f = {};
  f.app = "twilio";
  CHECK(mentions(t.store->page_plan(f), "USING INDEX connections_by_app (app=?)"));
  f.status = "active";
  CHECK(mentions(t.store->page_plan(f), "USING INDEX connections_by_app_status (app=? AND status=?)"));
}

TEST_CASE("store migrate: a store of schema version 5 gains the listing indexes") {
  ListingStore t;
  t.add("alice", "twilio");
  t.rewind("DROP INDEX connections_by_status; DROP INDEX connections_by_app;"
           " DROP INDEX connections_by_app_status; PRAGMA user_version = 5");
  t.store->migrate();
  store::PageFilter f;
  f.status = "active";
  CHECK(mentions(t.store->page_plan(f), "connections_by_status"));
  auto rows = t.store->list_page(f);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].id.account == "alice");
}

TEST_CASE("store migrate: a store of schema version 6 gets the due index that holds the lease") {
  ListingStore t;
  t.add("bob", "slack", "oauth2");
  t.rewind("DROP INDEX connections_due; CREATE INDEX connections_due ON connections"
           " (next_refresh_at) WHERE auth_type = 'oauth2' AND status = 'active'"
           " AND next_refresh_at IS NOT NULL; PRAGMA user_version = 6");
  t.store->migrate();
  CHECK(mentions(t.store->plan(store::SqliteStore::HotQuery::due), "COVERING INDEX connections_due"));
}

TEST_CASE("store migrate: a store of schema version 7 takes client-credentials connections and keeps its rows") {
  ListingStore t;
  t.add("alice", "twilio");
  t.add("bob", "slack", "oauth2");
  // Version 7's table: the CHECK without oauth2_cc, its indexes and triggers.
  t.rewind(R"sql(
CREATE TABLE c7 (
  account TEXT NOT NULL, app TEXT NOT NULL,
  auth_type TEXT NOT NULL CHECK (auth_type IN ('oauth2', 'keybased')),
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'reauth_required')),
  reason TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, expires_at INTEGER,
  refresh_failures INTEGER NOT NULL DEFAULT 0, next_refresh_at INTEGER, lease_owner TEXT,
  lease_expires_at INTEGER, version INTEGER NOT NULL DEFAULT 1,
  key_id INTEGER NOT NULL REFERENCES data_keys (id), nonce BLOB NOT NULL, ciphertext BLOB NOT NULL,
  config TEXT NOT NULL DEFAULT '{}', forced_refresh INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (account, app, auth_type)) STRICT, WITHOUT ROWID;
INSERT INTO c7 SELECT account, app, auth_type, status, reason, created_at, updated_at, expires_at,
  refresh_failures, next_refresh_at, lease_owner, lease_expires_at, version, key_id, nonce, ciphertext,
  config, forced_refresh FROM connections;
DROP TABLE connections;
ALTER TABLE c7 RENAME TO connections;
CREATE INDEX connections_by_expiry ON connections (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX connections_by_key ON connections (key_id);
CREATE INDEX connections_by_status ON connections (status, account, app, auth_type);
CREATE INDEX connections_by_app ON connections (app, account, auth_type);
CREATE INDEX connections_by_app_status ON connections (app, status, account, auth_type);
CREATE INDEX connections_due ON connections (next_refresh_at, lease_expires_at, status)
  WHERE auth_type = 'oauth2' AND status = 'active' AND next_refresh_at IS NOT NULL;
CREATE TRIGGER connections_inserted AFTER INSERT ON connections BEGIN
  INSERT INTO changes (account, app) VALUES (NEW.account, NEW.app);
END;
PRAGMA user_version = 7;)sql");
  t.store->migrate();
  // The rows are there, a client-credentials one can be added, and the
  // change log sees writes (the triggers are back).
  CHECK(t.all_pages({}, 10) == std::vector<std::string>{"alice/twilio/keybased", "bob/slack/oauth2"});
  const auto before = t.store->changes_since(0, 1000).last;
  t.add("carol", "personio", "oauth2_cc");
  CHECK(t.all_pages({}, 10) ==
        std::vector<std::string>{"alice/twilio/keybased", "bob/slack/oauth2", "carol/personio/oauth2_cc"});
  CHECK(t.store->changes_since(0, 1000).last > before);
  CHECK(mentions(t.store->plan(store::SqliteStore::HotQuery::due), "COVERING INDEX connections_due"));
  // The due list takes them, with their auth type.
  const std::int64_t k = t.key_id;
  t.store->upsert({"dave", "marketo", "oauth2_cc"},
                  [k](std::int64_t) { return store::Sealed{k, store::Bytes(24, 3), store::Bytes(40, 4)}; }, 1000,
                  2000, 1500);
  const auto due = t.store->due(1600, 10, {});
  REQUIRE(due.size() == 1);
  CHECK(due[0].account == "dave");
  CHECK(due[0].auth_type == "oauth2_cc");
}

TEST_CASE("store migrate: a store of schema version 8 gains the event log, which records from then on") {
  ListingStore t;
  t.add("alice", "twilio");
  t.rewind("");
  t.store->migrate();
  // What was written before version 9 reported nothing durable.
  CHECK(t.store->read_events("relay", 10).events.empty());
  t.add("bob", "twilio");
  const auto page = t.store->read_events("relay", 10);
  REQUIRE(page.events.size() == 1);
  CHECK(page.events[0].type == "connection.created");
  CHECK(page.events[0].id.account == "bob");
  CHECK_FALSE(page.missed);
}

TEST_CASE("store hot queries: a credential read and the due list are index searches, never a scan") {
  ListingStore t;
  t.add("alice", "twilio");
  t.add("bob", "slack", "oauth2");
  using Q = store::SqliteStore::HotQuery;

  // Every read without a cached credential: one search of the primary key.
  const auto find = t.store->plan(Q::find);
  INFO("find: " << joined(find));
  CHECK(mentions(find, "SEARCH connections USING PRIMARY KEY (account=? AND app=?)"));
  CHECK_FALSE(mentions(find, "SCAN"));
  CHECK_FALSE(mentions(find, "TEMP B-TREE"));

  // Every scheduler pass: a range of connections_due read in its order, up
  // to the LIMIT (the json_each of apps to skip is a list, not the table),
  // from the index alone: no lookup of each row it passes for its lease.
  const auto due = t.store->plan(Q::due);
  INFO("due: " << joined(due));
  CHECK(mentions(due, "SEARCH connections USING COVERING INDEX connections_due"
                      " (next_refresh_at>? AND next_refresh_at<?)"));
  CHECK_FALSE(mentions(due, "SCAN connections"));
  CHECK_FALSE(mentions(due, "TEMP B-TREE"));

  // When the scheduler sleeps until: the first entry of the same index.
  const auto next = t.store->plan(Q::next_due);
  INFO("next_due: " << joined(next));
  CHECK(mentions(next, "SEARCH connections USING COVERING INDEX connections_due"));
  CHECK_FALSE(mentions(next, "SCAN connections"));
}
