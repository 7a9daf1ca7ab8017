// Keys and byte views for the vault tests.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string_view>

#include "crypto/secure.hpp"

namespace refold::test {

// A 32-byte master key of one repeated byte: distinct keys, readable tests.
inline crypto::SecretBytes key(std::uint8_t fill) {
  crypto::SecretBytes k(32);
  std::fill(k.data(), k.data() + 32, fill);
  return k;
}

inline std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace refold::test
