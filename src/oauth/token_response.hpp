// Parsing token endpoint responses (RFC 6749 5.1 and 5.2) with the quirks
// real providers have: lower-case token types, string or missing
// expires_in, provider-specific scope separators, tokens nested in a
// sub-object (Slack's authed_user), errors inside a 200 (Slack's ok:false).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "crypto/secret_string.hpp"
#include "util/time.hpp"

namespace refold::oauth {

// A second token the same grant brought (Slack's user token beside its bot
// token, under authed_user; catalog::OAuth2::user_token_path). It is kept,
// refreshed and revoked with the connection's main token.
struct UserToken {
  crypto::SecretString access_token;
  std::string token_type = "Bearer";
  std::optional<Millis> expires_at;  // absent: it does not expire
  std::vector<std::string> scopes;
  std::optional<crypto::SecretString> refresh_token;
  std::string id;  // the user at the provider, when the answer names one
  // Refreshes of it in a row that failed for a passing reason (its
  // back-off, RefreshResult::user_token_kept); 0 after one that worked.
  int failures = 0;
};

// The tokens wipe themselves (crypto::SecretString) wherever a TokenSet
// goes: a copy, a move or an exception leaves nothing behind.
struct TokenSet {
  crypto::SecretString access_token;
  std::string token_type = "Bearer";
  std::optional<Millis> expires_at;         // absent: the provider gave no usable lifetime
  std::vector<std::string> scopes;
  std::optional<crypto::SecretString> refresh_token;
  // When the refresh token lapses (the response's refresh-token lifetime,
  // or the app's default); absent: it does not, as far as anyone said.
  std::optional<Millis> refresh_expires_at;
  // Non-secret values the app keeps (catalog::OAuth2 token_response_metadata
  // and callback_metadata), under their paths or names, and the API base
  // built from them (catalog::App::api_base_url).
  std::vector<std::pair<std::string, std::string>> metadata;
  std::optional<std::string> api_base_url;
  // The connection's inputs (catalog::App::connection_fields) as given when
  // it was made, as strings: they fill "{connection.<name>}" in the app's
  // URLs for as long as the connection lives.
  std::vector<std::pair<std::string, std::string>> connection;
  // The connection's own OAuth client, when it brought one (an oauth2_cc
  // connect's payload): every later token request of the connection
  // authenticates as it. Absent: the host's registration (oauth_clients).
  std::optional<std::string> client_id;
  std::optional<crypto::SecretString> client_secret;
  std::optional<UserToken> user;
};

// When the connection must next be renewed: its access token's expiry, or
// the user token's when that one expires sooner and both can be refreshed.
// Absent: nothing expires. The connection's expires_at stays the access
// token's; this only schedules the refresh.
std::optional<Millis> renew_by(const TokenSet& t);

// The value standing for "{connection.<name>}" or "{metadata.<name>}" in an
// app's URL templates, from `t`; nullopt when `t` has none.
std::optional<std::string_view> placeholder_value(const TokenSet& t, std::string_view name);

// Lifetimes above this are clamped: nothing we store needs to outlive it,
// and it keeps the arithmetic far from overflow.
inline constexpr Millis kMaxLifetime = 10LL * 365 * 24 * 3600 * 1000;

// What the token endpoint said, for classifying failures (issue: refresh).
struct TokenError {
  int http_status = 0;
  std::string error;        // RFC 6749 error code, "" when there was none
  std::string description;  // sanitised, secrets redacted
};

// Parses a token response. On success returns the tokens; on an error
// response throws refold::Error with a code from classify() and a message
// naming `app` and the provider's error code. `requested` are the scopes
// asked for (used when the response omits scope). `secrets` are values
// that must never be echoed into an error message (views: the caller's
// secrets are not copied).
TokenSet parse_token_response(int http_status, std::string_view body,
                              const catalog::App& app, const std::vector<std::string>& requested,
                              Millis now, const std::vector<std::string_view>& secrets);

// Completes `t`'s metadata: values of `previous` (the tokens a refresh
// replaces) that `t` lacks are kept, then the app's api_base_url is filled
// from them. Throws REFOLD_EPROVIDER naming the app when a value the
// template needs is missing or the result is not an https URL (http only
// to loopback); the message never quotes a value.
void finish_metadata(const catalog::App& app, TokenSet& t, const TokenSet* previous);

// Fails with REFOLD_EINVALID, naming the app and the input, when the app's
// token parameters or its after_connect request name a connection input
// that `t` lacks (an optional one left out): found before anything is sent,
// not after the user has consented.
void require_inputs(const catalog::App& app, const TokenSet& t);

// Extracts the error of a failed response (nullopt when it is a success).
std::optional<TokenError> token_error(int http_status, std::string_view body,
                                      const std::vector<std::string_view>& secrets);

// The refold error code for a token endpoint error.
int classify(const TokenError& e);

// Printable ASCII only, at most 200 characters, with every occurrence of a
// secret replaced by "[redacted]".
std::string sanitize(std::string_view text, const std::vector<std::string_view>& secrets);

}  // namespace refold::oauth
