#include "crypto/aead.hpp"

#include <sodium.h>

#include "util/error.hpp"

namespace refold::crypto {

namespace {

constexpr std::size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == kKeyBytes);

Bytes random_bytes(std::size_t n) {
  Bytes b(n);
  randombytes_buf(b.data(), n);
  return b;
}

template <class Buffer>
bool decrypt_into(const SecretBytes& key, const Bytes& nonce, const Bytes& cipher, const Ad& ad,
                  Buffer& plain) {
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

void append_field(Ad& out, std::span<const std::uint8_t> field) {
  auto n = static_cast<std::uint32_t>(field.size());
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
  out.insert(out.end(), field.begin(), field.end());
}

void append_field(Ad& out, std::string_view s) {
  append_field(out, std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

void append_field(Ad& out, std::int64_t v) {
  std::uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(v) >> (56 - 8 * i));
  append_field(out, std::span<const std::uint8_t>(b, 8));
}

void encrypt(const SecretBytes& key, std::span<const std::uint8_t> plain, const Ad& ad,
             Bytes& nonce, Bytes& cipher) {
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

bool decrypt(const SecretBytes& key, const Bytes& nonce, const Bytes& cipher, const Ad& ad,
             SecretBytes& plain) {
  return decrypt_into(key, nonce, cipher, ad, plain);
}

bool decrypt(const SecretBytes& key, const Bytes& nonce, const Bytes& cipher, const Ad& ad,
             WipedBytes& plain) {
  return decrypt_into(key, nonce, cipher, ad, plain);
}

}  // namespace refold::crypto
