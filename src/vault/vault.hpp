// Envelope encryption. A 32-byte master key (KEK) wraps random data keys
// (DEKs) kept in the store; each record is XChaCha20-Poly1305 under a DEK,
// with associated data binding it to its store, row identity and key id, so
// a ciphertext moved to another row or store fails to decrypt. The sealing
// itself is crypto/aead.hpp; this layer owns the keys and where they live.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <vector>

#include "crypto/aead.hpp"
#include "crypto/secure.hpp"
#include "store/store.hpp"

namespace refold::vault {

// What a data-key rotation did.
struct DataKeyRotation {
  std::int64_t current = 0;           // the key every record is sealed under now
  std::vector<std::int64_t> retired;  // the keys it destroyed
  std::size_t resealed = 0;           // records it re-sealed (this call's share)
};

class Vault {
 public:
  using Ad = crypto::Ad;
  // The master keys its source may hold now (a key file another process
  // may have rotated, and the new key it may be waiting in), or none when
  // the source cannot change. Called without any of the vault's locks.
  using KekSource = std::function<std::vector<crypto::SecretBytes>()>;

  // Unwraps the store's data keys with `kek`, creating the first one for a
  // new store. Throws REFOLD_ECRYPTO when `kek` is not the store's master
  // key; in that case nothing is written. `reread` is asked for the master
  // key again when a data key added by another process does not open with
  // `kek` (that process rotated the master key since).
  Vault(store::Store& store, crypto::SecretBytes kek, store::Bytes store_id, const Clock& clock,
        KekSource reread = {});

  // Encrypts `plaintext` for the row `id` under data key `key_id` (what the
  // store passes to a Sealer).
  store::Sealed seal(const store::ConnectionId& id, std::span<const std::uint8_t> plaintext,
                     std::int64_t key_id) const;
  // A Sealer for the store: seals `plaintext`, which must outlive it, for
  // the row `id`.
  store::Sealer sealer(const store::ConnectionId& id, std::span<const std::uint8_t> plaintext) const;

  // Makes sure the data key current in the store is loaded, so that a
  // write about to be made can be sealed: called before a request whose
  // answer must then be saved (a rotated refresh token), so a key this
  // client cannot open fails before anything is sent. Throws REFOLD_ECRYPTO.
  void require_current_key() const;

  // Decrypts a record of row `id` into memory wiped after use. Throws REFOLD_ECRYPTO
  // when it fails authentication (tampered, or moved from another row).
  crypto::WipedBytes open(const store::ConnectionId& id, const store::Sealed& sealed) const;

  // Seals and opens a pending OAuth flow, bound to its state hash.
  store::Sealer flow_sealer(std::span<const std::uint8_t> state_hash,
                            std::span<const std::uint8_t> plaintext) const;
  crypto::WipedBytes open_flow(std::span<const std::uint8_t> state_hash,
                               const store::Sealed& sealed) const;

  // Re-wraps every data key under `new_kek` in one store transaction, then
  // switches to it. `before_commit` runs inside that transaction.
  void rotate_master_key(crypto::SecretBytes new_kek, const std::function<void()>& before_commit);

  // Replaces the data key: a new key becomes current for every write (in
  // every process: stores seal inside their write transactions), the
  // records under older keys are re-sealed under it in batches of
  // `batch` (each its own short transaction, so reads and writes go on),
  // then the older keys are deleted from the store. An earlier rotation
  // that did not finish (a crash) is finished instead of starting another.
  DataKeyRotation rotate_data_key(std::size_t batch);

 private:
  Ad record_ad(const store::ConnectionId& id, std::int64_t key_id) const;
  Ad key_ad(std::int64_t key_id) const;
  Ad flow_ad(std::span<const std::uint8_t> state_hash, std::int64_t key_id) const;
  store::Sealed seal_with(const Ad& ad, std::int64_t key_id, std::span<const std::uint8_t> plaintext) const;
  crypto::WipedBytes open_with(const Ad& ad, const store::Sealed& sealed,
                               const std::string& what) const;
  crypto::SecretBytes unwrap(const crypto::SecretBytes& kek, const store::DataKey& k) const;
  std::optional<crypto::SecretBytes> try_unwrap(const crypto::SecretBytes& kek,
                                                const store::DataKey& k) const;
  store::DataKey wrap(const crypto::SecretBytes& kek, const crypto::SecretBytes& dek,
                      std::int64_t id, Millis created_at) const;
  // Runs f(key) with data key `key_id` (nullptr when the store has no such
  // key), under the key lock; loads keys added by another process first.
  template <class F>
  auto with_key(std::int64_t key_id, F&& f) const;
  // Unwraps the stored keys this vault has not seen yet. Keys the store no
  // longer has are kept: a reader may hold a row it read just before a
  // rotation dropped its key. When one opens with no master key this vault
  // has, reread_ is asked (outside the lock) and a key it gives that opens
  // it becomes the master key.
  void load_new_keys(const std::vector<store::DataKey>& stored) const;
  void reload() const;
  // Makes sure kek_ still wraps the store's keys (`stored` is one of them),
  // taking the key from `reread_` when another process rotated it.
  void adopt_current_kek(const store::DataKey& stored);
  // With keys_mu_ held alone: the first of `candidates` that opens `k`
  // becomes kek_.
  bool adopt_kek(std::vector<crypto::SecretBytes>& candidates, const store::DataKey& k) const;

  store::Store& store_;
  store::Bytes store_id_;
  const Clock& clock_;
  KekSource reread_;
  // One rotation (master or data key) at a time in this process.
  std::mutex rotation_mu_;
  // Guards kek_, next_kek_ and deks_. Readers share it; only loading keys
  // and switching the master key take it alone.
  mutable std::shared_mutex keys_mu_;
  mutable crypto::SecretBytes kek_;
  // While a master-key rotation commits: the key the store's data keys are
  // about to be (or just were) wrapped with.
  std::optional<crypto::SecretBytes> next_kek_;
  mutable std::map<std::int64_t, crypto::SecretBytes> deks_;
  mutable std::mutex reload_mu_;  // one reload at a time
};

}  // namespace refold::vault
