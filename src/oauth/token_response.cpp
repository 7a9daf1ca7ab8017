#include "oauth/token_response.hpp"

#include <boost/json.hpp>
#include <algorithm>
#include <charconv>
#include <cmath>

#include "catalog/template.hpp"
#include "crypto/secure.hpp"
#include "http/url.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace refold::oauth {

namespace bj = boost::json;

std::string sanitize(std::string_view text, const std::vector<std::string_view>& secrets) {
  // Holds a secret until it is redacted.
  crypto::WipedString s(text);
  for (const auto& secret : secrets) {
    if (secret.size() < 4) continue;  // too short to find reliably; never echoed by us anyway
    for (std::size_t pos; (pos = s.find(secret)) != crypto::WipedString::npos;)
      s.replace(pos, secret.size(), "[redacted]");
  }
  std::string out;
  for (char c : s) {
    if (out.size() >= 200) {
      out += "...";
      break;
    }
    out += (c >= 0x20 && c < 0x7F) ? c : '?';
  }
  return out;
}

namespace {

std::optional<bj::object> parse_object(std::string_view body) {
  // Boost.JSON's default limits, as before; the parser's working memory on
  // the wiping storage too (it holds strings while building them).
  boost::system::error_code ec;
  bj::parser p(crypto::wiping_storage());
  p.reset(crypto::wiping_storage());
  p.write(bj::string_view(body.data(), body.size()), ec);
  if (ec) return std::nullopt;
  bj::value v = p.release();
  if (!v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

std::string_view str_or(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

// expires_in: a number or a numeric string; zero, negative or unparsable
// means the provider gave no usable lifetime, so none is recorded (the
// token is used until the provider rejects it).
std::optional<Millis> lifetime_ms(const bj::value* v) {
  if (!v) return std::nullopt;
  double secs = 0;
  if (v->is_number()) {
    secs = v->to_number<double>();
  } else if (v->is_string()) {
    std::string_view s(v->get_string());
    auto r = std::from_chars(s.data(), s.data() + s.size(), secs);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (!std::isfinite(secs) || secs <= 0) return std::nullopt;
  double ms = secs * 1000.0;
  return ms >= static_cast<double>(kMaxLifetime) ? kMaxLifetime : static_cast<Millis>(ms);
}

std::vector<std::string> split_scopes(std::string_view s, std::string_view sep) {
  std::vector<std::string> out;
  while (!s.empty()) {
    auto pos = s.find(sep);
    std::string_view part = s.substr(0, pos);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    if (!part.empty()) out.emplace_back(part);
    if (pos == std::string_view::npos) break;
    s.remove_prefix(pos + sep.size());
  }
  return out;
}

// The object at a dotted path of names below `root` (`root` itself for
// ""); null when a step is missing or not an object.
const bj::object* object_at(const bj::object& root, std::string_view path) {
  const bj::object* o = &root;
  while (o && !path.empty()) {
    auto dot = path.find('.');
    const bj::value* next = o->if_contains(path.substr(0, dot));
    o = next ? next->if_object() : nullptr;
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  }
  return o;
}

// A token's scopes: a string joined with the app's separator, or an array;
// omitted means as requested (RFC 6749 5.1).
std::vector<std::string> scopes_of(const bj::object& o, std::string_view separator,
                                   const std::vector<std::string>& requested) {
  const bj::value* scope = o.if_contains("scope");
  if (scope && scope->is_string()) return split_scopes(std::string_view(scope->get_string()), separator);
  if (scope && scope->is_array()) {
    std::vector<std::string> out;
    for (const auto& s : scope->get_array())
      if (s.is_string()) out.emplace_back(s.get_string());
    return out;
  }
  return requested;
}

}  // namespace

std::optional<Millis> renew_by(const TokenSet& t) {
  std::optional<Millis> at = t.expires_at;
  // Only a refresh of the main token renews the user token too.
  if (t.refresh_token && t.user && t.user->refresh_token && t.user->expires_at && (!at || *t.user->expires_at < *at))
    at = t.user->expires_at;
  return at;
}

std::optional<TokenError> token_error(int http_status, std::string_view body,
                                      const std::vector<std::string_view>& secrets) {
  auto o = parse_object(body);
  std::string_view error = o ? str_or(*o, "error") : "";
  if (http_status >= 200 && http_status < 300 && error.empty()) return std::nullopt;
  TokenError e;
  e.http_status = http_status;
  e.error = sanitize(error, secrets);
  if (o) e.description = sanitize(str_or(*o, "error_description"), secrets);
  return e;
}

int classify(const TokenError& e) {
  if (e.error == "invalid_grant" || e.error == "invalid_client" || e.error == "unauthorized_client")
    return REFOLD_EAUTH;
  return REFOLD_EPROVIDER;
}

TokenSet parse_token_response(int http_status, std::string_view body, const catalog::App& app,
                              const std::vector<std::string>& requested, Millis now,
                              const std::vector<std::string_view>& secrets) {
  const auto& def = *app.oauth2;
  if (auto e = token_error(http_status, body, secrets)) {
    std::string msg = "app '" + app.slug + "': token endpoint ";
    if (e->error.empty()) {
      msg += "answered HTTP " + std::to_string(e->http_status);
    } else {
      msg += "refused the request (" + e->error + ")";
      if (!e->description.empty()) msg += ": " + e->description;
    }
    if (e->error == "invalid_client" || e->error == "unauthorized_client")
      msg += "; check oauth_clients." + app.slug + " in the config";
    fail(classify(*e), msg);
  }
  auto doc = parse_object(body);
  if (!doc) fail(REFOLD_EPROVIDER, "app '" + app.slug + "': token endpoint returned malformed JSON");

  const bj::object* o = object_at(*doc, def.token_path);
  if (!o) fail(REFOLD_EPROVIDER, "app '" + app.slug + "': token response has no object at '" + def.token_path + "'");

  TokenSet t;
  t.access_token = str_or(*o, "access_token");
  if (t.access_token.empty())
    fail(REFOLD_EPROVIDER, "app '" + app.slug + "': token response has no access_token");
  std::string type(str_or(*o, "token_type"));
  t.token_type = type.empty() || text::lower(type) == "bearer" ? "Bearer" : type;
  if (auto ms = lifetime_ms(o->if_contains("expires_in"))) t.expires_at = now + *ms;
  else if (def.default_lifetime_ms) t.expires_at = now + *def.default_lifetime_ms;
  if (std::string_view rt = str_or(*o, "refresh_token"); !rt.empty()) {
    t.refresh_token = rt;
    // Its lifetime sits beside it (or, for QuickBooks, under another name).
    if (auto ms = lifetime_ms(o->if_contains(def.refresh_token_expires_in_key))) t.refresh_expires_at = now + *ms;
    else if (def.default_refresh_lifetime_ms) t.refresh_expires_at = now + *def.default_refresh_lifetime_ms;
  }
  t.scopes = scopes_of(*o, def.scope_separator, requested);
  // The second token, when the answer carries one (a refresh of it answers
  // at the top, as any refresh does).
  if (!def.user_token_path.empty()) {
    const bj::object* u = object_at(*doc, def.user_token_path);
    if (std::string_view at = u ? str_or(*u, "access_token") : ""; !at.empty()) {
      UserToken& user = t.user.emplace();
      user.access_token = at;
      std::string utype(str_or(*u, "token_type"));
      user.token_type = utype.empty() || text::lower(utype) == "bearer" ? "Bearer" : utype;
      if (auto ms = lifetime_ms(u->if_contains("expires_in"))) user.expires_at = now + *ms;
      if (std::string_view rt = str_or(*u, "refresh_token"); !rt.empty()) user.refresh_token = rt;
      user.scopes = scopes_of(*u, def.scope_separator, {});
      user.id = sanitize(str_or(*u, "id"), {});
    }
  }
  // Metadata paths start at the top of the response, whatever token_path
  // says (Slack's team.id sits beside authed_user). A path that is absent
  // or leads to an object, an array or null is not kept.
  for (const auto& path : def.token_response_metadata) {
    const bj::value* v = nullptr;
    const bj::object* at = &*doc;
    for (std::string_view rest = path; at;) {
      auto dot = rest.find('.');
      v = at->if_contains(rest.substr(0, dot));
      if (!v || dot == std::string_view::npos) break;
      at = v->if_object();
      rest.remove_prefix(dot + 1);
      if (!at) v = nullptr;
    }
    if (!v) continue;
    if (v->is_string()) t.metadata.emplace_back(path, std::string(v->get_string()));
    else if (v->is_number() || v->is_bool()) t.metadata.emplace_back(path, bj::serialize(*v));
  }
  return t;
}

std::optional<std::string_view> placeholder_value(const TokenSet& t, std::string_view name) {
  const std::vector<std::pair<std::string, std::string>>* from = nullptr;
  if (name.starts_with("metadata.")) from = &t.metadata, name.remove_prefix(9);
  else if (name.starts_with("connection.")) from = &t.connection, name.remove_prefix(11);
  else return std::nullopt;
  for (const auto& [k, v] : *from)
    if (k == name) return std::string_view(v);
  return std::nullopt;
}

void require_inputs(const catalog::App& app, const TokenSet& t) {
  const catalog::OAuth2& def = *app.oauth2;
  std::vector<std::string_view> templates;
  for (const auto& [name, value] : def.token_params) templates.push_back(value);
  if (def.after_connect) {
    templates.push_back(def.after_connect->url);
    for (const auto& [name, value] : def.after_connect->headers) templates.push_back(value);
  }
  for (std::string_view tmpl : templates) {
    for (std::size_t open = tmpl.find("{connection."); open != std::string_view::npos;
         open = tmpl.find("{connection.", open + 1)) {
      std::string_view name = tmpl.substr(open + 1, tmpl.find('}', open) - open - 1);
      auto v = placeholder_value(t, name);
      if (!v || v->empty())
        fail(REFOLD_EINVALID, "app '" + app.slug + "' needs the connection input '" + std::string(name.substr(11)) +
                                  "' for its token requests");
    }
  }
}

void finish_metadata(const catalog::App& app, TokenSet& t, const TokenSet* previous) {
  if (previous) {
    for (const auto& [k, v] : previous->metadata) {
      bool have = std::any_of(t.metadata.begin(), t.metadata.end(), [&](const auto& m) { return m.first == k; });
      if (!have) t.metadata.emplace_back(k, v);
    }
    if (t.connection.empty()) t.connection = previous->connection;
  }
  t.api_base_url.reset();
  if (app.api_base_url.empty()) return;
  std::string missing;
  crypto::SecretString url;
  try {
    url = catalog::fill_url(app.api_base_url, [&](std::string_view name) -> std::optional<std::string_view> {
      auto v = placeholder_value(t, name);
      if (!v && missing.empty()) missing = name;
      return v;
    }).url;
  } catch (const Error& e) {
    if (missing.empty())
      fail(REFOLD_EPROVIDER, "app '" + app.slug + "': the api_base_url cannot be built: " + e.what());
  }
  if (!missing.empty()) {
    if (missing.starts_with("connection."))
      fail(REFOLD_EINVALID, "app '" + app.slug + "': api_base_url needs the connection input '" +
                                missing.substr(11) + "'");
    fail(REFOLD_EPROVIDER, "app '" + app.slug + "': api_base_url needs the metadata value '" + missing.substr(9) +
                               "', which is missing");
  }
  try {
    http::require_secure(http::parse_url(url.view()));
  } catch (const Error&) {
    fail(REFOLD_EPROVIDER, "app '" + app.slug + "': the api_base_url built from the provider's answer is not an "
                           "https URL");
  }
  t.api_base_url = std::string(url.view());
}

}  // namespace refold::oauth
