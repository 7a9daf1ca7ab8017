#include "handlers.hpp"

#include <cctype>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "consent_page.hpp"
#include "responses.hpp"

namespace json = boost::json;

namespace refold::devserver {

namespace {

// Neither quite JSON nor quite truncated at a token boundary: a client must
// treat it as an unusable answer, not as an empty one.
constexpr std::string_view kMalformedJson = R"({"access_token":"at_malformed","token_type":"Bearer",)";

HttpResponse method_not_allowed(std::string_view allow) {
  HttpResponse r = json_response(405, json::object{{"error", "method_not_allowed"}});
  r.set("Allow", std::string(allow));
  return r;
}

}  // namespace

std::optional<std::string> tenant_of(const HttpRequest& request) {
  auto values = request.header_values("host");
  if (values.size() != 1) return std::nullopt;
  std::string host(values.front().substr(0, values.front().rfind(':')));
  for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  constexpr std::string_view kSuffix = ".localhost";
  if (host.size() <= kSuffix.size() || !host.ends_with(kSuffix)) return std::nullopt;
  host.resize(host.size() - kSuffix.size());
  if (host.find('.') != std::string::npos) return std::nullopt;
  return host;
}

namespace {

// The token of an Authorization header of the scheme `scheme` (lower case;
// compared without case, as RFC 9110 says), trimmed; nullopt for any other
// header.
std::optional<std::string> scheme_token(const HttpRequest& request, std::string_view scheme) {
  auto values = request.header_values("authorization");
  if (values.size() != 1) return std::nullopt;
  std::string_view v = values.front();
  if (v.size() <= scheme.size() || v[scheme.size()] != ' ' || !starts_with_nocase(v, scheme)) return std::nullopt;
  v.remove_prefix(scheme.size() + 1);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  return std::string(v);
}

}  // namespace

std::optional<std::string> bearer_token(const HttpRequest& request) { return scheme_token(request, "bearer"); }

Router::Router(Provider& provider, Counters& counters, Faults& faults, Site site)
    : provider_(provider), counters_(counters), faults_(faults), site_(std::move(site)) {}

HttpResponse Router::handle(const HttpRequest& req) {
  const std::string& path = req.path;
  const bool get = req.method == "GET";
  const bool post = req.method == "POST";

  if (path == "/.well-known/oauth-authorization-server")
    return get ? metadata() : method_not_allowed("GET");
  if (path == "/oauth/authorize")
    return get ? counted("authorize", req, [&] { return authorize(req); })
               : method_not_allowed("GET");
  if (path == "/oauth/authorize/decision")
    return post ? authorize_decision(req) : method_not_allowed("POST");
  if (path == "/oauth/token")
    return post ? counted("token", req, [&] { return token(req); }) : method_not_allowed("POST");
  if (path == "/oauth/revoke")
    return post ? counted("revoke", req, [&] { return revoke(req); }) : method_not_allowed("POST");
  if (path == "/api/auth.revoke")
    return post ? counted("revoke", req, [&] { return revoke_bearer(req); }) : method_not_allowed("POST");
  if (path.starts_with("/oauth/refresh-tokens/"))
    return req.method == "DELETE" ? counted("revoke", req, [&] { return delete_refresh_token(req); })
                                  : method_not_allowed("DELETE");
  if (path == "/api/me")
    return get ? counted("me", req, [&] { return me(req); }) : method_not_allowed("GET");
  if (path == "/api/resources")
    return get ? counted("resources", req, [&] { return resources(req); }) : method_not_allowed("GET");
  if (path == "/api/accounts")
    return get ? counted("resources", req, [&] { return accounts(req); }) : method_not_allowed("GET");
  if (path == "/keys/verify")
    return get ? counted("keys_verify", req, [&] { return keys_verify(req); })
               : method_not_allowed("GET");
  if (path.starts_with("/admin/")) return admin(req);
  return json_response(404, json::object{{"error", "not_found"}});
}

HttpResponse Router::counted(std::string_view name, const HttpRequest& req,
                             const Endpoint& endpoint) {
  // Released when the answer has been written, delayed or not.
  std::shared_ptr<void> in_flight;
  if (name == "authorize") ++counters_.authorize;
  else if (name == "revoke") ++counters_.revoke;
  else if (name == "me") ++counters_.me;
  else if (name == "resources") ++counters_.resources;
  else if (name == "keys_verify") ++counters_.keys_verify;
  else if (name == "token") {
    ++counters_.token;
    counters_.token_started();
    in_flight = std::shared_ptr<void>(&counters_, [](void* c) { --static_cast<Counters*>(c)->token_in_flight; });
    // Counted by grant type even when a failure is injected, so a test can
    // tell "the client tried to refresh" from "the client did not".
    if (auto params = request_params(req)) {
      auto grant_type = param(*params, "grant_type");
      if (grant_type == "authorization_code") ++counters_.token_authorization_code;
      else if (grant_type == "refresh_token") ++counters_.token_refresh;
      else if (grant_type == "client_credentials") ++counters_.token_client_credentials;
    }
  }

  HttpResponse r;
  auto fault = faults_.take(name);
  if (!fault) {
    r = endpoint();
  } else if (fault->mode == FaultMode::slow) {
    // The request takes effect now and its answer comes late, like a
    // provider that commits and then stalls: a client that times out may
    // have lost a rotated refresh token, which is what it must survive.
    r = endpoint();
    r.after = After::delay;
    r.delay = std::chrono::milliseconds(fault->delay_ms);
  } else {
    r = injected(*fault, name);
  }
  r.hold = std::move(in_flight);
  return r;
}

HttpResponse Router::injected(const Fault& fault, std::string_view name) const {
  const bool html = name == "authorize";
  switch (fault.mode) {
    case FaultMode::http500:
      if (html) {
        HttpResponse r = html_response(500, error_page("Server error", "Injected failure."));
        return r;
      }
      return oauth_error(500, "server_error", "injected failure");
    case FaultMode::http429: {
      HttpResponse r = html ? html_response(429, error_page("Too many requests", "Injected."))
                            : oauth_error(429, "temporarily_unavailable", "injected rate limit");
      r.set("Retry-After", std::to_string(fault.retry_after));
      return r;
    }
    case FaultMode::malformed_json: {
      HttpResponse r;
      r.set("Content-Type", "application/json");
      r.body = kMalformedJson;
      return r;
    }
    case FaultMode::invalid_client:
      if (html) return html_response(400, error_page("Unknown client", "Injected failure."));
      if (name == "me" || name == "resources" || name == "keys_verify")
        return invalid_token("injected failure", json::object{{"error", "invalid_token"}});
      return invalid_client("injected failure");
    case FaultMode::hang: {
      HttpResponse r;
      r.after = After::hang;
      return r;
    }
    case FaultMode::slow:
      break;  // handled by counted()
  }
  return oauth_error(500, "server_error", "unknown injected failure");
}

HttpResponse Router::metadata() const {
  const json::array auth_methods{"client_secret_basic", "client_secret_post"};
  json::object m;
  m["issuer"] = site_.issuer;
  m["authorization_endpoint"] = site_.base_url + "/oauth/authorize";
  m["token_endpoint"] = site_.base_url + "/oauth/token";
  m["revocation_endpoint"] = site_.base_url + "/oauth/revoke";
  m["response_types_supported"] = json::array{"code"};
  m["response_modes_supported"] = json::array{"query"};
  m["grant_types_supported"] = json::array{"authorization_code", "refresh_token"};
  m["code_challenge_methods_supported"] = json::array{"S256"};
  m["token_endpoint_auth_methods_supported"] = auth_methods;
  m["revocation_endpoint_auth_methods_supported"] = auth_methods;
  m["authorization_response_iss_parameter_supported"] = true;
  // Any well-formed scope is granted; these are the ones worth advertising
  // (RFC 8414 lets a server list only some).
  m["scopes_supported"] = json::array{"read", "write", "profile"};
  return json_response(200, m);
}

HttpResponse Router::me(const HttpRequest& req) {
  auto token = bearer_token(req);
  if (!token)
    return invalid_token("a Bearer access token is required",
                         json::object{{"error", "invalid_token"}});
  AccessOutcome out = provider_.check_access(*token);
  if (!out.info)
    return invalid_token(out.reason, json::object{{"error", "invalid_token"},
                                                  {"error_description", out.reason}});
  return json_response(200, json::object{{"sub", out.info->sub},
                                         {"client_id", out.info->client_id},
                                         {"scope", out.info->scope}});
}

// What an after-connect lookup asks (Atlassian's accessible-resources,
// Xero's connections): the sites the token reaches, one per grant here,
// named after its user.
HttpResponse Router::resources(const HttpRequest& req) {
  auto token = bearer_token(req);
  if (!token)
    return invalid_token("a Bearer access token is required", json::object{{"error", "invalid_token"}});
  AccessOutcome out = provider_.check_access(*token);
  if (!out.info)
    return invalid_token(out.reason, json::object{{"error", "invalid_token"}, {"error_description", out.reason}});
  return json_response(200, json::array{json::object{{"id", "site-" + out.info->sub},
                                                     {"name", "Sandbox site of " + out.info->sub},
                                                     {"url", "https://" + out.info->sub + ".sandbox.example"},
                                                     {"rank", 1}}});
}

// The other shape of lookup (DocuSign's userinfo, Basecamp's
// authorization.json, Harvest's accounts): the user's accounts, of which
// only one is for the app, marked by a member rather than by its place.
// The token may come as a Bearer or, as Mailchimp's metadata endpoint
// takes it, after "OAuth"; the answer says which.
HttpResponse Router::accounts(const HttpRequest& req) {
  std::string scheme = "Bearer";
  auto token = bearer_token(req);
  if (!token && (token = scheme_token(req, "oauth"))) scheme = "OAuth";
  if (!token)
    return invalid_token("a Bearer or OAuth access token is required", json::object{{"error", "invalid_token"}});
  AccessOutcome out = provider_.check_access(*token);
  if (!out.info)
    return invalid_token(out.reason, json::object{{"error", "invalid_token"}, {"error_description", out.reason}});
  const std::string& sub = out.info->sub;
  return json_response(
      200, json::object{{"scheme", scheme},
                        {"accounts", json::array{json::object{{"account_id", "old-" + sub},
                                                              {"product", "classic"},
                                                              {"is_default", false},
                                                              {"base_uri", site_.base_url + "/classic"}},
                                                 json::object{{"account_id", "acct-" + sub},
                                                              {"product", "current"},
                                                              {"is_default", true},
                                                              {"base_uri", site_.base_url}}}}});
}

HttpResponse Router::keys_verify(const HttpRequest& req) const {
  // Serving tenants and asked at <tenant>.localhost, a key is that
  // tenant's own (as a Zendesk token works on its subdomain only):
  // "sk_sandbox_<tenant>_...". At the bare address any sandbox key passes.
  std::string prefix = "sk_sandbox_";
  if (provider_.tenant_hosts())
    if (auto tenant = tenant_of(req)) prefix += *tenant + "_";
  auto key = bearer_token(req);
  if (key && key->starts_with(prefix) && key->size() >= 24)
    return json_response(200, json::object{{"ok", true}});
  return invalid_token("the key is not a valid sandbox key",
                       json::object{{"ok", false}, {"error", "invalid_key"}});
}

}  // namespace refold::devserver
