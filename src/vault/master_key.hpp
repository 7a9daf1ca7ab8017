// Where the master key comes from: config, REFOLD_MASTER_KEY, a key file, or
// a passphrase through Argon2id.
#pragma once

#include <optional>
#include <string>

#include "crypto/secure.hpp"
#include "store/store.hpp"

namespace refold::vault {

struct KeyOptions {
  // The 32 key bytes, from config or REFOLD_MASTER_KEY.
  std::optional<crypto::SecretBytes> master_key;
  std::optional<std::string> key_file;
  std::optional<crypto::SecretBytes> passphrase;
};

struct MasterKey {
  crypto::SecretBytes kek;
  // The key file the key came from, if any: rotation rewrites it.
  std::optional<std::string> key_file;
};

// Resolves the master key for the store at `store_path`. The default key
// file "<store_path>.key" is created (mode 0600, new random key) only when
// `store_has_data` is false. Throws REFOLD_EINVALID for malformed keys or
// unsafe key files, REFOLD_ECRYPTO when no key can be had for a store that
// holds data.
MasterKey resolve_master_key(const KeyOptions& options, const std::string& store_path,
                             const store::Meta& meta, bool store_has_data);

// Parses a 32-byte key given as base64 or hex; `what` names it in errors.
crypto::SecretBytes parse_key(std::string_view text, const std::string& what, int code);

// Reads a key file, rejecting one that other users can read.
crypto::SecretBytes read_key_file(const std::string& path);

// Writes a new key file (mode 0600, must not exist) holding `key` in base64.
void write_key_file(const std::string& path, const crypto::SecretBytes& key);

// Fresh random bytes for a KDF salt.
store::Bytes new_kdf_salt();

}  // namespace refold::vault
