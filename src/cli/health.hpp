// A connection's health for `refold status`: a word a person can act on,
// derived from one row of refold_list_connections and the current time.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace refold_cli {

// An OAuth token that expires within this long "expires soon".
constexpr std::int64_t kExpiresSoonMs = 5 * 60 * 1000;
// A refresh token that lapses within this long is named in the detail:
// the user has that long to connect again (or the host to refresh).
constexpr std::int64_t kRefreshLapsesSoonMs = 7LL * 24 * 3600 * 1000;

struct Health {
  std::string word;     // for people: "ok", "expires soon", "refresh due",
                        // "refresh failing", "refresh token expired",
                        // "reauth required", "key-based"
  std::string token;    // for --json: the same with underscores ("keybased")
  bool healthy = true;  // nothing for a person to do
  int exit_code = 0;    // what this connection makes `status` exit with
  std::string detail;   // why, and what happens next; "" when nothing to say
};

// `conn` is one element of the listing; `now` in ms since the epoch.
Health health_of(const boost::json::object& conn, std::int64_t now);

// The exit code of a failing refresh, by its reason: the code a read of the
// connection fails with once its token has expired (refold.h,
// refold_get_credentials), mapped like every other library code.
int refresh_failure_exit_code(std::string_view reason);

// The exit code of several connections: 4 (re-auth) before 5 (the provider
// refused the app's client) before 6 (network) before 1 (provider errors).
int worst_exit_code(int a, int b);

}  // namespace refold_cli
