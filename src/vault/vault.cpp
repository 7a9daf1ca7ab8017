#include "vault/vault.hpp"

#include <sodium.h>

#include "util/error.hpp"

namespace refold::vault {

using crypto::kKeyBytes;
using crypto::SecretBytes;
using crypto::WipedBytes;
using Ad = Vault::Ad;

Vault::Vault(store::Store& store, SecretBytes kek, store::Bytes store_id, const Clock& clock,
             KekSource reread)
    : store_(store), store_id_(std::move(store_id)), clock_(clock), reread_(std::move(reread)),
      kek_(std::move(kek)) {
  crypto::ensure_sodium();
  if (kek_.size() != kKeyBytes) fail(REFOLD_ECRYPTO, "master key must be 32 bytes");
  auto keys = store_.data_keys();
  if (keys.empty()) {
    keys = store_.ensure_data_key([&](std::int64_t id) {
      SecretBytes dek(kKeyBytes);
      crypto_aead_xchacha20poly1305_ietf_keygen(dek.data());
      return wrap(kek_, dek, id, clock_.now());
    });
  }
  // Every key must open: the store's other keys are no less its own.
  for (const auto& k : keys) deks_.emplace(k.id, unwrap(kek_, k));
}

Ad Vault::key_ad(std::int64_t key_id) const {
  Ad ad;
  crypto::append_field(ad, std::string_view("refold/data-key/v1"));
  crypto::append_field(ad, store_id_);
  crypto::append_field(ad, key_id);
  return ad;
}

Ad Vault::record_ad(const store::ConnectionId& id, std::int64_t key_id) const {
  Ad ad;
  crypto::append_field(ad, std::string_view("refold/connection/v1"));
  crypto::append_field(ad, store_id_);
  crypto::append_field(ad, id.account);
  crypto::append_field(ad, id.app);
  crypto::append_field(ad, id.auth_type);
  crypto::append_field(ad, key_id);
  return ad;
}

store::DataKey Vault::wrap(const SecretBytes& kek, const SecretBytes& dek, std::int64_t id,
                           Millis created_at) const {
  store::DataKey k;
  k.id = id;
  k.created_at = created_at;
  crypto::encrypt(kek, dek.span(), key_ad(id), k.nonce, k.wrapped);
  return k;
}

std::optional<SecretBytes> Vault::try_unwrap(const SecretBytes& kek, const store::DataKey& k) const {
  SecretBytes dek;
  if (!crypto::decrypt(kek, k.nonce, k.wrapped, key_ad(k.id), dek) || dek.size() != kKeyBytes)
    return std::nullopt;
  return dek;
}

SecretBytes Vault::unwrap(const SecretBytes& kek, const store::DataKey& k) const {
  auto dek = try_unwrap(kek, k);
  if (!dek)
    fail(REFOLD_ECRYPTO, "the master key does not open this store (wrong key, or data key " +
                             std::to_string(k.id) + " is damaged)");
  return std::move(*dek);
}

void Vault::load_new_keys(const std::vector<store::DataKey>& stored) const {
  std::vector<SecretBytes> reread;  // read from the key source outside the lock
  for (bool asked = false;; asked = true) {
    {
      std::unique_lock lock(keys_mu_);
      bool stuck = false;
      for (const auto& k : stored) {
        if (deks_.count(k.id)) continue;
        auto dek = try_unwrap(kek_, k);
        // Mid-way through this process's own master-key rotation.
        if (!dek && next_kek_) dek = try_unwrap(*next_kek_, k);
        // Another process rotated the master key, then added this data key.
        if (!dek && adopt_kek(reread, k)) dek = try_unwrap(kek_, k);
        if (!dek) {
          stuck = true;
          break;
        }
        deks_.emplace(k.id, std::move(*dek));
      }
      if (!stuck) return;
    }
    if (asked || !reread_) break;
    reread = reread_();
  }
  fail(REFOLD_ECRYPTO, "a data key does not open with this client's master key (was the master key"
                       " rotated by another process? open the client with the new key)");
}

bool Vault::adopt_kek(std::vector<SecretBytes>& candidates, const store::DataKey& k) const {
  for (auto& c : candidates) {
    if (c.size() != kKeyBytes || !try_unwrap(c, k)) continue;
    kek_ = std::move(c);
    candidates.clear();
    return true;
  }
  return false;
}

void Vault::adopt_current_kek(const store::DataKey& stored) {
  {
    std::shared_lock lock(keys_mu_);
    if (try_unwrap(kek_, stored)) return;
  }
  std::vector<SecretBytes> reread = reread_ ? reread_() : std::vector<SecretBytes>{};
  std::unique_lock lock(keys_mu_);
  if (try_unwrap(kek_, stored) || adopt_kek(reread, stored)) return;
  fail(REFOLD_ECRYPTO, "the master key was rotated by another process: open the client with the "
                       "new key before rotating data keys");
}

void Vault::reload() const {
  std::lock_guard lock(reload_mu_);
  load_new_keys(store_.data_keys());
}

void Vault::require_current_key() const {
  const std::int64_t current = store_.current_data_key();
  {
    std::shared_lock lock(keys_mu_);
    if (deks_.count(current)) return;
  }
  reload();
}

template <class F>
auto Vault::with_key(std::int64_t key_id, F&& f) const {
  for (bool reloaded = false;; reloaded = true) {
    {
      std::shared_lock lock(keys_mu_);
      auto it = deks_.find(key_id);
      if (it != deks_.end() || reloaded) return f(it == deks_.end() ? nullptr : &it->second);
    }
    reload();
  }
}

store::Sealed Vault::seal_with(const Ad& ad, std::int64_t key_id,
                               std::span<const std::uint8_t> plaintext) const {
  store::Sealed s;
  s.key_id = key_id;
  with_key(key_id, [&](const SecretBytes* key) {
    if (!key) fail(REFOLD_ECRYPTO, "data key " + std::to_string(key_id) + " is missing from the store");
    crypto::encrypt(*key, plaintext, ad, s.nonce, s.ciphertext);
  });
  return s;
}

WipedBytes Vault::open_with(const Ad& ad, const store::Sealed& sealed, const std::string& what) const {
  WipedBytes plain;
  bool ok = with_key(sealed.key_id, [&](const SecretBytes* key) {
    return key && crypto::decrypt(*key, sealed.nonce, sealed.ciphertext, ad, plain);
  });
  if (!ok) fail(REFOLD_ECRYPTO, what + " failed authentication (tampered or moved)");
  return plain;
}

store::Sealed Vault::seal(const store::ConnectionId& id, std::span<const std::uint8_t> plaintext,
                          std::int64_t key_id) const {
  return seal_with(record_ad(id, key_id), key_id, plaintext);
}

store::Sealer Vault::sealer(const store::ConnectionId& id,
                            std::span<const std::uint8_t> plaintext) const {
  return [this, id, plaintext](std::int64_t key_id) { return seal(id, plaintext, key_id); };
}

WipedBytes Vault::open(const store::ConnectionId& id, const store::Sealed& sealed) const {
  return open_with(record_ad(id, sealed.key_id), sealed,
                   "the stored credentials of '" + id.app + "' for this account");
}

Ad Vault::flow_ad(std::span<const std::uint8_t> state_hash, std::int64_t key_id) const {
  Ad ad;
  crypto::append_field(ad, std::string_view("refold/oauth-flow/v1"));
  crypto::append_field(ad, store_id_);
  crypto::append_field(ad, state_hash);
  crypto::append_field(ad, key_id);
  return ad;
}

store::Sealer Vault::flow_sealer(std::span<const std::uint8_t> state_hash,
                                 std::span<const std::uint8_t> plaintext) const {
  return [this, state_hash, plaintext](std::int64_t key_id) {
    return seal_with(flow_ad(state_hash, key_id), key_id, plaintext);
  };
}

WipedBytes Vault::open_flow(std::span<const std::uint8_t> state_hash,
                            const store::Sealed& sealed) const {
  return open_with(flow_ad(state_hash, sealed.key_id), sealed, "the pending OAuth flow");
}

void Vault::rotate_master_key(SecretBytes new_kek, const std::function<void()>& before_commit) {
  if (new_kek.size() != kKeyBytes) fail(REFOLD_EINVALID, "new master key must be 32 bytes");
  std::lock_guard rotation(rotation_mu_);
  {
    std::unique_lock lock(keys_mu_);
    next_kek_ = std::move(new_kek);
  }
  try {
    store_.rewrap_data_keys(
        [&](const store::DataKey& k) {
          std::shared_lock lock(keys_mu_);
          SecretBytes dek = unwrap(kek_, k);
          return wrap(*next_kek_, dek, k.id, k.created_at);
        },
        before_commit);
  } catch (...) {
    std::unique_lock lock(keys_mu_);
    next_kek_.reset();
    throw;
  }
  std::unique_lock lock(keys_mu_);
  kek_ = std::move(*next_kek_);
  next_kek_.reset();
}

DataKeyRotation Vault::rotate_data_key(std::size_t batch) {
  std::lock_guard rotation(rotation_mu_);
  DataKeyRotation out;
  auto keys = store_.add_data_key([&](std::int64_t id, const std::vector<store::DataKey>& stored) {
    // Never add a key wrapped by a master key the store no longer has (one
    // another process has rotated away): nobody else could open it.
    if (!stored.empty()) adopt_current_kek(stored.back());
    load_new_keys(stored);
    SecretBytes dek(kKeyBytes);
    crypto_aead_xchacha20poly1305_ietf_keygen(dek.data());
    std::shared_lock lock(keys_mu_);
    return wrap(kek_, dek, id, clock_.now());
  });
  load_new_keys(keys);
  out.current = keys.back().id;
  // Every key that can retire: those stored now, and the current one if
  // another process's rotation retires it meanwhile.
  out.retired.reserve(keys.size() + 1);

  const store::Reseal reseal{
      [&](const store::ConnectionId& id, const store::Sealed& old, std::int64_t key_id) {
        std::optional<WipedBytes> plain;
        try {
          plain = open(id, old);
        } catch (const Error& e) {
          // Account and app are no secret: say which connection to mend.
          fail(e.code(), "data-key rotation: the connection of account '" + id.account +
                             "' to '" + id.app + "' (" + id.auth_type +
                             ") failed authentication (damaged or tampered); disconnect it or "
                             "connect it again, then rotate again");
        }
        return seal(id, std::span<const std::uint8_t>(plain->data(), plain->size()), key_id);
      },
      [&](const store::Bytes& hash, const store::Sealed& old, std::int64_t key_id) {
        WipedBytes plain = open_flow(hash, old);
        return flow_sealer(hash, std::span<const std::uint8_t>(plain.data(), plain.size()))(key_id);
      }};
  // Every write seals under the current key (inside its transaction), so
  // once the batches run dry no record is left under a retiring key. A
  // second round is for a rotation another process started meanwhile: its
  // key is then the current one, and this call finishes that rotation too.
  for (int round = 0; round < 2; ++round) {
    while (std::size_t n = store_.reseal_batch(reseal, batch, clock_.now())) out.resealed += n;
    store::DroppedKeys dropped = store_.drop_retired_data_keys();
    // Within the capacity reserved above: no allocation once the rotation
    // has committed, so a call that did its work never reports a failure.
    out.retired.insert(out.retired.end(), dropped.ids.begin(), dropped.ids.end());
    if (dropped.remaining == 1) {
      store_.purge_old_pages();
      return out;
    }
  }
  fail(REFOLD_ESTORE, "data-key rotation: records under a retired key remain after re-sealing; "
                      "run the rotation again");
}

}  // namespace refold::vault
