// Time as the library sees it: milliseconds since the Unix epoch, from a
// replaceable clock so lifecycle logic can be tested without waiting.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace refold {

using Millis = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Millis now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Millis now() const override;
};

// "2026-11-26T14:11:21.123Z"
std::string rfc3339(Millis t);

// An RFC 3339 date-time ("2026-11-26T14:11:21Z", with an optional fraction
// of a second and a "Z" or "+hh:mm"/"-hh:mm" offset; "t" and "z" too), as
// milliseconds since the epoch (a fraction beyond milliseconds is
// dropped). nullopt for anything else, or a field out of range.
std::optional<Millis> parse_rfc3339(std::string_view text);

}  // namespace refold
