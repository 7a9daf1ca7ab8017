#include "oauth/refresh.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

#include <boost/json.hpp>

#include "catalog/template.hpp"
#include "crypto/secure.hpp"
#include "http/url.hpp"
#include "util/error.hpp"

namespace refold::oauth {

namespace {

// Error codes that mean the grant behind the refresh token is gone. The
// standard one, and what Slack says in its 200 ok:false answers.
bool is_grant_error(const std::string& e) {
  return e == "invalid_grant" || e == "invalid_refresh_token" || e == "token_revoked" ||
         e == "token_expired";
}

RefreshResult failure(RefreshFailure kind, std::string reason, int code, std::string message) {
  RefreshResult r;
  r.failure = kind;
  r.reason = std::move(reason);
  r.code = code;
  r.message = std::move(message);
  return r;
}

}  // namespace

std::optional<Millis> parse_retry_after(std::string_view value, Millis now) {
  std::string_view v(value);
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  if (v.front() >= '0' && v.front() <= '9') {
    std::int64_t secs = 0;
    auto r = std::from_chars(v.data(), v.data() + v.size(), secs);
    if (r.ec != std::errc() || r.ptr != v.data() + v.size()) return std::nullopt;
    return std::min<std::int64_t>(secs, 24 * 3600) * 1000;
  }
  // IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT".
  std::tm tm{};
  std::string s(v);
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  Millis at = static_cast<Millis>(timegm(&tm)) * 1000;
  return std::clamp<Millis>(at - now, 0, 24 * 3600 * 1000);
}

namespace {

// What a token request is for, in its messages and its classification.
struct Exchange {
  std::string who;  // "app 'x': refreshing the access token"
  // The client is the connection's credential (client credentials): the
  // provider refusing it means the connection must be made again, not that
  // the host's config is wrong.
  bool client_is_credential = false;
  // Whether sending it twice is harmless (a rotated refresh token sent
  // twice is a replay: the grant is revoked).
  bool idempotent = false;
  // Shorter than the HTTP client's total timeout, for a request made while
  // the connection's lease is already partly spent.
  std::optional<std::chrono::milliseconds> timeout = std::nullopt;
};

// Sends `form` to the app's token endpoint as `reg` and sorts the outcome.
// `secrets` (the client secret is added) never reach a message; `stored`
// fills a templated endpoint.
RefreshResult exchange(http::HttpClient& http, const catalog::App& app, const ClientRegistration& reg,
                       http::Params form, const Exchange& x, std::vector<std::string_view> secrets,
                       const std::vector<std::string>& scopes, Millis now, const std::atomic<bool>* cancel,
                       const TokenSet* stored) {
  const catalog::OAuth2& def = *app.oauth2;
  const std::string& who = x.who;
  http::Request req;
  req.method = "POST";
  try {
    set_url(req, def.token_endpoint, stored ? *stored : TokenSet{});
  } catch (const Error& e) {
    return failure(RefreshFailure::client, "invalid_endpoint", REFOLD_EINVALID, who + " failed: " + e.what());
  }
  authenticate(req, form, def, reg);
  set_token_body(req, form, def);
  req.cancel = cancel;
  req.idempotent = x.idempotent;
  if (x.timeout) req.timeout = *x.timeout;
  if (reg.client_secret) secrets.push_back(*reg.client_secret);

  http::Response resp;
  try {
    resp = http.send(req);
  } catch (const Error& e) {
    if (e.code() == REFOLD_ECANCELLED) throw;
    if (e.code() == REFOLD_ETIMEOUT)
      return failure(RefreshFailure::transient, "timeout", REFOLD_ETIMEOUT, who + " failed: " + e.what());
    if (e.code() == REFOLD_EINVALID)
      return failure(RefreshFailure::client, "invalid_endpoint", REFOLD_EINVALID, who + " failed: " + e.what());
    return failure(RefreshFailure::transient, "network", REFOLD_ENETWORK, who + " failed: " + e.what());
  }

  RefreshResult r;
  if (auto e = token_error(resp.status, resp.body, secrets)) {
    std::string said = e->error.empty() ? "HTTP " + std::to_string(e->http_status)
                                        : e->error + " (HTTP " + std::to_string(e->http_status) + ")";
    if (!e->description.empty()) said += ": " + e->description;
    if (is_grant_error(e->error))
      return failure(RefreshFailure::grant, e->error, REFOLD_EREAUTH,
                     who + ": the provider refused the " +
                         (x.client_is_credential ? "grant (" : "refresh token (") + said +
                         "); the user must connect again");
    const bool client_refused = e->error == "invalid_client" || e->error == "unauthorized_client" ||
                                (e->error.empty() && e->http_status == 401);
    if (x.client_is_credential && client_refused)
      return failure(RefreshFailure::grant, e->error.empty() ? "invalid_client" : e->error, REFOLD_EREAUTH,
                     who + ": the provider refused the client credentials (" + said +
                         "); connect again with valid ones");
    if (e->http_status == 429) {
      r = failure(RefreshFailure::transient, "rate_limited", REFOLD_EPROVIDER,
                  who + ": the provider is rate limiting (" + said + ")");
      if (auto ra = resp.header("Retry-After")) r.retry_after = parse_retry_after(*ra, now);
      return r;
    }
    if (e->http_status >= 500 || e->error == "temporarily_unavailable" || e->error == "server_error") {
      r = failure(RefreshFailure::transient, "server_error", REFOLD_EPROVIDER,
                  who + ": the token endpoint failed (" + said + ")");
      if (auto ra = resp.header("Retry-After")) r.retry_after = parse_retry_after(*ra, now);
      return r;
    }
    std::string reason = e->error.empty() ? "http_" + std::to_string(e->http_status) : e->error;
    return failure(RefreshFailure::client, reason, REFOLD_EAUTH,
                   who + ": the provider refused the app's OAuth client (" + said +
                       "); check oauth_clients." + app.slug + " in the config");
  }
  try {
    r.tokens = parse_token_response(resp.status, resp.body, app, scopes, now, secrets);
  } catch (const Error& e) {
    return failure(RefreshFailure::transient, "malformed_response", REFOLD_EPROVIDER,
                   who + ": " + e.what());
  }
  return r;
}

}  // namespace

RefreshResult refresh(http::HttpClient& http, const catalog::App& app, const ClientRegistration& reg,
                      std::string_view refresh_token, const std::vector<std::string>& scopes,
                      Millis now, const std::atomic<bool>* cancel, const TokenSet* stored) {
  http::Params form{{"grant_type", "refresh_token"}, {"refresh_token", refresh_token}};
  for (const auto& [k, v] : app.oauth2->refresh_params) form.emplace_back(k, v);
  RefreshResult r = exchange(http, app, reg, std::move(form),
                             Exchange{"app '" + app.slug + "': refreshing the access token"}, {refresh_token}, scopes,
                             now, cancel, stored);
  if (r.failure != RefreshFailure::none || r.tokens.user || !stored || !stored->user) return r;
  r.tokens.user = stored->user;
  UserToken& user = *r.tokens.user;
  // Refreshed now when it would lapse before the main token is next due.
  if (!user.refresh_token || !user.expires_at || (r.tokens.expires_at && *user.expires_at > *r.tokens.expires_at))
    return r;
  // The main refresh token may have rotated: from here on, whatever happens
  // to the user token, `r` is returned for the lifecycle to save. The
  // request gets less time than the first, so that both fit in the
  // connection's lease (the HTTP timeout plus 15 s).
  http::Params uform{{"grant_type", "refresh_token"}, {"refresh_token", *user.refresh_token}};
  for (const auto& [k, v] : app.oauth2->refresh_params) uform.emplace_back(k, v);
  Exchange ux{"app '" + app.slug + "': refreshing the user token"};
  ux.timeout = std::chrono::milliseconds(10000);
  RefreshResult u;
  try {
    u = exchange(http, app, reg, std::move(uform), ux, {*user.refresh_token}, user.scopes, now, cancel, stored);
  } catch (const Error& e) {
    if (e.code() != REFOLD_ECANCELLED) throw;
    u = failure(RefreshFailure::transient, "cancelled", REFOLD_ECANCELLED, ux.who + " was cancelled");
  }
  if (u.failure == RefreshFailure::grant) {
    // The user took their own authorization back (the bot's stands): the
    // connection goes on with its main token, without a user token.
    r.tokens.user.reset();
    return r;
  }
  if (u.failure != RefreshFailure::none) {
    ++user.failures;
    r.user_token_kept = true;
    r.reason = u.reason;
    r.message = u.message;
    r.retry_after = u.retry_after;
    return r;
  }
  // A refresh answers at the top, as the main token's does.
  user.access_token = std::move(u.tokens.access_token);
  user.token_type = std::move(u.tokens.token_type);
  user.expires_at = u.tokens.expires_at;
  user.scopes = std::move(u.tokens.scopes);
  if (u.tokens.refresh_token) user.refresh_token = std::move(u.tokens.refresh_token);
  user.failures = 0;
  return r;
}

RefreshResult fetch_client_credentials(http::HttpClient& http, const catalog::App& app,
                                       const ClientRegistration& reg, const std::vector<std::string>& scopes,
                                       Millis now, const std::atomic<bool>* cancel, const TokenSet* stored) {
  const catalog::OAuth2& def = *app.oauth2;
  http::Params form{{"grant_type", "client_credentials"}};
  const bool fixed_scope = std::any_of(def.token_params.begin(), def.token_params.end(),
                                       [](const auto& p) { return p.first == "scope"; });
  if (!scopes.empty() && !fixed_scope) {
    std::string joined;
    for (const auto& s : scopes) joined += (joined.empty() ? "" : def.scope_separator) + s;
    form.emplace_back("scope", joined);
  }
  const TokenSet none;
  const TokenSet& inputs = stored ? *stored : none;
  for (const auto& [k, v] : def.token_params)
    form.emplace_back(k, catalog::fill_template(v, [&](std::string_view n) { return placeholder_value(inputs, n); },
                                                false));
  // A second grant only replaces the first token: safe to send again.
  Exchange x{"app '" + app.slug + "': fetching an access token with the client's credentials", true, true};
  return exchange(http, app, reg, std::move(form), x, {}, scopes, now, cancel, stored);
}

bool revoke(http::HttpClient& http, const catalog::App& app, const ClientRegistration& reg,
            std::string_view token, const char* hint, const TokenSet& stored) {
  const catalog::OAuth2& def = *app.oauth2;
  if (def.revocation_endpoint.empty()) return false;
  http::Request req;
  req.method = "POST";
  req.timeout = std::chrono::milliseconds(5000);
  req.idempotent = true;  // revoking twice is revoking (RFC 7009 2.2)
  req.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
  http::Params form{{"token", token}, {"token_type_hint", hint}};
  authenticate(req, form, def, reg);
  req.body = http::form_encode(form);
  try {
    set_url(req, def.revocation_endpoint, stored);
    return http.send(req).status == 200;  // RFC 7009 2.2: 200 also for a token already invalid
  } catch (const Error&) {
    return false;
  }
}

bool revoke_tokens(http::HttpClient& http, const catalog::App& app, const ClientRegistration& reg,
                   const TokenSet& tokens) {
  const catalog::OAuth2& def = *app.oauth2;
  auto one = [&](const TokenSet& t) {
    if (def.revocation) return revoke_by_request(http, app, reg, t);
    if (def.revocation_endpoint.empty()) return false;
    bool ok = true;
    if (t.refresh_token) ok = revoke(http, app, reg, *t.refresh_token, "refresh_token", t);
    return revoke(http, app, reg, t.access_token, "access_token", t) && ok;
  };
  bool ok = one(tokens);
  if (tokens.user) {
    // The user token stands in for the main one, with the connection's
    // inputs and metadata for the templates.
    TokenSet u;
    u.access_token = tokens.user->access_token;
    u.refresh_token = tokens.user->refresh_token;
    u.connection = tokens.connection;
    u.metadata = tokens.metadata;
    ok = one(u) && ok;
  }
  return ok;
}

bool revoke_by_request(http::HttpClient& http, const catalog::App& app, const ClientRegistration& reg,
                       const TokenSet& tokens) {
  const catalog::Revocation& def = *app.oauth2->revocation;
  const crypto::SecretString* token = &tokens.access_token;
  if (def.token == "refresh_token") {
    if (!tokens.refresh_token) return false;
    token = &*tokens.refresh_token;
  }
  auto value = [&](std::string_view name) -> std::optional<std::string_view> {
    if (name == "token") return token->view();
    if (name == "access_token") return tokens.access_token.view();
    if (name == "refresh_token") {
      if (!tokens.refresh_token) return std::nullopt;
      return tokens.refresh_token->view();
    }
    if (name == "client_id") return std::string_view(reg.client_id);
    return placeholder_value(tokens, name);
  };
  http::Request req;
  req.method = def.method;
  try {
    catalog::FilledUrl u = catalog::fill_url(def.url, value);
    req.url = std::move(u.url);
    req.public_only = u.public_only;
  } catch (const Error&) {
    return false;  // an input that cannot be a host name: nothing to send it to
  }
  req.timeout = std::chrono::milliseconds(5000);
  req.idempotent = true;  // revoking twice is revoking
  for (const auto& [name, tmpl] : def.headers)
    req.headers.push_back({name, catalog::fill_template(tmpl, value, false)});
  http::Params params;
  for (const auto& [name, tmpl] : def.params) params.emplace_back(name, catalog::fill_template(tmpl, value, false));
  if (def.client_auth == "bearer") {
    crypto::SecretString bearer("Bearer ");
    bearer += tokens.access_token.view();
    req.headers.push_back({"Authorization", std::move(bearer)});
  } else if (def.client_auth != "none") {
    // A public client (token_endpoint_auth_method none) never sends a secret.
    authenticate(req, params, app.oauth2->token_endpoint_auth_method == "none" ? "none" : def.client_auth, reg);
  }
  if (def.method == "GET") {
    if (!params.empty()) {
      req.url += req.url.view().find('?') == std::string_view::npos ? '?' : '&';
      req.url += http::form_encode(params).view();
    }
  } else if (!params.empty()) {
    set_body(req, params, def.body_format);
  }
  try {
    http::Response resp = http.send(req);
    bool expected = def.expect_status.empty() ? resp.status >= 200 && resp.status < 300
                                              : std::find(def.expect_status.begin(), def.expect_status.end(),
                                                          resp.status) != def.expect_status.end();
    if (!expected) return false;
    // A 200 that says it failed: Slack's {"ok": false, "error": ...}.
    boost::system::error_code ec;
    boost::json::value body = boost::json::parse(resp.body.view(), ec, crypto::wiping_storage());
    if (ec || !body.is_object()) return true;
    const auto& o = body.get_object();
    if (o.contains("error")) return false;
    const boost::json::value* ok = o.if_contains("ok");
    return !(ok && ok->is_bool() && !ok->get_bool());
  } catch (const Error&) {
    return false;
  }
}

}  // namespace refold::oauth
