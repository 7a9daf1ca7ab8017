#include "oauth/after_connect.hpp"

#include <charconv>

#include <boost/json.hpp>

#include "catalog/template.hpp"
#include "crypto/secure.hpp"
#include "util/error.hpp"

namespace refold::oauth {

namespace bj = boost::json;

namespace {

// True when `v` is the scalar written `text`: a string equal to it, or a
// number or boolean whose JSON is it ("true", "42").
bool is_written(const bj::value& v, std::string_view text) {
  if (const bj::string* s = v.if_string()) return *s == text;
  return (v.is_number() || v.is_bool()) && bj::serialize(v) == text;
}

// The value at a dotted path: names step into objects, a segment of digits
// into an array, "name=value" to an array's first object whose member
// `name` is that value. Null when a step is missing.
const bj::value* at_path(const bj::value& root, std::string_view path) {
  const bj::value* v = &root;
  while (v) {
    std::size_t dot = path.find('.');
    std::string_view step = path.substr(0, dot);
    const std::size_t eq = step.find('=');
    const bj::array* a = v->if_array();
    if (eq != std::string_view::npos) {
      const std::string_view member = step.substr(0, eq), want = step.substr(eq + 1);
      const bj::value* picked = nullptr;
      for (std::size_t i = 0; a && !picked && i < a->size(); ++i) {
        const bj::object* entry = (*a)[i].if_object();
        const bj::value* m = entry ? entry->if_contains(member) : nullptr;
        if (m && is_written(*m, want)) picked = &(*a)[i];
      }
      v = picked;
    } else if (const bj::object* o = v->if_object()) {
      v = o->if_contains(step);
    } else if (a) {
      std::size_t i = 0;
      auto [end, ec] = std::from_chars(step.data(), step.data() + step.size(), i);
      v = ec == std::errc() && end == step.data() + step.size() && i < a->size() ? &(*a)[i] : nullptr;
    } else {
      v = nullptr;
    }
    if (dot == std::string_view::npos) break;
    path.remove_prefix(dot + 1);
  }
  return v;
}

}  // namespace

void run_after_connect(http::HttpClient& http, const catalog::App& app, TokenSet& t,
                       const std::atomic<bool>* cancel) {
  if (!app.oauth2 || !app.oauth2->after_connect) return;
  const catalog::AfterConnect& def = *app.oauth2->after_connect;
  const std::string who = "app '" + app.slug + "': the after_connect request";
  // Every value the request names must be there: a missing one would
  // send it elsewhere, or without what the provider needs.
  std::string missing;
  auto value = [&](std::string_view name) {
    auto v = placeholder_value(t, name);
    if ((!v || v->empty()) && missing.empty()) missing = name;
    return v;
  };
  http::Request req;
  req.method = def.method;
  catalog::FilledUrl u;
  try {
    u = catalog::fill_url(def.url, value);
    for (const auto& [name, tmpl] : def.headers)
      req.headers.push_back({name, catalog::fill_template(tmpl, value, false)});
  } catch (const Error&) {
    if (missing.empty()) fail(REFOLD_EPROVIDER, who + " cannot be made: a value in its host is not a host name");
  }
  if (!missing.empty()) fail(REFOLD_EPROVIDER, who + " needs '" + missing + "', which the connection lacks");
  req.url = std::move(u.url);
  req.public_only = u.public_only;
  req.cancel = cancel;
  req.timeout = std::chrono::milliseconds(10000);
  crypto::SecretString authorization(def.auth_scheme + " ");
  authorization += t.access_token.view();
  req.headers.push_back({"Authorization", std::move(authorization)});

  http::Response resp;
  try {
    resp = http.send(req);
  } catch (const Error& e) {
    fail(e.code(), who + " failed: " + e.what());
  }
  if (resp.status < 200 || resp.status >= 300)
    fail(REFOLD_EPROVIDER, who + " was answered with HTTP " + std::to_string(resp.status));
  boost::system::error_code ec;
  bj::value body = bj::parse(resp.body.view(), ec, crypto::wiping_storage());
  if (ec) fail(REFOLD_EPROVIDER, who + " was not answered with JSON");
  // Slack's way of failing with a 200.
  if (const bj::object* o = body.if_object()) {
    const bj::value* ok = o->if_contains("ok");
    if (ok && ok->is_bool() && !ok->get_bool()) fail(REFOLD_EPROVIDER, who + " was answered with \"ok\": false");
  }
  std::vector<std::pair<std::string, std::string>> found;
  for (const auto& [name, path] : def.metadata) {
    const bj::value* v = at_path(body, path);
    if (v && v->is_string()) found.emplace_back(name, std::string(v->get_string()));
    else if (v && (v->is_number() || v->is_bool())) found.emplace_back(name, bj::serialize(*v));
    else fail(REFOLD_EPROVIDER, who + "'s answer has no value at '" + path + "' (metadata '" + name + "')");
  }
  for (auto& m : found) {
    std::erase_if(t.metadata, [&](const auto& have) { return have.first == m.first; });
    t.metadata.push_back(std::move(m));
  }
}

}  // namespace refold::oauth
