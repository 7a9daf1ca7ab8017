// The authorization code flow (RFC 6749 4.1 with PKCE, RFC 7636; iss check,
// RFC 9207): begin builds the authorize URL and records a pending flow in
// the store; complete validates the callback and exchanges the code.
// begin and complete may run in different processes sharing a store.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.hpp"
#include "crypto/secure.hpp"
#include "vault/vault.hpp"
#include "http/client.hpp"
#include "oauth/token_response.hpp"
#include "store/store.hpp"
#include "util/time.hpp"

namespace refold::oauth {

// An OAuth client registration from config (oauth_clients.<app>).
struct ClientRegistration {
  std::string client_id;
  std::optional<crypto::SecretString> client_secret;  // absent for public clients
  std::string redirect_uri;                  // default redirect
  std::optional<std::vector<std::string>> scopes;  // default: the app's
};

struct BeginOptions {
  std::optional<std::string> redirect_uri;
  std::optional<std::vector<std::string>> scopes;
  std::vector<std::pair<std::string, std::string>> params;  // extra authorize parameters
  boost::json::object connection;  // the connection's inputs, checked by begin against the app
  // The customer's own OAuth client for this connection ("client":
  // {"client_id", "client_secret"}): used for the code exchange and, kept
  // sealed with the connection, for its refreshes and revocation.
  std::optional<ClientRegistration> client;
};

// Parses begin's options JSON (NULL means none; a client secret in it is
// held in memory that is wiped). Throws REFOLD_EINVALID naming the member,
// never a value.
BeginOptions parse_begin_options(const char* json);

struct Completed {
  std::string account;
  std::string app;
  TokenSet tokens;
};

// The parameters of the callback URL the browser reached (the values are
// secret: the code). Throws REFOLD_EINVALID for a malformed URL or a
// repeated parameter.
using CallbackParams = std::map<std::string, crypto::SecretString>;
CallbackParams callback_params(std::string_view callback_url);

// Checks the authorization response's parameters against the app `app`
// defined by `def` (RFC 9207 iss, the error parameters) and returns the
// code to exchange. Throws REFOLD_ESTATE (issuer mismatch or missing),
// REFOLD_ECANCELLED (the user denied access), REFOLD_EPROVIDER (another
// error, or no code). Messages never quote the code.
crypto::SecretString callback_code(const CallbackParams& params, const std::string& app,
                                   const catalog::OAuth2& def);

inline constexpr Millis kFlowLifetime = 10 * 60 * 1000;

class Flows {
 public:
  // `http` gives the HTTP client when a request is due (it is made lazily:
  // loading the system CA store is most of a client's open time).
  Flows(const catalog::Catalog& catalog, store::Store& store, const vault::Vault& vault,
        std::function<http::HttpClient&()> http, const Clock& clock,
        const std::map<std::string, ClientRegistration, std::less<>>& clients)
      : catalog_(catalog), store_(store), vault_(vault), http_(std::move(http)), clock_(clock),
        clients_(clients) {}

  // Records a pending flow and returns the URL to send the user to.
  // Throws REFOLD_EINVALID (no client registration, no redirect URI, a
  // parameter the app does not allow), REFOLD_ENOTFOUND, REFOLD_ESTORE.
  std::string begin(const std::string& account, const std::string& app, const BeginOptions& options);

  // Validates the callback URL the browser reached and exchanges its code.
  // Throws REFOLD_ESTATE (unknown, reused or expired state; issuer mismatch),
  // REFOLD_EINVALID (malformed or repeated parameters), REFOLD_ECANCELLED
  // (the user denied access), REFOLD_EPROVIDER, REFOLD_EAUTH, network codes.
  // No token request is sent unless state and iss check out. Tokens that
  // cannot be kept (the app's api_base_url cannot be built from the answer)
  // are revoked at the provider, best effort, before it throws.
  Completed complete(std::string_view callback_url);

  const ClientRegistration& registration(const std::string& app) const;

 private:
  const catalog::App& oauth_app(const std::string& slug) const;

  const catalog::Catalog& catalog_;
  store::Store& store_;
  const vault::Vault& vault_;
  std::function<http::HttpClient&()> http_;
  const Clock& clock_;
  const std::map<std::string, ClientRegistration, std::less<>>& clients_;
};

// Sets `req`'s URL from one of the app's URL templates, filling
// "{connection.<name>}" from `t`'s inputs (and "{metadata.<name>}"); a host
// an input chose makes the request public_only. Throws REFOLD_EINVALID for
// an input that cannot go where the template puts it.
void set_url(http::Request& req, std::string_view tmpl, const TokenSet& t);

// The client a connection's token requests authenticate as: its own
// (kept with it, filled into `own`), else the host's registration for the
// app in `clients`; nullptr when it has neither. Thread-safe as reads of
// `clients` are.
const ClientRegistration* client_for(const TokenSet& t, const std::string& app,
                                     const std::map<std::string, ClientRegistration, std::less<>>& clients,
                                     ClientRegistration& own);

// A connection's inputs as strings (a number or boolean as its JSON text),
// in the app's field order.
std::vector<std::pair<std::string, std::string>> input_strings(const boost::json::object& checked);

// Puts `form` into a token request (code exchange or refresh) as the app
// takes it, with its Content-Type: form-encoded, or for body_format "json"
// a JSON object of strings. The body wipes itself like any secret.
void set_token_body(http::Request& req, const http::Params& form, const catalog::OAuth2& def);
// The same for any request, by format name: "form" or "json".
void set_body(http::Request& req, const http::Params& form, std::string_view body_format);

// Adds client authentication to a token or revocation request:
// client_secret_basic (RFC 6749 2.3.1: form-encode id and secret, then
// Base64) or client_secret_post; a public client (no secret registered,
// or token_endpoint_auth_method "none") sends its client_id only.
void authenticate(http::Request& req, http::Params& form, const catalog::OAuth2& def,
                  const ClientRegistration& reg);
// The same with the method named: "client_secret_basic",
// "client_secret_post" or "none".
void authenticate(http::Request& req, http::Params& form, std::string_view method,
                  const ClientRegistration& reg);

}  // namespace refold::oauth
