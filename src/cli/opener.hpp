// How `refold connect` opens the OAuth authorization page: the library's
// default (the system browser), printing the URL (--no-browser), or a
// shell command (--open-with).
#pragma once

#include <refold.h>

#include <optional>
#include <string>
#include <sys/types.h>

namespace refold_cli {

class Opener {
 public:
  enum class Mode { system, print, command };

  Opener(Mode mode, std::string app, std::string command = {})
      : mode_(mode), app_(std::move(app)), command_(std::move(command)) {}
  ~Opener() { reap(); }
  Opener(const Opener&) = delete;
  Opener& operator=(const Opener&) = delete;

  // Registers this opener with the client (nothing for Mode::system). The
  // Opener must outlive the connect call; finish() unregisters it.
  void install(refold_client* client);
  // Unregisters from the client and waits (a bounded time) for the command
  // started by --open-with to exit.
  void finish(refold_client* client);

  // Why the --open-with command failed to start or failed at once, or "".
  const std::string& failure() const { return failure_; }

 private:
  static int open_cb(const char* url, void* payload);
  int open(const char* url);
  int run_command(const char* url);
  void reap();

  Mode mode_;
  std::string app_;
  std::string command_;
  pid_t child_ = -1;
  std::string failure_;
};

}  // namespace refold_cli
