// PKCE (RFC 7636) with S256 only, and the random values of a flow.
#pragma once

#include <string>
#include <string_view>

#include "crypto/secret_string.hpp"

namespace refold::oauth {

// A code verifier: 43 characters of base64url from 32 random bytes.
crypto::SecretString make_verifier();

// BASE64URL(SHA256(ASCII(verifier))), no padding (RFC 7636 4.2).
std::string s256_challenge(std::string_view verifier);

// A single-use `state`: 256 random bits, base64url.
std::string make_state();

// Base64url without padding.
std::string base64url(const unsigned char* data, std::size_t size);

// SHA-256 of `text` as raw bytes, for looking up a flow by its state
// without storing the state itself.
std::string sha256(std::string_view text);

}  // namespace refold::oauth
