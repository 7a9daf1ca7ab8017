// One accepted connection, plain or TLS. Internal to server.cpp and
// session.cpp.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <cstdint>
#include <memory>

#include "http_types.hpp"

namespace refold::devserver {

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual void start() = 0;
  // Thread-safe: closes the connection as soon as any answer being written
  // has gone out.
  virtual void stop() = 0;
};

// What a session needs from the server. Must outlive every session.
class SessionHost {
 public:
  virtual HttpResponse handle(const HttpRequest& request) = 0;
  // Thread-safe; may be called from a session's destructor.
  virtual void remove(std::uint64_t session_id) = 0;
  virtual void request_stop() = 0;
  virtual bool verbose() const = 0;

 protected:
  ~SessionHost() = default;
};

// `tls` null: plain HTTP. The socket's executor must be a strand.
std::shared_ptr<SessionBase> make_session(boost::asio::ip::tcp::socket socket,
                                          boost::asio::ssl::context* tls, SessionHost& host,
                                          std::uint64_t id);

}  // namespace refold::devserver
