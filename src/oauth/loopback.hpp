// The loopback redirect listener of the interactive flow (RFC 8252 7.3):
// listens on 127.0.0.1 only, only for the flow's duration, and takes
// exactly one request on the callback path.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "crypto/secret_string.hpp"

namespace refold::oauth {

// The request target of `head` (the bytes a browser sent, up to its blank
// line) when it is a GET on `path`, query included; nullopt for anything
// else (other methods or paths, no complete request line). Secret: the
// query holds the code.
std::optional<crypto::SecretString> callback_target(std::string_view head, std::string_view path);

class LoopbackListener {
 public:
  // Binds 127.0.0.1:`port` (0: an ephemeral port). Throws REFOLD_ENETWORK.
  explicit LoopbackListener(unsigned short port = 0, std::string path = "/callback");
  ~LoopbackListener();
  LoopbackListener(const LoopbackListener&) = delete;
  LoopbackListener& operator=(const LoopbackListener&) = delete;

  // "http://127.0.0.1:<port>/callback": the redirect URI to register.
  std::string redirect_uri() const;
  unsigned short port() const { return port_; }

  // Waits until `deadline` for a GET on the callback path and returns its
  // full URL (secret: it holds the code); requests for other paths are
  // answered 404 and ignored. Throws REFOLD_ETIMEOUT when the deadline
  // passes.
  crypto::SecretString wait(std::chrono::steady_clock::time_point deadline);

  // Answers the callback request with a small self-contained page and
  // closes it. `ok` picks the wording; `detail` is shown escaped.
  void respond(bool ok, const std::string& detail);

 private:
  int listen_fd_ = -1;
  int client_fd_ = -1;
  unsigned short port_ = 0;
  std::string path_;
};

}  // namespace refold::oauth
