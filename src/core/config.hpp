// The client's configuration, parsed from the JSON given to
// refold_client_open. Unknown keys are rejected by name.
#pragma once

#include <boost/json/array.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "vault/master_key.hpp"
#include "http/client.hpp"
#include "oauth/flow.hpp"
#include "util/time.hpp"

namespace refold::core {

// A PostgreSQL store's settings (config keys postgresql_*).
struct PostgresConfig {
  std::string schema = "refold";
  std::size_t pool_size = 8;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds statement_timeout{30000};
};

struct Config {
  std::string store_path;          // resolved: config, XDG_DATA_HOME, HOME; or a postgresql:// URI
  PostgresConfig postgresql;
  vault::KeyOptions keys;
  std::optional<boost::json::array> catalog;  // extra app definitions
  std::map<std::string, oauth::ClientRegistration, std::less<>> oauth_clients;
  http::Options http;
  unsigned short loopback_port = 0;                      // 0: ephemeral
  std::chrono::milliseconds interactive_timeout{5 * 60 * 1000};
  // Token lifecycle.
  std::int64_t refresh_ahead_ms = 5 * 60 * 1000;  // shorter for short-lived tokens
  bool background_refresh = false;
  // Refreshes in flight at once (worker threads at most). 128 keeps up with
  // about 600 refreshes a second against endpoints that answer in 200 ms:
  // the renewals of some 2 million hourly tokens (bench/RESULTS.md).
  std::size_t refresh_concurrency = 128;
  // Per app (oauth_clients.<app>.max_in_flight): refreshes in flight at once.
  std::map<std::string, std::size_t, std::less<>> max_in_flight;
  // Refresh tokens that die unused are exercised at least this often.
  std::optional<Millis> refresh_at_least_every;
  std::size_t credential_cache = 10000;
  Millis event_retention = 7LL * 24 * 3600 * 1000;  // the durable event log  // decrypted credentials kept in memory; 0: none
};

// Throws REFOLD_EINVALID naming the offending key.
Config parse_config(const char* json);

// $XDG_DATA_HOME/refold/refold.db, else ~/.local/share/refold/refold.db.
std::string default_store_path();

}  // namespace refold::core
