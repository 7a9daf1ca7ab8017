// POST /oauth/token (RFC 6749 4.1.3, 6; RFC 7636 4.5) and POST /oauth/revoke
// (RFC 7009), with client_secret_basic and client_secret_post, and the
// token endpoint's quirks (TokenQuirks) when they are switched on.
#include <algorithm>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include "crypto.hpp"
#include "handlers.hpp"
#include "responses.hpp"

namespace json = boost::json;

namespace refold::devserver {

namespace {

struct ClientAuth {
  std::string client_id;              // set when authenticated
  std::optional<HttpResponse> error;  // set otherwise
};

bool content_type_is(const HttpRequest& req, std::string_view type) {
  auto types = req.header_values("content-type");
  return types.size() == 1 && starts_with_nocase(types.front(), type);
}

// A JSON token request (Notion's way): an object whose members are all
// strings, read as the same parameters a form would carry.
std::optional<Params> parse_json_params(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  Params out;
  for (const auto& [k, m] : v.get_object()) {
    if (!m.is_string()) return std::nullopt;
    out.emplace_back(std::string(k), std::string(m.get_string()));
  }
  return out;
}

// RFC 6749 2.3.1: the id and secret are form-urlencoded, joined by ':', then
// Base64-encoded. Decoding runs that backwards, so a secret may hold ':',
// '+', '%' or non-ASCII bytes.
ClientAuth authenticate(const Provider& provider, const HttpRequest& req, const Params& params,
                        const std::string& only) {
  auto headers = req.header_values("authorization");
  if (headers.size() > 1)
    return {{}, oauth_error(400, "invalid_request", "Authorization header repeated")};
  const bool has_header = headers.size() == 1;
  if ((only == "client_secret_basic" && !has_header) || (only == "client_secret_post" && has_header))
    return {{}, invalid_client("this server authenticates clients with " + only + " only")};
  if (has_header && !starts_with_nocase(headers.front(), "basic "))
    return {{}, invalid_client("only the Basic scheme authenticates clients here")};
  if (has_header && count_param(params, "client_secret") > 0)
    return {{}, oauth_error(400, "invalid_request",
                            "use one client authentication method, not client_secret_basic "
                            "and client_secret_post together")};

  std::string id;
  std::string secret;
  if (has_header) {
    std::string_view b64 = headers.front().substr(6);
    while (!b64.empty() && b64.front() == ' ') b64.remove_prefix(1);
    while (!b64.empty() && b64.back() == ' ') b64.remove_suffix(1);
    std::string decoded;
    if (!base64_decode(b64, decoded))
      return {{}, invalid_client("Basic credentials are not valid Base64")};
    std::size_t colon = decoded.find(':');
    if (colon == std::string::npos)
      return {{}, invalid_client("Basic credentials lack the ':' separator")};
    auto raw_id = percent_decode(std::string_view(decoded).substr(0, colon), true);
    auto raw_secret = percent_decode(std::string_view(decoded).substr(colon + 1), true);
    if (!raw_id || !raw_secret)
      return {{}, invalid_client("Basic credentials are not form-urlencoded")};
    id = std::move(*raw_id);
    secret = std::move(*raw_secret);
    auto body_id = param(params, "client_id");
    if (body_id && *body_id != id)
      return {{}, oauth_error(400, "invalid_request",
                              "client_id in the body differs from the authenticated client")};
  } else {
    auto body_id = param(params, "client_id");
    auto body_secret = param(params, "client_secret");
    if (!body_id || !body_secret)
      return {{}, invalid_client("client authentication is required")};
    id = std::move(*body_id);
    secret = std::move(*body_secret);
  }
  if (!provider.authenticate(id, secret))
    return {{}, invalid_client("client authentication failed")};
  return {std::move(id), std::nullopt};
}

// Parses and authenticates a form request to the token or revocation
// endpoint; on failure `error` holds the answer.
struct FormRequest {
  Params params;
  std::string client_id;
  std::optional<HttpResponse> error;
};

// `token_endpoint`: the body may be JSON when the quirks allow it there.
FormRequest read_form_request(const Provider& provider, const HttpRequest& req, bool token_endpoint) {
  FormRequest out;
  const TokenQuirks quirks = provider.token_quirks();
  const std::string body = token_endpoint ? quirks.body : "form";
  std::optional<Params> params;
  if (body != "json" && content_type_is(req, "application/x-www-form-urlencoded")) {
    params = parse_form(req.body);
    if (!params) {
      out.error = oauth_error(400, "invalid_request", "the body is not valid form-urlencoding");
      return out;
    }
  } else if (body != "form" && content_type_is(req, "application/json")) {
    params = parse_json_params(req.body);
    if (!params) {
      out.error = oauth_error(400, "invalid_request", "the body must be a JSON object of strings");
      return out;
    }
  } else {
    out.error = oauth_error(400, "invalid_request",
                            body == "form"   ? "the body must be application/x-www-form-urlencoded"
                            : body == "json" ? "the body must be application/json"
                                             : "the body must be application/x-www-form-urlencoded or "
                                               "application/json");
    return out;
  }
  if (auto dup = duplicate_param(*params)) {
    out.error = oauth_error(400, "invalid_request", "parameter " + *dup + " is repeated");
    return out;
  }
  ClientAuth auth = authenticate(provider, req, *params, quirks.client_auth);
  if (auth.error) {
    out.error = std::move(auth.error);
    return out;
  }
  out.params = std::move(*params);
  out.client_id = std::move(auth.client_id);
  return out;
}

bool valid_verifier(std::string_view s) {
  if (s.size() < 43 || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
  });
}

HttpResponse token_answer(const Provider& provider, const TokenOutcome& out, const std::string& tenant) {
  if (!out.tokens) return oauth_error(400, out.error, out.description);
  // The configured extra members first: the standard ones below win.
  json::object body = json::parse(provider.token_response_extra()).as_object();
  if (!tenant.empty()) body["tenant"] = tenant;
  body["access_token"] = out.tokens->access_token;
  body["token_type"] = "Bearer";
  if (!provider.token_quirks().omit_expires_in) body["expires_in"] = out.tokens->expires_in;
  if (!out.tokens->refresh_token.empty()) body["refresh_token"] = out.tokens->refresh_token;
  if (out.tokens->refresh_expires_in > 0) body["refresh_token_expires_in"] = out.tokens->refresh_expires_in;
  body["scope"] = out.tokens->scope;
  if (out.user_tokens) {
    const TokenSet& u = *out.user_tokens;
    json::object user{{"id", out.sub}, {"access_token", u.access_token}, {"token_type", "user"}, {"scope", u.scope}};
    if (!provider.token_quirks().omit_expires_in) user["expires_in"] = u.expires_in;
    if (!u.refresh_token.empty()) user["refresh_token"] = u.refresh_token;
    body["authed_user"] = std::move(user);
  }
  HttpResponse r = json_response(200, body);
  no_store(r);
  return r;
}

// Slack's way of answering: HTTP 200 whatever happened, with "ok" saying
// how it went. Rate limits and server errors keep their status.
void answer_in_body(HttpResponse& r) {
  if (r.status != 200 && (r.status < 400 || r.status >= 500 || r.status == 429)) return;
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec || !v.is_object()) return;
  v.as_object()["ok"] = r.status == 200;
  r.status = 200;
  r.body = json::serialize(v);
}

}  // namespace

std::optional<Params> request_params(const HttpRequest& req) {
  if (content_type_is(req, "application/json")) return parse_json_params(req.body);
  return parse_form(req.body);
}

HttpResponse Router::token(const HttpRequest& req) {
  HttpResponse r = token_grant(req);
  if (provider_.token_quirks().errors_with_200) answer_in_body(r);
  return r;
}

HttpResponse Router::token_grant(const HttpRequest& req) {
  std::string tenant;
  if (provider_.tenant_hosts()) {
    auto t = tenant_of(req);
    if (!t) return oauth_error(404, "invalid_request", "unknown tenant: send this request to <tenant>.localhost");
    tenant = std::move(*t);
  }
  FormRequest form = read_form_request(provider_, req, true);
  if (form.error) return std::move(*form.error);
  const Params& p = form.params;

  auto grant_type = param(p, "grant_type");
  if (!grant_type) return oauth_error(400, "invalid_request", "grant_type is missing");

  if (*grant_type == "authorization_code") {
    auto code = param(p, "code");
    auto redirect_uri = param(p, "redirect_uri");
    auto verifier = param(p, "code_verifier");
    if (!code) return oauth_error(400, "invalid_request", "code is missing");
    if (!redirect_uri) return oauth_error(400, "invalid_request", "redirect_uri is missing");
    if (!verifier) return oauth_error(400, "invalid_request", "code_verifier is missing");
    if (!valid_verifier(*verifier))
      return oauth_error(400, "invalid_request",
                         "code_verifier must be 43 to 128 characters of [A-Za-z0-9-._~]");
    return token_answer(provider_, provider_.redeem_code(form.client_id, *code, *redirect_uri, *verifier), tenant);
  }
  if (*grant_type == "refresh_token") {
    auto refresh_token = param(p, "refresh_token");
    if (!refresh_token) return oauth_error(400, "invalid_request", "refresh_token is missing");
    auto scope = normalize_scope(param(p, "scope").value_or(""));
    if (!scope)
      return oauth_error(400, "invalid_scope",
                         "scope contains characters RFC 6749 3.3 does not allow");
    return token_answer(provider_, provider_.refresh(form.client_id, *refresh_token, *scope), tenant);
  }
  if (*grant_type == "client_credentials") {
    auto scope = normalize_scope(param(p, "scope").value_or(""));
    if (!scope)
      return oauth_error(400, "invalid_scope",
                         "scope contains characters RFC 6749 3.3 does not allow");
    return token_answer(provider_, provider_.client_credentials(form.client_id, *scope), tenant);
  }
  return oauth_error(400, "unsupported_grant_type",
                     "grant_type must be authorization_code, refresh_token or client_credentials");
}

HttpResponse Router::revoke(const HttpRequest& req) {
  if (provider_.tenant_hosts() && !tenant_of(req))
    return oauth_error(404, "invalid_request", "unknown tenant: send this request to <tenant>.localhost");
  FormRequest form = read_form_request(provider_, req, false);
  if (form.error) return std::move(*form.error);
  auto token = param(form.params, "token");
  if (!token) return oauth_error(400, "invalid_request", "token is missing");
  // token_type_hint is only a hint (RFC 7009 2.1): both kinds are searched
  // anyway, so it is not even read.
  provider_.revoke(form.client_id, *token);
  HttpResponse r = json_response(200, json::object{});
  no_store(r);
  return r;
}

HttpResponse Router::revoke_bearer(const HttpRequest& req) {
  auto token = bearer_token(req);
  // Slack answers 200 either way; "ok" says whether a token was revoked.
  if (!token || !provider_.revoke_grant_of_access(*token, "revoked with its access token"))
    return json_response(200, json::object{{"ok", false}, {"error", "invalid_auth"}});
  return json_response(200, json::object{{"ok", true}, {"revoked", true}});
}

HttpResponse Router::delete_refresh_token(const HttpRequest& req) {
  auto token = percent_decode(std::string_view(req.path).substr(std::string_view("/oauth/refresh-tokens/").size()),
                              false);
  if (!token || token->empty() || !provider_.revoke_grant_of(*token, "its refresh token was deleted"))
    return json_response(404, json::object{{"status", "error"}, {"message", "refresh token not found"}});
  HttpResponse r;
  r.status = 204;
  return r;
}

}  // namespace refold::devserver
