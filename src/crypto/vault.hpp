// Envelope encryption. A 32-byte master key (KEK) wraps random data keys
// (DEKs) kept in the store; each record is XChaCha20-Poly1305 under a DEK,
// with associated data binding it to its store, row identity and key id, so
// a ciphertext moved to another row or store fails to decrypt.
#pragma once

#include <boost/container/small_vector.hpp>
#include <cstdint>
#include <map>
#include <mutex>
#include <span>

#include "crypto/secure.hpp"
#include "store/store.hpp"

namespace refold::crypto {

inline constexpr std::size_t kKeyBytes = 32;

class Vault {
 public:
  // Associated data: built on the stack for typical sizes.
  using Ad = boost::container::small_vector<std::uint8_t, 256>;

  // Unwraps the store's data keys with `kek`, creating the first one for a
  // new store. Throws REFOLD_ECRYPTO when `kek` is not the store's master
  // key; in that case nothing is written.
  Vault(store::Store& store, SecretBytes kek, store::Bytes store_id, const Clock& clock);

  // Encrypts `plaintext` for the row `id` under the active data key.
  store::Sealed seal(const store::ConnectionId& id, std::span<const std::uint8_t> plaintext) const;

  // Decrypts a record of row `id` into memory wiped after use. Throws REFOLD_ECRYPTO
  // when it fails authentication (tampered, or moved from another row).
  WipedBytes open(const store::ConnectionId& id, const store::Sealed& sealed) const;

  // Seals and opens a pending OAuth flow, bound to its state hash.
  store::Sealed seal_flow(std::span<const std::uint8_t> state_hash,
                          std::span<const std::uint8_t> plaintext) const;
  WipedBytes open_flow(std::span<const std::uint8_t> state_hash, const store::Sealed& sealed) const;

  // Re-wraps every data key under `new_kek` in one store transaction, then
  // switches to it. `before_commit` runs inside that transaction.
  void rotate_master_key(SecretBytes new_kek, const std::function<void()>& before_commit);

 private:
  Ad record_ad(const store::ConnectionId& id, std::int64_t key_id) const;
  Ad key_ad(std::int64_t key_id) const;
  Ad flow_ad(std::span<const std::uint8_t> state_hash, std::int64_t key_id) const;
  store::Sealed seal_with(const Ad& ad, std::span<const std::uint8_t> plaintext) const;
  WipedBytes open_with(const Ad& ad, const store::Sealed& sealed, const std::string& what) const;
  SecretBytes unwrap(const SecretBytes& kek, const store::DataKey& k) const;
  store::DataKey wrap(const SecretBytes& kek, const SecretBytes& dek, std::int64_t id,
                      Millis created_at) const;

  store::Store& store_;
  store::Bytes store_id_;
  std::mutex kek_mu_;  // guards kek_ during rotation
  SecretBytes kek_;
  // Data keys never change after open (rotation re-wraps, not replaces), so
  // readers use them without a lock.
  std::map<std::int64_t, SecretBytes> deks_;
  std::int64_t active_ = 0;
};

}  // namespace refold::crypto
