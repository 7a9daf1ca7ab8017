// Helpers of the PostgreSQL store's own cases.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "test_support.hpp"

namespace refold_test {

// {"store": uri, "master_key": key} plus `extra`.
inline std::string pg_config(const std::string& uri, const std::string& key, json::object extra = {}) {
  json::object o = config_object(uri, key);
  for (const auto& kv : extra) o[kv.key()] = kv.value();
  return to_json(o);
}

// The password in a URI of the form scheme://user:password@host...
inline std::string password_of(const std::string& uri) {
  const std::size_t user = uri.find("://") + 3;
  const std::size_t colon = uri.find(':', user);
  const std::size_t at = uri.find('@', user);
  REQUIRE(colon < at);
  return uri.substr(colon + 1, at - colon - 1);
}

// A server of the test's own, for stopping and starting (the shared one
// serves the cases running beside it).
struct PrivateServer {
  TempDir state;
  // With `tls_dir` (holding cert.pem and key.pem), the server takes TLS.
  explicit PrivateServer(const std::string& tls_dir = "") {
    REQUIRE(run("start", tls_dir.empty() ? "" : "REFOLD_PG_TLS='" + tls_dir + "' ") == 0);
  }
  ~PrivateServer() { run("stop"); }
  int run(const char* what, const std::string& env = "") {
    const std::string cmd = env + "bash '" + REFOLD_PG_SERVER_SCRIPT + "' " + what + " '" + state.path() +
                            "' >'" + state.file("out.log") + "' 2>&1";
    return std::system(cmd.c_str());
  }
  std::string uri() {
    auto text = read_file(state.file("uri"));
    REQUIRE(text);
    return text->substr(0, text->find('\n'));
  }
  // A new database on this server.
  std::string database(const std::string& name) {
    pg_exec(uri(), "CREATE DATABASE " + name);
    const std::string base = uri();
    return base.substr(0, base.rfind('/') + 1) + name;
  }
};

}  // namespace refold_test
