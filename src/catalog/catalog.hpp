// App definitions: the built-in catalog plus apps the host adds in config.
// Definitions are validated on load; an error names the app and the field.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "util/time.hpp"

namespace re2 {
class RE2;
}

namespace refold::catalog {

enum class FieldType { text, number, boolean, select };

struct SelectOption {
  std::string name;
  std::string value;
};

// One input field of a key-based app.
struct Field {
  std::string name;
  std::string label;
  FieldType type = FieldType::text;
  bool required = true;
  bool secret = false;
  std::string placeholder;
  std::string help_text;
  std::optional<std::string> pattern_source;
  // Compiled by RE2 (linear time in the value's length, no recursion), matched
  // against the whole value.
  std::shared_ptr<const re2::RE2> pattern;
  std::size_t min_length = 0;
  std::size_t max_length = 4096;  // characters
  std::optional<double> minimum;
  std::optional<double> maximum;
  std::vector<SelectOption> options;
  // A host input: the value is a whole host name
  // that equals one of these domains or ends in "." and one ("auth0.com"
  // takes a tenant's "acme.us.auth0.com"); URLs may end their host with it.
  std::vector<std::string> host_suffixes;

  // Checks one payload value and returns it normalised (text as a string,
  // number as a number, boolean as a bool, select as the option's value).
  // Throws REFOLD_EINVALID naming the field, never quoting the value;
  // the message starts with `where` ("payload: field 'key' ...").
  boost::json::value check(const boost::json::value& v, std::string_view where = "payload") const;
};

// A revocation that is not RFC 7009: one request, declared as data
// (HubSpot's DELETE of the refresh token, GitHub's DELETE of the grant,
// Slack's and Dropbox's bearer-authenticated POST). "{token}" (the token
// `token` names), "{access_token}", "{refresh_token}" and "{client_id}" may
// appear in the url (after the host), params and header values.
struct Revocation {
  std::string method = "POST";         // POST, DELETE or GET
  std::string url;
  std::string token = "access_token";  // or refresh_token: the token it revokes
  // none, client_secret_basic, client_secret_post, or bearer (the access
  // token in an Authorization header).
  std::string client_auth = "none";
  std::string body_format = "form";  // form or json; params go in the query for GET
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<int> expect_status;  // empty: any 2xx
};

// A request made once, as soon as a connect has its tokens, whose JSON
// answer fills connection metadata: what the API needs and neither the
// token response nor the callback says (Jira's cloudId from
// accessible-resources, Xero's tenant from /connections, HubSpot's portal).
// It carries the new access token as a Bearer. "{connection.<input>}" and
// "{metadata.<name>}" (token response or callback metadata) may appear in
// the url and header values.
struct AfterConnect {
  std::string method = "GET";  // GET or POST (without a body)
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  // The Authorization header's scheme before the new access token
  // (Mailchimp's metadata wants "OAuth").
  std::string auth_scheme = "Bearer";
  // Metadata name -> dotted path into the answer; a segment of digits
  // indexes an array ("0.id": the first site's id), a segment "name=value"
  // picks an array's first object whose member `name` is that value
  // ("accounts.is_default=true.account_id"). Every path must be there, as
  // a string, number or boolean.
  std::vector<std::pair<std::string, std::string>> metadata;
};

struct OAuth2 {
  // An "oauth2_cc" app: tokens come from the client-credentials grant
  // (RFC 6749 4.4) at connect and again before they expire; there is no
  // authorization endpoint, user or refresh token.
  bool client_credentials = false;
  std::string authorization_endpoint;
  std::string token_endpoint;
  // How a disconnect revokes, declared one of three ways: an RFC 7009
  // endpoint, a request template, or "none" (the provider cannot revoke
  // one grant). An app that declares none of them has no revocation.
  std::string revocation_endpoint;  // RFC 7009; empty: not this way
  std::optional<Revocation> revocation;
  bool revocation_none = false;
  std::vector<std::string> scopes;
  std::string scope_separator = " ";
  // client_secret_basic, client_secret_post or none (a public client: the
  // client_id in the body and never a secret, even one the host set).
  std::string token_endpoint_auth_method = "client_secret_basic";
  // How token requests (code exchange, refresh) carry their parameters:
  // "form" (RFC 6749) or "json" (Notion). Revocation is always a form.
  std::string body_format = "form";
  bool pkce = true;
  // Parameters always sent, in this order: on the authorization URL, in
  // the code-for-token request and in refresh requests (Google's
  // access_type=offline and prompt=consent, without which it grants no
  // refresh token). A host's own authorize parameter of the same name
  // (one extra_authorize_params allows) replaces the fixed one.
  std::vector<std::pair<std::string, std::string>> authorize_params;
  std::vector<std::pair<std::string, std::string>> token_params;  // may hold "{connection.<input>}"
  std::vector<std::pair<std::string, std::string>> refresh_params;
  std::vector<std::string> extra_authorize_params;
  // The access token's lifetime when a token response gives none (the
  // provider omits expires_in but its tokens expire); absent: such a token
  // is taken not to expire.
  std::optional<Millis> default_lifetime_ms;
  // The app says its access tokens never expire ("default_expires_in":
  // "never"): the same as no default lifetime, declared.
  bool never_expires = false;
  // The refresh token's lifetime: the token-response member that gives it
  // in seconds (QuickBooks' x_refresh_token_expires_in), and the lifetime
  // of one when the response gives none (Xero's 60 days). A connection
  // whose refresh token has lapsed needs the user again.
  std::string refresh_token_expires_in_key = "refresh_token_expires_in";
  std::optional<Millis> default_refresh_lifetime_ms;
  // Where the tokens sit in the token response ("" = top level; Slack user
  // tokens: "authed_user"), dotted for deeper paths.
  std::string token_path;
  // Where a second token of the same grant sits ("authed_user": Slack's
  // user token beside its bot token), dotted; "" for none. It is kept,
  // refreshed and revoked with the connection.
  std::string user_token_path;
  // RFC 8414 issuer and RFC 9207 support: when the provider sends `iss` in
  // the authorization response, it must equal `issuer`.
  std::string issuer;
  bool iss_parameter_supported = false;
  // Non-secret values kept with a connection as its metadata: paths into
  // the token response, dotted ("instance_url", "team.id"), and parameters
  // of the authorization callback (QuickBooks' "realmId"). Each is stored
  // under its path or name, as a string.
  std::vector<std::string> token_response_metadata;
  std::vector<std::string> callback_metadata;
  std::optional<AfterConnect> after_connect;
};

// A request that proves key-based credentials work before they are saved.
// "{field}" in url, header values, username and password is replaced by the
// payload's value (percent-encoded in the url).
struct Verify {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::pair<std::string, std::string>> basic_auth;  // username, password
  std::vector<int> expect_status;  // empty: any 2xx
};

struct App {
  std::string slug;
  std::string name;
  std::string description;
  std::string icon;
  std::string category;  // one of app_categories(), or empty
  std::string docs_url;  // the provider's API documentation
  std::vector<std::string> tags;
  std::vector<std::string> auth_types;  // in declared order
  std::vector<Field> fields;            // key-based input fields
  std::optional<Verify> verify;         // key-based verification request
  // The OAuth 2.0 definition: of the "oauth2" auth type (authorization
  // code), or of "oauth2_cc" (client credentials; oauth2->client_credentials).
  std::optional<OAuth2> oauth2;
  // Where the host calls the provider's API for a connection: a URL
  // template over its metadata ("{metadata.instance_url}"), filled when
  // tokens are saved and returned with the credentials. Empty: not given.
  std::string api_base_url;
  // Inputs a connection takes when it is made (a tenant's subdomain), for
  // "{connection.<name>}" in the app's OAuth URLs and api_base_url. Not
  // secret: they are kept in the connection's listing.
  std::vector<Field> connection_fields;

  bool offers(std::string_view auth_type) const;
  // Validates a key-based payload against `fields` and returns the
  // normalised fields object. Throws REFOLD_EINVALID naming a field.
  boost::json::object check_payload(const boost::json::object& payload) const;
  // The same for a connection's inputs against connection_fields (errors
  // start "connection: field ...").
  boost::json::object check_connection(const boost::json::object& inputs) const;
};

class Catalog {
 public:
  // The built-in apps, then `extra` (an array of definitions; an app with a
  // built-in slug replaces it). Throws REFOLD_EINVALID.
  explicit Catalog(const boost::json::array* extra = nullptr);

  const App* find(std::string_view slug) const;
  const std::map<std::string, App, std::less<>>& apps() const { return *apps_; }

 private:
  // The built-in apps are parsed once per process and shared by every
  // catalog without config apps; one with config apps holds its own copy.
  std::shared_ptr<const std::map<std::string, App, std::less<>>> apps_;
};

// Parses and validates one app definition. `origin` says where it came from
// for error messages ("built-in file twilio.json", "config catalog[2]").
App parse_app(const boost::json::value& v, const std::string& origin);

// The categories an app may declare, in alphabetical order.
const std::vector<std::string_view>& app_categories();

// True for an https URL, or an http URL whose host is loopback.
bool acceptable_endpoint(std::string_view url);

}  // namespace refold::catalog
