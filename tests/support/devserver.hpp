// Runs refold-devserver as a child process for a test, and plays the
// browser against it with curl. Both are real: the provider speaks HTTP(S)
// on 127.0.0.1, and curl follows what a browser would.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json.hpp>

namespace refold_test {

class Devserver {
 public:
  // Starts the sandbox on an ephemeral port with `args` (e.g.
  // --auto-approve, --client ID:SECRET). TLS when cert and key are given.
  explicit Devserver(std::vector<std::string> args = {"--auto-approve"},
                     std::optional<std::pair<std::string, std::string>> tls = std::nullopt);
  ~Devserver();
  Devserver(const Devserver&) = delete;
  Devserver& operator=(const Devserver&) = delete;

  const std::string& base_url() const { return base_url_; }
  int port() const { return port_; }

  // The "sandbox" app pointed at this server, for a config's catalog.
  boost::json::object sandbox_app(bool iss_supported = true) const;
  // The "sandbox-keys" app pointed at this server.
  boost::json::object sandbox_keys_app() const;

  // Admin API.
  boost::json::object counters() const;
  void admin_post(const std::string& path, const std::string& json_body) const;

  // CA file curl must trust (TLS mode), or "".
  std::string ca_file;

 private:
  int pid_ = -1;
  int port_ = 0;
  std::string base_url_;
};

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names, last wins
  std::string body;
};

// One request with curl (never following redirects). `ca_file` for https.
HttpResult curl(const std::string& method, const std::string& url, const std::string& body = "",
                const std::vector<std::string>& headers = {}, const std::string& ca_file = "");

// Plays the browser for an authorize URL on an auto-approving sandbox:
// returns the Location the provider redirects to (the callback URL).
std::string follow_authorize(const std::string& authorize_url, const std::string& ca_file = "");

// Splits a URL's query into its parameters (no duplicates expected).
std::map<std::string, std::string> query_params(const std::string& url);

// Replaces (or adds) one query parameter of a URL, percent-encoding value.
std::string with_param(const std::string& url, const std::string& key, const std::string& value);

// Makes a test CA and a server certificate for 127.0.0.1/localhost in
// `dir` with the openssl tool; returns {ca.pem, cert.pem, key.pem}.
struct TestPki {
  std::string ca;
  std::string cert;
  std::string key;
};
TestPki make_test_pki(const std::string& dir);

}  // namespace refold_test
