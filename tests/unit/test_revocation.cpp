// Revocation declared by an app: an RFC 7009 endpoint, a request template
// (HubSpot, GitHub, Slack, Dropbox and the like) or "none"; the templates
// checked when the catalog loads and sent against a real loopback server.
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
#include "oauth/refresh.hpp"
#include "util/json.hpp"

using namespace refold;
using refold::test::ServerRequest;
using refold::test::ServerResponse;
using refold::test::TestServer;
using refold_unit::contains;

namespace {

// A provider that answers every request with `status` and `body`, and keeps
// what it was sent.
struct Provider {
  explicit Provider(int status = 200, std::string body = "")
      : server([this, status, body](const ServerRequest& r) {
          std::lock_guard lock(mu);
          seen.push_back(r);
          return ServerResponse{.status = status, .headers = {{"Content-Type", "application/json"}}, .body = body};
        }) {}

  std::vector<ServerRequest> requests() {
    std::lock_guard lock(mu);
    return seen;
  }

  std::mutex mu;
  std::vector<ServerRequest> seen;
  TestServer server;
};

catalog::App app_with(const std::string& revocation) {
  return catalog::parse_app(json::parse(R"({"slug":"acme","name":"Acme","auth_types":["oauth2"],"oauth2":{)"
                                        R"("authorization_endpoint":"https://acme.example/a",)"
                                        R"("token_endpoint":"https://acme.example/t",)"
                                        R"("revocation":)" + revocation + "}}",
                                        "test"),
                            "test");
}

refold_unit::Failure failure_with(const std::string& revocation) {
  return refold_unit::failure_of([&] { app_with(revocation); });
}

oauth::TokenSet tokens(bool with_refresh = true) {
  oauth::TokenSet t;
  t.access_token = crypto::SecretString("at/1 2");
  if (with_refresh) t.refresh_token = crypto::SecretString("rt+3");
  return t;
}

const oauth::ClientRegistration kClient{"client-9", crypto::SecretString("sec:ret"), "", std::nullopt};

}  // namespace

TEST_CASE("revocation: none, an RFC 7009 endpoint or a request, one of them") {
  CHECK(app_with(R"("none")").oauth2->revocation_none);
  CHECK_FALSE(app_with(R"("none")").oauth2->revocation.has_value());
  catalog::App hub = app_with(R"({"method":"DELETE","token":"refresh_token",
      "url":"https://api.hubapi.com/oauth/v1/refresh-tokens/{refresh_token}"})");
  REQUIRE(hub.oauth2->revocation.has_value());
  CHECK(hub.oauth2->revocation->method == "DELETE");
  CHECK(hub.oauth2->revocation->client_auth == "none");
  CHECK(hub.oauth2->revocation->token == "refresh_token");

  auto both = refold_unit::failure_of([] {
    catalog::parse_app(json::parse(R"({"slug":"acme","name":"Acme","auth_types":["oauth2"],"oauth2":{
        "authorization_endpoint":"https://acme.example/a","token_endpoint":"https://acme.example/t",
        "revocation_endpoint":"https://acme.example/r","revocation":"none"}})",
                                   "test"),
                       "test");
  });
  CHECK(both.code == REFOLD_EINVALID);
  CHECK(contains(both.message, "'acme'"));
  CHECK(contains(both.message, "revocation_endpoint"));
}

TEST_CASE("revocation: a bad request template names the app and the key") {
  struct Case {
    const char* revocation;
    const char* key;
    const char* says;
  };
  const Case cases[] = {
      {R"("never")", "revocation", "\"none\" or a request object"},
      {R"(true)", "revocation", "\"none\" or a request object"},
      {R"({"method":"PUT","url":"https://a.example/r"})", "method", "POST, DELETE or GET"},
      {R"({"method":"POST"})", "url", "url"},
      {R"({"url":"http://a.example/r"})", "url", "https"},
      {R"({"url":"https://a.example/r/{secret}"})", "url", "'{secret}'"},
      {R"({"url":"https://{client_id}.example/r"})", "url", "in its host"},
      {R"({"url":"https://a.example/r/{token"})", "url", "unclosed"},
      {R"({"url":"https://a.example/r","token":"id_token"})", "token", "access_token or refresh_token"},
      {R"({"url":"https://a.example/r","client_auth":"private_key_jwt"})", "client_auth", "bearer"},
      {R"({"url":"https://a.example/r","body_format":"xml"})", "body_format", "form or json"},
      {R"({"url":"https://a.example/r","params":{"token":7}})", "params", "must be a string"},
      {R"({"url":"https://a.example/r","headers":{"X-Id":"{user}"}})", "headers", "'{user}'"},
      {R"({"url":"https://a.example/r","expect_status":[204, 99]})", "expect_status", "status codes"},
      {R"({"url":"https://a.example/r","hint":"x"})", "hint", "hint"},
      // The client secret never goes into a URL.
      {R"({"method":"GET","url":"https://a.example/r","client_auth":"client_secret_post"})", "client_auth", "query"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.revocation);
    auto f = failure_with(c.revocation);
    CHECK(f.code == REFOLD_EINVALID);
    CHECK(contains(f.message, "'acme'"));
    CHECK(contains(f.message, c.key));
    CHECK(contains(f.message, c.says));
  }
}

TEST_CASE("revocation: a DELETE with the refresh token in its path and no client authentication") {
  Provider hubspot(204);
  catalog::App app = app_with(R"({"method":"DELETE","token":"refresh_token","url":")" +
                              hubspot.server.url("/oauth/v1/refresh-tokens/{refresh_token}") + R"("})");
  auto http = http::make_http_client(http::Options{});
  CHECK(oauth::revoke_by_request(*http, app, kClient, tokens()));
  auto seen = hubspot.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].method == "DELETE");
  CHECK(seen[0].target == "/oauth/v1/refresh-tokens/rt%2B3");  // percent-encoded in the path
  CHECK_FALSE(seen[0].header("Authorization").has_value());
  CHECK(seen[0].body.empty());

  // Without a refresh token there is nothing to revoke: no request.
  CHECK_FALSE(oauth::revoke_by_request(*http, app, kClient, tokens(false)));
  CHECK(hubspot.requests().size() == 1);
}

TEST_CASE("revocation: a DELETE of the grant with the client's Basic credentials and a JSON body") {
  Provider github(204);
  catalog::App app = app_with(R"({"method":"DELETE","client_auth":"client_secret_basic","body_format":"json",
      "params":{"access_token":"{token}"},"expect_status":[204],
      "headers":{"X-GitHub-Api-Version":"2022-11-28"},"url":")" +
                              github.server.url("/applications/{client_id}/grant") + R"("})");
  auto http = http::make_http_client(http::Options{});
  CHECK(oauth::revoke_by_request(*http, app, kClient, tokens()));
  auto seen = github.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].method == "DELETE");
  CHECK(seen[0].target == "/applications/client-9/grant");
  // RFC 6749 2.3.1: each part form-encoded, then Base64 of "client-9:sec%3Aret".
  CHECK(seen[0].header("Authorization") == "Basic Y2xpZW50LTk6c2VjJTNBcmV0");
  CHECK(seen[0].header("X-GitHub-Api-Version") == "2022-11-28");
  CHECK(seen[0].header("Content-Type") == "application/json");
  boost::json::value body = boost::json::parse(seen[0].body);
  CHECK(body == boost::json::value{{"access_token", "at/1 2"}});

  // A status the app did not list is not a revocation, even a 2xx.
  Provider other(200);
  catalog::App app2 = app_with(R"({"method":"DELETE","expect_status":[204],"url":")" +
                               other.server.url("/grant") + R"("})");
  CHECK_FALSE(oauth::revoke_by_request(*http, app2, kClient, tokens()));
}

TEST_CASE("revocation: a bearer POST whose 200 answer says ok false is not a revocation") {
  auto http = http::make_http_client(http::Options{});
  const std::string tmpl = R"({"client_auth":"bearer","url":"URL"})";
  auto with_url = [&](const std::string& url) {
    std::string t = tmpl;
    t.replace(t.find("URL"), 3, url);
    return app_with(t);
  };
  Provider refused(200, R"({"ok":false,"error":"invalid_auth"})");
  CHECK_FALSE(oauth::revoke_by_request(*http, with_url(refused.server.url("/api/auth.revoke")), kClient, tokens()));
  Provider error_only(200, R"({"error":"invalid_token"})");
  CHECK_FALSE(oauth::revoke_by_request(*http, with_url(error_only.server.url("/revoke")), kClient, tokens()));
  Provider failed(500, "");
  CHECK_FALSE(oauth::revoke_by_request(*http, with_url(failed.server.url("/revoke")), kClient, tokens()));

  Provider slack(200, R"({"ok":true,"revoked":true})");
  CHECK(oauth::revoke_by_request(*http, with_url(slack.server.url("/api/auth.revoke")), kClient, tokens()));
  auto seen = slack.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].method == "POST");
  CHECK(seen[0].header("Authorization") == "Bearer at/1 2");
  CHECK(seen[0].body.empty());
}

TEST_CASE("revocation: a GET carries its parameters in the query, the client's id among them") {
  Provider provider(200, "revoked");
  catalog::App app = app_with(R"({"method":"GET","client_auth":"none","params":{"client_id":"{client_id}","token":"{token}"},
      "url":")" + provider.server.url("/oauth_revoke_token.do?v=1") + R"("})");
  auto http = http::make_http_client(http::Options{});
  CHECK(oauth::revoke_by_request(*http, app, kClient, tokens()));  // a body that is not JSON is fine
  auto seen = provider.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].method == "GET");
  CHECK(seen[0].body.empty());
  const std::string& t = seen[0].target;
  REQUIRE(t.find('?') != std::string::npos);
  http::Params q = http::parse_query(t.substr(t.find('?') + 1));
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& [k, v] : q) got.emplace_back(k, std::string(v.view()));
  const std::vector<std::pair<std::string, std::string>> want{
      {"v", "1"}, {"client_id", "client-9"}, {"token", "at/1 2"}};
  CHECK(got == want);
}

TEST_CASE("catalog: category and docs_url") {
  auto load = [](const std::string& extra) {
    return catalog::parse_app(
        json::parse(R"({"slug":"k","name":"K","auth_types":["keybased"],)" + extra +
                        R"("keybased":{"fields":[{"name":"api_key","label":"Key","type":"text"}]}})",
                    "test"),
        "test");
  };
  catalog::App a = load(R"("category":"crm","docs_url":"https://developers.k.example/api",)");
  CHECK(a.category == "crm");
  CHECK(a.docs_url == "https://developers.k.example/api");
  auto bad_category = refold_unit::failure_of([&] { load(R"("category":"CRM",)"); });
  CHECK(bad_category.code == REFOLD_EINVALID);
  CHECK(contains(bad_category.message, "category"));
  CHECK(contains(bad_category.message, "project-management"));  // the list is given
  auto bad_docs = refold_unit::failure_of([&] { load(R"("docs_url":"http://k.example/docs",)"); });
  CHECK(bad_docs.code == REFOLD_EINVALID);
  CHECK(contains(bad_docs.message, "docs_url"));
}
