// Refreshing (RFC 6749 section 6) and revoking (RFC 7009) tokens, with every
// failure sorted into what the lifecycle does about it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "http/client.hpp"
#include "oauth/flow.hpp"
#include "oauth/token_response.hpp"
#include "util/time.hpp"

namespace refold::oauth {

// What a failed refresh means for the connection.
enum class RefreshFailure {
  none,
  // The refresh token is expired, revoked or reused (invalid_grant and the
  // like): the user must connect again.
  grant,
  // The app's OAuth client is misconfigured or not allowed
  // (invalid_client, unauthorized_client, other 4xx): tokens are kept, the
  // host must fix its config.
  client,
  // 5xx, 429, a malformed answer, a timeout or a network error: try again
  // later.
  transient,
};

struct RefreshResult {
  RefreshFailure failure = RefreshFailure::none;
  TokenSet tokens;            // when failure == none
  std::string reason;         // short machine word: "invalid_grant", "server_error", ...
  int code = REFOLD_OK;       // the refold error code a read that needed the token gets
  std::string message;        // names the app, never a secret
  std::optional<Millis> retry_after;  // from a Retry-After header, as a duration
  // Set on success when the connection's user token (TokenSet::user) was
  // due with the main token but its refresh failed for a passing reason:
  // `tokens` holds the new main token and the old user token, to be saved
  // (the main refresh token may have rotated) and tried again after a
  // back-off. `message` says what failed.
  bool user_token_kept = false;
};

// Sends a refresh_token grant for `app` and classifies the outcome. When
// `stored` holds a user token (TokenSet::user) with a refresh token that
// expires no later than the new main token, it is refreshed too, with a
// second request, once the first has succeeded, with at most 10 s: a grant
// failure there drops the user token (the main one stands); any other
// failure, cancellation included, keeps the old user token
// (RefreshResult::user_token_kept). Either way the new main tokens are
// returned, to be saved. A user token the answer does not replace is
// carried over from `stored`. Never
// throws for what the provider or the network did; throws only for
// cancellation (REFOLD_ECANCELLED, when `*cancel` became true). `scopes` are
// the stored scopes (kept unless the response names others). `stored` is
// the connection as it was (its inputs fill a templated token endpoint).
RefreshResult refresh(http::HttpClient& http, const catalog::App& app, const ClientRegistration& reg,
                      std::string_view refresh_token, const std::vector<std::string>& scopes,
                      Millis now, const std::atomic<bool>* cancel = nullptr, const TokenSet* stored = nullptr);

// Sends a client_credentials grant (RFC 6749 4.4) for an oauth2_cc app, as
// `reg` (the connection's own client, or the host's registration), asking
// for `scopes` (joined with the app's separator, unless the app fixes a
// "scope" in token_params), and classifies the outcome like refresh():
// here invalid_client, unauthorized_client and a bare 401 are `grant`
// failures, as the client is the connection's credential. `stored`
// fills a templated token endpoint. Throws only for cancellation.
RefreshResult fetch_client_credentials(http::HttpClient& http, const catalog::App& app,
                                       const ClientRegistration& reg, const std::vector<std::string>& scopes,
                                       Millis now, const std::atomic<bool>* cancel = nullptr,
                                       const TokenSet* stored = nullptr);

// Revokes one token at the app's revocation endpoint (RFC 7009 2.1, with
// token_type_hint). Returns true when the provider confirmed it (200);
// false for any failure, which is never thrown: revocation is best effort.
// `stored` is the connection (its inputs fill a templated endpoint).
bool revoke(http::HttpClient& http, const catalog::App& app, const ClientRegistration& reg,
            std::string_view token, const char* hint, const TokenSet& stored);

// Revokes everything `tokens` hold the way the app declares: its request
// template, or RFC 7009 (the refresh token first, so a provider that
// revokes the grant with it does, then the access token); then the user
// token (TokenSet::user) the same way. True when every request was
// confirmed; false for any failure, never thrown, and when the app
// declares no revocation. Thread-safe as `http` is.
bool revoke_tokens(http::HttpClient& http, const catalog::App& app, const ClientRegistration& reg,
                   const TokenSet& tokens);

// Revokes a connection's grant with the app's declared request
// (catalog::OAuth2::revocation), one request for the token it names.
// Returns true when the provider confirmed it: an expected status (any 2xx
// unless the app lists them) and no error in a JSON answer ("error", or
// Slack's "ok": false). False for any failure, never thrown, and when the
// connection lacks the token the request needs. Thread-safe as `http` is.
bool revoke_by_request(http::HttpClient& http, const catalog::App& app, const ClientRegistration& reg,
                       const TokenSet& tokens);

// A Retry-After value (delta-seconds or an HTTP-date) as a duration from
// `now`; nullopt when absent or unparsable.
std::optional<Millis> parse_retry_after(std::string_view value, Millis now);

}  // namespace refold::oauth
