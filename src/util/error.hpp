// The one exception type of the library: a refold error code and a message
// for refold_last_error(). Messages name what was wrong, never a secret.
#pragma once

#include <stdexcept>
#include <string>

#include "refold.h"

namespace refold {

class Error : public std::runtime_error {
 public:
  Error(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

[[noreturn]] inline void fail(int code, const std::string& message) { throw Error(code, message); }

}  // namespace refold
