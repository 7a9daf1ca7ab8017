#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "crypto/encoding.hpp"

using refold::crypto::decode_key;

namespace {
std::string hex_of(const refold::crypto::SecretBytes& b) { return refold::crypto::to_hex(b.span()); }
}  // namespace

TEST_CASE("decode_key reads hex in either case") {
  std::string hex(64, 'a');
  hex[0] = '0';
  hex[1] = 'F';
  auto k = decode_key(hex, 32);
  REQUIRE(k);
  CHECK(k->size() == 32);
  CHECK(hex_of(*k).substr(0, 4) == "0faa");
}

TEST_CASE("decode_key reads base64 with and without padding and url-safe") {
  std::vector<std::uint8_t> raw(32);
  for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<std::uint8_t>(i * 7 + 250);
  std::string b64(refold::crypto::to_base64(raw).view());
  REQUIRE(b64.back() == '=');
  for (std::string text : {b64, b64.substr(0, b64.size() - 1), "  " + b64 + "\n"}) {
    auto k = decode_key(text, 32);
    REQUIRE(k);
    CHECK(std::equal(raw.begin(), raw.end(), k->data()));
  }
  std::string url = b64;
  for (auto& c : url) c = c == '+' ? '-' : c == '/' ? '_' : c;
  auto k = decode_key(url, 32);
  REQUIRE(k);
  CHECK(std::equal(raw.begin(), raw.end(), k->data()));
}

TEST_CASE("decode_key rejects wrong lengths and garbage") {
  CHECK_FALSE(decode_key("", 32));
  CHECK_FALSE(decode_key(std::string(62, 'a'), 32));
  CHECK_FALSE(decode_key(std::string(66, 'a'), 32));
  CHECK_FALSE(decode_key(std::string(63, 'a') + "g", 32));
  CHECK_FALSE(decode_key("c2hvcnQ=", 32));  // "short"
  CHECK_FALSE(decode_key("!!!!", 32));
}
