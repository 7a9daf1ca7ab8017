// Checks on the strings that cross the C ABI.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace refold::text {

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or values
// above U+10FFFF).
bool valid_utf8(std::string_view s);

// Number of code points in well-formed UTF-8 `s`.
std::size_t utf8_length(std::string_view s);

// Throws REFOLD_EINVALID unless `id` is a non-empty UTF-8 id of at most 256
// bytes without control characters; the message calls it `what`.
void check_id(const char* id, std::string_view what);

// check_id(account, "account").
void check_account(const char* account);

// Throws REFOLD_EINVALID unless `slug` looks like an app slug.
void check_slug(const char* slug);

// True for ^[a-z0-9][a-z0-9_-]{0,63}$.
bool is_slug(std::string_view s);

// ASCII lower-casing.
std::string lower(std::string_view s);

}  // namespace refold::text
