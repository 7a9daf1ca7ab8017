// The Client's OAuth 2.0 and provider-facing parts: the two-step and
// interactive flows, and verification of key-based credentials.
#include <boost/json.hpp>

#include "catalog/template.hpp"
#include "core/client.hpp"
#include "core/oauth_record.hpp"
#include "crypto/encoding.hpp"
#include "http/url.hpp"
#include "oauth/after_connect.hpp"
#include "oauth/loopback.hpp"
#include "oauth/refresh.hpp"
#include "util/error.hpp"
#include "util/json.hpp"

namespace refold::core {

namespace bj = boost::json;

namespace {

// A field's value as a template takes it: a string as it is, any other
// value serialized (into `number`, which must outlive its use).
std::optional<std::string_view> field_value(const bj::object& fields, std::string_view name,
                                            crypto::SecretString& number) {
  const bj::value* v = fields.if_contains(name);
  if (!v) return std::nullopt;
  if (v->is_string()) return std::string_view(v->get_string());
  number = crypto::serialize(*v);
  return number.view();
}

// Replaces each "{field}" in `tmpl` with the field's value (not in a URL).
// Secret: the fields are keys.
crypto::SecretString fill(const std::string& tmpl, const bj::object& fields) {
  crypto::SecretString number;
  return catalog::fill_template(tmpl, [&](std::string_view name) { return field_value(fields, name, number); },
                                false);
}

}  // namespace

http::Request verify_request(const catalog::App& app, const bj::object& fields) {
  const catalog::Verify& v = *app.verify;
  http::Request req;
  req.method = v.method;
  // Every placeholder of the URL is a field the customer typed: one in the
  // host chooses it, so the request may reach public addresses only
  // (unless the app's host is under localhost).
  crypto::SecretString number;
  catalog::FilledUrl url = catalog::fill_url(
      v.url, [&](std::string_view name) { return field_value(fields, name, number); },
      [](std::string_view) { return true; });
  req.url = std::move(url.url);
  req.public_only = url.public_only;
  for (const auto& [name, value] : v.headers) req.headers.push_back({name, fill(value, fields)});
  if (v.basic_auth) {
    crypto::SecretString pair = fill(v.basic_auth->first, fields);
    pair += ':';
    pair += fill(v.basic_auth->second, fields);
    crypto::SecretString value("Basic ");
    value += crypto::to_base64(std::span(reinterpret_cast<const std::uint8_t*>(pair.data()), pair.size()));
    req.headers.push_back({"Authorization", std::move(value)});
  }
  return req;
}

void Client::verify_keys(const catalog::App& app, const bj::object& fields) {
  const catalog::Verify& v = *app.verify;
  http::Response resp = http().send(verify_request(app, fields));
  bool ok = v.expect_status.empty()
                ? resp.status >= 200 && resp.status < 300
                : std::find(v.expect_status.begin(), v.expect_status.end(), resp.status) != v.expect_status.end();
  if (ok) return;
  if (resp.status == 401 || resp.status == 403)
    fail(REFOLD_EAUTH, "app '" + app.slug + "' rejected the credentials (HTTP " +
                           std::to_string(resp.status) + "); nothing was saved");
  fail(REFOLD_EPROVIDER, "app '" + app.slug + "': verifying the credentials failed (HTTP " +
                             std::to_string(resp.status) + "); nothing was saved");
}

std::string Client::oauth_begin(const std::string& account, const std::string& app,
                                const char* options_json) {
  app_or_throw(app);
  return flows_->begin(account, app, oauth::parse_begin_options(options_json));
}

void Client::save_tokens(const oauth::Completed& done) {
  crypto::SecretString plain = oauth_record(done.tokens);
  save_connection({done.account, done.app, "oauth2"}, plain, done.tokens.expires_at,
                  done.tokens.refresh_token.has_value(), connection_config(done.tokens), oauth::renew_by(done.tokens));
}

std::optional<bool> Client::revoke(const store::ConnectionWithSecret& row) {
  const store::ConnectionId& id = row.connection.id;
  if (id.auth_type != "oauth2" && id.auth_type != "oauth2_cc") return std::nullopt;
  const catalog::App* app = catalog_.find(id.app);
  if (!app || !app->oauth2) return std::nullopt;
  const catalog::OAuth2& def = *app->oauth2;
  if (def.revocation_endpoint.empty() && !def.revocation) return std::nullopt;  // none, said or not
  try {
    oauth::TokenSet t = read_oauth_record(vault_->open(id, row.sealed).view());
    oauth::ClientRegistration own;
    const oauth::ClientRegistration* reg = oauth::client_for(t, id.app, oauth_clients_, own);
    if (!reg) return false;  // no client to authenticate as
    return oauth::revoke_tokens(http(), *app, *reg, t);
  } catch (const Error&) {
    return false;  // unreadable record or no HTTP client: nothing revoked
  }
}

std::string Client::oauth_complete(std::string_view callback_url) {
  oauth::Completed done = flows_->complete(callback_url);
  save_tokens(done);
  bj::object o;
  o["account"] = done.account;
  o["app"] = done.app;
  o["auth_type"] = "oauth2";
  o["status"] = "active";
  return bj::serialize(o);
}

void Client::connect_oauth(const std::string& account, const std::string& slug, const char* options_json) {
  const catalog::App& app = app_or_throw(slug);
  if (!app.offers("oauth2"))
    fail(REFOLD_EINVALID, "app '" + slug + "' does not offer oauth2 (it offers " +
                              (app.offers("oauth2_cc") ? "oauth2_cc: connect it with refold_connect and a payload)"
                                                       : "keybased: connect it with refold_connect and its fields)"));
  oauth::BeginOptions options = oauth::parse_begin_options(options_json);
  if (options.redirect_uri)
    fail(REFOLD_EINVALID, "options: 'redirect_uri' does not apply: the interactive flow redirects to its own "
                          "loopback listener (use refold_oauth_begin for a redirect URI of yours)");
  connect_interactive(account, app, std::move(options));
}

void Client::connect_interactive(const std::string& account, const catalog::App& app, oauth::BeginOptions options) {
  // Inputs a connection needs and was not given: fail before a browser
  // opens (begin checks the ones given).
  if (options.connection.empty())
    for (const auto& f : app.connection_fields)
      if (f.required)
        fail(REFOLD_EINVALID, "app '" + app.slug + "' needs the connection input '" + f.name +
                                  "': pass it in options.connection to refold_connect_oauth (or refold_oauth_begin)");
  // RFC 8252: a loopback redirect on a port of our choosing, open only for
  // the flow's duration.
  oauth::LoopbackListener listener(loopback_port_);
  options.redirect_uri = listener.redirect_uri();
  std::string url = flows_->begin(account, app.slug, options);
  auto deadline = std::chrono::steady_clock::now() + interactive_timeout_;
  opener_.open(url);
  crypto::SecretString callback = listener.wait(deadline);
  try {
    save_tokens(flows_->complete(callback));
  } catch (const Error& e) {
    listener.respond(false, e.what());
    throw;
  }
  listener.respond(true, "Your " + app.name + " account is connected.");
}

void Client::connect_client_credentials(const std::string& account, const catalog::App& app,
                                        const char* payload_json) {
  bj::value doc;
  if (payload_json) {
    std::string_view text(payload_json);
    if (text.size() > kMaxPayloadBytes)
      fail(REFOLD_EINVALID, "payload is larger than " + std::to_string(kMaxPayloadBytes) + " bytes");
    doc = json::parse(text, "payload", crypto::wiping_storage());
    if (!doc.is_object()) fail(REFOLD_EINVALID, "payload must be a JSON object");
  } else {
    doc = bj::object(crypto::wiping_storage());
  }
  const bj::object& o = doc.get_object();
  json::Reader r(o, "payload");
  r.only({"client_id", "client_secret", "connection", "scopes"});

  oauth::TokenSet base;
  const bj::object* inputs = r.object("connection");
  base.connection = oauth::input_strings(app.check_connection(inputs ? *inputs : bj::object()));
  oauth::require_inputs(app, base);
  oauth::ClientRegistration own;
  const oauth::ClientRegistration* reg = own_or_registered(app, o, r, own, base);
  if (!reg)
    fail(REFOLD_EINVALID, "app '" + app.slug + "': connect needs the payload's client_id and client_secret, "
                          "or oauth_clients." + app.slug + " in the config");
  std::vector<std::string> scopes = r.strings("scopes");
  if (!o.contains("scopes")) scopes = reg->scopes ? *reg->scopes : app.oauth2->scopes;
  fetch_and_save_cc(account, app, *reg, scopes, std::move(base));
}

const oauth::ClientRegistration* Client::own_or_registered(const catalog::App& app, const bj::object& o,
                                                           const json::Reader& r, oauth::ClientRegistration& own,
                                                           oauth::TokenSet& t) const {
  const bj::value* id = o.if_contains("client_id");
  const bj::value* secret = o.if_contains("client_secret");
  if (id || secret) {
    if (!id || !id->is_string() || id->get_string().empty())
      r.bad("client_id", "is required with client_secret, as a non-empty string");
    if (!secret || !secret->is_string() || secret->get_string().empty())
      r.bad("client_secret", "is required with client_id, as a non-empty string");
    if (id->get_string().size() > 1024) r.bad("client_id", "is longer than 1024 characters");
    own.client_id = std::string(id->get_string());
    own.client_secret = std::string_view(secret->get_string());
    t.client_id = own.client_id;
    t.client_secret = *own.client_secret;
    return &own;
  }
  auto it = oauth_clients_.find(app.slug);
  return it == oauth_clients_.end() ? nullptr : &it->second;
}

void Client::fetch_and_save_cc(const std::string& account, const catalog::App& app,
                               const oauth::ClientRegistration& reg, const std::vector<std::string>& scopes,
                               oauth::TokenSet base) {
  oauth::RefreshResult got = oauth::fetch_client_credentials(http(), app, reg, scopes, clock_.now(), nullptr, &base);
  if (got.failure != oauth::RefreshFailure::none) {
    // At connect, a refused client is bad credentials, not a lost grant.
    const int code = got.failure == oauth::RefreshFailure::grant ? REFOLD_EAUTH : got.code;
    fail(code, got.message + "; nothing was saved");
  }
  oauth::TokenSet& t = got.tokens;
  t.connection = std::move(base.connection);
  t.client_id = std::move(base.client_id);
  t.client_secret = std::move(base.client_secret);
  // Values the caller brought (an import's metadata) stand where the
  // provider's answer has none.
  for (auto& m : base.metadata)
    if (std::none_of(t.metadata.begin(), t.metadata.end(), [&](const auto& have) { return have.first == m.first; }))
      t.metadata.push_back(std::move(m));
  try {
    oauth::run_after_connect(http(), app, t);
    oauth::finish_metadata(app, t, nullptr);
  } catch (const Error&) {
    // The provider granted a token that will not be stored: hand it back
    // (best effort, as a disconnect does) before failing.
    oauth::revoke_tokens(http(), app, reg, t);
    throw;
  }
  save_connection({account, app.slug, "oauth2_cc"}, oauth_record(t, "oauth2_cc"), t.expires_at, true,
                  connection_config(t));
}

}  // namespace refold::core
