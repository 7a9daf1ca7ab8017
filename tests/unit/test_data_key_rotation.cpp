// Data-key rotation (vault::Vault over the SQLite store): a new key current
// for every write at once, records re-sealed in batches, the old key
// dropped; other vaults on the same file (other processes) keep reading and
// writing throughout; a rotation that stopped is finished, not restarted.
#include <doctest/doctest.h>

#include <sodium.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "vault/vault.hpp"
#include "temp_store.hpp"
#include "test_keys.hpp"
#include "util/error.hpp"

using namespace refold;
using refold::test::bytes;
using refold::test::key;
using refold::test::TempStore;

namespace {

store::ConnectionId conn(int i) { return {"acct-" + std::to_string(i), "twilio", "keybased"}; }
std::string plain(int i) { return "record-" + std::to_string(i); }

// Connects `n` accounts through the store, sealed by `v`.
void fill(store::Store& s, const vault::Vault& v, int n, int first = 0) {
  for (int i = first; i < first + n; ++i) {
    const std::string p = plain(i);
    s.upsert(conn(i), v.sealer(conn(i), bytes(p)), 1000 + i);
  }
}

// Every one of the `n` records reads back through `v` as written.
void check_all(store::Store& s, const vault::Vault& v, int n) {
  for (int i = 0; i < n; ++i) {
    auto row = s.find(conn(i).account, conn(i).app);
    REQUIRE(row);
    CHECK(std::string(v.open(row->connection.id, row->sealed).view()) == plain(i));
  }
}

std::vector<std::int64_t> key_ids(store::Store& s) {
  std::vector<std::int64_t> ids;
  for (const auto& k : s.data_keys()) ids.push_back(k.id);
  return ids;
}

// A second SQLiteStore and Vault on the same file: what another process has.
struct OtherProcess {
  OtherProcess(const TempStore& t, std::uint8_t kek, vault::Vault::KekSource reread = {})
      : store(t.dir + "/s.db"), vault(store, key(kek), t.meta.store_id, clock, std::move(reread)) {}
  SystemClock clock;
  store::SqliteStore store;
  vault::Vault vault;
};

// A migrated store and this process's vault on it, master key key(1).
struct Rotating {
  Rotating() { t.store->migrate(); }
  TempStore t;
  SystemClock clock;
  vault::Vault v{*t.store, key(1), t.meta.store_id, clock};
};

}  // namespace

TEST_CASE("data-key rotation re-seals every record and pending flow, then drops the old key") {
  Rotating f;
  TempStore& t = f.t;
  vault::Vault& v = f.v;
  fill(*t.store, v, 130);
  const store::Bytes hash(32, 0xAB);
  t.store->put_flow({hash, 1000, 9'000'000'000'000, {}}, v.flow_sealer(hash, bytes("flow-record")), 1000);
  const auto old_key = t.store->data_keys().at(0);

  const auto holds = [&](const std::string& file, const store::Bytes& blob) {
    std::ifstream in(file, std::ios::binary);
    const std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return data.find(std::string(blob.begin(), blob.end())) != std::string::npos;
  };
  CHECK((holds(t.dir + "/s.db", old_key.wrapped) || holds(t.dir + "/s.db-wal", old_key.wrapped)));

  // Batches of 50: three for the connections, the last one taking the flow.
  vault::DataKeyRotation r = v.rotate_data_key(50);
  CHECK(r.current == 2);
  CHECK(r.retired == std::vector<std::int64_t>{1});
  CHECK(r.resealed == 131);
  // With no other reader about, the rotation's last checkpoint has emptied
  // the WAL: the old wrapped key is in neither file while the store is open.
  CHECK(std::filesystem::file_size(t.dir + "/s.db-wal") == 0);
  CHECK_FALSE(holds(t.dir + "/s.db", old_key.wrapped));

  CHECK(key_ids(*t.store) == std::vector<std::int64_t>{2});
  auto use = t.store->data_key_use();
  REQUIRE(use.size() == 1);
  CHECK(use[0].connections == 130);
  CHECK(use[0].flows == 1);

  check_all(*t.store, v, 130);
  auto flow = t.store->take_flow(hash);
  REQUIRE(flow);
  CHECK(flow->sealed.key_id == 2);
  CHECK(std::string(v.open_flow(hash, flow->sealed).view()) == "flow-record");

  // A new process opens the store with the master key alone and reads it all.
  OtherProcess later(t, 1);
  check_all(later.store, later.vault, 130);
  // The old wrapped key is nowhere in the store any more.
  for (const auto& k : later.store.data_keys()) CHECK(k.wrapped != old_key.wrapped);

  // Rotating again works the same way.
  r = v.rotate_data_key(1000);
  CHECK(r.current == 3);
  CHECK(r.retired == std::vector<std::int64_t>{2});
  check_all(*t.store, v, 130);
}

TEST_CASE("data-key rotation: another process reads re-sealed records and writes under the new key") {
  Rotating f;
  TempStore& t = f.t;
  vault::Vault& v = f.v;
  fill(*t.store, v, 40);
  OtherProcess other(t, 1);  // loaded data key 1 only
  check_all(other.store, other.vault, 40);

  v.rotate_data_key(16);
  // Records now under key 2, which `other` has never seen: it loads it.
  check_all(other.store, other.vault, 40);
  // Its writes go under the key current in the store, not the one it had.
  fill(other.store, other.vault, 5, 40);
  CHECK(other.store.find(conn(42).account, conn(42).app)->sealed.key_id == 2);
  check_all(*t.store, v, 45);
}

TEST_CASE("data-key rotation: a record that fails authentication stops it part-way, others read on, the next call finishes it") {
  Rotating f;
  TempStore& t = f.t;
  vault::Vault& v = f.v;
  fill(*t.store, v, 60);
  // A damaged record, last in the rotation's order (by key, then account).
  const store::Sealed damaged{1, store::Bytes(24, 3), store::Bytes(40, 4)};
  t.store->upsert({"zzz", "twilio", "keybased"}, [&](std::int64_t) { return damaged; }, 5000,
                  std::nullopt, std::nullopt);
  OtherProcess other(t, 1);  // has loaded data key 1 only

  try {
    v.rotate_data_key(16);
    FAIL("the rotation re-sealed a damaged record");
  } catch (const Error& e) {
    CHECK(e.code() == REFOLD_ECRYPTO);
    CHECK(std::string(e.what()).find("failed authentication") != std::string::npos);
  }
  // Three batches of 16 committed; the fourth, with the damaged record,
  // rolled back. Key 2 is current, key 1 still holds the rest.
  CHECK(key_ids(*t.store) == std::vector<std::int64_t>{1, 2});
  auto use = t.store->data_key_use();
  REQUIRE(use.size() == 2);
  CHECK(use[0].connections == 13);
  CHECK(use[1].connections == 48);

  // Every good record reads, in this process and in the other, which
  // loads key 2 when it first meets it; the other's writes go under key 2.
  check_all(*t.store, v, 60);
  check_all(other.store, other.vault, 60);
  fill(other.store, other.vault, 5, 60);
  CHECK(other.store.find(conn(62).account, conn(62).app)->sealed.key_id == 2);

  // Once the damaged record is gone, a new process's call finishes the
  // rotation to key 2 instead of starting another.
  CHECK(t.store->remove("zzz", std::nullopt, 0).size() == 1);
  OtherProcess resumed(t, 1);
  vault::DataKeyRotation r = resumed.vault.rotate_data_key(16);
  CHECK(r.current == 2);
  CHECK(r.retired == std::vector<std::int64_t>{1});
  CHECK(r.resealed == 12);
  CHECK(key_ids(*t.store) == std::vector<std::int64_t>{2});
  check_all(*t.store, v, 65);
}

TEST_CASE("data-key rotation after another process rotated the master key: the key file is read again") {
  Rotating f;
  TempStore& t = f.t;
  vault::Vault& v = f.v;
  fill(*t.store, v, 10);
  // Both opened with master key 1; one can read the key source again.
  // Its source offers two keys (a key file and its ".next"): the one that
  // opens is taken.
  OtherProcess rereads(t, 1, [] {
    std::vector<crypto::SecretBytes> keys;
    keys.push_back(key(7));
    keys.push_back(key(2));
    return keys;
  });
  OtherProcess stale(t, 1);

  v.rotate_master_key(key(2), [] {});
  v.rotate_data_key(100);
  check_all(rereads.store, rereads.vault, 10);
  auto row = stale.store.find(conn(0).account, conn(0).app);
  try {
    (void)stale.vault.open(row->connection.id, row->sealed);
    FAIL("opened a record under a key wrapped by a master key it does not have");
  } catch (const Error& e) {
    CHECK(e.code() == REFOLD_ECRYPTO);
    CHECK(std::string(e.what()).find("rotated by another process") != std::string::npos);
  }
  // Before a request whose answer it must save, it learns it cannot.
  CHECK_THROWS_AS(stale.vault.require_current_key(), Error);
  CHECK_NOTHROW(rereads.vault.require_current_key());
  // Nor may it start a rotation: its key would be wrapped by the old master key.
  CHECK_THROWS_AS(stale.vault.rotate_data_key(100), Error);
  CHECK(key_ids(*t.store) == std::vector<std::int64_t>{2});
}

TEST_CASE("data-key rotation: a store refuses a record sealed under any key but the current one") {
  Rotating f;
  TempStore& t = f.t;
  vault::Vault& v = f.v;
  fill(*t.store, v, 3);
  v.rotate_data_key(100);
  const std::string p = plain(0);
  const store::Sealed stale = v.seal(conn(0), bytes(p), 1);  // key 1 is gone
  try {
    t.store->upsert(conn(0), [&](std::int64_t) { return stale; }, 9000, std::nullopt, std::nullopt);
    FAIL("a record under a retired key was written");
  } catch (const Error& e) {
    CHECK(e.code() == REFOLD_ESTORE);
  }
  check_all(*t.store, v, 3);
}

TEST_CASE("data-key rotation runs while other threads read and write through the same vault") {
  Rotating f;
  TempStore& t = f.t;
  vault::Vault& v = f.v;
  fill(*t.store, v, 200);
  std::atomic<bool> done{false};
  std::atomic<int> failures{0}, reads{0};
  std::vector<std::thread> threads;
  for (int n = 0; n < 3; ++n) {
    threads.emplace_back([&, n] {
      for (int i = n; !done.load(); i = (i + 7) % 200) {
        try {
          auto row = t.store->find(conn(i).account, conn(i).app);
          if (!row || std::string(v.open(row->connection.id, row->sealed).view()) != plain(i)) ++failures;
          ++reads;
        } catch (const Error&) {
          ++failures;
        }
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; !done.load(); i = (i + 1) % 200) {
      const std::string p = plain(i);
      try {
        t.store->upsert(conn(i), v.sealer(conn(i), bytes(p)), 2000 + i, std::nullopt, std::nullopt);
      } catch (const Error&) {
        ++failures;
      }
    }
  });
  for (int round = 0; round < 3; ++round) v.rotate_data_key(16);
  done = true;
  for (auto& th : threads) th.join();
  CHECK(failures.load() == 0);
  CHECK(reads.load() > 0);
  CHECK(key_ids(*t.store) == std::vector<std::int64_t>{4});
  check_all(*t.store, v, 200);
}
