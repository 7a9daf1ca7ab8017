// Times as the library lists them (RFC 3339 UTC with milliseconds) and as a
// person reads them ("in 42m", "3m ago"). The tool's own: it sees the
// library only through refold.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace refold_cli {

// Milliseconds since the Unix epoch, from the system clock.
std::int64_t now_ms();

// Parses "YYYY-MM-DDTHH:MM:SS[.fff]Z"; nullopt for anything else.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

// "YYYY-MM-DDTHH:MM:SS.fffZ".
std::string format_rfc3339(std::int64_t ms);

// `at` relative to `now`: "now" within a second, else "in 42m" / "42m ago",
// in the largest unit that fits with at most two parts ("in 1h 5m",
// "2d 3h ago"). Truncates, never rounds up, so "in 4m" is at least 4m.
std::string relative(std::int64_t at, std::int64_t now);

}  // namespace refold_cli
