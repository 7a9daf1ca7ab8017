// A real HTTP/1.1 server on 127.0.0.1 (plain or TLS) and a test CA made at
// test time, so the HTTP client is tested against real sockets and real
// certificate verification. Free of Boost and OpenSSL headers on purpose:
// only http_test_server.cpp compiles them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace refold::test {

struct CertKey {
  std::string cert_pem;
  std::string key_pem;
};

// A fresh CA (EC P-256) whose certificate sits in a temporary folder for
// Options::ca_file; the folder goes away with the object.
class TestPki {
 public:
  TestPki();
  ~TestPki();
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  const std::string& ca_file() const { return ca_file_; }

  // A server certificate issued by this CA. `san` is an OpenSSL
  // subjectAltName value such as "DNS:localhost,IP:127.0.0.1"; validity runs
  // from now + from_days to now + to_days.
  CertKey issue(const std::string& san, int from_days = -1, int to_days = 30) const;

  // A certificate that signs itself, as `openssl req -x509` makes.
  static CertKey self_signed(const std::string& san);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string dir_;
  std::string ca_file_;
};

struct ServerRequest {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The first header with this name, any case.
  std::optional<std::string> header(std::string_view name) const;
};

struct ServerResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers{};
  std::string body{};
  bool chunked = false;         // send the body with chunked encoding
  bool connection_close = false;  // say "Connection: close" and close
  bool drop_after = false;      // close the connection silently after answering
  bool never_answer = false;    // keep the connection open, answer nothing
  bool hang_up = false;         // close the connection without answering
};

using Handler = std::function<ServerResponse(const ServerRequest&)>;

// Serves on 127.0.0.1:<ephemeral> from a background thread until destroyed.
// The handler runs on that thread, one request at a time.
class TestServer {
 public:
  // Plain HTTP when `tls` is null, else TLS with that certificate.
  explicit TestServer(Handler handler, const CertKey* tls = nullptr);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  std::uint16_t port() const;
  // "http(s)://<host>:<port><path>".
  std::string url(std::string_view path, std::string_view host = "127.0.0.1") const;
  std::size_t connections() const;  // TCP connections accepted so far
  std::size_t requests() const;     // requests read so far
  std::size_t closed() const;       // connections the server has closed itself
  std::vector<std::string> targets() const;  // their targets, in order

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A loopback port that refuses connections (bound, never listening) for as
// long as the object lives, so no other process can take it meanwhile.
class RefusingPort {
 public:
  RefusingPort();
  ~RefusingPort();
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace refold::test
