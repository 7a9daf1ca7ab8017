// The query of refold_list_connections_page and its cursors: which
// connections, how many, and where the previous page ended.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "store/store.hpp"

namespace refold::core {

// The key that authenticates one store's cursors.
using CursorKey = std::array<std::uint8_t, 32>;

// Derived from the store id, so a cursor works with every client of its
// store (in any process) and with no other store.
CursorKey cursor_key(std::span<const std::uint8_t> store_id);

inline constexpr std::size_t kDefaultPageLimit = 100;
inline constexpr std::size_t kMaxPageLimit = 1000;

// Parses a query: NULL, or a JSON object with the optional keys "account",
// "app", "status" ("active" or "reauth_required"), "limit" (1 to 1000,
// default 100) and "cursor" (a next_cursor of the same query). Throws
// REFOLD_EINVALID naming the key; a cursor that is not one `key` made for
// the same account, app and status is only said to be not valid.
store::PageFilter parse_page_query(const char* json, const CursorKey& key);

// The cursor that continues `filter`'s listing after the row `last`:
// base64url of the row's key and a MAC over it and the filter.
std::string make_cursor(const store::PageFilter& filter, const store::ConnectionId& last,
                        const CursorKey& key);

}  // namespace refold::core
