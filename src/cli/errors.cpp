#include "errors.hpp"

#include <refold.h>

#include <cstdio>

namespace refold_cli {

int exit_code_for(int refold_code) {
  switch (refold_code) {
    case REFOLD_OK: return kExitOk;
    case REFOLD_EINVALID: return kExitUsage;
    case REFOLD_ENOTFOUND: return kExitNotFound;
    case REFOLD_EREAUTH: return kExitReauth;
    case REFOLD_EAUTH: return kExitAuth;
    case REFOLD_ENETWORK:
    case REFOLD_ETIMEOUT: return kExitNetwork;
    case REFOLD_ECANCELLED: return kExitCancelled;
    case REFOLD_ESTORE:
    case REFOLD_ECRYPTO: return kExitStore;
    default: return kExitError;  // REFOLD_ERROR, REFOLD_EPROVIDER, REFOLD_ESTATE, unknown
  }
}

Failure usage_error(const std::string& message, const std::string& command) {
  Failure f(kExitUsage, message);
  f.usage_ = true;
  f.command_ = command;
  return f;
}

Failure library_failure(int rc, const std::string& what) {
  // The library promises its detail never holds a secret value.
  std::string detail = refold_last_error();
  if (detail.empty()) detail = refold_strerror(rc);
  return Failure(exit_code_for(rc), what + ": " + detail);
}

void check(int rc, const std::string& what) {
  if (rc != REFOLD_OK) throw library_failure(rc, what);
}

void report(const Failure& f) {
  std::fflush(stdout);
  std::fprintf(stderr, "refold: %s\n", f.what());
  if (f.is_usage()) {
    if (f.command().empty()) std::fprintf(stderr, "Try 'refold --help'.\n");
    else std::fprintf(stderr, "Try 'refold %s --help'.\n", f.command().c_str());
  }
}

}  // namespace refold_cli
