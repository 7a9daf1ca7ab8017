// Hex and base64 for keys. Decoding writes into secret memory.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "crypto/secure.hpp"

namespace refold::crypto {

std::string to_hex(std::span<const std::uint8_t> bytes);
// Secret: what it encodes is usually a key or a client secret.
SecretString to_base64(std::span<const std::uint8_t> bytes);

// Decodes hex (either case) or base64 (standard or URL-safe alphabet, padded
// or not), ignoring surrounding white space. nullopt when `text` is neither
// or does not decode to exactly `size` bytes.
std::optional<SecretBytes> decode_key(std::string_view text, std::size_t size);

}  // namespace refold::crypto
