#include "catalog/catalog.hpp"

#include <algorithm>
#include <cctype>
#include <functional>
#include <set>

#include <re2/re2.h>

#include "catalog/builtin.hpp"
#include "catalog/template.hpp"
#include "http/url.hpp"
#include "util/error.hpp"
#include "util/json.hpp"
#include "util/text.hpp"

namespace refold::catalog {

namespace bj = boost::json;

namespace {

bool is_field_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::size_t length_limit(const json::Reader& r, std::string_view key, std::size_t dflt) {
  auto v = r.integer(key, 0, 1 << 20);
  return v ? static_cast<std::size_t>(*v) : dflt;
}

// Field patterns come from the host and are matched against whatever a
// customer typed, so they go through RE2: matching takes time linear in the
// value's length and constant stack, whatever the pattern. A pattern RE2
// cannot compile (bad syntax, a backreference or lookaround, or a program
// over its memory budget) fails the definition, naming RE2's reason.
std::shared_ptr<const re2::RE2> compile_pattern(const std::string& source, const json::Reader& r) {
  re2::RE2::Options options;
  options.set_log_errors(false);  // the reason goes into the error, not to stderr
  auto re = std::make_shared<const re2::RE2>(source, options);
  if (!re->ok()) r.bad("pattern", "is not a valid RE2 regular expression (" + re->error() + ")");
  return re;
}

Field parse_field(const bj::value& v, const std::string& where) {
  if (!v.is_object()) fail(REFOLD_EINVALID, where + ": must be an object");
  json::Reader r(v.get_object(), where);
  r.only({"name", "label", "type", "required", "secret", "placeholder", "help_text", "pattern",
          "min_length", "max_length", "minimum", "maximum", "options", "host_suffixes"});
  Field f;
  f.name = *r.str("name", true);
  if (!is_field_name(f.name))
    r.bad("name", "must match ^[a-z][a-z0-9_]{0,63}$");
  json::Reader fr(v.get_object(), where + " '" + f.name + "'");
  f.label = *fr.str("label", true);
  auto type = *fr.str("type", true);
  if (type == "text") f.type = FieldType::text;
  else if (type == "number") f.type = FieldType::number;
  else if (type == "boolean") f.type = FieldType::boolean;
  else if (type == "select") f.type = FieldType::select;
  else fr.bad("type", "must be one of text, number, boolean, select");
  f.required = fr.boolean("required").value_or(true);
  f.secret = fr.boolean("secret").value_or(false);
  f.placeholder = fr.str("placeholder").value_or("");
  f.help_text = fr.str("help_text").value_or("");

  auto only_for = [&](std::string_view key, FieldType t, const char* tname) {
    if (v.get_object().contains(bj::string_view(key.data(), key.size())) && f.type != t)
      fr.bad(key, std::string("applies only to ") + tname + " fields");
  };
  only_for("pattern", FieldType::text, "text");
  only_for("min_length", FieldType::text, "text");
  only_for("max_length", FieldType::text, "text");
  only_for("minimum", FieldType::number, "number");
  only_for("maximum", FieldType::number, "number");
  only_for("options", FieldType::select, "select");
  only_for("host_suffixes", FieldType::text, "text");

  if (auto p = fr.str("pattern")) {
    f.pattern = compile_pattern(*p, fr);
    f.pattern_source = std::move(*p);
  }
  f.min_length = length_limit(fr, "min_length", 0);
  f.max_length = length_limit(fr, "max_length", 4096);
  if (f.min_length > f.max_length) fr.bad("min_length", "is larger than max_length");
  f.minimum = fr.number("minimum");
  f.maximum = fr.number("maximum");
  if (f.minimum && f.maximum && *f.minimum > *f.maximum)
    fr.bad("minimum", "is larger than maximum");
  f.host_suffixes = fr.strings("host_suffixes");
  if (v.get_object().contains("host_suffixes") && f.host_suffixes.empty())
    fr.bad("host_suffixes", "must name at least one domain");
  for (const auto& d : f.host_suffixes)
    if (!is_host_name(d) || text::lower(d) != d || (d.find('.') == std::string::npos && d != "localhost"))
      fr.bad("host_suffixes", "has '" + d + "', which is not a lower-case domain of at least two labels (or "
                              "localhost)");
  // URLs are checked with the first suffix: https for a real domain, http
  // allowed for localhost. The two do not mix in one field.
  if (std::count(f.host_suffixes.begin(), f.host_suffixes.end(), "localhost") > 0 && f.host_suffixes.size() > 1)
    fr.bad("host_suffixes", "may not mix localhost with other domains");
  if (f.type == FieldType::select) {
    const bj::array* opts = fr.array("options", true);
    if (opts->empty()) fr.bad("options", "must not be empty");
    std::set<std::string> seen;
    for (std::size_t i = 0; i < opts->size(); ++i) {
      const auto& o = (*opts)[i];
      std::string owhere = fr.where() + " options[" + std::to_string(i) + "]";
      if (!o.is_object()) fail(REFOLD_EINVALID, owhere + ": must be an object");
      json::Reader orr(o.get_object(), owhere);
      orr.only({"name", "value"});
      SelectOption opt{*orr.str("name", true), *orr.str("value", true)};
      if (!seen.insert(opt.value).second) orr.bad("value", "repeats another option's value");
      f.options.push_back(std::move(opt));
    }
  }
  return f;
}

// An object of parameters an app always sends at one step. Each value must
// be a string; names refold sets itself at that step are refused, so a
// catalog entry cannot replace the grant, the client or the PKCE proof.
std::vector<std::pair<std::string, std::string>> fixed_params(const json::Reader& r, std::string_view key,
                                                              std::initializer_list<std::string_view> reserved) {
  std::vector<std::pair<std::string, std::string>> out;
  const bj::object* o = r.object(key);
  if (!o) return out;
  for (const auto& [k, v] : *o) {
    const std::string name(k);
    if (name.empty()) r.bad(key, "has a parameter with an empty name");
    for (std::string_view res : reserved)
      if (name == res) r.bad(key, "may not set '" + name + "', which refold sets");
    if (!v.is_string()) r.bad(key, "parameter '" + name + "' must be a string");
    out.emplace_back(name, std::string(v.get_string()));
  }
  return out;
}

// "a", "team.id", "incoming_webhook.channel_id": names of letters, digits,
// '_' and '-' joined by dots.
bool is_metadata_path(std::string_view p) {
  if (p.empty() || p.size() > 128 || p.front() == '.' || p.back() == '.') return false;
  char prev = 0;
  for (char c : p) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '.';
    if (!ok || (c == '.' && prev == '.')) return false;
    prev = c;
  }
  return true;
}

// Header or parameter templates: an object of strings, each checked by
// `check`.
std::vector<std::pair<std::string, std::string>> templates(const json::Reader& r, std::string_view key,
                                                           const std::function<bool(std::string_view)>& known,
                                                           std::string_view what) {
  std::vector<std::pair<std::string, std::string>> out;
  const bj::object* o = r.object(key);
  if (!o) return out;
  for (const auto& [k, v] : *o) {
    if (k.empty()) r.bad(key, "has an entry with an empty name");
    if (!v.is_string()) r.bad(key, "entry '" + std::string(k) + "' must be a string");
    check_template(r, key, v.get_string(), known, what);
    out.emplace_back(std::string(k), std::string(v.get_string()));
  }
  return out;
}

std::vector<int> status_list(const json::Reader& r, std::string_view key) {
  std::vector<int> out;
  if (const bj::array* a = r.array(key)) {
    for (const auto& s : *a) {
      if (!s.is_int64() || s.get_int64() < 100 || s.get_int64() > 599)
        r.bad(key, "must be an array of HTTP status codes");
      out.push_back(static_cast<int>(s.get_int64()));
    }
  }
  return out;
}

// "connection.<name>" for a declared connection input.
bool is_input(std::string_view name, const std::vector<Field>& inputs) {
  if (!name.starts_with("connection.")) return false;
  name.remove_prefix(11);
  return std::any_of(inputs.begin(), inputs.end(), [&](const Field& f) { return f.name == name; });
}

// For "connection.<name>" of a host input (a field with host_suffixes), a
// sample host to check a URL with: its first suffix. Nullopt otherwise.
std::function<std::optional<std::string>(std::string_view)> host_inputs(const std::vector<Field>& inputs) {
  return [&inputs](std::string_view name) -> std::optional<std::string> {
    if (!name.starts_with("connection.")) return std::nullopt;
    name.remove_prefix(11);
    for (const auto& f : inputs)
      if (f.name == name && !f.host_suffixes.empty()) return f.host_suffixes.front();
    return std::nullopt;
  };
}

Revocation parse_revocation(const bj::object& o, const std::string& where, const std::vector<Field>& inputs) {
  json::Reader r(o, where);
  r.only({"method", "url", "token", "client_auth", "body_format", "params", "headers", "expect_status"});
  Revocation v;
  auto known = [&](std::string_view n) {
    return n == "token" || n == "access_token" || n == "refresh_token" || n == "client_id" || is_input(n, inputs);
  };
  const char* what = "{token}, {access_token}, {refresh_token}, {client_id} or {connection.<a connection field>}";
  v.method = r.str("method").value_or("POST");
  if (v.method != "POST" && v.method != "DELETE" && v.method != "GET")
    r.bad("method", "must be POST, DELETE or GET");
  v.url = *r.str("url", true);
  check_url_template(r, "url", v.url, known, what, [&](std::string_view n) { return is_input(n, inputs); },
                     host_inputs(inputs));
  v.token = r.str("token").value_or("access_token");
  if (v.token != "access_token" && v.token != "refresh_token") r.bad("token", "must be access_token or refresh_token");
  v.client_auth = r.str("client_auth").value_or("none");
  if (v.client_auth != "none" && v.client_auth != "client_secret_basic" && v.client_auth != "client_secret_post" &&
      v.client_auth != "bearer")
    r.bad("client_auth", "must be none, client_secret_basic, client_secret_post or bearer");
  if (v.method == "GET" && v.client_auth == "client_secret_post")
    r.bad("client_auth", "client_secret_post would put the client secret in a GET's query: use "
                         "client_secret_basic or another method");
  v.body_format = r.str("body_format").value_or("form");
  if (v.body_format != "form" && v.body_format != "json") r.bad("body_format", "must be form or json");
  v.params = templates(r, "params", known, what);
  v.headers = templates(r, "headers", known, what);
  v.expect_status = status_list(r, "expect_status");
  return v;
}

// Metadata is stored and listed in clear: a path or name whose last part
// reads like a token or a secret is refused.
bool names_secret(std::string_view path) {
  // An array index names nothing: "tokens.0" is judged by "tokens".
  auto is_index = [](std::string_view seg) {
    return !seg.empty() && std::all_of(seg.begin(), seg.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  while (path.find('.') != std::string_view::npos && is_index(path.substr(path.rfind('.') + 1)))
    path = path.substr(0, path.rfind('.'));
  std::string last(path.substr(path.rfind('.') + 1));
  std::transform(last.begin(), last.end(), last.begin(), [](unsigned char c) { return std::tolower(c); });
  for (std::string_view secret : {"token", "secret", "password", "key"})
    if (last.ends_with(secret)) return true;
  return last == "code";
}

// A path into an after_connect answer: names or array indexes, or
// "name=value" selectors of an array's entry, joined by dots; a value, not
// a selector, ends it.
bool is_lookup_path(std::string_view p) {
  static const re2::RE2 kPath(R"((?:[A-Za-z0-9_-]+(?:=[A-Za-z0-9_-]+)?\.)*[A-Za-z0-9_-]+)");
  return p.size() <= 128 && re2::RE2::FullMatch(re2::StringPiece(p.data(), p.size()), kPath);
}

// `names`: the metadata names taken already (token response, callback);
// the lookup's own are added.
AfterConnect parse_after_connect(const bj::object& o, const std::string& where, const std::vector<Field>& inputs,
                                 const OAuth2& def, std::set<std::string>& names) {
  json::Reader r(o, where);
  r.only({"method", "url", "headers", "auth_scheme", "metadata"});
  AfterConnect v;
  v.method = r.str("method").value_or("GET");
  if (v.method != "GET" && v.method != "POST") r.bad("method", "must be GET or POST");
  v.auth_scheme = r.str("auth_scheme").value_or("Bearer");
  if (v.auth_scheme.empty() || v.auth_scheme.size() > 32 ||
      !std::all_of(v.auth_scheme.begin(), v.auth_scheme.end(), [](unsigned char c) { return std::isalnum(c) || c == '-'; }))
    r.bad("auth_scheme", "must be one word of letters, digits and '-' (such as Bearer or OAuth)");
  auto has = [](const std::vector<std::string>& list, std::string_view n) {
    return std::find(list.begin(), list.end(), n) != list.end();
  };
  // What decides the host must come from the provider or the connection's
  // inputs: the access token goes there. Callback parameters pass through
  // the user's browser, so they may appear only after the host.
  auto known = [&](std::string_view n) {
    if (n.starts_with("metadata."))
      return has(def.token_response_metadata, n.substr(9)) || has(def.callback_metadata, n.substr(9));
    return is_input(n, inputs);
  };
  auto in_host = [&](std::string_view n) {
    if (n.starts_with("metadata.")) return has(def.token_response_metadata, n.substr(9));
    return is_input(n, inputs);
  };
  const char* what = "{connection.<a connection field>} or {metadata.<a name in token_response_metadata or "
                     "callback_metadata>}";
  v.url = *r.str("url", true);
  check_url_template(r, "url", v.url, known, what, in_host, host_inputs(inputs));
  v.headers = templates(r, "headers", known, what);
  for (const auto& [name, value] : v.headers) {
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower == "authorization") r.bad("headers", "may not set Authorization: the request carries the new access token");
  }
  const bj::object* m = r.object("metadata");
  if (!m || m->empty()) r.bad("metadata", "must name at least one value to keep, as {\"name\": \"dotted.path\"}");
  for (const auto& [k, path] : *m) {
    const std::string name(k);
    if (!is_metadata_path(name) || name.find('.') != std::string::npos)
      r.bad("metadata", "has '" + name + "', which is not a name (letters, digits, '_' and '-')");
    if (!path.is_string() || !is_lookup_path(path.get_string()))
      r.bad("metadata", "'" + name + "' must be a dotted path into the answer: names, array indexes or "
                        "name=value picks of an array's entry, joined by dots and ending with a name or index");
    if (names_secret(name) || names_secret(path.get_string()))
      r.bad("metadata", "has '" + name + "', which names a secret: metadata is kept in clear");
    if (!names.insert(name).second)
      r.bad("metadata", "'" + name + "' is already kept from the token response or the callback");
    v.metadata.emplace_back(name, std::string(path.get_string()));
  }
  return v;
}

// An "oauth2" object, or with `client_credentials` an "oauth2_cc" one: the
// same keys but those of the user's authorization and of refresh tokens.
OAuth2 parse_oauth2(const bj::object& o, const std::string& where, const std::vector<Field>& inputs,
                    bool client_credentials = false) {
  json::Reader r(o, where);
  if (client_credentials)
    r.only({"token_endpoint", "revocation_endpoint", "revocation", "scopes", "scope_separator",
            "token_endpoint_auth_method", "body_format", "token_params", "default_expires_in", "token_path",
            "token_response_metadata", "after_connect"});
  else
    r.only({"authorization_endpoint", "token_endpoint", "revocation_endpoint", "revocation", "scopes",
            "scope_separator", "token_endpoint_auth_method", "body_format", "pkce", "authorize_params",
            "token_params", "refresh_params", "extra_authorize_params", "default_expires_in",
            "refresh_token_expires_in_key", "default_refresh_token_expires_in", "token_path", "user_token_path",
            "issuer",
            "authorization_response_iss_parameter_supported", "token_response_metadata", "callback_metadata",
            "after_connect"});
  OAuth2 a;
  a.client_credentials = client_credentials;
  // A tenant's endpoints may take the connection's inputs, in the host
  // too ("https://{connection.subdomain}.zendesk.com/oauth/tokens").
  auto input = [&](std::string_view n) { return is_input(n, inputs); };
  auto endpoint = [&](std::string_view key, bool required) {
    auto url = r.str(key, required);
    if (url) check_url_template(r, key, *url, input, "{connection.<a connection field>}", input, host_inputs(inputs));
    return url.value_or("");
  };
  a.authorization_endpoint = endpoint("authorization_endpoint", !client_credentials);
  a.token_endpoint = endpoint("token_endpoint", true);
  a.revocation_endpoint = endpoint("revocation_endpoint", false);
  if (const bj::value* rv = o.if_contains("revocation")) {
    if (!a.revocation_endpoint.empty())
      r.bad("revocation", "and revocation_endpoint are two ways of saying the same thing: give one (an app "
                          "that extends another may remove the inherited one with null)");
    if (rv->is_string() && rv->get_string() == "none") a.revocation_none = true;
    else if (rv->is_object()) a.revocation = parse_revocation(rv->get_object(), where + " revocation", inputs);
    else r.bad("revocation", "must be \"none\" or a request object");
  }
  a.scopes = r.strings("scopes");
  a.scope_separator = r.str("scope_separator").value_or(" ");
  if (a.scope_separator.empty()) r.bad("scope_separator", "must not be empty");
  a.token_endpoint_auth_method = r.str("token_endpoint_auth_method").value_or("client_secret_basic");
  if (a.token_endpoint_auth_method != "client_secret_basic" &&
      a.token_endpoint_auth_method != "client_secret_post" && a.token_endpoint_auth_method != "none")
    r.bad("token_endpoint_auth_method", "must be client_secret_basic, client_secret_post or none");
  if (client_credentials && a.token_endpoint_auth_method == "none")
    r.bad("token_endpoint_auth_method", "must be client_secret_basic or client_secret_post: in the "
                                        "client-credentials grant the client's secret is the credential");
  a.body_format = r.str("body_format").value_or("form");
  if (a.body_format != "form" && a.body_format != "json") r.bad("body_format", "must be form or json");
  a.pkce = r.boolean("pkce").value_or(true);
  if (a.token_endpoint_auth_method == "none" && !a.pkce)
    r.bad("pkce", "must be true for a public client (token_endpoint_auth_method none): without a client "
                  "secret, PKCE is what ties the code to the client that asked for it");
  a.authorize_params = fixed_params(r, "authorize_params",
                                    {"response_type", "client_id", "redirect_uri", "scope", "state",
                                     "code_challenge", "code_challenge_method"});
  a.token_params = fixed_params(r, "token_params",
                                {"grant_type", "code", "redirect_uri", "code_verifier", "client_id",
                                 "client_secret", "refresh_token"});
  // A token parameter may name the tenant (Auth0's audience,
  // "https://{connection.domain}/api/v2/").
  for (const auto& [name, value] : a.token_params)
    check_template(r, "token_params", value, input, "{connection.<a connection field>}");
  a.refresh_params = fixed_params(r, "refresh_params",
                                  {"grant_type", "refresh_token", "code", "code_verifier", "client_id",
                                   "client_secret"});
  a.extra_authorize_params = r.strings("extra_authorize_params");
  for (const auto& p : a.extra_authorize_params) {
    static const char* kReserved[] = {"response_type", "client_id", "redirect_uri", "scope", "state",
                                      "code_challenge", "code_challenge_method"};
    for (const char* k : kReserved)
      if (p == k) r.bad("extra_authorize_params", "may not include '" + p + "', which refold sets");
  }
  // Seconds, up to ten years (the longest lifetime refold records).
  constexpr std::int64_t kTenYears = 10LL * 365 * 24 * 3600;
  if (const bj::value* e = o.if_contains("default_expires_in"); e && e->is_string()) {
    if (e->get_string() != "never")
      r.bad("default_expires_in", "must be a number of seconds or \"never\"");
    a.never_expires = true;
  } else if (auto s = r.integer("default_expires_in", 1, kTenYears)) {
    a.default_lifetime_ms = *s * 1000;
  }
  a.refresh_token_expires_in_key = r.str("refresh_token_expires_in_key").value_or("refresh_token_expires_in");
  if (!is_metadata_path(a.refresh_token_expires_in_key) ||
      a.refresh_token_expires_in_key.find('.') != std::string::npos)
    r.bad("refresh_token_expires_in_key", "must be a member name (letters, digits, '_' and '-')");
  if (auto s = r.integer("default_refresh_token_expires_in", 1, kTenYears)) a.default_refresh_lifetime_ms = *s * 1000;
  a.token_path = r.str("token_path").value_or("");
  if (!a.token_path.empty() && !is_metadata_path(a.token_path))
    r.bad("token_path", "must be a dotted path of names (letters, digits, '_' and '-')");
  a.user_token_path = r.str("user_token_path").value_or("");
  if (!a.user_token_path.empty()) {
    if (!is_metadata_path(a.user_token_path))
      r.bad("user_token_path", "must be a dotted path of names (letters, digits, '_' and '-')");
    // A refresh of the second token answers at the top of the response,
    // where the main token must then be too.
    if (!a.token_path.empty())
      r.bad("user_token_path", "may not be given with token_path: the main token must sit at the top");
  }
  a.issuer = r.str("issuer").value_or("");
  a.iss_parameter_supported = r.boolean("authorization_response_iss_parameter_supported").value_or(false);
  if (a.iss_parameter_supported && a.issuer.empty())
    r.bad("issuer", "is required when authorization_response_iss_parameter_supported is true");
  std::set<std::string> names;
  a.token_response_metadata = r.strings("token_response_metadata");
  for (const auto& path : a.token_response_metadata) {
    if (!is_metadata_path(path))
      r.bad("token_response_metadata", "has '" + path + "', which is not a dotted path of names "
                                       "(letters, digits, '_' and '-')");
    if (names_secret(path))
      r.bad("token_response_metadata", "has '" + path + "', which names a secret: metadata is kept in clear");
    if (!names.insert(path).second) r.bad("token_response_metadata", "repeats '" + path + "'");
  }
  a.callback_metadata = r.strings("callback_metadata");
  for (const auto& name : a.callback_metadata) {
    if (!is_metadata_path(name) || name.find('.') != std::string::npos)
      r.bad("callback_metadata", "has '" + name + "', which is not a parameter name "
                                 "(letters, digits, '_' and '-')");
    for (const char* res : {"code", "state", "iss", "error", "error_description", "error_uri"})
      if (name == res) r.bad("callback_metadata", "may not include '" + name + "', which refold reads itself");
    if (!names.insert(name).second) r.bad("callback_metadata", "repeats '" + name + "'");
  }
  if (const bj::object* ac = r.object("after_connect"))
    a.after_connect = parse_after_connect(*ac, where + " after_connect", inputs, a, names);
  return a;
}

// Every "{name}" in `tmpl` must name a declared field.
void check_placeholders(const json::Reader& r, std::string_view key, std::string_view tmpl,
                        const std::vector<Field>& fields) {
  check_template(r, key, tmpl, [&](std::string_view name) {
    return std::any_of(fields.begin(), fields.end(), [&](const Field& f) { return f.name == name; });
  }, "a field");
}

Verify parse_verify(const bj::object& o, const std::string& where, const std::vector<Field>& fields) {
  json::Reader r(o, where);
  r.only({"method", "url", "headers", "basic_auth", "expect_status"});
  Verify v;
  v.method = r.str("method").value_or("GET");
  if (v.method != "GET" && v.method != "POST" && v.method != "HEAD")
    r.bad("method", "must be GET, POST or HEAD");
  v.url = *r.str("url", true);
  // A field may choose the host, as a tenant's subdomain
  // ("https://{subdomain}.freshdesk.com/api/v2/agents/me"), under the rules
  // of a connection input there; never a secret one, nor an optional one.
  auto field = [&](std::string_view n) -> const Field* {
    auto it = std::find_if(fields.begin(), fields.end(), [&](const Field& f) { return f.name == n; });
    return it == fields.end() ? nullptr : &*it;
  };
  auto is_field = [&](std::string_view n) { return field(n) != nullptr; };
  check_url_template(
      r, "url", v.url, is_field, "a field",
      [&](std::string_view n) {
        const Field* f = field(n);
        return f && !f->secret && f->required;
      },
      [&](std::string_view n) -> std::optional<std::string> {
        const Field* f = field(n);
        if (!f || f->host_suffixes.empty()) return std::nullopt;
        return f->host_suffixes.front();
      },
      is_field);
  if (const bj::object* h = r.object("headers")) {
    for (const auto& kv : *h) {
      if (!kv.value().is_string()) r.bad("headers", "values must be strings");
      std::string value(kv.value().get_string());
      check_placeholders(r, "headers", value, fields);
      v.headers.emplace_back(std::string(kv.key()), std::move(value));
    }
  }
  if (const bj::object* b = r.object("basic_auth")) {
    json::Reader br(*b, where + " basic_auth");
    br.only({"username", "password"});
    auto user = *br.str("username", true);
    auto pass = br.str("password").value_or("");
    check_placeholders(br, "username", user, fields);
    check_placeholders(br, "password", pass, fields);
    v.basic_auth.emplace(std::move(user), std::move(pass));
  }
  v.expect_status = status_list(r, "expect_status");
  return v;
}

}  // namespace

bool acceptable_endpoint(std::string_view url) {
  // Templates ("{field}" in a path) are checked with the placeholders as
  // they stand: they may only appear after the host.
  try {
    http::Url u = http::parse_url(std::string(url));
    http::require_secure(u);
    return true;
  } catch (const Error&) {
    return false;
  }
}

const std::vector<std::string_view>& app_categories() {
  static const std::vector<std::string_view> kCategories{
      "accounting", "ai",        "analytics",    "commerce",           "communication", "crm",
      "design",     "developer-tools", "hr",     "identity",           "marketing",     "payments",
      "productivity", "project-management", "social", "storage", "support"};
  return kCategories;
}

bool App::offers(std::string_view auth_type) const {
  return std::find(auth_types.begin(), auth_types.end(), auth_type) != auth_types.end();
}

namespace {

// The slug of a definition, or REFOLD_EINVALID naming `origin` when the
// definition is not an object or its slug is missing or malformed.
std::string slug_of(const bj::value& v, const std::string& origin) {
  if (!v.is_object()) fail(REFOLD_EINVALID, "catalog: " + origin + ": an app must be an object");
  json::Reader pre(v.get_object(), "catalog: " + origin);
  std::string slug = *pre.str("slug", true);
  if (!text::is_slug(slug)) pre.bad("slug", "must match ^[a-z0-9][a-z0-9_-]{0,63}$");
  return slug;
}

}  // namespace

App parse_app(const bj::value& v, const std::string& origin) {
  App app;
  app.slug = slug_of(v, origin);
  const auto& o = v.get_object();
  json::Reader r(o, "catalog: app '" + app.slug + "'");
  r.only({"slug", "extends", "name", "description", "icon", "category", "docs_url", "tags", "auth_types",
          "keybased", "oauth2", "oauth2_cc", "api_base_url", "connection_fields"});
  app.name = *r.str("name", true);
  app.description = r.str("description").value_or("");
  app.icon = r.str("icon").value_or("");
  if (auto category = r.str("category")) {
    const auto& cats = app_categories();
    if (std::find(cats.begin(), cats.end(), *category) == cats.end()) {
      std::string list;
      for (auto c : cats) list += (list.empty() ? "" : ", ") + std::string(c);
      r.bad("category", "must be one of " + list);
    }
    app.category = std::move(*category);
  }
  app.docs_url = r.str("docs_url").value_or("");
  if (!app.docs_url.empty() && !acceptable_endpoint(app.docs_url))
    r.bad("docs_url", "must be an https URL");
  app.tags = r.strings("tags");
  app.auth_types = r.strings("auth_types", true);
  if (app.auth_types.empty()) r.bad("auth_types", "must name at least one auth type");
  std::set<std::string> seen;
  for (const auto& t : app.auth_types) {
    if (t != "oauth2" && t != "oauth2_cc" && t != "keybased")
      r.bad("auth_types", "may hold only oauth2, oauth2_cc and keybased");
    if (!seen.insert(t).second) r.bad("auth_types", "repeats an auth type");
  }
  // A client-credentials connect takes a payload, as a key-based one does,
  // and its tokens live where an oauth2 connection's do: one app, one kind.
  if (seen.count("oauth2_cc") && seen.size() > 1)
    r.bad("auth_types", "may not hold oauth2_cc with another auth type (declare a second app for the other)");
  const bj::object* kb = r.object("keybased");
  if (app.offers("keybased") != (kb != nullptr))
    r.bad("keybased", "must be present exactly when auth_types has keybased");
  if (kb) {
    json::Reader kr(*kb, r.where() + " keybased");
    kr.only({"fields", "verify"});
    const bj::array* fields = kr.array("fields", true);
    if (fields->empty()) kr.bad("fields", "must declare at least one field");
    std::set<std::string> names;
    for (std::size_t i = 0; i < fields->size(); ++i) {
      Field f = parse_field((*fields)[i], r.where() + " field");
      if (!names.insert(f.name).second)
        fail(REFOLD_EINVALID, r.where() + ": field '" + f.name + "' is declared twice (name)");
      app.fields.push_back(std::move(f));
    }
    if (const bj::object* vr = kr.object("verify"))
      app.verify = parse_verify(*vr, r.where() + " keybased verify", app.fields);
  }
  const bj::object* oa = r.object("oauth2");
  if (app.offers("oauth2") != (oa != nullptr))
    r.bad("oauth2", "must be present exactly when auth_types has oauth2");
  const bj::object* cc = r.object("oauth2_cc");
  if (app.offers("oauth2_cc") != (cc != nullptr))
    r.bad("oauth2_cc", "must be present exactly when auth_types has oauth2_cc");
  if (const bj::array* inputs = r.array("connection_fields")) {
    if (!oa && !cc) r.bad("connection_fields", "applies only to OAuth 2.0 apps (a key-based app declares fields)");
    std::set<std::string> names;
    for (const auto& fv : *inputs) {
      Field f = parse_field(fv, r.where() + " connection field");
      if (!names.insert(f.name).second)
        fail(REFOLD_EINVALID, r.where() + ": connection field '" + f.name + "' is declared twice (name)");
      if (f.secret)
        fail(REFOLD_EINVALID, r.where() + ": connection field '" + f.name + "' may not be secret: connection "
                              "inputs are shown in listings (a secret belongs in a key-based field)");
      app.connection_fields.push_back(std::move(f));
    }
  }
  if (oa) app.oauth2 = parse_oauth2(*oa, r.where() + " oauth2", app.connection_fields);
  if (cc) app.oauth2 = parse_oauth2(*cc, r.where() + " oauth2_cc", app.connection_fields, true);
  if (auto base = r.str("api_base_url")) {
    if (!app.oauth2) r.bad("api_base_url", "applies only to OAuth 2.0 apps");
    const auto& def = *app.oauth2;
    auto metadata = [&](std::string_view name, bool callback_too) {
      if (name.substr(0, 9) != "metadata.") return false;
      name.remove_prefix(9);
      auto has = [&](const std::vector<std::string>& names) {
        return std::find(names.begin(), names.end(), name) != names.end();
      };
      bool looked_up = def.after_connect && std::any_of(def.after_connect->metadata.begin(),
                                                          def.after_connect->metadata.end(),
                                                          [&](const auto& m) { return m.first == name; });
      return has(def.token_response_metadata) || looked_up || (callback_too && has(def.callback_metadata));
    };
    // The API base is where the host sends the access token, so what decides
    // its host must come from the provider: a callback parameter passes
    // through the user's browser and could be anything.
    auto scheme_end = base->find("//");
    auto host_end = base->find('/', scheme_end == std::string::npos ? 0 : scheme_end + 2);
    for (const auto& name : def.callback_metadata)
      if (base->substr(0, host_end).find("{metadata." + name + "}") != std::string::npos)
        r.bad("api_base_url", "may use callback_metadata ('" + name + "') only after the host: it comes "
                              "through the user's browser");
    check_url_template(
        r, "api_base_url", *base,
        [&](std::string_view n) { return metadata(n, true) || is_input(n, app.connection_fields); },
        "{metadata.<a name in token_response_metadata, callback_metadata or after_connect>} or "
        "{connection.<a connection field>}",
        [&](std::string_view n) { return metadata(n, false) || is_input(n, app.connection_fields); },
        host_inputs(app.connection_fields));
    app.api_base_url = std::move(*base);
  }
  return app;
}

namespace {

// One definition as written, before `extends` is resolved.
struct Definition {
  bj::object object;
  std::string origin;
};
using Definitions = std::map<std::string, Definition, std::less<>>;

// `child` over `parent`, as a JSON merge patch (RFC 7396) that stops one
// level down: the child's keys win; its "oauth2", "oauth2_cc" and "keybased" objects are
// merged the same way into the parent's, so an app that extends another
// can change its scopes alone; a null removes the key (an inherited
// "keybased", an inherited "revocation_endpoint"). "extends" itself is not
// inherited.
bj::object merged(const bj::object& parent, const bj::object& child) {
  bj::object out = parent;
  out.erase("extends");
  for (const auto& [k, v] : child) {
    if (v.is_null()) {
      out.erase(k);
    } else if ((k == "oauth2" || k == "oauth2_cc" || k == "keybased") && v.is_object() && out.contains(k) &&
               out.at(k).is_object()) {
      bj::object inner = out.at(k).get_object();
      for (const auto& [ik, iv] : v.get_object()) {
        if (iv.is_null()) inner.erase(ik);
        else inner[ik] = iv;
      }
      out[k] = std::move(inner);
    } else {
      out[k] = v;
    }
  }
  return out;
}

// Resolves `extends` chains. Built-in apps extend built-in apps only, so a
// host's config cannot change them from under their slugs. A config app
// extends another config app of that slug if there is one, else a
// built-in one; a config app that extends its own slug (to change a
// built-in app a little) gets the built-in one.
class Resolver {
 public:
  Resolver(const Definitions& builtin, const Definitions& config) : builtin_(builtin), config_(config) {}

  // The definition of `slug` of the given tier with its chain applied.
  // Throws REFOLD_EINVALID for an unknown parent or a cycle, naming the
  // app whose "extends" it is and where that app was defined.
  const bj::object& resolve(const std::string& slug, bool from_config) {
    auto& done = from_config ? config_done_ : builtin_done_;
    if (auto it = done.find(slug); it != done.end()) return it->second;
    const Definition& d = (from_config ? config_ : builtin_).at(slug);
    const bj::value* ext = d.object.if_contains("extends");
    if (!ext) return done.emplace(slug, d.object).first->second;
    const std::string where = "catalog: app '" + slug + "' (" + d.origin + ")";
    if (!ext->is_string()) fail(REFOLD_EINVALID, where + ": 'extends' must be a string");
    const std::string parent(ext->get_string());
    // Where the parent is looked up: a config app's own slug, or a slug no
    // config app has, is a built-in app.
    const bool parent_config = from_config && parent != slug && config_.count(parent);
    if (!(parent_config ? config_ : builtin_).count(parent))
      fail(REFOLD_EINVALID, where + ": 'extends' names '" + parent + "', which is not " +
                                (from_config ? "an app" : "a built-in app"));
    const std::pair<bool, std::string> key{parent_config, parent};
    if (std::find(chain_.begin(), chain_.end(), key) != chain_.end() || (parent == slug && !from_config))
      fail(REFOLD_EINVALID, where + ": 'extends' makes a cycle through '" + parent + "'");
    chain_.emplace_back(from_config, slug);
    const bj::object& base = resolve(parent, parent_config);
    chain_.pop_back();
    return done.emplace(slug, merged(base, d.object)).first->second;
  }

 private:
  const Definitions& builtin_;
  const Definitions& config_;
  std::map<std::string, bj::object, std::less<>> builtin_done_, config_done_;
  std::vector<std::pair<bool, std::string>> chain_;  // (config tier, slug) being resolved
};

}  // namespace

namespace {

using AppMap = std::map<std::string, App, std::less<>>;

// The built-in definitions and the apps made of them, once per process (a
// throw during the first use leaves it to the next to try again).
struct Builtin {
  Definitions definitions;
  std::shared_ptr<const AppMap> apps;
};

const Builtin& builtin() {
  static const Builtin b = [] {
    Builtin out;
    for (std::size_t i = 0; i < kBuiltinFileCount; ++i) {
      const auto& f = kBuiltinFiles[i];
      std::string origin = std::string("built-in file ") + f.name;
      bj::value v = json::parse(std::string_view(f.data, f.size), "catalog: " + origin);
      std::string slug = slug_of(v, origin);
      out.definitions.insert_or_assign(std::move(slug), Definition{std::move(v.as_object()), std::move(origin)});
    }
    const Definitions none;
    Resolver resolver(out.definitions, none);
    auto apps = std::make_shared<AppMap>();
    for (const auto& [slug, d] : out.definitions) {
      App app = parse_app(resolver.resolve(slug, false), d.origin);
      apps->insert_or_assign(app.slug, std::move(app));
    }
    out.apps = std::move(apps);
    return out;
  }();
  return b;
}

}  // namespace

Catalog::Catalog(const bj::array* extra) {
  const Builtin& b = builtin();
  if (!extra || extra->empty()) {
    apps_ = b.apps;
    return;
  }
  Definitions config;
  for (std::size_t i = 0; i < extra->size(); ++i) {
    std::string origin = "config catalog[" + std::to_string(i) + "]";
    std::string slug = slug_of((*extra)[i], origin);
    if (config.count(slug)) fail(REFOLD_EINVALID, "catalog: app '" + slug + "' is defined twice (slug)");
    config.emplace(std::move(slug), Definition{(*extra)[i].get_object(), std::move(origin)});
  }
  Resolver resolver(b.definitions, config);
  // Built-in apps first; a config app of the same slug replaces one.
  auto apps = std::make_shared<AppMap>(*b.apps);
  for (const auto& [slug, d] : config) {
    App app = parse_app(resolver.resolve(slug, true), d.origin);
    apps->insert_or_assign(app.slug, std::move(app));
  }
  apps_ = std::move(apps);
}

const App* Catalog::find(std::string_view slug) const {
  auto it = apps_->find(slug);
  return it == apps_->end() ? nullptr : &it->second;
}

}  // namespace refold::catalog
