// The in-memory credential cache: what it serves, and that an
// invalidation is never undone by a load that raced it.
#include <doctest/doctest.h>

#include <string>

#include "core/credential_cache.hpp"

using refold::core::CredentialCache;
using refold::core::Credentials;

namespace {

Credentials creds(const std::string& json, std::int64_t version) {
  Credentials c;
  c.state.version = version;
  c.json = refold::crypto::WipedBytes(json);
  return c;
}

std::string key(int i) {
  std::string buffer;
  return std::string(CredentialCache::key(buffer, "account-" + std::to_string(i), "app"));
}

std::uint64_t gen(const CredentialCache& cache, const std::string& k) {
  return cache.generation(CredentialCache::hash(k));
}

std::size_t shard_of(const std::string& k) { return CredentialCache::hash(k) % CredentialCache::kShards; }

// The first key(i), i > 1, in key(1)'s shard (same) or in another (!same).
std::string neighbour_of_1(bool same) {
  for (int i = 2;; ++i)
    if ((shard_of(key(i)) == shard_of(key(1))) == same) return key(i);
}

// "served", "stale" or "no", with what a served or stale find copied out.
std::string look(const CredentialCache& cache, const std::string& k, bool servable = true) {
  Credentials out;
  auto found = cache.find(k, [servable](const auto&) { return servable; }, out);
  if (found == CredentialCache::Found::no) return "no";
  return std::string(found == CredentialCache::Found::served ? "served:" : "stale:") +
         std::string(out.json.view());
}

}  // namespace

TEST_CASE("credential cache: serves what was put, stale when not servable") {
  CredentialCache cache(100);
  CHECK(look(cache, key(1)) == "no");
  cache.put(key(1), creds("one", 1), gen(cache, key(1)));
  CHECK(look(cache, key(1)) == "served:one");
  CHECK(look(cache, key(1), false) == "stale:one");
  cache.put(key(1), creds("uno", 2), gen(cache, key(1)));
  CHECK(look(cache, key(1)) == "served:uno");
  CHECK(look(cache, key(2)) == "no");
}

TEST_CASE("credential cache: a put that raced an invalidation caches nothing and drops the old entry") {
  CredentialCache cache(100);
  std::string other = key(1);
  SUBCASE("of the same key") {}
  SUBCASE("of another key in its shard") { other = neighbour_of_1(true); }
  cache.put(key(1), creds("old", 1), gen(cache, key(1)));
  const std::uint64_t seen = gen(cache, key(1));  // a load starts
  cache.invalidate(other);                         // something changed meanwhile
  cache.put(key(1), creds("loaded", 2), seen);
  CHECK(look(cache, key(1)) == "no");
  cache.put(key(1), creds("again", 3), gen(cache, key(1)));
  CHECK(look(cache, key(1)) == "served:again");
}

TEST_CASE("credential cache: invalidations in other shards do not keep a load out, and clear does") {
  CredentialCache cache(100);
  const std::string elsewhere = neighbour_of_1(false);
  const std::uint64_t seen = gen(cache, key(1));  // a load starts
  cache.invalidate(elsewhere);                     // another connection changes
  cache.put(key(1), creds("loaded", 1), seen);
  CHECK(look(cache, key(1)) == "served:loaded");

  const std::uint64_t seen2 = gen(cache, key(1));
  cache.clear();  // every shard: the store changed under the cache
  cache.put(key(1), creds("loaded", 2), seen2);
  CHECK(look(cache, key(1)) == "no");
}

TEST_CASE("credential cache: invalidate and clear remove entries, and no key is lost while not full") {
  CredentialCache cache(10000);
  for (int i = 0; i < 2000; ++i) cache.put(key(i), creds("v" + std::to_string(i), i), gen(cache, key(i)));
  for (int i = 0; i < 2000; ++i) REQUIRE(look(cache, key(i)) == "served:v" + std::to_string(i));
  for (int i = 0; i < 2000; i += 2) cache.invalidate(key(i));
  int found = 0, wrong = 0;
  for (int i = 0; i < 2000; ++i) {
    bool in = look(cache, key(i)) != "no";
    found += in ? 1 : 0;
    wrong += in == (i % 2 == 0) ? 1 : 0;
  }
  CHECK(found == 1000);
  CHECK(wrong == 0);
  cache.clear();
  for (int i = 1; i < 2000; i += 2) REQUIRE(look(cache, key(i)) == "no");
  // Usable after clear.
  cache.put(key(7), creds("seven", 7), gen(cache, key(7)));
  CHECK(look(cache, key(7)) == "served:seven");
}

TEST_CASE("credential cache: holds at most its capacity, and what it holds is what was put") {
  CredentialCache cache(160);  // 10 per shard
  for (int round = 0; round < 50; ++round)
    for (int i = 0; i < 1000; ++i) cache.put(key(i), creds("v" + std::to_string(i), i), gen(cache, key(i)));
  int held = 0;
  for (int i = 0; i < 1000; ++i) {
    std::string got = look(cache, key(i));
    if (got == "no") continue;
    ++held;
    CHECK(got == "served:v" + std::to_string(i));
  }
  CHECK(held > 0);
  CHECK(held <= 160);
  CredentialCache off(0);
  off.put(key(1), creds("x", 1), gen(off, key(1)));
  CHECK(look(off, key(1)) == "no");
}

// ---- Invalidation across processes ------------------------------------------------------

#include <filesystem>
#include <thread>

#include "core/client.hpp"
#include "core/config.hpp"
#include "store/sqlite_store.hpp"

namespace {

std::string openai_payload(char fill) { return "{\"api_key\":\"sk-" + std::string(24, fill) + "\"}"; }

}  // namespace

TEST_CASE("cache: another process's write drops only the connection it changed") {
  using namespace refold;
  std::string tmpl = (std::filesystem::temp_directory_path() / "refold-unit-XXXXXX").string();
  const std::string dir = mkdtemp(tmpl.data());
  const std::string path = dir + "/s.db";
  const std::string key(64, 'a');
  {
    core::Client here(core::parse_config(("{\"store\":\"" + path + "\",\"master_key\":\"" + key + "\"}").c_str()));
    here.connect("u1", "openai", openai_payload('a').c_str());
    here.connect("u2", "openai", openai_payload('b').c_str());
    here.credentials("u1", "openai");
    here.credentials("u2", "openai");
    const store::Bytes store_id = store::SqliteStore(path).meta().store_id;
    auto cache = core::CredentialCache::for_store(store_id, 10000);  // the one `here` uses
    auto cached = [&](const char* account) {
      std::string buffer;
      core::Credentials out;
      return cache->find(core::CredentialCache::key(buffer, account, "openai"),
                         [](const core::CredentialState&) { return true; }, out) ==
             core::CredentialCache::Found::served;
    };
    REQUIRE(cached("u1"));
    REQUIRE(cached("u2"));
    {
      // "Another process": a client whose cache is its own (disabled), so
      // `here` learns of its write only through the store.
      core::Client there(core::parse_config(
          ("{\"store\":\"" + path + "\",\"master_key\":\"" + key + "\",\"credential_cache\":0}").c_str()));
      there.connect("u2", "openai", openai_payload('c').c_str());
    }
    // Past the 100 ms a client may go without looking at the store.
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    here.credentials("u1", "openai");  // looks, and drops what changed
    CHECK(cached("u1"));
    CHECK_FALSE(cached("u2"));
    CHECK(std::string(here.credentials("u2", "openai").view()).find(std::string(24, 'c')) != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}
