// The HTTP(S) listener: Boost.Beast HTTP/1.1 with keep-alive on one
// io_context run by two threads. Every connection is served asynchronously
// on its own strand, so a slow or hanging answer never holds up another
// connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "http_types.hpp"

namespace refold::devserver {

struct ServerOptions {
  std::string host = "127.0.0.1";  // must be a loopback address
  std::uint16_t port = 0;          // 0: ephemeral
  std::string tls_cert;            // both set: serve HTTPS (TLS 1.2+)
  std::string tls_key;
  bool verbose = false;  // log "METHOD /path" of each request to stderr
};

class Server {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  // Binds and listens. Throws std::exception (port in use, unreadable
  // certificate, ...) with a message for the user.
  Server(const ServerOptions& options, std::atomic<std::uint64_t>& connections);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const;
  bool tls() const;

  // Serves until SIGINT, SIGTERM or a response with After::shutdown, then
  // lets in-flight answers finish, closes every connection and returns.
  // `handler` runs on the server's threads, possibly two at once.
  void run(Handler handler);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace refold::devserver
