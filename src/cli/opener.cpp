#include "opener.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace refold_cli {

namespace {

using std::chrono::milliseconds;

// How long the opener watches its command for a quick failure (command not
// found, a browser that refuses the URL) before letting the flow go on.
constexpr milliseconds kEarlyFailureWindow{300};
// How long, after the flow ends, to wait for the command to exit.
constexpr milliseconds kReapWindow{5000};

std::string describe(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "failed";
}

}  // namespace

void Opener::install(refold_client* client) {
  if (mode_ == Mode::system) return;
  refold_set_url_opener(client, &Opener::open_cb, this, nullptr);
}

void Opener::finish(refold_client* client) {
  if (mode_ != Mode::system) refold_set_url_opener(client, nullptr, nullptr, nullptr);
  reap();
}

int Opener::open_cb(const char* url, void* payload) {
  try {  // nothing may cross the C boundary
    return static_cast<Opener*>(payload)->open(url);
  } catch (...) {
    return 1;
  }
}

int Opener::open(const char* url) {
  if (mode_ == Mode::print) {
    // The authorization URL carries no secret (state and PKCE challenge only).
    std::fprintf(stderr, "Open this URL to connect %s: %s\n", app_.c_str(), url);
    std::fprintf(stderr, "Waiting for the authorization (Ctrl-C to give up)...\n");
    std::fflush(stderr);
    return 0;
  }
  return run_command(url);
}

// Runs /bin/sh -c 'CMD "$1"' sh URL: the URL is an argument, never parsed
// by the shell. It must not be waited for: the library accepts the browser's
// callback only after this returns, so a command that follows the redirect
// itself (curl -L) would wait on us while we wait on it.
int Opener::run_command(const char* url) {
  std::string script = command_ + " \"$1\"";
  std::string sh = "/bin/sh", dash_c = "-c", name = "sh", arg = url;
  char* argv[] = {sh.data(), dash_c.data(), script.data(), name.data(), arg.data(), nullptr};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  // Its output goes to stderr so that stdout stays refold's own (--json).
  posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
  int rc = posix_spawn(&child_, sh.c_str(), &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    child_ = -1;
    failure_ = std::string("cannot start /bin/sh: ") + std::strerror(rc);
    return 1;
  }
  std::fprintf(stderr, "Opening the authorization page for %s with '%s'; waiting for the authorization (Ctrl-C to give up)...\n",
               app_.c_str(), command_.c_str());
  std::fflush(stderr);
  // A command that fails at once (not found, bad usage) would otherwise
  // leave us waiting for a callback until the flow times out.
  auto deadline = std::chrono::steady_clock::now() + kEarlyFailureWindow;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t r = waitpid(child_, &status, WNOHANG);
    if (r == child_) {
      child_ = -1;
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
      failure_ = "the --open-with command " + describe(status);
      return 1;
    }
    if (r < 0 && errno != EINTR) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return 0;
}

void Opener::reap() {
  if (child_ <= 0) return;
  // A browser the command started may live on; after a while we stop
  // waiting and leave it be (init adopts it when we exit).
  auto deadline = std::chrono::steady_clock::now() + kReapWindow;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t r = waitpid(child_, &status, WNOHANG);
    if (r == child_ || (r < 0 && errno != EINTR)) break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  child_ = -1;
}

}  // namespace refold_cli
