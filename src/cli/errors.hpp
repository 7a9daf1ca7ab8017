// How the CLI fails: one exception type carrying the exit code and the
// message, and the mapping from library error codes to exit codes.
#pragma once

#include <stdexcept>
#include <string>

namespace refold_cli {

// Exit codes (docs/cli.md). Stable: scripts branch on them.
enum Exit : int {
  kExitOk = 0,
  kExitError = 1,      // anything else (internal, provider error, OAuth state)
  kExitUsage = 2,      // bad command line, config or input (REFOLD_EINVALID)
  kExitNotFound = 3,   // unknown app, no such connection (REFOLD_ENOTFOUND)
  kExitReauth = 4,     // the connection needs re-authentication (REFOLD_EREAUTH)
  kExitAuth = 5,       // the provider rejected the credentials (REFOLD_EAUTH)
  kExitNetwork = 6,    // unreachable provider or timeout (REFOLD_ENETWORK, REFOLD_ETIMEOUT)
  kExitCancelled = 7,  // cancelled: opener refused, access denied, input ended (REFOLD_ECANCELLED)
  kExitStore = 8,      // the store or the master key (REFOLD_ESTORE, REFOLD_ECRYPTO)
};

// The exit code for a REFOLD_* code.
int exit_code_for(int refold_code);

// A failure to report on stderr as "refold: <message>" and exit with
// `exit_code`. Messages never hold a secret value.
class Failure : public std::runtime_error {
 public:
  Failure(int exit_code, const std::string& message)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

  // A usage error ends with a hint to `refold [command] --help`.
  bool is_usage() const { return usage_; }
  const std::string& command() const { return command_; }

 private:
  friend Failure usage_error(const std::string& message, const std::string& command);
  int exit_code_;
  bool usage_ = false;
  std::string command_;
};

// A command-line mistake: exit 2 with a hint to `refold [command] --help`.
Failure usage_error(const std::string& message, const std::string& command);

// The Failure for a library call that returned `rc`: "<what>: <detail>",
// the detail being refold_last_error() (or refold_strerror(rc) when empty).
// Call it right after the failing call, before any other refold call
// replaces the thread's last error.
Failure library_failure(int rc, const std::string& what);

// Throws library_failure(rc, what) unless rc is REFOLD_OK.
void check(int rc, const std::string& what);

// Writes the failure to stderr.
void report(const Failure& f);

}  // namespace refold_cli
