// Importing connections made elsewhere (refold_import_connection): another
// system's OAuth tokens or key-based fields, checked as a connect checks
// them, then sealed and kept fresh like any other connection.
#include <boost/json.hpp>

#include <algorithm>

#include "core/client.hpp"
#include "core/oauth_record.hpp"
#include "crypto/secure.hpp"
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
    const bool kept = std::find(def.token_response_metadata.begin(), def.token_response_metadata.end(), key) !=
                          def.token_response_metadata.end() ||
                      std::find(def.callback_metadata.begin(), def.callback_metadata.end(), key) !=
                          def.callback_metadata.end();
    if (!kept) {
      std::string known;
      for (const auto* list : {&def.token_response_metadata, &def.callback_metadata})
        for (const auto& name : *list) known += (known.empty() ? "" : ", ") + name;
      bad("metadata", "has '" + std::string(key) + "', which app '" + app.slug + "' does not keep (" +
                          (known.empty() ? std::string("it keeps none") : "it keeps: " + known) + ")");
    }
    if (val.is_string()) out.emplace_back(std::string(key), std::string(val.get_string()));
    else if (val.is_number() || val.is_bool()) out.emplace_back(std::string(key), bj::serialize(val));
    else bad("metadata", "value of '" + std::string(key) + "' must be a string, a number or a boolean");
  }
  return out;
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

  // Key-based when it says so or carries fields; OAuth 2.0 otherwise.
  std::string auth_type = o.contains("fields") ? "keybased" : "oauth2";
  if (const bj::value* a = o.if_contains("auth_type")) {
    if (!a->is_string() || (a->get_string() != "oauth2" && a->get_string() != "keybased"))
      bad("auth_type", "must be \"oauth2\" or \"keybased\"");
    auth_type = std::string(a->get_string());
  }
  if (!app.offers(auth_type))
    fail(REFOLD_EINVALID, "app '" + slug + "' does not offer " + auth_type + " connections");

  if (auth_type == "keybased") {
    json::Reader r(o, "credentials");
    r.only({"auth_type", "fields"});
    save_keybased(account, app, *r.object("fields", true));
    return;
  }

  json::Reader r(o, "credentials");
  r.only({"auth_type", "access_token", "refresh_token", "token_type", "expires_at", "refresh_token_expires_at",
          "scopes", "metadata", "connection"});
  oauth::TokenSet t;
  t.access_token = *secret_member(o, "access_token", true);
  if (auto rt = secret_member(o, "refresh_token", false)) t.refresh_token = *rt;
  if (auto type = r.str("token_type")) {
    if (type->empty()) bad("token_type", "must not be empty");
    std::string lower = *type;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    t.token_type = lower == "bearer" ? "Bearer" : *type;
  }
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
  if (t.refresh_token && oauth_clients_.find(slug) == oauth_clients_.end())
    fail(REFOLD_EINVALID, "app '" + slug + "': no OAuth client registration to refresh the imported token with; "
                          "add oauth_clients." + slug + " (client_id, client_secret) to the config");
  try {
    oauth::finish_metadata(app, t, nullptr);
  } catch (const Error& e) {
    // The values came from the import, not a provider: a bad input.
    fail(REFOLD_EINVALID, std::string("credentials: 'metadata' or 'connection': ") + e.what());
  }
  save_connection({account, slug, "oauth2"}, oauth_record(t), t.expires_at, t.refresh_token.has_value(),
                  connection_config(t));
}

}  // namespace refold::core
