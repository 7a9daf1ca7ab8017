// Time as the library sees it: milliseconds since the Unix epoch, from a
// replaceable clock so lifecycle logic can be tested without waiting.
#pragma once

#include <cstdint>
#include <string>

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

}  // namespace refold
