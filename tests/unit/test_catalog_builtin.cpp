// Every built-in app, checked offline: what a catalog entry must be before
// it ships (issue: real providers). Each OAuth app's authorization URL is
// built as refold_oauth_begin builds it.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "catalog/builtin.hpp"
#include "catalog/catalog.hpp"
#include "http/client.hpp"
#include "http/url.hpp"
#include "oauth/flow.hpp"
#include "temp_store.hpp"
#include "test_keys.hpp"
#include "util/json.hpp"
#include "vault/vault.hpp"

using namespace refold;

namespace {

// The development sandbox's apps point at refold-devserver on loopback.
bool is_sandbox(std::string_view slug) { return slug == "sandbox" || slug == "sandbox-keys"; }

// A host a customer's traffic may go to: a public DNS name, not an address
// or a name that stays on the machine or the local network.
bool public_host(const std::string& host) {
  if (host.empty() || http::is_loopback_host(host)) return false;
  if (host.find('.') == std::string::npos) return false;                     // "intranet"
  if (host.find(':') != std::string::npos) return false;                     // an IPv6 literal
  if (host.find_first_not_of("0123456789.") == std::string::npos) return false;  // an IPv4 literal
  for (std::string_view suffix : {".local", ".internal", ".localhost", ".lan", ".home.arpa"})
    if (host.size() >= suffix.size() && host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0)
      return false;
  return true;
}

void check_public_https(const std::string& what, const std::string& url) {
  INFO(what << ": " << url);
  http::Url u = http::parse_url(url);
  CHECK(u.scheme == "https");
  CHECK(public_host(u.host));
}

std::string query_of(const std::string& url) { return url.substr(url.find('?') + 1); }

std::optional<std::string> value_of(const http::Params& ps, std::string_view name) {
  for (const auto& [k, v] : ps)
    if (k == name) return std::string(v.view());
  return std::nullopt;
}

}  // namespace

TEST_CASE("built-in catalog: one file per slug, and every file loads on its own") {
  std::map<std::string, std::string> files_of_slug;
  for (std::size_t i = 0; i < catalog::kBuiltinFileCount; ++i) {
    const auto& f = catalog::kBuiltinFiles[i];
    INFO("file " << f.name);
    boost::json::value v = json::parse(std::string_view(f.data, f.size), f.name);
    REQUIRE(v.is_object());
    const std::string slug(v.as_object().at("slug").as_string());
    CHECK_MESSAGE(files_of_slug.emplace(slug, f.name).second,
                  "slug '" << slug << "' is defined again, first in " << files_of_slug[slug]);
    CHECK(std::string(f.name) == slug + ".json");  // found by its slug
  }
  catalog::Catalog c;
  CHECK(c.apps().size() == files_of_slug.size());
}

TEST_CASE("built-in catalog: public https endpoints and an authorization URL for every OAuth app") {
  catalog::Catalog cat;
  refold::test::TempStore t;
  SystemClock clock;
  vault::Vault vault(*t.store, refold::test::key(1), t.meta.store_id, clock);
  std::map<std::string, oauth::ClientRegistration, std::less<>> clients;
  for (const auto& [slug, app] : cat.apps())
    clients[slug] = oauth::ClientRegistration{"client-" + slug, crypto::SecretString("secret"),
                                              "https://host.example/callback", std::nullopt};
  auto never = []() -> http::HttpClient& { throw std::logic_error("no request is sent here"); };
  oauth::Flows flows(cat, *t.store, vault, never, clock, clients);

  std::size_t oauth_apps = 0;
  for (const auto& [slug, app] : cat.apps()) {
    INFO("app " << slug);
    CHECK(!app.name.empty());
    CHECK(!app.description.empty());
    CHECK(!app.tags.empty());
    if (!app.icon.empty()) check_public_https("icon", app.icon);
    if (is_sandbox(slug)) continue;
    if (app.verify) check_public_https("verify url", app.verify->url);
    if (!app.oauth2) continue;
    ++oauth_apps;
    const catalog::OAuth2& def = *app.oauth2;
    check_public_https("authorization_endpoint", def.authorization_endpoint);
    check_public_https("token_endpoint", def.token_endpoint);
    if (!def.revocation_endpoint.empty()) check_public_https("revocation_endpoint", def.revocation_endpoint);

    const std::string url = flows.begin("acct", slug, {});
    CHECK(url.rfind(def.authorization_endpoint, 0) == 0);
    const http::Params q = http::parse_query(query_of(url));
    CHECK(value_of(q, "response_type") == "code");
    CHECK(value_of(q, "client_id") == "client-" + slug);
    CHECK(value_of(q, "redirect_uri") == "https://host.example/callback");
    CHECK(value_of(q, "state").value_or("").size() >= 32);
    CHECK(value_of(q, "code_challenge").has_value() == def.pkce);
    if (!def.scopes.empty()) {
      std::string joined;
      for (const auto& s : def.scopes) joined += (joined.empty() ? "" : def.scope_separator) + s;
      CHECK(value_of(q, "scope") == joined);
    }
    for (const auto& [k, v] : def.authorize_params) CHECK(value_of(q, k) == v);
    // No template left unfilled in what the user's browser is sent to, in
    // the endpoint or in a decoded parameter.
    CHECK(url.find('{') == std::string::npos);
    for (const auto& [k, v] : q) {
      INFO("parameter " << k);
      CHECK(v.view().find('{') == std::string_view::npos);
    }
  }
  CHECK(oauth_apps > 0);
}
