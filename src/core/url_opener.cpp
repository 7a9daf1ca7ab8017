#include "core/url_opener.hpp"

#include <cerrno>
#include <spawn.h>
#include <sys/wait.h>
#include <utility>

#include "util/error.hpp"

extern char** environ;

namespace refold::core {

void UrlOpener::set(refold_open_url_cb cb, void* payload, void (*free_payload)(void*)) {
  handler_.set(cb, payload, free_payload);
}

namespace {

// Starts the platform's URL handler with the URL as its own argument (no
// shell, so nothing in the URL is interpreted) and waits for it to hand
// the URL over to the browser.
void system_open(const std::string& url) {
#if defined(__APPLE__)
  const char* tool = "open";
#else
  const char* tool = "xdg-open";
#endif
  std::string arg0 = tool, arg1 = url;
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid;
  if (posix_spawnp(&pid, tool, nullptr, nullptr, argv, environ) != 0)
    fail(REFOLD_ERROR, std::string("cannot start a browser: '") + tool +
                           "' is not available; register a URL opener or use refold_oauth_begin");
  int status = 0;
  pid_t r;
  while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  // ECHILD: the host reaps children itself (SIGCHLD ignored); assume it worked.
  if (r == pid && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
    fail(REFOLD_ERROR, std::string("cannot start a browser: '") + tool + "' failed");
}

}  // namespace

void UrlOpener::open(const std::string& url) const {
  auto h = handler_.get();
  if (!h) return system_open(url);
  int rc = h->cb(url.c_str(), h->payload);
  if (rc != 0)
    fail(REFOLD_ECANCELLED, "the URL opener did not open the authorization page (it returned " +
                                std::to_string(rc) + ")");
}

}  // namespace refold::core
