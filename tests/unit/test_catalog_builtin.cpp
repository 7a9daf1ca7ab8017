// Every built-in app, checked offline: what a catalog entry must be before
// it ships (issue: real providers). Each OAuth app's authorization URL is
// built as refold_oauth_begin builds it.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/builtin.hpp"
#include "catalog/catalog.hpp"
#include "catalog/template.hpp"
#include "core/client.hpp"
#include "http/client.hpp"
#include "http/url.hpp"
#include "oauth/flow.hpp"
#include "temp_store.hpp"
#include "test_keys.hpp"
#include "util/error.hpp"
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

// A value each of `fields` accepts, as a customer would type it: a
// select's first option, a number within bounds, else "acme".
boost::json::object sample_values(const std::vector<catalog::Field>& fields) {
  boost::json::object o;
  for (const auto& f : fields) {
    if (f.type == catalog::FieldType::select) o[f.name] = f.options.front().value;
    else if (f.type == catalog::FieldType::number) o[f.name] = f.minimum.value_or(1);
    else if (f.type == catalog::FieldType::boolean) o[f.name] = true;
    else {
      // The placeholder where it is a valid value (it shows the shape),
      // else a plain label.
      o[f.name] = "acme";
      if (!f.placeholder.empty()) {
        try {
          f.check(boost::json::value(f.placeholder));
          o[f.name] = f.placeholder;
        } catch (const refold::Error&) {
        }
      }
    }
  }
  return o;
}

// The same for the connection inputs of `app`.
boost::json::object sample_inputs(const catalog::App& app) { return sample_values(app.connection_fields); }

// An app URL template filled with the sample inputs, and with a stand-in
// for values only a connection has (tokens, metadata): a whole URL where it
// starts the template (Salesforce's instance_url), a host name where it is
// the whole host (Wrike's host), else a label (Mailchimp's data centre).
std::string filled(const std::string& tmpl, const oauth::TokenSet& inputs) {
  return std::string(catalog::fill_url(tmpl, [&](std::string_view name) {
                       const std::string placeholder = "{" + std::string(name) + "}";
                       const std::size_t at = tmpl.find("//" + placeholder);
                       const std::size_t after = at + 2 + placeholder.size();
                       const bool whole_host =
                           at != std::string::npos && (after == tmpl.size() || tmpl[after] == '/' || tmpl[after] == ':');
                       return oauth::placeholder_value(inputs, name)
                           .value_or(tmpl.starts_with(placeholder) ? "https://sample.example.com"
                                     : whole_host                  ? "sample.example.com"
                                                                   : "sample");
                     }).url.view());
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
  std::size_t cc_apps = 0;
  std::size_t real_apps = 0;
  for (const auto& [slug, app] : cat.apps()) {
    INFO("app " << slug);
    CHECK(!app.name.empty());
    CHECK(!app.description.empty());
    CHECK(!app.tags.empty());
    CHECK(!app.category.empty());
    if (!app.icon.empty()) check_public_https("icon", app.icon);
    if (is_sandbox(slug)) continue;
    ++real_apps;
    REQUIRE_MESSAGE(!app.docs_url.empty(), "every built-in app links its API documentation");
    check_public_https("docs_url", app.docs_url);
    oauth::TokenSet inputs;
    inputs.connection = oauth::input_strings(app.check_connection(sample_inputs(app)));
    if (app.verify) {
      // Built as a connect builds it, from the field's placeholder where it
      // is valid: a field that picks the host limits the request to public
      // addresses.
      const http::Request req = core::verify_request(app, sample_values(app.fields));
      const std::string url(req.url.view());
      check_public_https("verify url", url);
      CHECK(req.public_only == (app.verify->url.substr(0, app.verify->url.find('/', 8)).find('{') != std::string::npos));
    }
    if (!app.oauth2) continue;
    ++oauth_apps;
    const catalog::OAuth2& def = *app.oauth2;
    if (!def.client_credentials) check_public_https("authorization_endpoint", filled(def.authorization_endpoint, inputs));
    check_public_https("token_endpoint", filled(def.token_endpoint, inputs));
    // Every OAuth app says how a disconnect revokes: RFC 7009, its own
    // request, or that its provider cannot.
    CHECK_MESSAGE(int(!def.revocation_endpoint.empty()) + int(def.revocation.has_value()) + int(def.revocation_none) == 1,
                  "an OAuth app declares one of revocation_endpoint, revocation {...} or revocation \"none\"");
    if (!def.revocation_endpoint.empty()) check_public_https("revocation_endpoint", filled(def.revocation_endpoint, inputs));
    if (def.revocation) check_public_https("revocation url", filled(def.revocation->url, inputs));
    if (!app.api_base_url.empty()) check_public_https("api_base_url", filled(app.api_base_url, inputs));
    if (def.after_connect) check_public_https("after_connect url", filled(def.after_connect->url, inputs));
    if (def.client_credentials) {
      // No user and no browser: begin refuses, naming the grant.
      ++cc_apps;
      CHECK_THROWS_WITH_AS(flows.begin("acct", slug, oauth::BeginOptions{}), doctest::Contains("client-credentials"),
                           refold::Error);
      continue;
    }

    oauth::BeginOptions options;
    options.connection = sample_inputs(app);
    const std::string url = flows.begin("acct", slug, options);
    CHECK(url.rfind(filled(def.authorization_endpoint, inputs), 0) == 0);
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
  CHECK(cc_apps > 0);
  CHECK(real_apps >= 120);  // the catalog's promise (docs/catalog.md)
}

namespace {

std::string join_auth_types(const catalog::App& app) {
  std::string out;
  for (const auto& t : app.auth_types)
    out += (out.empty() ? "" : ", ") + std::string(t == "oauth2"      ? "OAuth 2.0"
                                                   : t == "oauth2_cc" ? "client credentials"
                                                                      : "keys");
  return out;
}

// The table docs/catalog.md lists the built-in apps in: by category, then
// slug. A '|' in a name would break a row; none has one.
std::string apps_table(const catalog::Catalog& cat) {
  std::map<std::pair<std::string, std::string>, const catalog::App*> sorted;
  for (const auto& [slug, app] : cat.apps()) sorted[{app.category, slug}] = &app;
  std::ostringstream out;
  out << "| category | app | slug | auth | API docs |\n|---|---|---|---|---|\n";
  for (const auto& [key, app] : sorted)
    out << "| " << key.first << " | " << app->name << " | `" << app->slug << "` | " << join_auth_types(*app) << " | "
        << (app->docs_url.empty() ? std::string("") : "[docs](" + app->docs_url + ")") << " |\n";
  return out.str();
}

}  // namespace

TEST_CASE("built-in catalog: docs/catalog.md lists every built-in app as the catalog has it") {
  constexpr std::string_view kBegin = "<!-- built-in apps: generated -->\n";
  constexpr std::string_view kEnd = "<!-- end of built-in apps -->";
  std::ifstream in(REFOLD_CATALOG_DOC);
  REQUIRE(in.good());
  std::stringstream buf;
  buf << in.rdbuf();
  std::string doc = buf.str();
  auto begin = doc.find(kBegin);
  auto end = doc.find(kEnd);
  REQUIRE_MESSAGE((begin != std::string::npos && end != std::string::npos && begin < end),
                  "docs/catalog.md marks its table with the two generated-table comments");
  begin += kBegin.size();
  const std::string expected = apps_table(catalog::Catalog());
  if (doc.compare(begin, end - begin, expected) != 0 && std::getenv("REFOLD_UPDATE_CATALOG_DOC")) {
    doc.replace(begin, end - begin, expected);
    std::ofstream(REFOLD_CATALOG_DOC, std::ios::trunc) << doc;
    MESSAGE("docs/catalog.md: built-in apps table rewritten");
    return;
  }
  CHECK_MESSAGE(doc.compare(begin, end - begin, expected) == 0,
                "docs/catalog.md's table of built-in apps differs from the catalog: run this test with "
                "REFOLD_UPDATE_CATALOG_DOC=1 to rewrite it");
}
