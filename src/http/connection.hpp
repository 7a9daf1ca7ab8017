// One client connection (TCP, TLS on top for https) and the factory that
// opens them. Kept free of Asio and OpenSSL headers so only connection.cpp
// and tls.cpp pay for compiling them.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "http/client.hpp"
#include "http/url.hpp"
#include "util/error.hpp"

namespace refold::http::detail {

using Clock = std::chrono::steady_clock;

// When the current send() must give up; the connect deadline is never later
// than the total one.
struct Deadline {
  Clock::time_point connect;
  Clock::time_point total;
  std::chrono::milliseconds connect_timeout;
  std::chrono::milliseconds total_timeout;
  const std::atomic<bool>* cancel = nullptr;  // set: give up with REFOLD_ECANCELLED
};

// Thrown when a request failed before any byte of the response arrived.
// On a pooled connection this is what a server closing an idle connection
// looks like, so the caller may send once more on a fresh connection.
class NoResponse : public Error {
 public:
  using Error::Error;
};

// Used by one request at a time; a pool hands it from thread to thread.
// Owns its own io_context, so no thread ever runs another one's handlers.
class Connection {
 public:
  struct Impl;
  explicit Connection(std::unique_ptr<Impl> impl);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Writes `req` (already validated; the URL is parsed in `url`) and reads
  // the response. `context` ("GET https://host/path") starts every error
  // message. Sets `reusable` when the connection may serve another request.
  // Throws NoResponse (REFOLD_ENETWORK) when nothing of the response arrived,
  // REFOLD_ETIMEOUT or REFOLD_ENETWORK otherwise.
  Response exchange(const Request& req, const Url& url, const Options& options,
                    const Deadline& deadline, const std::string& context, bool& reusable);
  // For a pooled connection about to be used again: false when the server
  // has closed it (or sent something unasked, which no idle HTTP/1.1
  // connection should carry). Does not block.
  bool idle_and_open();

 private:
  std::unique_ptr<Impl> impl_;
};

// Holds what every connection of one client shares: the TLS context built
// from Options (TLS 1.2 minimum, peer verification, system CAs + ca_file).
class Connector {
 public:
  // Throws REFOLD_EINVALID when options.ca_file cannot be loaded.
  explicit Connector(const Options& options);
  ~Connector();
  Connector(const Connector&) = delete;
  Connector& operator=(const Connector&) = delete;

  // Resolves, connects and (for https) handshakes with host name
  // verification. A name under "localhost" resolves as "localhost" (RFC
  // 6761 6.3). With `public_only`, fails with REFOLD_EINVALID, before
  // connecting, when the host resolves to any address that is not public
  // (is_public_ip). Throws REFOLD_ETIMEOUT or REFOLD_ENETWORK. Thread-safe.
  std::unique_ptr<Connection> connect(const Url& url, const Deadline& deadline,
                                      const std::string& context, bool public_only = false) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace refold::http::detail
