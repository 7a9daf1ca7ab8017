// An app's fixed parameters (authorize_params, token_params, refresh_params)
// reach the provider at each step, against a real HTTP server on loopback.
#include <doctest/doctest.h>

#include <mutex>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "catalog/catalog.hpp"
#include "failure.hpp"
#include "http/client.hpp"
#include "http/url.hpp"
#include "http_test_server.hpp"
#include "oauth/flow.hpp"
#include "oauth/refresh.hpp"
#include "temp_store.hpp"
#include "test_keys.hpp"
#include "util/json.hpp"
#include "vault/vault.hpp"

using namespace refold;
using refold::test::ServerRequest;
using refold::test::ServerResponse;
using refold::test::TestServer;

namespace {

// A token endpoint that answers every request with fresh tokens and keeps
// what it was sent.
struct TokenEndpoint {
  TokenEndpoint()
      : server([this](const ServerRequest& r) {
          std::lock_guard lock(mu);
          seen.push_back(r);
          return ServerResponse{.headers = {{"Content-Type", "application/json"}},
                                .body = R"({"access_token":"at-new","token_type":"Bearer",)"
                                        R"("expires_in":3600,"refresh_token":"rt-new"})"};
        }) {}

  // The form fields of the last request, decoded.
  http::Params last_form() {
    std::lock_guard lock(mu);
    REQUIRE_FALSE(seen.empty());
    return http::parse_query(seen.back().body);
  }

  std::mutex mu;
  std::vector<ServerRequest> seen;
  TestServer server;
};

boost::json::value app_json(const std::string& token_url) {
  return json::parse(R"({"slug":"fixed","name":"Fixed","auth_types":["oauth2"],"oauth2":{
      "authorization_endpoint":"https://fixed.example/authorize",
      "token_endpoint":")" + token_url + R"(",
      "token_endpoint_auth_method":"client_secret_post",
      "authorize_params":{"access_type":"offline","prompt":"consent"},
      "token_params":{"audience":"api.fixed.example"},
      "refresh_params":{"duration":"permanent"},
      "extra_authorize_params":["prompt","login_hint"]}})",
                     "test");
}

std::optional<std::string> value_of(const http::Params& ps, std::string_view name) {
  std::optional<std::string> out;
  for (const auto& [k, v] : ps)
    if (k == name) {
      REQUIRE_FALSE(out.has_value());  // each name once
      out = std::string(v.view());
    }
  return out;
}

std::string query_of(const std::string& url) { return url.substr(url.find('?') + 1); }

// What loading an OAuth app "acme" threw, with `oauth2_extra` (one or more
// keys and their values) added to its oauth2 object.
refold_unit::Failure acme_failure(const std::string& oauth2_extra) {
  return refold_unit::failure_of([&] {
    catalog::parse_app(json::parse(R"({"slug":"acme","name":"Acme","auth_types":["oauth2"],"oauth2":{)"
                                   R"("authorization_endpoint":"https://acme.example/a",)"
                                   R"("token_endpoint":"https://acme.example/t",)" +
                                       oauth2_extra + "}}",
                                   "test"),
                       "test");
  });
}

}  // namespace

TEST_CASE("fixed parameters: on the authorization URL, in the code exchange and in refreshes") {
  TokenEndpoint provider;
  boost::json::array extra{app_json(provider.server.url("/token"))};
  catalog::Catalog cat(&extra);
  refold::test::TempStore t;
  SystemClock clock;
  vault::Vault vault(*t.store, refold::test::key(1), t.meta.store_id, clock);
  auto client = http::make_http_client(http::Options{});
  std::map<std::string, oauth::ClientRegistration, std::less<>> clients;
  clients["fixed"] = oauth::ClientRegistration{"fixed-client", crypto::SecretString("fixed-secret"),
                                               "http://127.0.0.1:9/cb", std::nullopt};
  oauth::Flows flows(cat, *t.store, vault, [&]() -> http::HttpClient& { return *client; }, clock, clients);

  // Always on the authorization URL...
  const std::string url = flows.begin("acct", "fixed", {});
  http::Params q = http::parse_query(query_of(url));
  CHECK(value_of(q, "access_type") == "offline");
  CHECK(value_of(q, "prompt") == "consent");
  CHECK(value_of(q, "response_type") == "code");

  // ...unless the host passes its own value for a name the app lets it set.
  oauth::BeginOptions own;
  own.params = {{"prompt", "select_account"}, {"login_hint", "a@b.example"}};
  http::Params q2 = http::parse_query(query_of(flows.begin("acct", "fixed", own)));
  CHECK(value_of(q2, "prompt") == "select_account");
  CHECK(value_of(q2, "access_type") == "offline");
  CHECK(value_of(q2, "login_hint") == "a@b.example");

  // The code exchange carries token_params beside the grant.
  const std::string state = *value_of(q, "state");
  oauth::Completed done = flows.complete("http://127.0.0.1:9/cb?code=the-code&state=" + state);
  CHECK(done.tokens.access_token.view() == "at-new");
  http::Params exchange = provider.last_form();
  CHECK(value_of(exchange, "grant_type") == "authorization_code");
  CHECK(value_of(exchange, "audience") == "api.fixed.example");
  CHECK_FALSE(value_of(exchange, "duration").has_value());

  // A refresh carries refresh_params, and not the other steps' parameters.
  const catalog::App* app = cat.find("fixed");
  REQUIRE(app);
  oauth::RefreshResult r = oauth::refresh(*client, *app, clients["fixed"], "rt-old", {}, clock.now(), nullptr);
  CHECK(r.failure == oauth::RefreshFailure::none);
  CHECK(r.tokens.access_token.view() == "at-new");
  http::Params refresh = provider.last_form();
  CHECK(value_of(refresh, "grant_type") == "refresh_token");
  CHECK(value_of(refresh, "refresh_token") == "rt-old");
  CHECK(value_of(refresh, "duration") == "permanent");
  CHECK_FALSE(value_of(refresh, "audience").has_value());
  CHECK_FALSE(value_of(refresh, "access_type").has_value());
}

TEST_CASE("fixed parameters: the catalog refuses what it cannot send, naming app, key and parameter") {
  const auto parse = acme_failure;
  auto f = parse(R"("authorize_params":{"access_type":1})");
  CHECK(f.code == REFOLD_EINVALID);
  CHECK(f.message.find("acme") != std::string::npos);
  CHECK(f.message.find("authorize_params") != std::string::npos);
  CHECK(f.message.find("access_type") != std::string::npos);

  f = parse(R"("token_params":["audience"])");
  CHECK(f.code == REFOLD_EINVALID);
  CHECK(f.message.find("'token_params' must be an object") != std::string::npos);

  // Names refold sets at that step.
  for (const char* bad : {R"("authorize_params":{"state":"x"})", R"("authorize_params":{"redirect_uri":"x"})",
                          R"("token_params":{"code_verifier":"x"})", R"("token_params":{"client_secret":"x"})",
                          R"("refresh_params":{"grant_type":"password"})",
                          R"("refresh_params":{"refresh_token":"x"})", R"("token_params":{"":"x"})"}) {
    INFO(bad);
    f = parse(bad);
    CHECK(f.code == REFOLD_EINVALID);
    CHECK(f.message.find("acme") != std::string::npos);
  }
  f = parse(R"("refresh_params":{"grant_type":"password"})");
  CHECK(f.message.find("may not set 'grant_type', which refold sets") != std::string::npos);

  // What a step does not set itself is allowed there (scope on refresh).
  CHECK(parse(R"("refresh_params":{"scope":"offline_access"})").code == REFOLD_OK);
}

TEST_CASE("fixed parameters: the built-in google app asks for offline access and consent") {
  catalog::Catalog cat;
  const catalog::App* google = cat.find("google");
  REQUIRE(google);
  REQUIRE(google->oauth2);
  const auto& ps = google->oauth2->authorize_params;
  auto has = [&](std::string_view k, std::string_view v) {
    for (const auto& [pk, pv] : ps)
      if (pk == k && pv == v) return true;
    return false;
  };
  CHECK(has("access_type", "offline"));  // else Google grants no refresh token
  CHECK(has("prompt", "consent"));       // else none on a second connect by the same user
}

TEST_CASE("token requests: a JSON body (body_format json) and a public client that never sends a secret") {
  TokenEndpoint provider;
  const catalog::App app = catalog::parse_app(
      json::parse(R"({"slug":"notionish","name":"N","auth_types":["oauth2"],"oauth2":{
          "authorization_endpoint":"https://n.example/authorize",
          "token_endpoint":")" + provider.server.url("/token") + R"(",
          "token_endpoint_auth_method":"none","body_format":"json",
          "refresh_params":{"scope":"read"}}})",
                  "test"),
      "test");
  auto client = http::make_http_client(http::Options{});
  // The host set a secret anyway: a public client's app must not send it.
  const oauth::ClientRegistration reg{"public-client", crypto::SecretString("not-to-be-sent"),
                                      "http://127.0.0.1:9/cb", std::nullopt};
  oauth::RefreshResult r = oauth::refresh(*client, app, reg, "rt-old", {}, 1000, nullptr);
  CHECK(r.failure == oauth::RefreshFailure::none);

  std::lock_guard lock(provider.mu);
  REQUIRE(provider.seen.size() == 1);
  const ServerRequest& req = provider.seen.back();
  CHECK(req.header("Content-Type") == "application/json");
  CHECK_FALSE(req.header("Authorization").has_value());
  CHECK(req.body.find("not-to-be-sent") == std::string::npos);
  boost::json::value body = json::parse(req.body, "request");
  REQUIRE(body.is_object());
  const auto& o = body.as_object();
  CHECK(o.at("grant_type") == "refresh_token");
  CHECK(o.at("refresh_token") == "rt-old");
  CHECK(o.at("client_id") == "public-client");
  CHECK(o.at("scope") == "read");
  CHECK_FALSE(o.contains("client_secret"));
  CHECK(o.size() == 4);
}

TEST_CASE("token requests: body_format and token_endpoint_auth_method take only what refold can send") {
  const auto parse = acme_failure;
  CHECK(parse(R"("body_format":"json")").code == REFOLD_OK);
  CHECK(parse(R"("token_endpoint_auth_method":"none")").code == REFOLD_OK);
  auto f = parse(R"("body_format":"xml")");
  CHECK(f.code == REFOLD_EINVALID);
  CHECK(f.message.find("app 'acme'") != std::string::npos);
  CHECK(f.message.find("'body_format' must be form or json") != std::string::npos);
  f = parse(R"("token_endpoint_auth_method":"private_key_jwt")");
  CHECK(f.code == REFOLD_EINVALID);
  CHECK(f.message.find("token_endpoint_auth_method") != std::string::npos);
}

TEST_CASE("token requests: a token parameter names the connection's tenant (Auth0's audience)") {
  TokenEndpoint provider;
  const catalog::App app = catalog::parse_app(
      json::parse(R"({"slug":"tenantish","name":"T","auth_types":["oauth2_cc"],
          "connection_fields":[{"name":"domain","label":"D","type":"text","host_suffixes":["example.com"]}],
          "oauth2_cc":{"token_endpoint":")" + provider.server.url("/token") + R"(",
            "token_endpoint_auth_method":"client_secret_post",
            "token_params":{"audience":"https://{connection.domain}/api/v2/"}}})",
                  "test"),
      "test");
  auto client = http::make_http_client(http::Options{});
  const oauth::ClientRegistration reg{"m2m", crypto::SecretString("m2m-secret"), "", std::nullopt};
  oauth::TokenSet stored;
  stored.connection = {{"domain", "acme.eu.example.com"}};
  oauth::RefreshResult r = oauth::fetch_client_credentials(*client, app, reg, {}, 1000, nullptr, &stored);
  CHECK(r.failure == oauth::RefreshFailure::none);
  std::lock_guard lock(provider.mu);
  REQUIRE(provider.seen.size() == 1);
  CHECK(provider.seen.back().body.find("audience=https%3A%2F%2Facme.eu.example.com%2Fapi%2Fv2%2F") !=
        std::string::npos);

  // A placeholder that names no connection field is refused by the catalog.
  refold_unit::Failure f = refold_unit::failure_of([&] {
    catalog::parse_app(json::parse(R"({"slug":"t","name":"T","auth_types":["oauth2_cc"],"oauth2_cc":{
        "token_endpoint":"https://t.example.com/token","token_params":{"audience":"https://{connection.nope}/"}}})",
                                   "test"),
                       "test");
  });
  CHECK(f.code == REFOLD_EINVALID);
  CHECK(f.message.find("'token_params'") != std::string::npos);
}
