#include "oauth/pkce.hpp"

#include <sodium.h>

#include "crypto/secure.hpp"

namespace refold::oauth {

namespace {

// Into a std::string, or a crypto::WipedString for a secret.
template <class String>
String base64url_as(const unsigned char* data, std::size_t size) {
  const int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  String out(sodium_base64_ENCODED_LEN(size, variant), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, variant);
  out.resize(out.size() - 1);
  return out;
}

template <class String>
String random_token() {
  crypto::ensure_sodium();
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  String out = base64url_as<String>(raw, sizeof raw);
  sodium_memzero(raw, sizeof raw);
  return out;
}

}  // namespace

std::string base64url(const unsigned char* data, std::size_t size) {
  return base64url_as<std::string>(data, size);
}

crypto::SecretString make_verifier() { return random_token<crypto::WipedString>(); }

std::string make_state() { return random_token<std::string>(); }

std::string s256_challenge(std::string_view verifier) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size());
  return base64url(digest, sizeof digest);
}

std::string sha256(std::string_view text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

}  // namespace refold::oauth
