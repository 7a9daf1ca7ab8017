// What every harness shares: property checks that abort (so libFuzzer and
// the replay driver both report them) and the rule that failures are
// refold::Error with a documented code.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <string_view>

#include "util/error.hpp"

namespace refold::fuzz {

[[noreturn]] inline void violated(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: property violated: %s\n", file, line, what);
  std::abort();
}

// Not assert(): it must hold in release builds too.
#define FUZZ_CHECK(cond) \
  do { \
    if (!(cond)) ::refold::fuzz::violated(#cond, __FILE__, __LINE__); \
  } while (0)

inline bool one_of(int code, std::initializer_list<int> codes) {
  for (int c : codes)
    if (c == code) return true;
  return false;
}

inline bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits off the first line (the harness's knobs); `rest` keeps the remainder.
inline std::string_view take_line(std::string_view& rest) {
  auto nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  return line;
}

}  // namespace refold::fuzz

// Anything but refold::Error (and std::bad_alloc, which libFuzzer's
// -rss_limit handles) escaping a parser is a bug: the C ABI would report it
// as an internal error instead of the documented code.
#define FUZZ_ENTRY(body_fn) \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { \
    try { \
      body_fn(data, size); \
    } catch (const std::bad_alloc&) { \
      throw; \
    } catch (const refold::Error& e) { \
      std::fprintf(stderr, "refold::Error escaped the harness: %d %s\n", e.code(), e.what()); \
      std::abort(); \
    } catch (const std::exception& e) { \
      std::fprintf(stderr, "non-refold exception: %s\n", e.what()); \
      std::abort(); \
    } catch (...) { \
      std::fprintf(stderr, "non-std exception\n"); \
      std::abort(); \
    } \
    return 0; \
  }
