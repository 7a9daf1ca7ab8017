// Authenticated encryption with keys the caller gives: XChaCha20-Poly1305
// with a random 24-byte nonce, and the associated data that binds a
// ciphertext to where it belongs. Which key seals what, and where wrapped
// keys are kept, is the vault's business (src/vault), not this file's.
#pragma once

#include <boost/container/small_vector.hpp>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "crypto/secure.hpp"

namespace refold::crypto {

inline constexpr std::size_t kKeyBytes = 32;

using Bytes = std::vector<std::uint8_t>;
// Associated data: built on the stack for typical sizes.
using Ad = boost::container::small_vector<std::uint8_t, 256>;

// Appends one field to associated data. Length-prefixed, so no two
// different tuples share an encoding.
void append_field(Ad& out, std::span<const std::uint8_t> field);
void append_field(Ad& out, std::string_view s);
void append_field(Ad& out, std::int64_t v);

// Seals `plain` under `key` (kKeyBytes long) and `ad` with a fresh random
// nonce, written to `nonce`; `cipher` gets the ciphertext and its tag.
// Throws REFOLD_ECRYPTO if libsodium reports a failure.
void encrypt(const SecretBytes& key, std::span<const std::uint8_t> plain, const Ad& ad,
             Bytes& nonce, Bytes& cipher);

// Opens what encrypt() sealed into `plain`. False when it fails
// authentication: another key, other associated data, or tampered bytes.
bool decrypt(const SecretBytes& key, const Bytes& nonce, const Bytes& cipher, const Ad& ad,
             SecretBytes& plain);
bool decrypt(const SecretBytes& key, const Bytes& nonce, const Bytes& cipher, const Ad& ad,
             WipedBytes& plain);

}  // namespace refold::crypto
