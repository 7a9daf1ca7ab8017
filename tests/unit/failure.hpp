// What a call threw, for unit tests that check a refold::Error's code and
// message.
#pragma once

#include <string>
#include <string_view>

#include "util/error.hpp"

namespace refold_unit {

struct Failure {
  int code = 0;  // 0: no exception
  std::string message;
};

template <class F>
Failure failure_of(F&& f) {
  try {
    f();
  } catch (const refold::Error& e) {
    return {e.code(), e.what()};
  }
  return {};
}

inline bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

}  // namespace refold_unit
