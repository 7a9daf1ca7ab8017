// Command line of refold-devserver.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "provider.hpp"

namespace refold::devserver {

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string tls_cert;
  std::string tls_key;
  std::vector<Client> clients;  // empty: the default sandbox client
  bool auto_approve = false;
  std::int64_t access_token_ttl = 3600;
  RefreshPolicy refresh_policy;
  std::string issuer;  // empty: the base URL
  bool verbose = false;
  bool help = false;
};

// Parses argv. Throws std::invalid_argument with a message meant for the
// user on a bad command line.
Options parse_options(const std::vector<std::string>& args);

// Parses one --client value, ID:SECRET[:REDIRECT_PREFIX]. Exposed for tests
// of the odd cases (secrets with ':').
Client parse_client(const std::string& spec);

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

const char* usage_text();

}  // namespace refold::devserver
