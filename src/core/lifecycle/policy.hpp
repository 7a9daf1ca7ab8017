// The token lifecycle's policy: when a token is refreshed, what a read does
// with what it finds, how long a failed refresh backs off, and what a read
// is told meanwhile. Pure functions of their arguments: no clock, no store,
// no randomness of their own (jitter comes in as a number in [0, 1)), so
// every rule is unit-tested on its own (tests/unit/test_policy.cpp).
#pragma once

#include <optional>
#include <string>

#include "util/time.hpp"

namespace refold::core::lifecycle {

struct Policy {
  // How long before expiry a token is refreshed (shortened for short-lived
  // tokens: never more than half the token's remaining life).
  Millis refresh_ahead = 5 * 60 * 1000;
  // Refresh a connection with a refresh token at least this often even when
  // its access token lives longer (or has no known expiry), so refresh
  // tokens that die unused stay alive. Unset: off.
  std::optional<Millis> at_least_every;
};

// When a token should next be refreshed, or nullopt when never on a
// schedule (no known lifetime and no `at_least_every`: used until
// refused). `jitter` in [0, 1) spreads tokens issued together: the due
// point falls uniformly in the first half of the refresh-ahead window
// (between `window` and `window / 2` before expiry), and an
// `at_least_every` point in its last tenth.
std::optional<Millis> next_refresh(const Policy& p, Millis now, std::optional<Millis> expires_at,
                                   bool has_refresh_token, double jitter);

// What the lifecycle knows about a connection when it decides.
struct TokenState {
  bool keybased = false;
  bool active = true;
  std::optional<Millis> expires_at;
  std::optional<Millis> due_at;  // next refresh, or the end of a back-off
  int failures = 0;              // failed refreshes in a row
  bool has_refresh_token = false;
};

bool expired(const TokenState& s, Millis now);

// What a read does with the credentials it found.
enum class ReadAction {
  serve,             // valid and not due: hand it out
  serve_and_refresh, // valid but due: hand it out, make sure a refresh is under way
  refresh_and_wait,  // expired (or about to be unusable): wait for a refresh
  backing_off,       // expired, and a failed refresh backs off: fail fast
  expire,            // expired with nothing to refresh with: re-auth required
  reauth,            // the connection is marked reauth_required
};
ReadAction decide_read(const TokenState& s, Millis now);

// True when the credentials can be handed out without a refresh started
// first (serve and serve_and_refresh).
inline bool servable(const TokenState& s, Millis now) {
  ReadAction a = decide_read(s, now);
  return a == ReadAction::serve || a == ReadAction::serve_and_refresh;
}

// How failed refreshes back off.
enum class FailureKind { transient, client };
// base * 2^(failures - 1), capped, less up to a fifth (`jitter` in [0, 1)
// picks how much) so that connections failing together retry apart.
// Transient failures start at 1 s and stop growing at 5 minutes; client
// configuration errors (a person must fix them) at 30 s and 1 hour.
Millis backoff(int failures, FailureKind kind, double jitter);
// The back-off a failed refresh gets, never shorter than the provider's
// Retry-After.
Millis retry_delay(int failures, FailureKind kind, std::optional<Millis> retry_after, double jitter);

// The refold code a read gets while a failed refresh backs off, by the
// failure's reason word.
int code_for_reason(const std::optional<std::string>& reason);
// What such a read is told: names the app, the reason and when the next
// attempt is; a client configuration error points at the config.
std::string backoff_message(const std::string& app, const std::optional<std::string>& reason,
                            Millis retry_at, bool expired);
std::string reauth_message(const std::string& app, const std::optional<std::string>& reason);

}  // namespace refold::core::lifecycle
