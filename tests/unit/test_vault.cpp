#include <doctest/doctest.h>

#include <sodium.h>

#include "vault/vault.hpp"
#include "temp_store.hpp"
#include "test_keys.hpp"
#include "util/error.hpp"

using namespace refold;
using refold::test::bytes;
using refold::test::key;
using refold::test::TempStore;

namespace {

// The data key a new store starts with.
constexpr std::int64_t kFirstKey = 1;

}  // namespace

TEST_CASE("vault seals and opens a record bound to its row") {
  TempStore t;
  SystemClock clock;
  vault::Vault v(*t.store, key(1), t.meta.store_id, clock);
  store::ConnectionId a{"acct", "twilio", "keybased"};
  auto sealed = v.seal(a, bytes("secret-value"), kFirstKey);
  CHECK(sealed.nonce.size() == 24);
  CHECK(std::string(v.open(a, sealed).view()) == "secret-value");

  // The same ciphertext under another row identity fails authentication.
  for (store::ConnectionId other : {store::ConnectionId{"acct2", "twilio", "keybased"},
                                    store::ConnectionId{"acct", "stripe", "keybased"},
                                    store::ConnectionId{"acct", "twilio", "oauth2"}}) {
    CHECK_THROWS_AS(v.open(other, sealed), Error);
  }
  auto flipped = sealed;
  flipped.ciphertext[0] ^= 1;
  CHECK_THROWS_AS(v.open(a, flipped), Error);
}

TEST_CASE("vault refuses a wrong master key and writes nothing") {
  TempStore t;
  SystemClock clock;
  { vault::Vault v(*t.store, key(1), t.meta.store_id, clock); }
  auto before = t.store->data_keys();
  REQUIRE(before.size() == 1);
  try {
    vault::Vault v(*t.store, key(2), t.meta.store_id, clock);
    FAIL("opened with the wrong key");
  } catch (const Error& e) {
    CHECK(e.code() == REFOLD_ECRYPTO);
  }
  auto after = t.store->data_keys();
  REQUIRE(after.size() == 1);
  CHECK(after[0].wrapped == before[0].wrapped);
}

TEST_CASE("master key rotation rewraps data keys") {
  TempStore t;
  SystemClock clock;
  store::ConnectionId a{"acct", "twilio", "keybased"};
  store::Sealed sealed;
  {
    vault::Vault v(*t.store, key(1), t.meta.store_id, clock);
    sealed = v.seal(a, bytes("kept"), kFirstKey);
    v.rotate_master_key(key(3), [] {});
    CHECK(std::string(v.open(a, sealed).view()) == "kept");
  }
  CHECK_THROWS_AS(vault::Vault(*t.store, key(1), t.meta.store_id, clock), Error);
  vault::Vault v(*t.store, key(3), t.meta.store_id, clock);
  CHECK(std::string(v.open(a, sealed).view()) == "kept");
}
