#include <doctest/doctest.h>

#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "catalog/catalog.hpp"
#include "catalog/template.hpp"
#include "core/client.hpp"
#include "util/error.hpp"
#include "util/json.hpp"

using refold::catalog::acceptable_endpoint;
using refold::catalog::Catalog;

TEST_CASE("the built-in catalog loads and holds the documented apps") {
  Catalog c;
  for (const char* slug : {"twilio", "stripe", "openai", "sendgrid", "slack", "github", "google", "hubspot"}) {
    CAPTURE(slug);
    REQUIRE(c.find(slug));
  }
  CHECK(c.find("hubspot")->offers("oauth2"));
  CHECK(c.find("hubspot")->offers("keybased"));
  CHECK(c.find("slack")->oauth2->scope_separator == ",");
}

TEST_CASE("endpoints must be https or loopback http") {
  CHECK(acceptable_endpoint("https://example.com/token"));
  CHECK(acceptable_endpoint("HTTPS://example.com"));
  CHECK(acceptable_endpoint("http://127.0.0.1:8080/token"));
  CHECK(acceptable_endpoint("http://localhost/token"));
  CHECK(acceptable_endpoint("http://[::1]:9000/x"));
  CHECK(acceptable_endpoint("https://api.example.com/Accounts/{sid}.json?x={k}"));
  CHECK_FALSE(acceptable_endpoint("http://example.com/token"));
  CHECK_FALSE(acceptable_endpoint("http://127.0.0.1.evil.com/token"));
  CHECK_FALSE(acceptable_endpoint("http://localhost.evil.com/"));
  CHECK_FALSE(acceptable_endpoint("ftp://example.com"));
  CHECK_FALSE(acceptable_endpoint("https://"));
}

TEST_CASE("bad definitions name the app and the key") {
  struct Case { const char* json; const char* expect; };
  const Case cases[] = {
      {R"({"slug":"Bad Slug","name":"x","auth_types":["keybased"]})", "slug"},
      {R"({"slug":"a1","auth_types":["keybased"]})", "name"},
      {R"({"slug":"a1","name":"x","auth_types":["magic"]})", "auth_types"},
      {R"({"slug":"a1","name":"x","auth_types":["keybased"]})", "keybased"},
      {R"({"slug":"a1","name":"x","auth_types":["keybased"],"colour":"red","keybased":{"fields":[{"name":"k","label":"K","type":"text"}]}})", "colour"},
      {R"({"slug":"a1","name":"x","auth_types":["keybased"],"keybased":{"fields":[{"name":"k","label":"K","type":"date"}]}})", "type"},
      {R"({"slug":"a1","name":"x","auth_types":["keybased"],"keybased":{"fields":[{"name":"k","label":"K","type":"text","pattern":"("}]}})", "pattern"},
      {R"({"slug":"a1","name":"x","auth_types":["keybased"],"keybased":{"fields":[{"name":"k","label":"K","type":"select"}]}})", "options"},
      {R"({"slug":"a1","name":"x","auth_types":["oauth2"],"oauth2":{"authorization_endpoint":"http://example.com/a","token_endpoint":"https://example.com/t"}})", "authorization_endpoint"},
#define OA R"({"slug":"a1","name":"x","auth_types":["oauth2"],"oauth2":{"authorization_endpoint":"https://e.example/a","token_endpoint":"https://e.example/t")"
      {OA R"(,"token_response_metadata":["team..id"]}})", "token_response_metadata"},
      {OA R"(,"token_response_metadata":["a b"]}})", "token_response_metadata"},
      {OA R"(,"token_response_metadata":["x","x"]}})", "token_response_metadata"},
      {OA R"(,"callback_metadata":["state"]}})", "callback_metadata"},
      {OA R"(,"callback_metadata":["realm.id"]}})", "callback_metadata"},
      {OA R"(,"token_response_metadata":["realmId"],"callback_metadata":["realmId"]}})", "callback_metadata"},
      {OA R"(},"api_base_url":"https://api.example/{metadata.instance_url}"})", "api_base_url"},
      {OA R"(,"token_response_metadata":["instance_url"]},"api_base_url":"https://api.example/{connection.x}"})", "api_base_url"},
      {OA R"(,"token_response_metadata":["region"]},"api_base_url":"http://{metadata.region}.example"})", "api_base_url"},
      {OA R"(,"callback_metadata":["realm"]},"api_base_url":"https://{metadata.realm}.crm.example"})", "api_base_url"},
      {OA R"(,"callback_metadata":["realm"]},"api_base_url":"{metadata.realm}/v1"})", "api_base_url"},
#undef OA
#define CF R"({"slug":"a1","name":"x","auth_types":["oauth2"],"connection_fields":[{"name":"sub","label":"S","type":"text"}],"oauth2":{"token_endpoint":"https://e.example/t",)"
      {CF R"("authorization_endpoint":"https://{connection.sub}example.com/a"}})", "authorization_endpoint"},
      {CF R"("authorization_endpoint":"https://x{connection.sub}.example.com/a"}})", "authorization_endpoint"},
      {CF R"("authorization_endpoint":"https://{connection.sub}.com/a"}})", "authorization_endpoint"},
      {CF R"("authorization_endpoint":"https://{connection.sub}/a"}})", "authorization_endpoint"},
      {CF R"("authorization_endpoint":"https://{connection.zone}.e.example/a"}})", "authorization_endpoint"},
      {CF R"("authorization_endpoint":"https://e.example:{connection.sub}/a"}})", "authorization_endpoint"},
      {CF R"("authorization_endpoint":"{connection.sub}://e.example/a"}})", "authorization_endpoint"},
      {CF R"("authorization_endpoint":"http://{connection.sub}.e.example/a"}})", "authorization_endpoint"},
      {CF R"("authorization_endpoint":"https://{metadata.x}.e.example/a","token_response_metadata":["x"]}})", "authorization_endpoint"},
      {CF R"("authorization_endpoint":"https://e.example/a","revocation":{"url":"https://{connection.sub}.e/r"}}})", "url"},
      {CF R"("authorization_endpoint":"{connection.sub}.e.example/a"}})", "authorization_endpoint"},
      {CF R"("authorization_endpoint":"https://e.example/a","token_response_metadata":["authed_user.access_token"]}})", "token_response_metadata"},
      {CF R"("authorization_endpoint":"https://e.example/a","token_response_metadata":["client_secret"]}})", "token_response_metadata"},
#undef CF
      {R"({"slug":"a1","name":"x","auth_types":["keybased"],"connection_fields":[{"name":"sub","label":"S","type":"text"}],"keybased":{"fields":[{"name":"k","label":"K","type":"text"}]}})", "connection_fields"},
      {R"({"slug":"a1","name":"x","auth_types":["oauth2"],"connection_fields":[{"name":"sub","label":"S","type":"text","secret":true}],"oauth2":{"authorization_endpoint":"https://e.example/a","token_endpoint":"https://e.example/t"}})", "sub"},
      {R"({"slug":"a1","name":"x","auth_types":["oauth2"],"connection_fields":[{"name":"sub","label":"S","type":"text"},{"name":"sub","label":"T","type":"text"}],"oauth2":{"authorization_endpoint":"https://e.example/a","token_endpoint":"https://e.example/t"}})", "sub"},
      {R"({"slug":"a1","name":"x","auth_types":["keybased"],"api_base_url":"https://a.example","keybased":{"fields":[{"name":"k","label":"K","type":"text"}]}})", "api_base_url"},
#define KB R"({"slug":"a1","name":"x","auth_types":["keybased"],"keybased":{"fields":[{"name":"sub","label":"S","type":"text"},{"name":"opt","label":"O","type":"text","required":false},{"name":"key","label":"K","type":"text","secret":true},{"name":"dom","label":"D","type":"text","host_suffixes":["desk.example"]}],"verify":{"url":)"
      {KB R"("https://{key}.desk.example/me"}}})", "url"},
      {KB R"("https://{opt}.desk.example/me"}}})", "url"},
      {KB R"("https://x{sub}.desk.example/me"}}})", "url"},
      {KB R"("https://{sub}.example/me"}}})", "url"},
      {KB R"("https://{dom}.desk.example/me"}}})", "url"},
      {KB R"("https://{nope}.desk.example/me"}}})", "url"},
      {KB R"("http://{sub}.desk.example/me"}}})", "url"},
      {KB R"("{sub}.desk.example/me"}}})", "url"},
      {KB R"("https://desk.example:{sub}/me"}}})", "url"},
#undef KB
#define CC R"({"slug":"a1","name":"x","auth_types":["oauth2_cc"],"oauth2_cc":{"token_endpoint":"https://e.example/t")"
      {CC R"(,"authorization_endpoint":"https://e.example/a"}})", "authorization_endpoint"},
      {CC R"(,"pkce":false}})", "pkce"},
      {CC R"(,"refresh_params":{"a":"b"}}})", "refresh_params"},
      {CC R"(,"callback_metadata":["realmId"]}})", "callback_metadata"},
      {CC R"(,"token_endpoint_auth_method":"none"}})", "token_endpoint_auth_method"},
      {CC R"(,"token_params":{"grant_type":"password"}}})", "token_params"},
#undef CC
      {R"({"slug":"a1","name":"x","auth_types":["oauth2_cc"]})", "oauth2_cc"},
      {R"({"slug":"a1","name":"x","auth_types":["oauth2_cc"],"oauth2_cc":{}})", "token_endpoint"},
      {R"({"slug":"a1","name":"x","auth_types":["keybased"],"oauth2_cc":{"token_endpoint":"https://e.example/t"},"keybased":{"fields":[{"name":"k","label":"K","type":"text"}]}})", "oauth2_cc"},
      {R"({"slug":"a1","name":"x","auth_types":["oauth2_cc","keybased"],"oauth2_cc":{"token_endpoint":"https://e.example/t"},"keybased":{"fields":[{"name":"k","label":"K","type":"text"}]}})", "auth_types"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.json);
    try {
      refold::catalog::parse_app(refold::json::parse(c.json, "test"), "test");
      FAIL("accepted a bad definition");
    } catch (const refold::Error& e) {
      CHECK(e.code() == REFOLD_EINVALID);
      CHECK(std::string(e.what()).find(std::string("'") + c.expect + "'") != std::string::npos);
    }
  }
}

TEST_CASE("metadata: token response paths, callback parameters and an API base over them") {
  refold::catalog::App app = refold::catalog::parse_app(
      refold::json::parse(R"({"slug":"crm","name":"CRM","auth_types":["oauth2"],
          "api_base_url":"https://{metadata.region}.crm.example/{metadata.team.id}/{metadata.realmId}",
          "oauth2":{"authorization_endpoint":"https://crm.example/a","token_endpoint":"https://crm.example/t",
                    "token_response_metadata":["team.id","region"],"callback_metadata":["realmId"]}})",
                          "test"),
      "test");
  CHECK(app.oauth2->token_response_metadata == std::vector<std::string>{"team.id", "region"});
  CHECK(app.oauth2->callback_metadata == std::vector<std::string>{"realmId"});
  CHECK(app.api_base_url == "https://{metadata.region}.crm.example/{metadata.team.id}/{metadata.realmId}");
}

TEST_CASE("connection inputs: a tenant's host is filled from a checked label, and only public addresses are allowed") {
  refold::catalog::App app = refold::catalog::parse_app(
      refold::json::parse(R"({"slug":"desk","name":"Desk","auth_types":["oauth2"],
          "connection_fields":[{"name":"subdomain","label":"Subdomain","type":"text"},
                               {"name":"site","label":"Site","type":"text","required":false}],
          "api_base_url":"https://{connection.subdomain}.desk.example/api/{connection.site}",
          "oauth2":{"authorization_endpoint":"https://{connection.subdomain}.desk.example/oauth/authorize",
                    "token_endpoint":"https://{connection.subdomain}.eu.desk.example/oauth/token",
                    "revocation":{"url":"https://{connection.subdomain}.desk.example/oauth/revoke/{token}"}}})",
                          "test"),
      "test");
  REQUIRE(app.connection_fields.size() == 2);
  auto inputs = [](std::string_view sub, std::string_view site) {
    return [=](std::string_view name) -> std::optional<std::string_view> {
      if (name == "connection.subdomain") return sub;
      if (name == "connection.site") return site;
      return std::nullopt;
    };
  };
  auto u = refold::catalog::fill_url(app.oauth2->token_endpoint, inputs("Acme-1", "a b/c"));
  CHECK(u.url == "https://acme-1.eu.desk.example/oauth/token");
  CHECK(u.public_only);
  // After the host a value is percent-encoded, as anywhere in a URL.
  CHECK(refold::catalog::fill_url(app.api_base_url, inputs("acme", "a b/c")).url ==
        "https://acme.desk.example/api/a%20b%2Fc");
  // A host under .localhost (the sandbox) stays on the machine by design.
  CHECK_FALSE(refold::catalog::fill_url("http://{connection.subdomain}.localhost:8765/t", inputs("acme", "")).public_only);
  CHECK_FALSE(refold::catalog::fill_url("https://desk.example/{connection.subdomain}", inputs("acme", "")).public_only);
  for (std::string_view bad : {"evil.example#", "a.b", "a/b", "-a", "a-", "", "a@b", "a:1",
                               "x0123456789012345678901234567890123456789012345678901234567890123"}) {
    CAPTURE(bad);
    try {
      refold::catalog::fill_url(app.oauth2->authorization_endpoint, inputs(bad, ""));
      FAIL("accepted a value that is not a host name label");
    } catch (const refold::Error& e) {
      CHECK(e.code() == REFOLD_EINVALID);
      CHECK(std::string(e.what()).find("'subdomain'") != std::string::npos);
      if (!bad.empty()) CHECK(std::string(e.what()).find(bad) == std::string::npos);
    }
  }
  // An absent value would leave an empty label: refused, never filled.
  CHECK_THROWS_AS(refold::catalog::fill_url("https://api.{connection.site}.desk.example/t", inputs("acme", "")),
                  refold::Error);
  // Metadata in a host is one label too (only a whole URL goes in as is).
  auto region = [](std::string_view v) {
    return [=](std::string_view) -> std::optional<std::string_view> { return v; };
  };
  CHECK(refold::catalog::fill_url("https://{metadata.region}.crm.example/v1", region("EU1")).url ==
        "https://eu1.crm.example/v1");
  CHECK_FALSE(refold::catalog::fill_url("https://{metadata.region}.crm.example/v1", region("eu1")).public_only);
  CHECK_THROWS_AS(refold::catalog::fill_url("https://{metadata.region}.crm.example/v1", region("evil.example#")),
                  refold::Error);
  CHECK(refold::catalog::fill_url("{metadata.url}/v1", region("https://na1.example")).url == "https://na1.example/v1");
  // The inputs are checked as fields: required, known names.
  CHECK_THROWS_AS(app.check_connection(boost::json::object{}), refold::Error);
  CHECK_THROWS_AS(app.check_connection(boost::json::object{{"subdomain", "a"}, {"zone", "b"}}), refold::Error);
  CHECK(app.check_connection(boost::json::object{{"subdomain", "a"}}).size() == 1);
}

namespace {

// What building a catalog with `extra` threw: code and message.
std::pair<int, std::string> catalog_error(const std::string& extra_json) {
  try {
    boost::json::value v = refold::json::parse(extra_json, "test");
    Catalog c(&v.as_array());
  } catch (const refold::Error& e) {
    return {e.code(), e.what()};
  }
  return {REFOLD_OK, ""};
}

}  // namespace

TEST_CASE("key-based verification: a field may pick the host, as a connection input does") {
  refold::catalog::App app = refold::catalog::parse_app(
      refold::json::parse(R"({"slug":"desk","name":"Desk","auth_types":["keybased"],
          "keybased":{"fields":[{"name":"sub","label":"Subdomain","type":"text"},
                                {"name":"dom","label":"Domain","type":"text","host_suffixes":["desk.example"]},
                                {"name":"key","label":"Key","type":"text","secret":true}],
                      "verify":{"url":"https://{sub}.desk.example/me?key={key}"}}})",
                          "test"),
      "test");
  REQUIRE(app.verify);
  auto fields = [](std::string_view sub) {
    return [=](std::string_view name) -> std::optional<std::string_view> {
      if (name == "sub") return sub;
      if (name == "key") return "k 1";
      return std::nullopt;
    };
  };
  auto every = [](std::string_view) { return true; };
  auto u = refold::catalog::fill_url(app.verify->url, fields("Acme"), every);
  CHECK(u.url == "https://acme.desk.example/me?key=k%201");
  // The customer typed the host: only public addresses may be reached.
  CHECK(u.public_only);
  CHECK_FALSE(refold::catalog::fill_url("http://{sub}.localhost:8765/me", fields("acme"), every).public_only);
  for (std::string_view bad : {"evil.example#", "a.b", "", "a@b"}) {
    CAPTURE(bad);
    try {
      refold::catalog::fill_url(app.verify->url, fields(bad), every);
      FAIL("accepted a value that is not a host name label");
    } catch (const refold::Error& e) {
      CHECK(e.code() == REFOLD_EINVALID);
      CHECK(std::string(e.what()).find("field 'sub'") != std::string::npos);
      if (!bad.empty()) CHECK(std::string(e.what()).find(bad) == std::string::npos);
    }
  }
  // The request a connect sends: to the public host the field chose.
  const boost::json::object typed{{"sub", "Acme"}, {"dom", "x.desk.example"}, {"key", "k 1"}};
  refold::http::Request req = refold::core::verify_request(app, typed);
  CHECK(req.url == "https://acme.desk.example/me?key=k%201");
  CHECK(req.public_only);
  CHECK_THROWS_AS(refold::core::verify_request(app, boost::json::object{{"sub", "a.b"}, {"key", "k"}}), refold::Error);

  // A field with host_suffixes ends the host alone, as a host input.
  refold::catalog::App hosted = refold::catalog::parse_app(
      refold::json::parse(R"({"slug":"desk","name":"Desk","auth_types":["keybased"],
          "keybased":{"fields":[{"name":"dom","label":"Domain","type":"text","host_suffixes":["desk.example"]}],
                      "verify":{"url":"https://api.{dom}/me"}}})",
                          "test"),
      "test");
  req = refold::core::verify_request(hosted, typed);
  CHECK(req.url == "https://api.x.desk.example/me");
  CHECK(req.public_only);
  // A field after the host leaves it as the app wrote it.
  refold::catalog::App fixed = refold::catalog::parse_app(
      refold::json::parse(R"({"slug":"desk","name":"Desk","auth_types":["keybased"],
          "keybased":{"fields":[{"name":"sub","label":"S","type":"text"}],
                      "verify":{"url":"https://api.desk.example/{sub}"}}})",
                          "test"),
      "test");
  CHECK_FALSE(refold::core::verify_request(fixed, typed).public_only);
}

TEST_CASE("extends: an app inherits another's definition and overrides keys") {
  Catalog c;
  const auto* google = c.find("google");
  for (const char* slug : {"gmail", "google-drive", "google-calendar"}) {
    CAPTURE(slug);
    const auto* app = c.find(slug);
    REQUIRE(app);
    REQUIRE(app->oauth2);
    CHECK(app->slug == slug);
    CHECK(app->name != google->name);
    CHECK(app->icon == google->icon);  // not overridden: inherited
    CHECK(app->auth_types == google->auth_types);
    CHECK(app->oauth2->authorization_endpoint == google->oauth2->authorization_endpoint);
    CHECK(app->oauth2->token_endpoint == google->oauth2->token_endpoint);
    CHECK(app->oauth2->revocation_endpoint == google->oauth2->revocation_endpoint);
    CHECK(app->oauth2->authorize_params == google->oauth2->authorize_params);  // offline access too
    CHECK(app->oauth2->scopes != google->oauth2->scopes);                      // its own
  }
  CHECK(google->oauth2->scopes == std::vector<std::string>{"openid", "email"});  // untouched

  // A host's app may extend a built-in one, and another host app.
  boost::json::value extra = refold::json::parse(
      R"([{"slug":"team-drive","extends":"my-google","name":"Team Drive","oauth2":{"scopes":["drive"]}},
          {"slug":"my-google","extends":"google","name":"My Google","oauth2":{"pkce":false}}])",
      "test");
  Catalog mine(&extra.as_array());
  const auto* team = mine.find("team-drive");
  REQUIRE(team);
  CHECK(team->name == "Team Drive");
  CHECK(team->oauth2->scopes == std::vector<std::string>{"drive"});
  CHECK_FALSE(team->oauth2->pkce);  // from my-google
  CHECK(team->oauth2->token_endpoint == google->oauth2->token_endpoint);
  CHECK(mine.find("my-google")->oauth2->scopes == google->oauth2->scopes);
}

TEST_CASE("extends: a host's app of a built-in slug, and what a null removes") {
  Catalog builtin;
  const auto& google = *builtin.find("google")->oauth2;
  boost::json::value extra = refold::json::parse(
      R"([{"slug":"google","extends":"google","name":"Our Google","oauth2":{"scopes":["profile"]}},
          {"slug":"hubspot-oauth","extends":"hubspot","auth_types":["oauth2"],"keybased":null,
           "oauth2":{"revocation_endpoint":null}}])",
      "test");
  Catalog c(&extra.as_array());
  // Changing a built-in app a little: it extends the built-in one.
  const auto* ours = c.find("google");
  REQUIRE(ours);
  CHECK(ours->name == "Our Google");
  CHECK(ours->oauth2->scopes == std::vector<std::string>{"profile"});
  CHECK(ours->oauth2->token_endpoint == google.token_endpoint);
  CHECK(ours->oauth2->authorize_params == google.authorize_params);
  // Built-in apps that extend google keep the built-in one.
  CHECK(c.find("gmail")->oauth2->scopes == builtin.find("gmail")->oauth2->scopes);
  CHECK(c.find("gmail")->name == "Gmail");

  // A null removes an inherited key: here the key-based half and the
  // revocation endpoint.
  const auto* hub = c.find("hubspot-oauth");
  REQUIRE(hub);
  CHECK(hub->auth_types == std::vector<std::string>{"oauth2"});
  CHECK_FALSE(hub->offers("keybased"));
  CHECK(hub->fields.empty());
  CHECK(hub->oauth2->revocation_endpoint.empty());
  CHECK(hub->oauth2->token_endpoint == builtin.find("hubspot")->oauth2->token_endpoint);

  // A host's google without OAuth leaves the built-in gmail as it was.
  boost::json::value keyed = refold::json::parse(
      R"([{"slug":"google","name":"Keys","auth_types":["keybased"],
           "keybased":{"fields":[{"name":"api_key","label":"API key","type":"text","secret":true}]}}])",
      "test");
  Catalog k(&keyed.as_array());
  CHECK_FALSE(k.find("google")->oauth2);
  REQUIRE(k.find("gmail")->oauth2);
  CHECK(k.find("gmail")->oauth2->token_endpoint == google.token_endpoint);
}

TEST_CASE("extends: a public client must use PKCE") {
  auto [code, msg] = catalog_error(R"([{"slug":"pub","extends":"google","name":"P",
      "oauth2":{"token_endpoint_auth_method":"none","pkce":false}}])");
  CHECK(code == REFOLD_EINVALID);
  CHECK(msg.find("app 'pub'") != std::string::npos);
  CHECK(msg.find("'pkce' must be true for a public client") != std::string::npos);
}

TEST_CASE("extends: unknown parents, cycles and bad merged definitions are refused by name") {
  auto [code, msg] = catalog_error(R"([{"slug":"orphan","extends":"nowhere","name":"x"}])");
  CHECK(code == REFOLD_EINVALID);
  CHECK(msg.find("app 'orphan'") != std::string::npos);
  CHECK(msg.find("'extends' names 'nowhere', which is not an app") != std::string::npos);

  std::tie(code, msg) = catalog_error(
      R"([{"slug":"a1","extends":"b1","name":"x"},{"slug":"b1","extends":"a1","name":"y"}])");
  CHECK(code == REFOLD_EINVALID);
  // Found while resolving a1 (apps resolve in slug order): b1 closes it.
  CHECK(msg.find("app 'b1' (config catalog[1]): 'extends' makes a cycle through 'a1'") != std::string::npos);

  // A config app extending its own slug reaches the built-in app of that
  // slug: with none, there is nothing to extend.
  std::tie(code, msg) = catalog_error(R"([{"slug":"self","extends":"self","name":"x"}])");
  CHECK(code == REFOLD_EINVALID);
  CHECK(msg.find("'extends' names 'self', which is not an app") != std::string::npos);

  std::tie(code, msg) = catalog_error(R"([{"slug":"num","extends":7,"name":"x"}])");
  CHECK(code == REFOLD_EINVALID);
  CHECK(msg.find("'extends' must be a string") != std::string::npos);

  // What the child adds is checked like any definition, naming the child.
  std::tie(code, msg) =
      catalog_error(R"([{"slug":"bad-child","extends":"google","name":"x","oauth2":{"pkce":"yes"}}])");
  CHECK(code == REFOLD_EINVALID);
  CHECK(msg.find("app 'bad-child'") != std::string::npos);
  CHECK(msg.find("pkce") != std::string::npos);
}

TEST_CASE("client credentials: an oauth2_cc app has a token endpoint and no authorization step") {
  auto app = refold::catalog::parse_app(
      refold::json::parse(R"({"slug":"m2m","name":"M2M","auth_types":["oauth2_cc"],
        "connection_fields":[{"name":"instance","label":"Instance","type":"text"}],
        "api_base_url":"https://{connection.instance}.api.example/v1",
        "oauth2_cc":{"token_endpoint":"https://{connection.instance}.auth.example/oauth/token",
                     "scopes":["a","b"],"token_endpoint_auth_method":"client_secret_post",
                     "token_params":{"audience":"https://api.example"},"default_expires_in":3600,
                     "revocation":"none"}})",
                          "test"),
      "test");
  REQUIRE(app.oauth2);
  CHECK(app.oauth2->client_credentials);
  CHECK(app.offers("oauth2_cc"));
  CHECK_FALSE(app.offers("oauth2"));
  CHECK(app.oauth2->authorization_endpoint.empty());
  CHECK(app.oauth2->default_lifetime_ms == 3600 * 1000);
  CHECK(app.oauth2->revocation_none);
  CHECK(app.oauth2->token_params == std::vector<std::pair<std::string, std::string>>{{"audience", "https://api.example"}});
}
