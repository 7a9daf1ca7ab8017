// The sandbox provider (refold-devserver) for the tool's OAuth tests: a
// config pointing the "sandbox" app at it, a connect through the tool with
// curl playing the browser, and a client of the library in the test
// process on the tool's store (to refresh, fail or mark re-auth the way a
// host application would, while the tool looks on).
#pragma once

#include <doctest/doctest.h>

#include "cli_runner.hpp"
#include "devserver.hpp"

namespace refold_cli_test {

inline constexpr const char* kSandboxSecret = "sandbox-secret";  // the sandbox's default client

// The config keys that make "sandbox" this server's app, with its client.
inline boost::json::object sandbox_settings(const refold_test::Devserver& server) {
  namespace bj = boost::json;
  return bj::object{{"catalog", bj::array{server.sandbox_app()}},
                    {"oauth_clients", bj::object{{"sandbox", bj::object{{"client_id", "sandbox-client"},
                                                                        {"client_secret", kSandboxSecret}}}}}};
}

// A config file for the tool with those keys.
inline std::string sandbox_config(Cli& cli, const refold_test::Devserver& server) {
  return cli.write_config("sandbox.json", sandbox_settings(server));
}

// `refold connect sandbox` for `account`, curl following the redirects.
inline void connect_sandbox(Cli& cli, const std::string& config, const std::string& account) {
  Result r = cli.run({"--config", config, "--account", account, "connect", "sandbox", "--open-with",
                      "curl -s -L --max-time 20 -o /dev/null"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
}

// A library client in this process on the tool's store and master key.
inline refold_test::ClientPtr library_client(const Cli& cli, const refold_test::Devserver& server) {
  boost::json::object cfg = refold_test::config_object(cli.store, cli.key);
  for (auto& kv : sandbox_settings(server)) cfg[kv.key()] = kv.value();
  return refold_test::open_client(refold_test::to_json(cfg));
}

}  // namespace refold_cli_test
