// Importing connections made elsewhere (refold_import_connection): another
// system's OAuth tokens or key-based fields, checked as a connect checks
// them, then sealed and kept fresh like any other connection.
#include <boost/json.hpp>

#include <algorithm>

#include "catalog/template.hpp"
#include "core/client.hpp"
#include "core/oauth_record.hpp"
#include "crypto/secure.hpp"
#include "oauth/after_connect.hpp"
#include "oauth/flow.hpp"
#include "util/error.hpp"
#include "util/json.hpp"
#include "util/time.hpp"

namespace refold::core {

namespace bj = boost::json;

namespace {

[[noreturn]] void bad(std::string_view key, std::string_view why) {
  fail(REFOLD_EINVALID, "credentials: '" + std::string(key) + "' " + std::string(why));
}

// A secret string member: present and non-empty when `required`; absent or
// null gives nullopt. Errors name the member, never its value.
std::optional<std::string_view> secret_member(const bj::object& o, std::string_view key, bool required) {
  const bj::value* v = o.if_contains(key);
  if (!v || v->is_null()) {
    if (required) bad(key, "is required");
    return std::nullopt;
  }
  if (!v->is_string()) bad(key, "must be a string");
  if (v->get_string().empty()) bad(key, required ? "must not be empty" : "must not be empty (omit it, or give null, for none)");
  return std::string_view(v->get_string());
}

// An RFC 3339 member; absent or null gives nullopt.
std::optional<Millis> time_member(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  std::optional<Millis> t;
  if (v->is_string()) t = parse_rfc3339(v->get_string());
  if (!t) bad(key, "must be an RFC 3339 date-time such as \"2026-12-06T10:00:00Z\", or null");
  return t;
}

std::vector<std::string> scopes_member(const bj::object& o) {
  std::vector<std::string> out;
  const bj::value* v = o.if_contains("scopes");
  if (!v || v->is_null()) return out;
  if (v->is_string()) {
    // One string, space-separated as RFC 6749 writes scopes.
    std::string_view s(v->get_string());
    while (!s.empty()) {
      auto sp = s.find(' ');
      if (sp != 0) out.emplace_back(s.substr(0, sp));
      if (sp == std::string_view::npos) break;
      s.remove_prefix(sp + 1);
    }
    return out;
  }
  if (!v->is_array()) bad("scopes", "must be an array of strings or one space-separated string");
  for (const auto& s : v->get_array()) {
    if (!s.is_string() || s.get_string().empty()) bad("scopes", "must be an array of non-empty strings");
    out.emplace_back(s.get_string());
  }
  return out;
}

// The metadata the app keeps, as it would have kept it from the provider.
std::vector<std::pair<std::string, std::string>> metadata_member(const bj::object& o, const catalog::App& app) {
  std::vector<std::pair<std::string, std::string>> out;
  const bj::value* v = o.if_contains("metadata");
  if (!v || v->is_null()) return out;
  if (!v->is_object()) bad("metadata", "must be an object of strings");
  const catalog::OAuth2& def = *app.oauth2;
  for (const auto& [k, val] : v->get_object()) {
    const std::string_view key(k);
    // What the app keeps: from the token response, the callback, and its
    // after-connect lookup (which an import does not run).
    std::vector<std::string_view> names(def.token_response_metadata.begin(), def.token_response_metadata.end());
    names.insert(names.end(), def.callback_metadata.begin(), def.callback_metadata.end());
    if (def.after_connect)
      for (const auto& [name, path] : def.after_connect->metadata) names.push_back(name);
    if (std::find(names.begin(), names.end(), key) == names.end()) {
      std::string known;
      for (std::string_view name : names) known += (known.empty() ? "" : ", ") + std::string(name);
      bad("metadata", "has '" + std::string(key) + "', which app '" + app.slug + "' does not keep (" +
                          (known.empty() ? std::string("it keeps none") : "it keeps: " + known) + ")");
    }
    if (val.is_string()) out.emplace_back(std::string(key), std::string(val.get_string()));
    else if (val.is_number() || val.is_bool()) out.emplace_back(std::string(key), bj::serialize(val));
    else bad("metadata", "value of '" + std::string(key) + "' must be a string, a number or a boolean");
  }
  return out;
}

void read_token_type(const json::Reader& r, oauth::TokenSet& t) {
  if (auto type = r.str("token_type")) {
    if (type->empty()) bad("token_type", "must not be empty");
    std::string lower = *type;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    t.token_type = lower == "bearer" ? "Bearer" : *type;
  }
}

// An import that lacks what the app's after_connect lookup finds (moved
// from a system that never asked) runs the lookup with the imported
// access token, as the connect would have, while that token is valid. A
// lookup that fails fails the import, naming the app and after_connect;
// with an expired token, finish_imported names the missing metadata.
void look_up_missing(http::HttpClient& http, const catalog::App& app, oauth::TokenSet& t, Millis now) {
  if (!app.oauth2 || !app.oauth2->after_connect) return;
  const auto& wanted = app.oauth2->after_connect->metadata;
  const bool missing = std::any_of(wanted.begin(), wanted.end(), [&](const auto& w) {
    return std::none_of(t.metadata.begin(), t.metadata.end(), [&](const auto& have) { return have.first == w.first; });
  });
  if (!missing || (t.expires_at && *t.expires_at <= now)) return;
  oauth::run_after_connect(http, app, t);
}

// Builds the API base from the imported inputs and metadata, naming the
// member that lacks what the app's api_base_url needs.
void finish_imported(const catalog::App& app, oauth::TokenSet& t) {
  std::string missing;
  if (!app.api_base_url.empty()) {
    try {
      catalog::fill_url(app.api_base_url, [&](std::string_view name) {
        auto v = oauth::placeholder_value(t, name);
        if (!v && missing.empty()) missing = name;
        return v;
      });
    } catch (const Error&) {
      // A value that cannot be used: reported below.
    }
  }
  if (missing.starts_with("metadata."))
    bad("metadata", "lacks '" + missing.substr(9) + "', which app '" + app.slug + "' needs for its api_base_url");
  if (missing.starts_with("connection."))
    bad("connection", "lacks '" + missing.substr(11) + "', which app '" + app.slug + "' needs for its api_base_url");
  try {
    oauth::finish_metadata(app, t, nullptr);
  } catch (const Error&) {
    // The values came from the import, not a provider: a bad input, of
    // the member that chose the host when an input did, else of metadata
    // (Salesforce's instance_url that is not https).
    const std::string& base = app.api_base_url;
    const auto scheme = base.find("://");
    const auto host_end = base.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    const bool input_in_host = base.substr(0, host_end).find("{connection.") != std::string::npos;
    bad(input_in_host ? "connection" : "metadata",
        "makes app '" + app.slug + "''s api_base_url something other than an https URL");
  }
}

}  // namespace

void Client::import_connection(const std::string& account, const std::string& slug, const char* credentials_json) {
  const catalog::App& app = app_or_throw(slug);
  if (!credentials_json) fail(REFOLD_EINVALID, "credentials_json is required");
  std::string_view text(credentials_json);
  if (text.size() > kMaxPayloadBytes)
    fail(REFOLD_EINVALID, "credentials are larger than " + std::to_string(kMaxPayloadBytes) + " bytes");
  bj::value doc = json::parse(text, "credentials", crypto::wiping_storage());
  if (!doc.is_object()) fail(REFOLD_EINVALID, "credentials must be a JSON object");
  const bj::object& o = doc.get_object();

  // Key-based when it says so or carries fields; else the app's OAuth kind.
  std::string auth_type = o.contains("fields") ? "keybased" : app.offers("oauth2_cc") ? "oauth2_cc" : "oauth2";
  if (const bj::value* a = o.if_contains("auth_type")) {
    if (!a->is_string() ||
        (a->get_string() != "oauth2" && a->get_string() != "oauth2_cc" && a->get_string() != "keybased"))
      bad("auth_type", "must be \"oauth2\", \"oauth2_cc\" or \"keybased\"");
    auth_type = std::string(a->get_string());
  }
  if (!app.offers(auth_type))
    fail(REFOLD_EINVALID, "app '" + slug + "' does not offer " + auth_type + " connections");
  if (auth_type == "oauth2_cc") {
    import_cc(account, app, o);
    return;
  }

  if (auth_type == "keybased") {
    json::Reader r(o, "credentials");
    r.only({"auth_type", "fields"});
    save_keybased(account, app, *r.object("fields", true));
    return;
  }

  json::Reader r(o, "credentials");
  r.only({"auth_type", "access_token", "refresh_token", "token_type", "expires_at", "refresh_token_expires_at",
          "scopes", "metadata", "connection", "client"});
  oauth::TokenSet t;
  t.access_token = *secret_member(o, "access_token", true);
  if (auto rt = secret_member(o, "refresh_token", false)) t.refresh_token = *rt;
  read_token_type(r, t);
  t.expires_at = time_member(o, "expires_at");
  t.refresh_expires_at = time_member(o, "refresh_token_expires_at");
  if (t.refresh_expires_at && !t.refresh_token) bad("refresh_token_expires_at", "is given without a refresh_token");
  t.scopes = scopes_member(o);
  t.metadata = metadata_member(o, app);
  const bj::object* inputs = r.object("connection");
  t.connection = oauth::input_strings(app.check_connection(inputs ? *inputs : bj::object()));

  // A connection that could never be used is refused, not stored.
  const Millis now = clock_.now();
  const bool renewable = t.refresh_token && (!t.refresh_expires_at || *t.refresh_expires_at > now);
  if (t.expires_at && *t.expires_at <= now && !renewable)
    bad("expires_at", t.refresh_token ? "is past and so is refresh_token_expires_at: the connection cannot be used"
                                      : "is past and there is no refresh_token: the connection cannot be used");
  // The customer's own OAuth client, when the connection was made with one:
  // its refreshes and revocation use it, as a connect's would.
  oauth::ClientRegistration own;
  const oauth::ClientRegistration* reg = nullptr;
  if (const bj::object* c = r.object("client")) {
    json::Reader cr(*c, "credentials: 'client'");
    cr.only({"client_id", "client_secret"});
    if (!c->contains("client_id")) cr.bad("client_id", "is required");
    reg = own_or_registered(app, *c, cr, own, t);
  } else if (auto it = oauth_clients_.find(slug); it != oauth_clients_.end()) {
    reg = &it->second;
  }
  if (t.refresh_token && !reg)
    fail(REFOLD_EINVALID, "app '" + slug + "': no OAuth client to refresh the imported token with; give the "
                          "connection's own 'client' (client_id, client_secret), or add oauth_clients." + slug +
                          " to the config");
  look_up_missing(http(), app, t, now);
  finish_imported(app, t);
  save_connection({account, slug, "oauth2"}, oauth_record(t), t.expires_at, t.refresh_token.has_value(),
                  connection_config(t));
}

void Client::import_cc(const std::string& account, const catalog::App& app, const bj::object& o) {
  json::Reader r(o, "credentials");
  r.only({"auth_type", "client_id", "client_secret", "access_token", "token_type", "expires_at", "scopes",
          "metadata", "connection"});
  oauth::TokenSet t;
  const bj::object* inputs = r.object("connection");
  t.connection = oauth::input_strings(app.check_connection(inputs ? *inputs : bj::object()));
  oauth::require_inputs(app, t);
  t.metadata = metadata_member(o, app);
  oauth::ClientRegistration own;
  const oauth::ClientRegistration* reg = own_or_registered(app, o, r, own, t);
  if (!reg)
    fail(REFOLD_EINVALID, "app '" + app.slug + "': a client-credentials import needs 'client_id' and "
                          "'client_secret', or oauth_clients." + app.slug + " in the config");
  std::vector<std::string> scopes = scopes_member(o);
  if (!o.contains("scopes")) scopes = reg->scopes ? *reg->scopes : app.oauth2->scopes;

  if (!o.contains("access_token")) {
    // No token to bring: one is fetched now, as a connect does, which also
    // proves the client works.
    for (const char* key : {"token_type", "expires_at"})
      if (o.contains(key)) bad(key, "is given without an access_token");
    fetch_and_save_cc(account, app, *reg, scopes, std::move(t));
    return;
  }
  t.access_token = *secret_member(o, "access_token", true);
  read_token_type(r, t);
  // Past or not, it is accepted: the client fetches a new one.
  t.expires_at = time_member(o, "expires_at");
  t.scopes = std::move(scopes);
  look_up_missing(http(), app, t, clock_.now());
  finish_imported(app, t);
  save_connection({account, app.slug, "oauth2_cc"}, oauth_record(t, "oauth2_cc"), t.expires_at, true,
                  connection_config(t));
}

}  // namespace refold::core
