#include "timefmt.hpp"

#include "util/time.hpp"

#include <chrono>

namespace refold_cli {

namespace {

std::string unit_text(std::int64_t ms) {
  constexpr std::int64_t kSec = 1000, kMin = 60 * kSec, kHour = 60 * kMin, kDay = 24 * kHour;
  auto two = [](std::int64_t a, const char* ua, std::int64_t b, const char* ub) {
    std::string s = std::to_string(a) + ua;
    if (b > 0) s += " " + std::to_string(b) + ub;
    return s;
  };
  if (ms < kMin) return std::to_string(ms / kSec) + "s";
  if (ms < kHour) return std::to_string(ms / kMin) + "m";
  if (ms < kDay) return two(ms / kHour, "h", (ms % kHour) / kMin, "m");
  return two(ms / kDay, "d", (ms % kDay) / kHour, "h");
}

}  // namespace

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<std::int64_t> parse_rfc3339(std::string_view s) { return refold::parse_rfc3339(s); }

std::string format_rfc3339(std::int64_t ms) { return refold::rfc3339(ms); }

std::string relative(std::int64_t at, std::int64_t now) {
  std::int64_t d = at - now;
  if (d > -1000 && d < 1000) return "now";
  return d > 0 ? "in " + unit_text(d) : unit_text(-d) + " ago";
}

}  // namespace refold_cli
