// Runs the built `refold` tool as a subprocess, the way a user or a script
// would: with a temporary store, a master key in the environment and $HOME
// pointed into the temporary folder, so nothing reaches the real home.
// Everything the tool prints is kept in a transcript, to assert that no
// secret ever shows outside `token --reveal`.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace refold_cli_test {

struct Result {
  int status = -1;  // exit status; -1 when killed by a signal
  std::string out;  // stdout (on a terminal: everything the terminal showed)
  std::string err;  // stderr
};

struct RunOptions {
  std::string stdin_text;                       // fed to stdin, then closed (else /dev/null)
  std::map<std::string, std::string> env;       // extra or replaced variables
  bool revealed = false;                        // stdout holds a secret on purpose: keep it
                                                // out of the transcript
};

// Shorthands for RunOptions.
inline RunOptions with_env(const std::string& name, const std::string& value) {
  RunOptions o;
  o.env[name] = value;
  return o;
}
inline RunOptions with_stdin(const std::string& text) {
  RunOptions o;
  o.stdin_text = text;
  return o;
}
inline RunOptions revealed() {
  RunOptions o;
  o.revealed = true;
  return o;
}

// A tool run in the background (watch), read while it runs. Its output
// joins the transcript when it finishes (or is dropped).
class Running {
 public:
  ~Running();  // kills it if it still runs
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;

  // Waits until stdout (stderr) shows `text` `times` times; fails the test,
  // showing what was printed, after `limit`.
  void wait_for_out(const std::string& text, int times = 1,
                    std::chrono::seconds limit = std::chrono::seconds(30));
  void wait_for_err(const std::string& text, std::chrono::seconds limit = std::chrono::seconds(30));
  void signal(int sig);
  // Waits for it to exit; kills it and fails the test after `limit`.
  Result finish(std::chrono::seconds limit = std::chrono::seconds(60));

  const std::string& out() const { return r_.out; }
  const std::string& err() const { return r_.err; }

 private:
  friend class Cli;
  Running(int pid, int out_fd, int err_fd, std::string* transcript)
      : pid_(pid), fds_{out_fd, err_fd}, transcript_(transcript) {}
  // Reads whatever is there within `timeout_ms`; false once both are closed.
  bool pump(int timeout_ms);
  void wait_until(const std::string& what, std::chrono::seconds limit, const std::function<bool()>& done);

  int pid_;
  int fds_[2];
  std::string* transcript_;
  Result r_;
  bool finished_ = false;
};

class Cli {
 public:
  Cli();

  // `refold --store <store> ARGS...` started in the background.
  std::unique_ptr<Running> start(const std::vector<std::string>& args);

  // `refold --store <store> ARGS...`.
  Result run(const std::vector<std::string>& args, const RunOptions& opts = {});
  // `refold ARGS...` without adding --store (for --config tests).
  Result run_raw(const std::vector<std::string>& args, const RunOptions& opts = {});

  // Runs on a pseudo-terminal: for each (prompt, line), waits until the
  // terminal has shown `prompt`, then types `line` and Enter (a line "^C"
  // types Ctrl-C alone). Returns what the terminal showed (echoed input
  // included) in `out`. `echo_after`, when given, receives whether the
  // terminal echoes input once the tool has exited.
  Result run_on_terminal(const std::vector<std::string>& args,
                         const std::vector<std::pair<std::string, std::string>>& dialogue,
                         bool* echo_after = nullptr);

  // Writes a config file (JSON text) into the temporary folder; returns its path.
  std::string write_config(const std::string& name, const boost::json::object& config) const;

  // Everything printed so far, but the stdout of runs marked `revealed`.
  const std::string& transcript() const { return transcript_; }

  refold_test::TempDir dir;
  std::string key = refold_test::random_hex_key();
  std::string store = dir.store();

 private:
  std::vector<std::string> environment(const std::map<std::string, std::string>& extra) const;
  std::string transcript_;
};

// Parses JSON text; fails the test (without echoing the text) when it is not.
boost::json::value parse_json(const std::string& text);

}  // namespace refold_cli_test
