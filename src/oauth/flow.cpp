#include "oauth/flow.hpp"

#include <algorithm>

#include <boost/json.hpp>
#include <sodium.h>

#include "catalog/template.hpp"
#include "crypto/encoding.hpp"
#include "http/url.hpp"
#include "oauth/after_connect.hpp"
#include "oauth/pkce.hpp"
#include "oauth/refresh.hpp"
#include "util/error.hpp"
#include "util/json.hpp"

namespace refold::oauth {

namespace bj = boost::json;

namespace {

std::span<const std::uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

std::string_view get(const CallbackParams& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? std::string_view() : it->second.view();
}

}  // namespace

// RFC 6749 3.1: parameters must not be included more than once; a repeat
// smells of injection.
CallbackParams callback_params(std::string_view callback_url) {
  http::Url url = http::parse_url(callback_url);
  auto q = url.target.find('?');
  CallbackParams out;
  if (q == std::string::npos) return out;
  for (auto& [k, v] : http::parse_query(url.target.view().substr(q + 1))) {
    std::string key = k;
    if (!out.emplace(std::move(key), std::move(v)).second)
      fail(REFOLD_EINVALID, "callback URL repeats the parameter '" + (k.size() <= 40 ? k : "?") + "'");
  }
  return out;
}

crypto::SecretString callback_code(const CallbackParams& params, const std::string& app,
                                   const catalog::OAuth2& def) {
  // RFC 9207: the response must come from the issuer we sent the user to.
  auto iss = params.find("iss");
  if (iss != params.end() && !def.issuer.empty() && iss->second != def.issuer)
    fail(REFOLD_ESTATE, "app '" + app + "': the authorization response names another "
                        "issuer than the app's (possible mix-up attack); nothing was exchanged");
  if (iss == params.end() && def.iss_parameter_supported)
    fail(REFOLD_ESTATE, "app '" + app + "': the authorization response lacks the iss "
                        "parameter its provider always sends; nothing was exchanged");

  std::string_view error = get(params, "error");
  if (!error.empty()) {
    std::string desc = sanitize(get(params, "error_description"), {});
    if (error == "access_denied")
      fail(REFOLD_ECANCELLED, "app '" + app + "': the user denied access");
    fail(REFOLD_EPROVIDER, "app '" + app + "': the provider refused the authorization (" +
                               sanitize(error, {}) + ")" + (desc.empty() ? "" : ": " + desc));
  }
  std::string_view code = get(params, "code");
  if (code.empty()) fail(REFOLD_EPROVIDER, "app '" + app + "': the callback URL has no code");
  return crypto::SecretString(code);
}

BeginOptions parse_begin_options(const char* text) {
  BeginOptions o;
  if (!text) return o;
  bj::value doc = json::parse(text, "options", crypto::wiping_storage());
  if (!doc.is_object()) fail(REFOLD_EINVALID, "options must be a JSON object");
  json::Reader r(doc.get_object(), "options");
  r.only({"redirect_uri", "scopes", "params", "connection", "client"});
  o.redirect_uri = r.str("redirect_uri");
  if (doc.get_object().contains("scopes")) o.scopes = r.strings("scopes");
  if (const bj::object* p = r.object("params")) {
    for (const auto& kv : *p) {
      if (!kv.value().is_string()) r.bad("params", "values must be strings");
      o.params.emplace_back(std::string(kv.key()), std::string(kv.value().get_string()));
    }
  }
  if (const bj::object* c = r.object("connection")) o.connection = bj::object(*c, bj::storage_ptr());
  if (const bj::object* c = r.object("client")) {
    json::Reader cr(*c, "options client");
    cr.only({"client_id", "client_secret"});
    ClientRegistration own;
    own.client_id = *cr.str("client_id", true);
    if (own.client_id.empty() || own.client_id.size() > 1024) cr.bad("client_id", "must be 1 to 1024 characters");
    if (const bj::value* s = c->if_contains("client_secret"); s && !s->is_null()) {
      if (!s->is_string() || s->get_string().empty()) cr.bad("client_secret", "must be a non-empty string");
      own.client_secret = std::string_view(s->get_string());
    }
    o.client = std::move(own);
  }
  return o;
}

void set_url(http::Request& req, std::string_view tmpl, const TokenSet& t) {
  catalog::FilledUrl u = catalog::fill_url(tmpl, [&](std::string_view name) { return placeholder_value(t, name); });
  req.url = std::move(u.url);
  req.public_only = u.public_only;
}

const ClientRegistration* client_for(const TokenSet& t, const std::string& app,
                                     const std::map<std::string, ClientRegistration, std::less<>>& clients,
                                     ClientRegistration& own) {
  if (t.client_id) {
    own.client_id = *t.client_id;
    own.client_secret = t.client_secret;
    return &own;
  }
  auto it = clients.find(app);
  return it == clients.end() ? nullptr : &it->second;
}

std::vector<std::pair<std::string, std::string>> input_strings(const bj::object& checked) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [k, v] : checked)
    out.emplace_back(std::string(k), v.is_string() ? std::string(v.get_string()) : bj::serialize(v));
  return out;
}

void set_token_body(http::Request& req, const http::Params& form, const catalog::OAuth2& def) {
  set_body(req, form, def.body_format);
}

void set_body(http::Request& req, const http::Params& form, std::string_view body_format) {
  if (body_format == "json") {
    bj::object o(crypto::wiping_storage());
    for (const auto& [k, v] : form) o[k] = v.view();
    req.headers.push_back({"Content-Type", "application/json"});
    req.body = crypto::serialize(o);
  } else {
    req.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
    req.body = http::form_encode(form);
  }
}

void authenticate(http::Request& req, http::Params& form, const catalog::OAuth2& def,
                  const ClientRegistration& reg) {
  authenticate(req, form, def.token_endpoint_auth_method, reg);
}

void authenticate(http::Request& req, http::Params& form, std::string_view method,
                  const ClientRegistration& reg) {
  if (!reg.client_secret || method == "none") {
    form.emplace_back("client_id", reg.client_id);
  } else if (method == "client_secret_post") {
    form.emplace_back("client_id", reg.client_id);
    form.emplace_back("client_secret", *reg.client_secret);
  } else {
    // RFC 6749 2.3.1: each part is form-encoded before the Base64 step.
    crypto::SecretString pair = http::form_encode({{"a", reg.client_id}}).view().substr(2);
    pair += ':';
    pair += http::form_encode({{"a", *reg.client_secret}}).view().substr(2);
    crypto::SecretString value("Basic ");
    value += crypto::to_base64(bytes(pair));
    req.headers.push_back({"Authorization", std::move(value)});
  }
}

const catalog::App& Flows::oauth_app(const std::string& slug) const {
  const catalog::App* app = catalog_.find(slug);
  if (!app) fail(REFOLD_ENOTFOUND, "unknown app '" + slug + "'");
  if (!app->oauth2) fail(REFOLD_EINVALID, "app '" + slug + "' does not offer OAuth 2.0");
  if (app->oauth2->client_credentials)
    fail(REFOLD_EINVALID, "app '" + slug + "' uses the client-credentials grant (oauth2_cc), with no user to "
                          "send to a browser: connect it with refold_connect and a payload");
  return *app;
}

const ClientRegistration& Flows::registration(const std::string& app) const {
  auto it = clients_.find(app);
  if (it == clients_.end())
    fail(REFOLD_EINVALID, "app '" + app + "' has no OAuth client: add oauth_clients." + app +
                              " (client_id, client_secret) to the config");
  return it->second;
}

std::string Flows::begin(const std::string& account, const std::string& slug,
                         const BeginOptions& options) {
  const catalog::App& app = oauth_app(slug);
  const catalog::OAuth2& def = *app.oauth2;
  // The customer's own client, else the host's registration (whose
  // redirect URI and scopes an own client may still use).
  const auto host = clients_.find(slug);
  const ClientRegistration& reg = options.client ? *options.client : registration(slug);
  const ClientRegistration* defaults = host != clients_.end() ? &host->second : nullptr;
  if (options.client && def.token_endpoint_auth_method != "none" && !options.client->client_secret)
    fail(REFOLD_EINVALID, "options: 'client' needs a client_secret: app '" + slug + "' authenticates its client");

  std::string redirect_uri = options.redirect_uri.value_or(defaults ? defaults->redirect_uri : std::string());
  if (redirect_uri.empty())
    fail(REFOLD_EINVALID, "app '" + slug + "' has no redirect_uri: set oauth_clients." + slug +
                              ".redirect_uri or pass one in the options");
  http::parse_url(redirect_uri);  // malformed: REFOLD_EINVALID
  std::vector<std::string> scopes =
      options.scopes ? *options.scopes : (defaults && defaults->scopes ? *defaults->scopes : def.scopes);
  for (const auto& [k, v] : options.params) {
    bool allowed = std::find(def.extra_authorize_params.begin(), def.extra_authorize_params.end(),
                             k) != def.extra_authorize_params.end();
    if (!allowed)
      fail(REFOLD_EINVALID, "options: parameter '" + k + "' is not allowed by app '" + slug + "'");
  }

  std::string state = make_state();
  crypto::SecretString verifier = def.pkce ? make_verifier() : crypto::SecretString();
  http::Params q{{"response_type", "code"}, {"client_id", reg.client_id}, {"redirect_uri", redirect_uri}};
  if (!scopes.empty()) q.emplace_back("scope", join(scopes, def.scope_separator));
  q.emplace_back("state", state);
  if (def.pkce) {
    q.emplace_back("code_challenge", s256_challenge(verifier));
    q.emplace_back("code_challenge_method", "S256");
  }
  // The app's fixed parameters, each unless the host passed its own value.
  for (const auto& [k, v] : def.authorize_params) {
    const bool replaced = std::any_of(options.params.begin(), options.params.end(),
                                      [&k = k](const auto& p) { return p.first == k; });
    if (!replaced) q.emplace_back(k, v);
  }
  for (const auto& p : options.params) q.push_back(p);

  // The connection's inputs: checked against the app's fields, then against
  // every URL that takes them, so a subdomain that cannot be a host name
  // fails here rather than after the user has consented.
  TokenSet inputs;
  inputs.connection = input_strings(app.check_connection(options.connection));
  // Values only a connection will have (tokens, metadata) stand in as "x".
  auto probe = [&](std::string_view name) -> std::optional<std::string_view> {
    if (name.starts_with("connection.")) return placeholder_value(inputs, name);
    return std::string_view("x");
  };
  for (const std::string* tmpl : {&def.token_endpoint, &def.revocation_endpoint, &app.api_base_url})
    catalog::fill_url(*tmpl, probe);
  if (def.revocation) catalog::fill_url(def.revocation->url, probe);
  if (def.after_connect) catalog::fill_url(def.after_connect->url, probe);
  require_inputs(app, inputs);
  http::Request authorize;
  set_url(authorize, def.authorization_endpoint, inputs);
  std::string ep(authorize.url.view());

  bj::object rec(crypto::wiping_storage());
  rec["account"] = account;
  rec["app"] = slug;
  rec["redirect_uri"] = redirect_uri;
  bj::array sc;
  for (const auto& s : scopes) sc.emplace_back(s);
  rec["scopes"] = std::move(sc);
  rec["verifier"] = verifier.view();
  bj::object given;
  for (const auto& [k, v] : inputs.connection) given[k] = v;
  rec["connection"] = std::move(given);
  if (options.client) {
    rec["client_id"] = options.client->client_id;
    if (options.client->client_secret) rec["client_secret"] = options.client->client_secret->view();
  }
  crypto::SecretString plain = crypto::serialize(rec);

  store::Flow flow;
  std::string hash = sha256(state);
  flow.state_hash.assign(hash.begin(), hash.end());
  flow.created_at = clock_.now();
  flow.expires_at = flow.created_at + kFlowLifetime;
  store_.put_flow(flow, vault_.flow_sealer(flow.state_hash, bytes(plain)), flow.created_at);

  // The URL holds no secret: state and challenge only.
  return ep + (ep.find('?') == std::string::npos ? "?" : "&") + std::string(http::form_encode(q).view());
}

Completed Flows::complete(std::string_view callback_url) {
  auto params = callback_params(callback_url);
  std::string state(get(params, "state"));
  if (state.empty()) fail(REFOLD_ESTATE, "the callback URL has no state");
  std::string hash = sha256(state);
  auto flow = store_.take_flow(store::Bytes(hash.begin(), hash.end()));
  if (!flow) fail(REFOLD_ESTATE, "unknown or already used state: start the connection again");
  if (flow->expires_at < clock_.now())
    fail(REFOLD_ESTATE, "the authorization took longer than 10 minutes: start the connection again");

  crypto::WipedBytes plain = vault_.open_flow(flow->state_hash, flow->sealed);
  bj::value rec = json::parse(plain.view(), "pending flow", crypto::wiping_storage());
  const bj::object& r = rec.as_object();
  Completed done;
  done.account = std::string(r.at("account").as_string());
  done.app = std::string(r.at("app").as_string());
  const catalog::App& app = oauth_app(done.app);
  const catalog::OAuth2& def = *app.oauth2;

  crypto::SecretString code = callback_code(params, done.app, def);
  if (const bj::value* c = r.if_contains("connection"); c && c->is_object())
    for (const auto& [k, v] : c->get_object())
      if (v.is_string()) done.tokens.connection.emplace_back(std::string(k), std::string(v.get_string()));

  // The client the flow began with: the customer's own, kept in the sealed
  // flow, or the host's registration.
  ClientRegistration own;
  if (const bj::value* id = r.if_contains("client_id"); id && id->is_string()) {
    own.client_id = std::string(id->get_string());
    if (const bj::value* s = r.if_contains("client_secret"); s && s->is_string())
      own.client_secret = std::string_view(s->get_string());
  }
  const ClientRegistration& reg = own.client_id.empty() ? registration(done.app) : own;
  crypto::SecretString verifier(std::string_view(r.at("verifier").as_string()));
  http::Request req;
  req.method = "POST";
  set_url(req, def.token_endpoint, done.tokens);
  http::Params form{{"grant_type", "authorization_code"}, {"code", code},
                    {"redirect_uri", std::string(r.at("redirect_uri").as_string())}};
  if (!verifier.empty()) form.emplace_back("code_verifier", verifier);
  for (const auto& [k, v] : def.token_params)
    form.emplace_back(k, catalog::fill_template(v, [&](std::string_view n) { return placeholder_value(done.tokens, n); },
                                                false));
  authenticate(req, form, def, reg);
  set_token_body(req, form, def);

  std::vector<std::string> requested;
  for (const auto& s : r.at("scopes").as_array()) requested.emplace_back(s.as_string());
  // The tokens will be sealed under the store's current data key: fail
  // before the code is spent if this client cannot open it.
  vault_.require_current_key();
  http::Response resp = http_().send(req);
  std::vector<std::string_view> secrets{code, verifier};
  if (reg.client_secret) secrets.push_back(*reg.client_secret);
  std::vector<std::pair<std::string, std::string>> connection = std::move(done.tokens.connection);
  done.tokens = parse_token_response(resp.status, resp.body, app, requested, clock_.now(), secrets);
  done.tokens.connection = std::move(connection);
  if (!own.client_id.empty()) {
    done.tokens.client_id = own.client_id;
    done.tokens.client_secret = own.client_secret;
  }
  for (const auto& name : def.callback_metadata)
    if (std::string_view v = get(params, name.c_str()); !v.empty()) done.tokens.metadata.emplace_back(name, std::string(v));
  try {
    run_after_connect(http_(), app, done.tokens);
    finish_metadata(app, done.tokens, nullptr);
  } catch (const Error&) {
    // The provider granted access that will not be stored: hand it back
    // (best effort, as a disconnect does) before failing.
    revoke_tokens(http_(), app, reg, done.tokens);
    throw;
  }
  return done;
}

}  // namespace refold::oauth
