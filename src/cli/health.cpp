#include "health.hpp"

#include "errors.hpp"
#include "output.hpp"
#include "timefmt.hpp"

namespace refold_cli {

namespace {

std::optional<std::int64_t> time_of(const boost::json::object& o, std::string_view key) {
  return parse_rfc3339(str_of(o, key));
}

std::int64_t int_of(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_number()) return 0;
  return it->value().to_number<std::int64_t>();
}

int rank(int code) {
  switch (code) {
    case kExitReauth: return 4;
    case kExitAuth: return 3;
    case kExitNetwork: return 2;
    case kExitOk: return 0;
    default: return 1;
  }
}

// "next refresh in 3m", or, once due, that a read will do it.
std::string next_refresh(const std::optional<std::int64_t>& at, std::int64_t now) {
  if (!at) return "";
  if (*at <= now) return "refresh due " + relative(*at, now) + ": the next read refreshes it";
  return "next refresh " + relative(*at, now);
}

}  // namespace

int refresh_failure_exit_code(std::string_view reason) {
  if (reason == "timeout" || reason == "network") return kExitNetwork;
  if (reason.empty() || reason == "server_error" || reason == "rate_limited" ||
      reason == "malformed_response")
    return kExitError;
  return kExitAuth;  // the provider's error for the app's client: a config problem
}

int worst_exit_code(int a, int b) { return rank(b) > rank(a) ? b : a; }

Health health_of(const boost::json::object& c, std::int64_t now) {
  Health h;
  const std::string reason = str_of(c, "reason");
  if (str_of(c, "status") != "active") {
    h = {"reauth required", "reauth_required", false, kExitReauth,
         "reason: " + (reason.empty() ? std::string("unknown") : reason) +
             "; the user must connect again"};
    return h;
  }
  if (str_of(c, "auth_type") == "keybased") {
    h = {"key-based", "keybased", true, kExitOk, "no expiry"};
    return h;
  }
  auto expires = time_of(c, "expires_at");
  auto next = time_of(c, "next_refresh_at");
  std::int64_t failures = int_of(c, "refresh_failures");
  if (failures > 0) {
    std::string d = "reason: " + (reason.empty() ? std::string("unknown") : reason) + ", " +
                    std::to_string(failures) + (failures == 1 ? " failure" : " failures");
    if (next && *next > now)
      d += ", next attempt " + relative(*next, now) + " (" + format_rfc3339(*next) + ")";
    else if (next)  // retries happen on reads (or the host's background refresher)
      d += ", next attempt on the next read (due since " + format_rfc3339(*next) + ")";
    h = {"refresh failing", "refresh_failing", false, refresh_failure_exit_code(reason), d};
    return h;
  }
  // A refresh token past its lifetime cannot renew the access token: the
  // connection lives only until that expires (a read then marks it).
  auto lapses = time_of(c, "refresh_token_expires_at");
  if (lapses && *lapses <= now) {
    h = {"refresh token expired", "refresh_token_expired", false, kExitReauth,
         "the refresh token expired " + relative(*lapses, now) + "; the user must connect again" +
             (expires && *expires > now ? " before the access token expires " + relative(*expires, now) : "")};
    return h;
  }
  if (!expires) {
    h = {"ok", "ok", true, kExitOk, "no expiry known: used until the provider refuses it"};
  } else if (*expires <= now) {
    h = {"refresh due", "refresh_due", true, kExitOk,
         "expired " + relative(*expires, now) +
             ": the next read refreshes it (without a refresh token: asks for re-auth)"};
  } else if (*expires - now <= kExpiresSoonMs) {
    h = {"expires soon", "expires_soon", true, kExitOk, next_refresh(next, now)};
  } else {
    h = {"ok", "ok", true, kExitOk, next_refresh(next, now)};
  }
  if (lapses && *lapses - now <= kRefreshLapsesSoonMs)
    h.detail += (h.detail.empty() ? "" : "; ") + std::string("the refresh token expires ") +
                relative(*lapses, now) + ": the user must connect again by then unless it is refreshed";
  return h;
}

}  // namespace refold_cli
