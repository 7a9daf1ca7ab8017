#include "crypto/encoding.hpp"

#include <sodium.h>

namespace refold::crypto {

std::string to_hex(std::span<const std::uint8_t> bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), bytes.data(), bytes.size());
  out.pop_back();
  return out;
}

SecretString to_base64(std::span<const std::uint8_t> bytes) {
  const int variant = sodium_base64_VARIANT_ORIGINAL;
  WipedString out(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), variant);
  out.resize(out.size() - 1);
  return out;
}

std::optional<SecretBytes> decode_key(std::string_view text, std::size_t size) {
  ensure_sodium();
  auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  if (text.empty() || text.size() > 4 * size) return std::nullopt;

  SecretBytes out(size + 3);  // base64 of `size` bytes may carry up to 2 extra
  std::size_t len = 0;
  const char* end = nullptr;
  if (text.size() == 2 * size &&
      sodium_hex2bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end) == 0 &&
      end == text.data() + text.size() && len == size) {
    out.truncate(size);
    return out;
  }
  for (int variant : {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                      sodium_base64_VARIANT_URLSAFE, sodium_base64_VARIANT_URLSAFE_NO_PADDING}) {
    if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, &end,
                          variant) == 0 &&
        end == text.data() + text.size() && len == size) {
      out.truncate(size);
      return out;
    }
  }
  return std::nullopt;
}

}  // namespace refold::crypto
