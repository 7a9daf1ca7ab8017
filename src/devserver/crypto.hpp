// Randomness and hashing for codes, tokens and PKCE (OpenSSL).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace refold::devserver {

// `bytes` random bytes from the OpenSSL CSPRNG as unpadded base64url.
// Throws std::runtime_error if the CSPRNG fails.
std::string random_token(std::size_t bytes = 32);

// RFC 7636 S256: BASE64URL(SHA256(ASCII(verifier))), unpadded.
std::string s256_challenge(std::string_view verifier);

// Comparison whose time does not depend on where the inputs differ.
bool constant_time_equal(std::string_view a, std::string_view b);

std::string base64url_encode(std::string_view bytes);
// Standard alphabet, padding optional. False on malformed input.
bool base64_decode(std::string_view text, std::string& out);

}  // namespace refold::devserver
