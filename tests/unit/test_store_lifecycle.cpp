// The store's side of the token lifecycle: the refresh lease and the
// fences (lease owner, row version) that keep a late writer from
// overwriting what replaced what it read.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "temp_store.hpp"

using namespace refold;

namespace {

const store::ConnectionId kId{"acct", "sandbox", "oauth2"};

// A Sealer that hands the store a record made beforehand.
store::Sealer fixed(store::Sealed s) {
  return [s = std::move(s)](std::int64_t) { return s; };
}

struct LifecycleStore : test::TempStore {
  LifecycleStore() {
    store->migrate();
    auto keys = store->ensure_data_key([](std::int64_t id) {
      return store::DataKey{id, store::Bytes(24, 1), store::Bytes(48, 2), 0};
    });
    key_id = keys.at(0).id;
    store->upsert(kId, fixed(sealed(1)), 1000, 5000, 4000);
  }
  store::Sealed sealed(std::uint8_t fill) const {
    return store::Sealed{key_id, store::Bytes(24, fill), store::Bytes(40, fill)};
  }
  store::Connection row() { return store->find(kId.account, kId.app).value().connection; }

  std::int64_t key_id = 0;
};

store::RefreshedTokens tokens(store::Sealed s) {
  store::RefreshedTokens t;
  t.seal = fixed(std::move(s));
  t.expires_at = 9000;
  t.next_refresh_at = 8000;
  return t;
}

}  // namespace

TEST_CASE("store lease: one owner at a time until it expires or is released") {
  LifecycleStore f;
  auto a = f.store->acquire_lease(kId, "a", 2000, 3000);
  CHECK(a.state == store::LeaseResult::State::acquired);
  REQUIRE(a.row);
  auto b = f.store->acquire_lease(kId, "b", 2500, 3500);
  CHECK(b.state == store::LeaseResult::State::busy);
  CHECK(b.lease_expires_at == 3000);
  // Expired: b takes it over.
  CHECK(f.store->acquire_lease(kId, "b", 3001, 4000).state == store::LeaseResult::State::acquired);
  f.store->release_lease(kId, "a");  // not a's any more: nothing happens
  CHECK(f.store->acquire_lease(kId, "a", 3002, 4000).state == store::LeaseResult::State::busy);
  f.store->release_lease(kId, "b");
  CHECK(f.store->acquire_lease(kId, "a", 3003, 4000).state == store::LeaseResult::State::acquired);
  CHECK(f.store->acquire_lease({"nobody", "sandbox", "oauth2"}, "a", 0, 1).state ==
        store::LeaseResult::State::missing);
}

TEST_CASE("store save_refreshed: only the lease holder at the version it read") {
  LifecycleStore f;
  const std::int64_t v = f.row().version;
  REQUIRE(f.store->acquire_lease(kId, "a", 2000, 3000).state == store::LeaseResult::State::acquired);
  CHECK_FALSE(f.store->save_refreshed(kId, "b", v, tokens(f.sealed(2)), 2100));      // not the holder
  CHECK_FALSE(f.store->save_refreshed(kId, "a", v - 1, tokens(f.sealed(2)), 2100));  // stale version
  CHECK(f.row().version == v);
  REQUIRE(f.store->save_refreshed(kId, "a", v, tokens(f.sealed(2)), 2100));
  store::Connection r = f.row();
  CHECK(r.version == v + 1);
  CHECK(r.expires_at == 9000);
  CHECK(r.next_refresh_at == 8000);
  CHECK(f.store->find(kId.account, kId.app)->sealed.nonce == f.sealed(2).nonce);
  // The lease went with the save: a late second save by the same owner fails.
  CHECK_FALSE(f.store->save_refreshed(kId, "a", v + 1, tokens(f.sealed(3)), 2200));
}

TEST_CASE("store mark_reauth: fenced by lease owner and version when given") {
  LifecycleStore f;
  const std::int64_t v = f.row().version;
  // A decision made on an older version marks nothing.
  CHECK(f.store->mark_reauth("acct", "sandbox", std::nullopt, "expired", 2000, std::nullopt, v - 1).empty());
  // Nor does one by an owner that does not hold the lease.
  CHECK(f.store->mark_reauth("acct", "sandbox", std::nullopt, "expired", 2000, std::string("a"), std::nullopt)
            .empty());
  CHECK(f.row().status == "active");
  auto changed = f.store->mark_reauth("acct", "sandbox", "oauth2", "expired", 2000, std::nullopt, v);
  REQUIRE(changed.size() == 1);
  CHECK(changed[0].status == "reauth_required");
  CHECK(changed[0].reason == "expired");
  CHECK(changed[0].version == v + 1);
  // Once: a second mark changes nothing.
  CHECK(f.store->mark_reauth("acct", "sandbox", std::nullopt, "revoked", 2100, std::nullopt, std::nullopt).empty());
  CHECK(f.row().reason == "expired");
  // Connecting again makes it active, with a new version.
  f.store->upsert(kId, fixed(f.sealed(4)), 3000, 9000, 8000);
  CHECK(f.row().status == "active");
  CHECK(f.row().version > v + 1);
}

TEST_CASE("store versions: a connection removed and made again does not reuse its versions") {
  LifecycleStore f;
  // The versions the first row passes through.
  std::vector<std::int64_t> seen{f.row().version};
  for (int i = 0; i < 3; ++i) {
    f.store->upsert(kId, fixed(f.sealed(2)), 2000 + i, 9000, 8000);
    seen.push_back(f.row().version);
  }
  REQUIRE(seen.back() == seen.front() + 3);
  REQUIRE(f.store->remove("acct", std::string("sandbox"), 0).size() == 1);
  f.store->upsert(kId, fixed(f.sealed(3)), 3000, 9000, 8000);
  const std::int64_t fresh = f.row().version;
  CHECK(fresh > 0);
  for (std::int64_t v : seen) CHECK(fresh != v);
  // A fence taken on the old row cannot mark the new one.
  CHECK(f.store->mark_reauth("acct", "sandbox", std::nullopt, "expired", 3100, std::nullopt, seen.back()).empty());
  CHECK(f.row().status == "active");
}

TEST_CASE("store checkpoints: a growing WAL is checkpointed off the committing thread, data intact") {
  LifecycleStore f;
  const auto db_size = [&] { return std::filesystem::file_size(f.store->path()); };
  const auto before = db_size();
  CHECK(f.store->checkpoints_copied() == 0);
  // Enough writes of big records to take the WAL past 1,000 pages. A commit
  // only asks for the checkpoint: the pages stay in the WAL until it runs.
  const store::Bytes big(16 * 1024, 0x5A);
  for (int i = 0; i < 400; ++i) {
    const store::ConnectionId id{"acct" + std::to_string(i), "sandbox", "oauth2"};
    f.store->upsert(id, fixed(store::Sealed{f.key_id, store::Bytes(24, 1), big}), 1000 + i, std::nullopt, std::nullopt);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (f.store->checkpoints_copied() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  REQUIRE(f.store->checkpoints_copied() >= 1);
  // A checkpoint that ran while the writes went on (a slow build) left the
  // later ones in the WAL: more writes, until one starts after them all.
  const std::size_t seen = f.store->checkpoints_copied();
  for (int i = 0; f.store->checkpoints_copied() == seen && std::chrono::steady_clock::now() < deadline; ++i) {
    const store::ConnectionId id{"filler" + std::to_string(i), "sandbox", "oauth2"};
    f.store->upsert(id, fixed(store::Sealed{f.key_id, store::Bytes(24, 1), big}), 5000 + i, std::nullopt, std::nullopt);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // The records reached the database file itself.
  CHECK(db_size() >= before + 400 * big.size());
  for (int i = 0; i < 400; i += 57) {
    auto row = f.store->find("acct" + std::to_string(i), "sandbox");
    REQUIRE(row);
    CHECK(row->sealed.ciphertext == big);
  }
}

TEST_CASE("store change log: what a reader caches changed, by connection, and nothing else") {
  LifecycleStore f;
  const store::ConnectionId other{"acct2", "sandbox", "oauth2"};
  std::int64_t seq = f.store->last_change();
  f.store->upsert(other, fixed(f.sealed(5)), 1100, 5000, 4000);
  store::Changes ch = f.store->changes_since(seq, 100);
  REQUIRE(ch.connections.size() == 1);
  CHECK(ch.connections[0] == std::pair<std::string, std::string>{"acct2", "sandbox"});
  CHECK_FALSE(ch.everything);
  seq = ch.last;
  CHECK(f.store->changes_since(seq, 100).connections.empty());

  // A lease taken and released changes nothing a reader sees.
  REQUIRE(f.store->acquire_lease(kId, "a", 2000, 3000).state == store::LeaseResult::State::acquired);
  f.store->release_lease(kId, "a");
  CHECK(f.store->changes_since(seq, 100).connections.empty());

  // A refresh, a failure, a re-auth and a removal each log their connection.
  REQUIRE(f.store->acquire_lease(kId, "a", 2000, 3000).state == store::LeaseResult::State::acquired);
  REQUIRE(f.store->save_refreshed(kId, "a", f.row().version, tokens(f.sealed(2)), 2100));
  REQUIRE(f.store->acquire_lease(kId, "a", 2200, 3000).state == store::LeaseResult::State::acquired);
  REQUIRE(f.store->record_refresh_failure(kId, "a", 2300, 4000, "timeout"));
  CHECK(f.store->mark_reauth("acct2", "sandbox", std::nullopt, "revoked", 2400, std::nullopt, std::nullopt).size() == 1);
  CHECK(f.store->remove("acct2", std::nullopt, 0).size() == 1);
  ch = f.store->changes_since(seq, 100);
  REQUIRE(ch.connections.size() == 4);
  CHECK(ch.connections[0].first == "acct");
  CHECK(ch.connections[1].first == "acct");
  CHECK(ch.connections[2].first == "acct2");
  CHECK(ch.connections[3].first == "acct2");

  // More than the caller takes: everything.
  ch = f.store->changes_since(seq, 3);
  CHECK(ch.everything);
  CHECK(ch.connections.empty());
  CHECK(ch.last == f.store->last_change());
}

TEST_CASE("store change log: a reader behind the pruned log is told everything changed") {
  LifecycleStore f;
  const std::int64_t seq = f.store->last_change();
  // The log keeps its last 65,536 entries, pruned every 4,096.
  const std::int64_t n = 65536 + 8192;
  sqlite::Db db(f.store->path());
  db.exec(("WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < " + std::to_string(n) +
           ") INSERT INTO changes (account, app) SELECT 'x', 'y' FROM k")
              .c_str());
  store::Changes ch = f.store->changes_since(seq, 1000);
  CHECK(ch.everything);
  CHECK(ch.last == f.store->last_change());
  CHECK(f.store->changes_since(ch.last, 1000).connections.empty());
  sqlite::Stmt count(db, "SELECT count(*) FROM changes");
  REQUIRE(count.step());
  CHECK(count.integer(0) <= 65536 + 4096);
}

TEST_CASE("store due: leased rows and skipped apps are passed over") {
  LifecycleStore f;
  const store::ConnectionId b{"acct2", "sandbox", "oauth2"}, c{"acct3", "other", "oauth2"};
  f.store->upsert(b, fixed(f.sealed(5)), 1000, 5000, 4100);
  f.store->upsert(c, fixed(f.sealed(6)), 1000, 5000, 4200);
  store::Store& base = *f.store;  // the defaults are on the interface
  auto names = [](const std::vector<store::ConnectionId>& ids) {
    std::vector<std::string> out;
    for (const auto& id : ids) out.push_back(id.account);
    return out;
  };
  CHECK(names(base.due(4500, 10)) == std::vector<std::string>{"acct", "acct2", "acct3"});
  CHECK(names(base.due(4500, 2)) == std::vector<std::string>{"acct", "acct2"});
  REQUIRE(f.store->acquire_lease(kId, "a", 4500, 6000).state == store::LeaseResult::State::acquired);
  CHECK(names(base.due(4500, 10)) == std::vector<std::string>{"acct2", "acct3"});
  CHECK(names(base.due(6000, 10)) == std::vector<std::string>{"acct", "acct2", "acct3"});  // lease ran out
  CHECK(names(base.due(4500, 10, {"sandbox"})) == std::vector<std::string>{"acct3"});
  CHECK(names(base.due(4500, 10, {"other", "x'y"})) == std::vector<std::string>{"acct2"});
}

TEST_CASE("store save_refreshed_batch: one transaction, each item fenced on its own") {
  LifecycleStore f;
  const store::ConnectionId b{"acct2", "sandbox", "oauth2"}, c{"acct3", "sandbox", "oauth2"};
  f.store->upsert(b, fixed(f.sealed(5)), 1000, 5000, 4000);
  f.store->upsert(c, fixed(f.sealed(6)), 1000, 5000, 4000);
  for (const auto& id : {kId, b, c})
    REQUIRE(f.store->acquire_lease(id, "a", 2000, 3000).state == store::LeaseResult::State::acquired);
  const std::int64_t va = f.row().version;
  const std::int64_t vb = f.store->find("acct2", "sandbox")->connection.version;
  const std::int64_t vc = f.store->find("acct3", "sandbox")->connection.version;
  store::RefreshSave s1{kId, "a", va, tokens(f.sealed(7))};
  store::RefreshSave s2{b, "a", vb - 1, tokens(f.sealed(8))};  // stale: fenced off
  store::RefreshSave s3{c, "a", vc, tokens(f.sealed(9))};
  s3.tokens.seal = [](std::int64_t) -> store::Sealed { throw std::runtime_error("seal failed"); };
  store::RefreshSave s4{c, "a", vc, tokens(f.sealed(9))};
  const store::RefreshSave* items[] = {&s1, &s2, &s3, &s4};
  auto out = f.store->save_refreshed_batch(items, 2500);
  REQUIRE(out.size() == 4);
  CHECK(out[0].saved);
  CHECK_FALSE(out[1].saved);
  CHECK_FALSE(out[1].error);
  CHECK_FALSE(out[2].saved);
  CHECK(out[2].error);
  CHECK(out[3].saved);  // a failed seal does not take the others down
  CHECK(f.row().version == va + 1);
  CHECK(f.store->find("acct2", "sandbox")->connection.version == vb);
  CHECK(f.store->find("acct3", "sandbox")->connection.version == vc + 1);
  CHECK(f.store->find("acct3", "sandbox")->sealed.nonce == store::Bytes(24, 9));
}
