#include "vault/master_key.hpp"

#include <sodium.h>

#include "crypto/aead.hpp"
#include "crypto/encoding.hpp"
#include "util/error.hpp"
#include "util/files.hpp"

namespace refold::vault {

using crypto::kKeyBytes;
using crypto::SecretBytes;
using crypto::SecretString;

namespace {

// Argon2id at libsodium's "interactive" cost: about 64 MiB and a fraction
// of a second. Changing these needs a store migration (they are not stored).
constexpr unsigned long long kOpsLimit = crypto_pwhash_OPSLIMIT_INTERACTIVE;
constexpr std::size_t kMemLimit = crypto_pwhash_MEMLIMIT_INTERACTIVE;

SecretBytes derive(const SecretBytes& passphrase, const store::Bytes& salt) {
  if (salt.size() != crypto_pwhash_SALTBYTES)
    fail(REFOLD_ESTORE, "store: passphrase salt has the wrong size");
  SecretBytes key(kKeyBytes);
  if (crypto_pwhash(key.data(), key.size(), reinterpret_cast<const char*>(passphrase.data()),
                    passphrase.size(), salt.data(), kOpsLimit, kMemLimit,
                    crypto_pwhash_ALG_ARGON2ID13) != 0)
    fail(REFOLD_ERROR, "not enough memory to derive the key from the passphrase (Argon2id)");
  return key;
}

}  // namespace

store::Bytes new_kdf_salt() {
  crypto::ensure_sodium();
  store::Bytes salt(crypto_pwhash_SALTBYTES);
  randombytes_buf(salt.data(), salt.size());
  return salt;
}

SecretBytes parse_key(std::string_view text, const std::string& what, int code) {
  auto key = crypto::decode_key(text, kKeyBytes);
  if (!key) fail(code, what + " must be 32 bytes written as base64 or hex");
  return std::move(*key);
}

SecretBytes read_key_file(const std::string& path) {
  auto mode = files::mode(path);
  if (mode && (*mode & 077))
    fail(REFOLD_EINVALID, "key file '" + path + "' is accessible by other users; chmod 600 it");
  SecretString text;
  if (!files::read_into(path, 4096, REFOLD_EINVALID, [&](std::string_view chunk) { text += chunk; }))
    fail(REFOLD_ECRYPTO, "key file '" + path + "' does not exist");
  return parse_key(text, "key file '" + path + "'", REFOLD_EINVALID);
}

void write_key_file(const std::string& path, const SecretBytes& key) {
  SecretString text = crypto::to_base64(key.span());
  text += '\n';
  files::write_new_private(path, text, REFOLD_ESTORE);
}

MasterKey resolve_master_key(const KeyOptions& options, const std::string& store_path,
                             const store::Meta& meta, bool store_has_data) {
  if (options.master_key) return {SecretBytes(options.master_key->span()), {}};
  if (options.key_file) return {read_key_file(*options.key_file), options.key_file};
  if (options.passphrase) {
    if (options.passphrase->empty()) fail(REFOLD_EINVALID, "config: 'passphrase' is empty");
    return {derive(*options.passphrase, meta.kdf_salt), {}};
  }

  std::string path = store_path + ".key";
  if (!files::exists(path)) {
    if (store_has_data)
      fail(REFOLD_ECRYPTO, "no master key: the store holds encrypted data but its key file '" +
                               path + "' is missing (set master_key, key_file, passphrase or "
                               "REFOLD_MASTER_KEY)");
    SecretBytes key(kKeyBytes);
    randombytes_buf(key.data(), key.size());
    try {
      write_key_file(path, key);
    } catch (const Error&) {
      if (!files::exists(path)) throw;  // lost a race with another opener: use theirs
    }
  }
  return {read_key_file(path), path};
}

}  // namespace refold::vault
