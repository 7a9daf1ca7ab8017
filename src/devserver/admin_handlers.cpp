// The /admin/* API: counters, runtime config, grants, failure injection and
// shutdown. No authentication: the server only ever listens on loopback and
// holds nothing but sandbox data.
#include <limits>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "handlers.hpp"
#include "responses.hpp"

namespace json = boost::json;

namespace refold::devserver {

namespace {

// steady_clock counts nanoseconds in 64 bits; ten years keeps
// now + ttl far from overflow.
constexpr std::int64_t kMaxTtl = 10LL * 365 * 24 * 3600;

HttpResponse bad(std::string_view description) {
  return json_response(400, json::object{{"error", "invalid_request"},
                                         {"error_description", description}});
}

HttpResponse ok() { return json_response(200, json::object{{"ok", true}}); }

std::optional<std::int64_t> as_int(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(
                                             std::numeric_limits<std::int64_t>::max()))
    return static_cast<std::int64_t>(v.get_uint64());
  return std::nullopt;
}

// The body as a JSON object; an empty body is an empty object.
std::optional<json::object> body_object(const HttpRequest& req) {
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object{};
  boost::system::error_code ec;
  json::value v = json::parse(req.body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

// Reads an optional integer member within [lo, hi]; false if present and
// wrong.
bool read_int(const json::object& o, std::string_view key, std::int64_t lo, std::int64_t hi,
              std::int64_t& out) {
  auto it = o.find(key);
  if (it == o.end()) return true;
  auto n = as_int(it->value());
  if (!n || *n < lo || *n > hi) return false;
  out = *n;
  return true;
}

json::object config_json(const Provider& p) {
  RefreshPolicy refresh = p.refresh_policy();
  json::object callback;
  for (const auto& [k, v] : p.callback_extra()) callback[k] = v;
  return json::object{{"access_token_ttl", p.access_token_ttl()},
                      {"auto_approve", p.auto_approve()},
                      {"issue_refresh_tokens", refresh.issue},
                      {"rotate_refresh_tokens", refresh.rotate},
                      {"refresh_token_ttl", refresh.ttl},
                      {"token_response_extra", json::parse(p.token_response_extra())},
                      {"callback_extra", std::move(callback)},
                      {"tenant_hosts", p.tenant_hosts()},
                      {"client_auth", p.token_quirks().client_auth},
                      {"token_body", p.token_quirks().body},
                      {"errors_with_200", p.token_quirks().errors_with_200},
                      {"omit_expires_in", p.token_quirks().omit_expires_in},
                      {"user_tokens", p.token_quirks().user_tokens}};
}

// Reads an optional bool member; false if present and not a bool.
bool read_bool(const json::object& o, std::string_view key, std::optional<bool>& out) {
  auto it = o.find(key);
  if (it == o.end()) return true;
  if (!it->value().is_bool()) return false;
  out = it->value().get_bool();
  return true;
}

json::object fault_json(const Fault& f) {
  json::object o{{"mode", fault_mode_name(f.mode)}, {"count", f.count}};
  if (f.mode == FaultMode::http429) o["retry_after"] = f.retry_after;
  if (f.mode == FaultMode::slow) o["delay_ms"] = f.delay_ms;
  if (f.after > 0) o["after"] = f.after;
  return o;
}

}  // namespace

HttpResponse Router::admin(const HttpRequest& req) {
  const std::string& path = req.path;
  const bool get = req.method == "GET";
  const bool post = req.method == "POST";
  if (path == "/admin/counters" && get) return admin_counters();
  if (path == "/admin/reset-counters" && post) {
    counters_.reset();
    return ok();
  }
  if (path == "/admin/config" && (get || post)) return admin_config(req);
  if (path == "/admin/grants" && get) return admin_grants();
  if (path == "/admin/grants/revoke" && post) return admin_grants_revoke(req);
  if (path == "/admin/fail" && (get || post)) return admin_fail(req);
  if (path == "/admin/fail/clear" && post) {
    auto body = body_object(req);
    if (!body) return bad("the body must be a JSON object");
    std::string endpoint;
    if (auto it = body->find("endpoint"); it != body->end()) {
      if (!it->value().is_string()) return bad("endpoint must be a string");
      endpoint = it->value().get_string();
    }
    faults_.clear(endpoint);
    return ok();
  }
  if (path == "/admin/shutdown" && post) {
    HttpResponse r = ok();
    r.after = After::shutdown;
    return r;
  }
  return json_response(404, json::object{{"error", "not_found"}});
}

HttpResponse Router::admin_counters() const {
  return json_response(200, json::object{
                                {"authorize", counters_.authorize.load()},
                                {"token", counters_.token.load()},
                                {"token_authorization_code", counters_.token_authorization_code.load()},
                                {"token_refresh", counters_.token_refresh.load()},
                                {"revoke", counters_.revoke.load()},
                                {"token_client_credentials", counters_.token_client_credentials.load()},
                                {"me", counters_.me.load()},
                                {"resources", counters_.resources.load()},
                                {"keys_verify", counters_.keys_verify.load()},
                                {"connections", counters_.connections.load()},
                                {"token_in_flight", counters_.token_in_flight.load()},
                                {"token_peak_in_flight", counters_.token_peak_in_flight.load()},
                            });
}

HttpResponse Router::admin_config(const HttpRequest& req) {
  if (req.method == "POST") {
    auto body = body_object(req);
    if (!body) return bad("the body must be a JSON object");
    std::int64_t ttl = provider_.access_token_ttl();
    if (!read_int(*body, "access_token_ttl", 0, kMaxTtl, ttl))
      return bad("access_token_ttl must be an integer number of seconds, 0 to 10 years");
    std::int64_t refresh_ttl = provider_.refresh_policy().ttl;
    if (!read_int(*body, "refresh_token_ttl", 0, kMaxTtl, refresh_ttl))
      return bad("refresh_token_ttl must be an integer number of seconds, 0 (never) to 10 years");
    std::optional<bool> auto_approve, issue, rotate, tenants;
    if (!read_bool(*body, "tenant_hosts", tenants)) return bad("tenant_hosts must be true or false");
    if (!read_bool(*body, "auto_approve", auto_approve)) return bad("auto_approve must be true or false");
    if (!read_bool(*body, "issue_refresh_tokens", issue))
      return bad("issue_refresh_tokens must be true or false");
    if (!read_bool(*body, "rotate_refresh_tokens", rotate))
      return bad("rotate_refresh_tokens must be true or false");
    std::optional<std::string> token_extra;
    if (auto it = body->find("token_response_extra"); it != body->end()) {
      if (!it->value().is_object()) return bad("token_response_extra must be a JSON object");
      token_extra = json::serialize(it->value());
    }
    std::optional<std::vector<std::pair<std::string, std::string>>> callback_extra;
    if (auto it = body->find("callback_extra"); it != body->end()) {
      if (!it->value().is_object()) return bad("callback_extra must be a JSON object of strings");
      callback_extra.emplace();
      for (const auto& [k, v] : it->value().get_object()) {
        static const char* kOwn[] = {"code", "state", "iss", "error", "error_description"};
        for (const char* own : kOwn)
          if (k == own) return bad("callback_extra may not set '" + std::string(own) + "', which the server sets");
        if (!v.is_string()) return bad("callback_extra must be a JSON object of strings");
        callback_extra->emplace_back(std::string(k), std::string(v.get_string()));
      }
    }
    TokenQuirks quirks = provider_.token_quirks();
    std::optional<bool> errors_200, omit_expires, user_tokens;
    if (!read_bool(*body, "user_tokens", user_tokens)) return bad("user_tokens must be true or false");
    if (!read_bool(*body, "errors_with_200", errors_200)) return bad("errors_with_200 must be true or false");
    if (!read_bool(*body, "omit_expires_in", omit_expires)) return bad("omit_expires_in must be true or false");
    if (auto it = body->find("client_auth"); it != body->end()) {
      const json::string* v = it->value().if_string();
      if (!v || (*v != "any" && *v != "client_secret_basic" && *v != "client_secret_post"))
        return bad("client_auth must be any, client_secret_basic or client_secret_post");
      quirks.client_auth = std::string(*v);
    }
    if (auto it = body->find("token_body"); it != body->end()) {
      const json::string* v = it->value().if_string();
      if (!v || (*v != "form" && *v != "json" && *v != "any")) return bad("token_body must be form, json or any");
      quirks.body = std::string(*v);
    }
    if (errors_200) quirks.errors_with_200 = *errors_200;
    if (omit_expires) quirks.omit_expires_in = *omit_expires;
    if (user_tokens) quirks.user_tokens = *user_tokens;
    // Checked in full before anything changes: a bad request changes nothing.
    provider_.set_token_quirks(quirks);
    provider_.set_access_token_ttl(ttl);
    if (auto_approve) provider_.set_auto_approve(*auto_approve);
    if (token_extra) provider_.set_token_response_extra(std::move(*token_extra));
    if (callback_extra) provider_.set_callback_extra(std::move(*callback_extra));
    if (tenants) provider_.set_tenant_hosts(*tenants);
    RefreshPolicy policy = provider_.refresh_policy();
    if (issue) policy.issue = *issue;
    if (rotate) policy.rotate = *rotate;
    policy.ttl = refresh_ttl;
    provider_.set_refresh_policy(policy);
  }
  return json_response(200, config_json(provider_));
}

HttpResponse Router::admin_grants() const {
  json::array list;
  for (const GrantSummary& g : provider_.grants()) {
    list.push_back(json::object{
        {"id", g.id},
        {"client_id", g.client_id},
        {"sub", g.sub},
        {"scope", g.scope},
        {"revoked", g.revoked},
        {"revoked_reason", g.revoked ? json::value(g.revoked_reason) : json::value(nullptr)},
        {"access_tokens_issued", g.access_tokens_issued},
        {"refreshes", g.refreshes},
        {"created_at", g.created_at},
    });
  }
  return json_response(200, json::object{{"grants", std::move(list)}});
}

HttpResponse Router::admin_grants_revoke(const HttpRequest& req) {
  auto body = body_object(req);
  if (!body) return bad("the body must be a JSON object");
  const std::string reason = "revoked by the admin API";
  if (auto it = body->find("all"); it != body->end() && it->value() == true)
    return json_response(200, json::object{{"revoked", provider_.revoke_all(reason)}});
  bool found = false;
  if (auto it = body->find("refresh_token"); it != body->end()) {
    if (!it->value().is_string()) return bad("refresh_token must be a string");
    found = provider_.revoke_grant_of(it->value().get_string(), reason);
  } else if (auto id = body->find("grant_id"); id != body->end()) {
    auto n = as_int(id->value());
    if (!n || *n < 0) return bad("grant_id must be a grant's id");
    found = provider_.revoke_grant_id(static_cast<std::uint64_t>(*n), reason);
  } else {
    return bad("give refresh_token, grant_id or \"all\": true");
  }
  if (!found) return json_response(404, json::object{{"error", "not_found"}});
  return json_response(200, json::object{{"revoked", 1}});
}

HttpResponse Router::admin_fail(const HttpRequest& req) {
  if (req.method == "POST") {
    auto body = body_object(req);
    if (!body) return bad("the body must be a JSON object");
    auto endpoint = body->find("endpoint");
    if (endpoint == body->end() || !endpoint->value().is_string() ||
        !is_fault_endpoint(endpoint->value().get_string()))
      return bad("endpoint must be one of token, revoke, me, resources, authorize, keys_verify");
    auto mode_it = body->find("mode");
    std::optional<FaultMode> mode;
    if (mode_it != body->end() && mode_it->value().is_string())
      mode = parse_fault_mode(mode_it->value().get_string());
    if (!mode) return bad("mode must be one of 500, 429, malformed_json, slow, invalid_client, hang");
    Fault f;
    f.mode = *mode;
    if (!read_int(*body, "count", 1, 1'000'000, f.count)) return bad("count must be 1 or more");
    if (!read_int(*body, "after", 0, 1'000'000, f.after)) return bad("after must be 0 or more");
    if (!read_int(*body, "retry_after", 0, 86'400, f.retry_after))
      return bad("retry_after must be 0 to 86400 seconds");
    if (!read_int(*body, "delay_ms", 0, 600'000, f.delay_ms))
      return bad("delay_ms must be 0 to 600000");
    faults_.add(std::string(endpoint->value().get_string()), f);
  }
  json::object pending;
  for (const auto& [endpoint, list] : faults_.pending()) {
    json::array a;
    for (const Fault& f : list) a.push_back(fault_json(f));
    pending[endpoint] = std::move(a);
  }
  return json_response(200, json::object{{"ok", true}, {"pending", std::move(pending)}});
}

}  // namespace refold::devserver
