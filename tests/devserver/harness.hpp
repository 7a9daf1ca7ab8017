// Test harness for refold-devserver: runs the real executable as a child
// process on an ephemeral port and talks HTTP/1.1 to it with a small
// synchronous Beast client. No mocks: what the tests see is what a refold
// client would see.
#pragma once

#include <boost/json/value.hpp>

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace devtest {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";
  std::string target;
  Fields headers;
  std::string body;
};

struct Response {
  unsigned status = 0;
  Fields headers;
  std::string body;

  // The first value of a header (case-insensitive name), "" when absent.
  std::string header(const std::string& name) const;
  bool has_header(const std::string& name) const;
  // Parses the body; throws if it is not JSON.
  boost::json::value json() const;
};

// One request on a fresh connection.
Response send(std::uint16_t port, const Request& request);

// A kept-alive connection, for keep-alive and "hang" tests.
class Connection {
 public:
  explicit Connection(std::uint16_t port);
  ~Connection();
  Response send(const Request& request);
  void write_only(const Request& request);
  // Reads until the server closes; true if it closed without sending a
  // single byte.
  bool closed_without_answer();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// GET over HTTPS, trusting only the PEM certificate in `ca_file`.
Response https_get(std::uint16_t port, const std::string& target, const std::string& ca_file);

// A running refold-devserver. The destructor stops it with SIGTERM and
// checks it exits 0 (so sanitizer reports in the server fail the test).
class DevServer {
 public:
  explicit DevServer(std::vector<std::string> args = {});
  ~DevServer();
  DevServer(const DevServer&) = delete;
  DevServer& operator=(const DevServer&) = delete;

  std::uint16_t port() const { return port_; }
  const std::string& base_url() const { return base_url_; }
  const std::string& issuer() const { return issuer_; }

  Response get(const std::string& target, Fields headers = {}) const;
  Response post_form(const std::string& target, const std::string& body, Fields headers = {}) const;
  Response post_json(const std::string& target, const std::string& json) const;

  // Sends `sig` and returns the exit status (128 + signal if killed by one).
  int stop(int sig);
  // Waits for an exit the test caused some other way.
  int wait();

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::uint16_t port_ = 0;
  std::string base_url_;
  std::string issuer_;
};

// Runs refold-devserver to completion; returns exit status and stdout.
std::pair<int, std::string> run_to_exit(const std::vector<std::string>& args);

// --- OAuth helpers -----------------------------------------------------

struct Pkce {
  std::string verifier;
  std::string challenge;
};
Pkce make_pkce();

std::string url_encode(const std::string& text);
std::string form(const Fields& fields);
// client_secret_basic: form-encode id and secret, join with ':', Base64.
std::string basic_auth(const std::string& id, const std::string& secret);
std::string base64(const std::string& bytes);
// The decoded query parameters of a URL.
std::map<std::string, std::string> query_of(const std::string& url);

constexpr const char* kRedirect = "http://127.0.0.1:9/cb";
constexpr const char* kClient = "sandbox-client";
constexpr const char* kSecret = "sandbox-secret";

std::string authorize_target(const std::string& challenge, const std::string& state,
                             const std::string& scope = "read",
                             const std::string& client_id = kClient,
                             const std::string& redirect_uri = kRedirect);

// Runs authorize (the server must auto-approve) and returns the code.
std::string authorize_code(const DevServer& server, const Pkce& pkce,
                           const std::string& scope = "read");

struct Tokens {
  std::string access;
  std::string refresh;
};
// authorize + token exchange with client_secret_basic.
Tokens obtain_tokens(const DevServer& server, const std::string& scope = "read");

Response exchange_code(const DevServer& server, const std::string& code,
                       const std::string& verifier, const std::string& redirect_uri = kRedirect);
Response refresh(const DevServer& server, const std::string& refresh_token,
                 const std::string& scope = "");
Response api_me(const DevServer& server, const std::string& access_token);
Fields basic_header(const std::string& id = kClient, const std::string& secret = kSecret);

// --- TLS -----------------------------------------------------------------

// A temporary directory removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Writes a self-signed P-256 certificate for 127.0.0.1 and its key (PEM).
void write_self_signed(const std::string& cert_file, const std::string& key_file);

}  // namespace devtest
