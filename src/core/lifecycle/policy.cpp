#include "core/lifecycle/policy.hpp"

#include <algorithm>

#include "refold.h"

namespace refold::core::lifecycle {

namespace {

// A part of `span` picked by `jitter` in [0, 1): 0 .. span - 1.
Millis part(Millis span, double jitter) {
  if (span <= 1 || !(jitter > 0)) return 0;
  auto m = static_cast<Millis>(jitter * static_cast<double>(span));
  return std::clamp<Millis>(m, 0, span - 1);
}

}  // namespace

std::optional<Millis> next_refresh(const Policy& p, Millis now, std::optional<Millis> expires_at,
                                   bool has_refresh_token, double jitter) {
  std::optional<Millis> due;
  if (expires_at) {
    if (!has_refresh_token) return *expires_at;  // nothing to refresh with: due when it expires
    const Millis window = std::min(p.refresh_ahead, std::max<Millis>(*expires_at - now, 0) / 2);
    due = *expires_at - window + part(window / 2 + 1, jitter);
  }
  if (has_refresh_token && p.at_least_every && *p.at_least_every > 0) {
    const Millis every = *p.at_least_every;
    const Millis keep_alive = now + every - part(every / 10 + 1, jitter);
    due = due ? std::min(*due, keep_alive) : keep_alive;
  }
  return due;
}

bool expired(const TokenState& s, Millis now) { return s.expires_at && now >= *s.expires_at; }

ReadAction decide_read(const TokenState& s, Millis now) {
  if (!s.active) return ReadAction::reauth;
  if (s.keybased) return ReadAction::serve;
  if (expired(s, now)) {
    if (!s.has_refresh_token) return ReadAction::expire;
    if (s.failures > 0 && s.due_at && now < *s.due_at) return ReadAction::backing_off;
    return ReadAction::refresh_and_wait;
  }
  // Valid. Without a refresh token it is used until it expires.
  if (!s.has_refresh_token || !s.due_at || now < *s.due_at) return ReadAction::serve;
  return ReadAction::serve_and_refresh;
}

Millis backoff(int failures, FailureKind kind, double jitter) {
  const bool client = kind == FailureKind::client;
  const Millis base = client ? 30 * 1000 : 1000;
  const Millis cap = client ? 60 * 60 * 1000 : 5 * 60 * 1000;
  Millis d = base;
  for (int i = 1; i < failures && d < cap; ++i) d *= 2;
  d = std::min(d, cap);
  return d - part(d / 5 + 1, jitter);
}

Millis retry_delay(int failures, FailureKind kind, std::optional<Millis> retry_after, double jitter) {
  Millis d = backoff(failures, kind, jitter);
  if (retry_after) d = std::max(d, *retry_after);
  return d;
}

int code_for_reason(const std::optional<std::string>& reason) {
  if (!reason) return REFOLD_EPROVIDER;
  if (*reason == "timeout") return REFOLD_ETIMEOUT;
  if (*reason == "network") return REFOLD_ENETWORK;
  if (*reason == "server_error" || *reason == "rate_limited" || *reason == "malformed_response")
    return REFOLD_EPROVIDER;
  return REFOLD_EAUTH;  // the provider refused the app's client: a config problem
}

std::string reauth_message(const std::string& app, const std::optional<std::string>& reason) {
  return "the connection to app '" + app + "' needs its user to connect again (reason: " +
         reason.value_or("unknown") + ")";
}

std::string backoff_message(const std::string& app, const std::optional<std::string>& reason,
                            Millis retry_at, bool expired) {
  std::string m = "app '" + app + "': " + (expired ? "the access token expired and " : "") +
                  "refreshing it failed (" + reason.value_or("unknown") + "); next attempt after " +
                  rfc3339(retry_at);
  if (code_for_reason(reason) == REFOLD_EAUTH)
    m += "; the provider refused the app's OAuth client: check oauth_clients." + app + " in the config";
  return m;
}

}  // namespace refold::core::lifecycle
