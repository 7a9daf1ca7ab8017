// The token lifecycle's rules on their own (src/core/lifecycle/policy.hpp):
// when a token is refreshed, what a read does, how failures back off.
#include <doctest/doctest.h>

#include "core/lifecycle/policy.hpp"
#include "refold.h"

using namespace refold;
using namespace refold::core::lifecycle;

namespace {

constexpr Millis kMinute = 60 * 1000;
constexpr Millis kHour = 60 * kMinute;

TokenState oauth(std::optional<Millis> expires_at, std::optional<Millis> due_at, bool refresh_token = true) {
  TokenState s;
  s.expires_at = expires_at;
  s.due_at = due_at;
  s.has_refresh_token = refresh_token;
  return s;
}

}  // namespace

TEST_CASE("policy: the due point falls in the first half of the refresh-ahead window, spread by jitter") {
  Policy p;
  p.refresh_ahead = 5 * kMinute;
  const Millis now = 1'000'000, expires = now + kHour;
  CHECK(next_refresh(p, now, expires, true, 0.0) == expires - 5 * kMinute);
  const Millis late = *next_refresh(p, now, expires, true, 0.999999);
  CHECK(late <= expires - 5 * kMinute / 2);
  CHECK(late > expires - 5 * kMinute / 2 - 1000);
  // Tokens issued together come due over the half window, not in one second.
  std::optional<Millis> lo, hi;
  for (int i = 0; i < 100; ++i) {
    Millis d = *next_refresh(p, now, expires, true, i / 100.0);
    lo = lo ? std::min(*lo, d) : d;
    hi = hi ? std::max(*hi, d) : d;
  }
  CHECK(*hi - *lo > 2 * kMinute);
}

TEST_CASE("policy: a short-lived token is refreshed in the second half of its life") {
  Policy p;
  p.refresh_ahead = 5 * kMinute;
  const Millis now = 0, expires = 4 * kMinute;  // shorter than twice the window
  const Millis d0 = *next_refresh(p, now, expires, true, 0.0);
  const Millis d1 = *next_refresh(p, now, expires, true, 0.99);
  CHECK(d0 == 2 * kMinute);
  CHECK(d1 > d0);
  CHECK(d1 < expires);
}

TEST_CASE("policy: without a refresh token the due point is expiry, without a lifetime there is none") {
  Policy p;
  CHECK(next_refresh(p, 0, kHour, false, 0.5) == kHour);
  CHECK_FALSE(next_refresh(p, 0, std::nullopt, true, 0.5).has_value());
  CHECK_FALSE(next_refresh(p, 0, std::nullopt, false, 0.5).has_value());
}

TEST_CASE("policy: refresh_at_least_every keeps idle grants alive") {
  Policy p;
  p.at_least_every = 24 * kHour;
  const Millis now = 5 * kHour;
  // No known lifetime: due within a day.
  auto d = next_refresh(p, now, std::nullopt, true, 0.0);
  REQUIRE(d.has_value());
  CHECK(*d == now + 24 * kHour);
  CHECK(*next_refresh(p, now, std::nullopt, true, 0.99) > now + 21 * kHour);
  // A token that lives a week is refreshed within a day, one that lives an
  // hour at its window.
  CHECK(*next_refresh(p, now, now + 7 * 24 * kHour, true, 0.0) == now + 24 * kHour);
  CHECK(*next_refresh(p, now, now + kHour, true, 0.0) == now + kHour - p.refresh_ahead);
  // Nothing to exercise without a refresh token.
  CHECK_FALSE(next_refresh(p, now, std::nullopt, false, 0.0).has_value());
}

TEST_CASE("policy: what a read does") {
  const Millis now = 10 * kHour;
  CHECK(decide_read(oauth(now + kHour, now + kHour - 1000), now) == ReadAction::serve);
  CHECK(decide_read(oauth(now + 1000, now - 1), now) == ReadAction::serve_and_refresh);
  CHECK(decide_read(oauth(now, now - 1), now) == ReadAction::refresh_and_wait);
  CHECK(decide_read(oauth(now - 1, std::nullopt, false), now) == ReadAction::expire);
  CHECK(decide_read(oauth(now + 1, now + 1, false), now) == ReadAction::serve);
  // No known lifetime: served until refused.
  CHECK(decide_read(oauth(std::nullopt, std::nullopt), now) == ReadAction::serve);

  TokenState backing = oauth(now - 1, now + 5000);
  backing.failures = 2;
  CHECK(decide_read(backing, now) == ReadAction::backing_off);
  backing.due_at = now;  // its retry is due
  CHECK(decide_read(backing, now) == ReadAction::refresh_and_wait);
  TokenState valid_backing = oauth(now + kHour, now + 5000);
  valid_backing.failures = 3;
  CHECK(decide_read(valid_backing, now) == ReadAction::serve);

  TokenState marked = oauth(now + kHour, now + kHour);
  marked.active = false;
  CHECK(decide_read(marked, now) == ReadAction::reauth);
  TokenState key;
  key.keybased = true;
  CHECK(decide_read(key, now) == ReadAction::serve);
  CHECK(servable(oauth(now + 1000, now - 1), now));
  CHECK_FALSE(servable(oauth(now, now - 1), now));
}

TEST_CASE("policy: back-off doubles to a cap, less up to a fifth") {
  CHECK(backoff(1, FailureKind::transient, 0.0) == 1000);
  CHECK(backoff(2, FailureKind::transient, 0.0) == 2000);
  CHECK(backoff(4, FailureKind::transient, 0.0) == 8000);
  CHECK(backoff(40, FailureKind::transient, 0.0) == 5 * kMinute);
  CHECK(backoff(1, FailureKind::client, 0.0) == 30 * 1000);
  CHECK(backoff(40, FailureKind::client, 0.0) == kHour);
  const Millis j = backoff(4, FailureKind::transient, 0.999);
  CHECK(j < 8000);
  CHECK(j >= 8000 - 8000 / 5 - 1);
  CHECK(retry_delay(1, FailureKind::transient, 90 * 1000, 0.0) == 90 * 1000);
  CHECK(retry_delay(3, FailureKind::transient, 10, 0.0) == 4000);
}

TEST_CASE("policy: messages and codes name the app and the reason, and point at the config") {
  CHECK(code_for_reason(std::string("timeout")) == REFOLD_ETIMEOUT);
  CHECK(code_for_reason(std::string("network")) == REFOLD_ENETWORK);
  CHECK(code_for_reason(std::string("rate_limited")) == REFOLD_EPROVIDER);
  CHECK(code_for_reason(std::nullopt) == REFOLD_EPROVIDER);
  CHECK(code_for_reason(std::string("invalid_client")) == REFOLD_EAUTH);
  std::string m = backoff_message("slack", std::string("invalid_client"), 0, true);
  CHECK(m.find("app 'slack'") != std::string::npos);
  CHECK(m.find("expired") != std::string::npos);
  CHECK(m.find("oauth_clients.slack") != std::string::npos);
  CHECK(backoff_message("slack", std::string("timeout"), 0, false).find("oauth_clients") == std::string::npos);
  CHECK(reauth_message("github", std::string("revoked")).find("reason: revoked") != std::string::npos);
}
