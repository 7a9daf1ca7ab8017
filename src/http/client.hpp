// The HTTP client the OAuth code talks to providers with: HTTPS with peer
// and host name verification, bounded time and body size, no redirects,
// pooled keep-alive connections. Tests swap in a real local server, not a
// mock of this interface.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/secret_string.hpp"
#include "http/url.hpp"  // Url, Params and the encodings callers build requests with
#include "refold.h"

namespace refold::http {

// Values, URLs and bodies are secret (crypto::SecretString): they carry
// client secrets, codes and tokens, and wipe themselves on every path.
struct Header {
  std::string name;
  crypto::SecretString value;
};

// The `{}` initializers let designated initializers leave fields out
// without -Wmissing-field-initializers.
struct Request {
  std::string method = "GET";
  crypto::SecretString url{};  // absolute https:// URL; http:// only to a loopback host
  // Sent as given, except that the client owns Host, Content-Length,
  // Transfer-Encoding and Connection (caller values for these are dropped).
  // User-Agent and Accept ("application/json") are added when absent.
  std::vector<Header> headers{};
  crypto::SecretString body{};  // sent with Content-Length; empty means no body
  // A shorter total timeout than the client's, for best-effort requests.
  std::optional<std::chrono::milliseconds> timeout{};
  // When set, send() gives up soon after it becomes true, with
  // REFOLD_ECANCELLED (a client closing while a request is in flight).
  const std::atomic<bool>* cancel = nullptr;
  // Whether the request may be sent a second time when a pooled connection
  // fails before any of the response arrives (the server may have acted on
  // it). Unset: by method, as RFC 9110 9.2.2 (GET, HEAD, OPTIONS, TRACE,
  // PUT and DELETE may; POST and PATCH may not). A refresh that rotates its
  // refresh token must never be sent twice: a replay revokes the grant.
  std::optional<bool> idempotent{};
  // Set when a connection's input chose the URL's host (a customer typed
  // "acme" into "{connection.subdomain}.zendesk.com"): the request goes only
  // to public addresses, checked on the addresses the name resolves to, on
  // a fresh connection, so a name that resolves to a loopback or private
  // address fails with REFOLD_EINVALID instead of reaching an internal
  // service (SSRF).
  bool public_only = false;
};

struct Response {
  int status = 0;
  std::vector<Header> headers{};  // in the order received, duplicates kept
  crypto::SecretString body{};
  // The first header with this name, compared case-insensitively; valid
  // while the response is.
  std::optional<std::string_view> header(std::string_view name) const;
};

struct Options {
  // Name resolution, TCP connect and TLS handshake of a new connection.
  // Name resolution itself cannot be interrupted and is bounded by the
  // system resolver's own timeout.
  std::chrono::milliseconds connect_timeout{10000};
  // The whole send(), connecting and a possible retry included.
  std::chrono::milliseconds total_timeout{30000};
  std::size_t max_body = 1 << 20;  // response body bytes
  std::string ca_file;             // extra trusted CA (PEM), in addition to the system store
  // Idle keep-alive connections kept per origin (scheme, host, port).
  std::size_t max_idle_per_origin = 4;
  std::string user_agent = std::string("refold/") + REFOLD_VERSION_STRING;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Sends one request and returns the response whatever its status; 3xx
  // responses are returned as they are, never followed. Safe to call from
  // many threads at once.
  //
  // Throws refold::Error:
  //  - REFOLD_EINVALID: malformed URL, http:// to a non-loopback host, an
  //    invalid method or header (checked before any connection is made);
  //  - REFOLD_ETIMEOUT: connect_timeout or total_timeout ran out;
  //  - REFOLD_ENETWORK: the server could not be reached, TLS verification
  //    failed, the response was malformed or its body over max_body.
  // Messages name the method and the URL without its query and say why in
  // plain words; they never hold the query, headers or body.
  virtual Response send(const Request& req) = 0;
};

// Throws REFOLD_EINVALID when options.ca_file cannot be loaded.
std::unique_ptr<HttpClient> make_http_client(const Options& options);

}  // namespace refold::http
