#include "crypto/vault.hpp"

#include <boost/container/small_vector.hpp>
#include <sodium.h>

#include "util/error.hpp"

namespace refold::crypto {

namespace {

constexpr std::size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == kKeyBytes);

using Ad = Vault::Ad;

// Length-prefixed fields, so no two different tuples share an encoding.
void put(Ad& out, std::span<const std::uint8_t> field) {
  auto n = static_cast<std::uint32_t>(field.size());
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  out.insert(out.end(), field.begin(), field.end());
}

void put(Ad& out, std::string_view s) {
  put(out, std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

void put(Ad& out, std::int64_t v) {
  std::uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(v) >> (56 - 8 * i));
  put(out, std::span<const std::uint8_t>(b, 8));
}

store::Bytes random_bytes(std::size_t n) {
  store::Bytes b(n);
  randombytes_buf(b.data(), n);
  return b;
}

void encrypt(const SecretBytes& key, std::span<const std::uint8_t> plain, const Ad& ad,
             store::Bytes& nonce, store::Bytes& cipher) {
  nonce = random_bytes(kNonceBytes);
  cipher.resize(plain.size() + kTagBytes);
  unsigned long long len = 0;
  // libsodium documents no failure here today, but a record whose sealing
  // failed must never be stored: it would read back as tampered.
  if (crypto_aead_xchacha20poly1305_ietf_encrypt(cipher.data(), &len, plain.data(), plain.size(),
                                                 ad.data(), ad.size(), nullptr, nonce.data(),
                                                 key.data()) != 0)
    fail(REFOLD_ECRYPTO, "cannot encrypt a record");
  cipher.resize(static_cast<std::size_t>(len));
}

template <class Buffer>
bool decrypt(const SecretBytes& key, const store::Bytes& nonce, const store::Bytes& cipher,
             const Ad& ad, Buffer& plain) {
  if (nonce.size() != kNonceBytes || cipher.size() < kTagBytes) return false;
  plain = Buffer(cipher.size() - kTagBytes + 1);  // +1: never a zero-size allocation
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain.data(), &len, nullptr, cipher.data(),
                                                 cipher.size(), ad.data(), ad.size(),
                                                 nonce.data(), key.data()) != 0)
    return false;
  plain.truncate(static_cast<std::size_t>(len));
  return true;
}

}  // namespace

Vault::Vault(store::Store& store, SecretBytes kek, store::Bytes store_id, const Clock& clock)
    : store_(store), store_id_(std::move(store_id)), kek_(std::move(kek)) {
  ensure_sodium();
  if (kek_.size() != kKeyBytes) fail(REFOLD_ECRYPTO, "master key must be 32 bytes");
  auto keys = store_.data_keys();
  if (keys.empty()) {
    keys = store_.ensure_data_key([&](std::int64_t id) {
      SecretBytes dek(kKeyBytes);
      crypto_aead_xchacha20poly1305_ietf_keygen(dek.data());
      return wrap(kek_, dek, id, clock.now());
    });
  }
  for (const auto& k : keys) {
    deks_.emplace(k.id, unwrap(kek_, k));
    active_ = std::max(active_, k.id);
  }
}

Ad Vault::key_ad(std::int64_t key_id) const {
  Ad ad;
  put(ad, std::string_view("refold/data-key/v1"));
  put(ad, store_id_);
  put(ad, key_id);
  return ad;
}

Ad Vault::record_ad(const store::ConnectionId& id, std::int64_t key_id) const {
  Ad ad;
  put(ad, std::string_view("refold/connection/v1"));
  put(ad, store_id_);
  put(ad, id.account);
  put(ad, id.app);
  put(ad, id.auth_type);
  put(ad, key_id);
  return ad;
}

store::DataKey Vault::wrap(const SecretBytes& kek, const SecretBytes& dek, std::int64_t id,
                           Millis created_at) const {
  store::DataKey k;
  k.id = id;
  k.created_at = created_at;
  encrypt(kek, dek.span(), key_ad(id), k.nonce, k.wrapped);
  return k;
}

SecretBytes Vault::unwrap(const SecretBytes& kek, const store::DataKey& k) const {
  SecretBytes dek;
  if (!decrypt(kek, k.nonce, k.wrapped, key_ad(k.id), dek) || dek.size() != kKeyBytes)
    fail(REFOLD_ECRYPTO, "the master key does not open this store (wrong key, or data key " +
                             std::to_string(k.id) + " is damaged)");
  return dek;
}

store::Sealed Vault::seal_with(const Ad& ad, std::span<const std::uint8_t> plaintext) const {
  store::Sealed s;
  s.key_id = active_;
  encrypt(deks_.at(active_), plaintext, ad, s.nonce, s.ciphertext);
  return s;
}

WipedBytes Vault::open_with(const Ad& ad, const store::Sealed& sealed, const std::string& what) const {
  auto it = deks_.find(sealed.key_id);
  WipedBytes plain;
  if (it == deks_.end() || !decrypt(it->second, sealed.nonce, sealed.ciphertext, ad, plain))
    fail(REFOLD_ECRYPTO, what + " failed authentication (tampered or moved)");
  return plain;
}

store::Sealed Vault::seal(const store::ConnectionId& id,
                          std::span<const std::uint8_t> plaintext) const {
  return seal_with(record_ad(id, active_), plaintext);
}

WipedBytes Vault::open(const store::ConnectionId& id, const store::Sealed& sealed) const {
  return open_with(record_ad(id, sealed.key_id), sealed,
                   "the stored credentials of '" + id.app + "' for this account");
}

Ad Vault::flow_ad(std::span<const std::uint8_t> state_hash, std::int64_t key_id) const {
  Ad ad;
  put(ad, std::string_view("refold/oauth-flow/v1"));
  put(ad, store_id_);
  put(ad, state_hash);
  put(ad, key_id);
  return ad;
}

store::Sealed Vault::seal_flow(std::span<const std::uint8_t> state_hash,
                               std::span<const std::uint8_t> plaintext) const {
  return seal_with(flow_ad(state_hash, active_), plaintext);
}

WipedBytes Vault::open_flow(std::span<const std::uint8_t> state_hash,
                            const store::Sealed& sealed) const {
  return open_with(flow_ad(state_hash, sealed.key_id), sealed, "the pending OAuth flow");
}

void Vault::rotate_master_key(SecretBytes new_kek, const std::function<void()>& before_commit) {
  if (new_kek.size() != kKeyBytes) fail(REFOLD_EINVALID, "new master key must be 32 bytes");
  std::lock_guard lock(kek_mu_);
  store_.rewrap_data_keys(
      [&](const store::DataKey& k) {
        SecretBytes dek = unwrap(kek_, k);
        return wrap(new_kek, dek, k.id, k.created_at);
      },
      before_commit);
  kek_ = std::move(new_kek);
}

}  // namespace refold::crypto
