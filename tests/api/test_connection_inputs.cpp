// Connection inputs: an app whose provider has a host per tenant (Zendesk's
// "acme.zendesk.com"), through the C API against the sandbox made to serve
// tenants at "<tenant>.localhost" and to name the tenant in its token
// responses.
#include <doctest/doctest.h>

#include <thread>

#include "lifecycle_fixture.hpp"

using namespace refold_test;

namespace {

// "http://127.0.0.1:PORT/x" -> "http://{connection.tenant}.localhost:PORT/x".
std::string tenant_url(const bj::value& url) {
  std::string s(url.as_string());
  const std::string host = "127.0.0.1";
  auto at = s.find(host);
  REQUIRE(at != std::string::npos);
  return s.replace(at, host.size(), "{connection.tenant}.localhost");
}

// The sandbox app with every endpoint on the tenant's host, a required
// "tenant" input and an optional "region" select, and the sandbox serving
// only tenant hosts.
void tenant_app(Lifecycle& f) {
  f.server.admin_post("/admin/config", R"({"tenant_hosts": true})");
  const std::string base = f.server.base_url();
  f.reopen_with_sandbox([&](bj::object& app) {
    bj::object& oauth2 = app.at("oauth2").as_object();
    for (const char* key : {"authorization_endpoint", "token_endpoint", "revocation_endpoint"})
      oauth2[key] = tenant_url(oauth2.at(key));
    oauth2["token_response_metadata"] = bj::array{"tenant"};
    app["connection_fields"] = bj::array{
        bj::object{{"name", "tenant"}, {"label", "Your subdomain"}, {"type", "text"}},
        bj::object{{"name", "region"}, {"label", "Region"}, {"type", "select"}, {"required", false},
                   {"options", bj::array{bj::object{{"name", "Europe"}, {"value", "eu"}},
                                         bj::object{{"name", "United States"}, {"value", "us"}}}}}};
    app["api_base_url"] = tenant_url(bj::string(base + "/api/{connection.region}"));
  });
}

int begin(Lifecycle& f, const char* options, std::string& url) {
  char* out = nullptr;
  int rc = refold_oauth_begin(f.client.get(), "acct", "sandbox", options, &out);
  url = take(out);
  return rc;
}

}  // namespace

TEST_CASE("connection inputs: the tenant's host serves the flow, the refresh and the revocation") {
  Lifecycle f;
  tenant_app(f);
  std::string url;
  REQUIRE(begin(f, R"({"connection": {"tenant": "Acme", "region": "eu"}})", url) == REFOLD_OK);
  // The input picks the host, lower-cased.
  CHECK(url.rfind("http://acme.localhost:", 0) == 0);
  std::string callback = follow_authorize(url);
  REQUIRE_MESSAGE(refold_oauth_complete(f.client.get(), callback.c_str(), nullptr) == REFOLD_OK, last_error());

  int rc = 0;
  bj::object creds = parse(get_credentials(f.client.get(), "acct", "sandbox", rc)).as_object();
  REQUIRE(rc == REFOLD_OK);
  // The sandbox names the host the code was exchanged at.
  CHECK(creds.at("metadata").at("tenant") == "acme");
  // The inputs as given; the host takes the tenant lower-cased.
  CHECK(creds.at("connection").as_object() == bj::object{{"tenant", "Acme"}, {"region", "eu"}});
  const std::string port = url.substr(22, url.find('/', 22) - 22);
  CHECK(creds.at("api_base_url") == bj::value("http://acme.localhost:" + port + "/api/eu"));

  char* listing = nullptr;
  REQUIRE(refold_list_connections(f.client.get(), "acct", &listing) == REFOLD_OK);
  bj::array rows = parse(take(listing)).as_array();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].at("connection") == creds.at("connection"));

  // A refresh goes to the same tenant: the sandbox answers no other host.
  f.clock.ms = f.expires_at() + 1000;
  const std::string token = f.token_ok();
  CHECK(f.count("token_refresh") == 1);
  bj::object after = parse(get_credentials(f.client.get(), "acct", "sandbox", rc)).as_object();
  CHECK(after.at("metadata").at("tenant") == "acme");
  CHECK(after.at("connection") == creds.at("connection"));

  REQUIRE(refold_disconnect(f.client.get(), "acct", "sandbox") == REFOLD_OK);
  CHECK(f.count("revoke") == 2);
  CHECK(f.last_event("connection.deleted").at("revoked") == true);
  CHECK(f.me(token) == 401);
}

TEST_CASE("connection inputs: a missing, unknown or unusable input fails begin, naming it") {
  Lifecycle f;
  tenant_app(f);
  std::string url;
  CHECK(begin(f, nullptr, url) == REFOLD_EINVALID);
  CHECK(last_error().find("'tenant' is required") != std::string::npos);
  CHECK(begin(f, R"({"connection": {"tenant": "acme", "zone": "1"}})", url) == REFOLD_EINVALID);
  CHECK(last_error().find("'zone'") != std::string::npos);
  CHECK(begin(f, R"({"connection": {"tenant": "acme", "region": "mars"}})", url) == REFOLD_EINVALID);
  CHECK(last_error().find("'region'") != std::string::npos);
  // Not a host name label: it would change which host gets the tokens.
  for (const char* evil : {"evil.example#", "a.b", "x/y", "-acme", "", "127.0.0.1"}) {
    INFO(evil);
    bj::object options{{"connection", bj::object{{"tenant", evil}}}};
    CHECK(begin(f, to_json(options).c_str(), url) == REFOLD_EINVALID);
    const std::string e = last_error();
    CHECK(e.find("tenant") != std::string::npos);
    if (*evil) CHECK(e.find(evil) == std::string::npos);  // never the value
  }
  CHECK(url.empty());
  // Nothing was started: no flow, no connection.
  CHECK(f.count("token") == 0);
  CHECK(sql_scalar(f.store.path, "SELECT count(*) FROM connections") == "0");

  // The interactive flow cannot ask for the input: it says so before a
  // browser opens.
  CHECK(refold_connect(f.client.get(), "acct", "sandbox", nullptr) == REFOLD_EINVALID);
  CHECK(last_error().find("options.connection") != std::string::npos);
}

namespace {

// Plays the user's browser on its own thread: follows the authorization
// URL to the callback, and opens that.
struct TenantBrowser {
  static int open(const char* url, void* payload) {
    auto* b = static_cast<TenantBrowser*>(payload);
    b->opened = url;
    b->thread = std::thread([b] {
      HttpResult r = curl("GET", b->opened);
      auto at = r.headers.find("location");
      if (r.status == 302 && at != r.headers.end()) b->page = curl("GET", at->second).status;
    });
    return 0;
  }
  ~TenantBrowser() {
    if (thread.joinable()) thread.join();
  }
  std::string opened;
  int page = 0;
  std::thread thread;
};

}  // namespace

TEST_CASE("connection inputs: the interactive flow takes them with refold_connect_oauth") {
  Lifecycle f;
  tenant_app(f);
  TenantBrowser browser;
  REQUIRE(refold_set_url_opener(f.client.get(), &TenantBrowser::open, &browser, nullptr) == REFOLD_OK);

  // Checked before a browser opens, by name.
  CHECK(refold_connect_oauth(f.client.get(), "acct", "sandbox", R"({"connection": {"tenant": "a b"}})") ==
        REFOLD_EINVALID);
  CHECK(last_error().find("tenant") != std::string::npos);
  CHECK(refold_connect_oauth(f.client.get(), "acct", "sandbox", nullptr) == REFOLD_EINVALID);
  CHECK(last_error().find("refold_connect_oauth") != std::string::npos);
  CHECK(refold_connect_oauth(f.client.get(), "acct", "sandbox",
                             R"({"redirect_uri": "http://127.0.0.1:9/cb", "connection": {"tenant": "acme"}})") ==
        REFOLD_EINVALID);
  CHECK(last_error().find("redirect_uri") != std::string::npos);
  CHECK(refold_connect_oauth(f.client.get(), "acct", "sandbox-keys", nullptr) == REFOLD_EINVALID);
  CHECK(browser.opened.empty());

  REQUIRE_MESSAGE(refold_connect_oauth(f.client.get(), "acct", "sandbox",
                                       R"({"connection": {"tenant": "acme", "region": "us"}, "scopes": ["read"]})") ==
                      REFOLD_OK,
                  last_error());
  browser.thread.join();
  CHECK(browser.opened.rfind("http://acme.localhost:", 0) == 0);
  CHECK(browser.page == 200);
  int rc = 0;
  bj::object creds = parse(get_credentials(f.client.get(), "acct", "sandbox", rc)).as_object();
  REQUIRE(rc == REFOLD_OK);
  CHECK(creds.at("connection") == bj::object{{"tenant", "acme"}, {"region", "us"}});
  CHECK(creds.at("metadata").at("tenant") == "acme");
  CHECK(creds.at("scopes") == bj::array{"read"});
}

TEST_CASE("connection inputs: the sandbox refuses a request to its bare address when it serves tenants") {
  // What the test above relies on: were refold to send the token request
  // to the app's untemplated host, it would fail.
  Lifecycle f;
  f.server.admin_post("/admin/config", R"({"tenant_hosts": true})");
  HttpResult r = curl("POST", f.server.base_url() + "/oauth/token", "grant_type=refresh_token&refresh_token=x",
                      {"Content-Type: application/x-www-form-urlencoded"});
  CHECK(r.status == 404);
  CHECK(r.body.find("tenant") != std::string::npos);
}

TEST_CASE("connection inputs: a host input names the tenant's whole domain, within the app's suffixes") {
  Lifecycle f({"--auto-approve", "--access-token-ttl", "600"});
  f.server.admin_post("/admin/config", R"({"tenant_hosts": true})");
  const std::string port = f.server.base_url().substr(f.server.base_url().rfind(':') + 1);
  // An Auth0-like client-credentials app: the token endpoint on the
  // tenant's own domain, named in a token parameter too.
  f.reopen_with_config([&](bj::object& cfg) {
    cfg.at("catalog").as_array().push_back(bj::object{
        {"slug", "tenant-cc"},
        {"name", "Tenant machine to machine"},
        {"auth_types", bj::array{"oauth2_cc"}},
        {"connection_fields", bj::array{bj::object{{"name", "domain"}, {"label", "Domain"}, {"type", "text"},
                                                   {"host_suffixes", bj::array{"localhost"}}}}},
        {"api_base_url", "https://{connection.domain}/api/v2"},
        {"oauth2_cc", bj::object{{"token_endpoint", "http://{connection.domain}:" + port + "/oauth/token"},
                                 {"revocation_endpoint", "http://{connection.domain}:" + port + "/oauth/revoke"},
                                 {"token_params", bj::object{{"audience", "https://{connection.domain}/api/v2/"}}},
                                 {"token_response_metadata", bj::array{"tenant"}}}}});
  });
  auto payload = [](const char* domain) {
    return to_json(bj::object{{"client_id", kClientId}, {"client_secret", kSecret}, {"connection", {{"domain", domain}}}});
  };
  // The listing shows a custom UI the domains the input must be within.
  char* apps = nullptr;
  REQUIRE(refold_list_apps(f.client.get(), nullptr, &apps) == REFOLD_OK);
  bool listed = false;
  const bj::value catalog = parse(take(apps));
  for (const auto& app : catalog.as_array()) {
    if (app.at("slug") != "tenant-cc") continue;
    listed = true;
    CHECK(bj::serialize(app.at("connection_fields").at(0).at("host_suffixes")) == R"(["localhost"])");
  }
  CHECK(listed);

  // Outside the suffixes, or not a host name: refused by name before any
  // request.
  for (const char* bad : {"acme.example.com", "acme.localhost.example", "acme..localhost", "acme/localhost", ""}) {
    CAPTURE(bad);
    CHECK(refold_connect(f.client.get(), "acct", "tenant-cc", payload(bad).c_str()) == REFOLD_EINVALID);
    CHECK(last_error().find("'domain'") != std::string::npos);
  }
  CHECK(refold_connect(f.client.get(), "acct", "tenant-cc", payload("acme.example.com").c_str()) == REFOLD_EINVALID);
  CHECK(last_error() == "connection: field 'domain' must be a host name within localhost");
  CHECK(f.count("token") == 0);

  REQUIRE_MESSAGE(refold_connect(f.client.get(), "acct", "tenant-cc", payload("ACME.localhost").c_str()) == REFOLD_OK,
                  last_error());
  int rc = 0;
  bj::object creds = parse(get_credentials(f.client.get(), "acct", "tenant-cc", rc)).as_object();
  REQUIRE(rc == REFOLD_OK);
  // The sandbox names the tenant whose host was asked.
  CHECK(creds.at("metadata").at("tenant") == "acme");
  CHECK(creds.at("connection").at("domain") == "acme.localhost");
  CHECK(creds.at("api_base_url") == "https://acme.localhost/api/v2");
  REQUIRE(refold_disconnect(f.client.get(), "acct", "tenant-cc") == REFOLD_OK);
  CHECK(f.count("revoke") == 1);
}

TEST_CASE("connection inputs: host inputs are checked in the catalog") {
  Lifecycle f;
  auto refused = [&](bj::value field, const std::string& url, const char* want) {
    const std::string err = refused_catalog(f, [&](bj::object& app) {
      app["connection_fields"] = bj::array{field};
      app.at("oauth2").as_object()["token_endpoint"] = url;
    });
    CAPTURE(err);
    CHECK(err.find(want) != std::string::npos);
  };
  const bj::object host{{"name", "domain"}, {"label", "Domain"}, {"type", "text"},
                        {"host_suffixes", bj::array{"auth0.com"}}};
  refused(host, "https://{connection.domain}.auth0.com/oauth/token", "alone at the end of its host");
  refused(bj::object{{"name", "domain"}, {"label", "Domain"}, {"type", "text"}, {"host_suffixes", bj::array{"com"}}},
          "https://{connection.domain}/t", "'host_suffixes'");
  refused(bj::object{{"name", "domain"}, {"label", "Domain"}, {"type", "text"},
                     {"host_suffixes", bj::array{"Auth0.com"}}},
          "https://{connection.domain}/t", "'host_suffixes'");
  refused(bj::object{{"name", "domain"}, {"label", "Domain"}, {"type", "select"},
                     {"options", bj::array{bj::object{{"name", "a"}, {"value", "a.auth0.com"}}}},
                     {"host_suffixes", bj::array{"auth0.com"}}},
          "https://{connection.domain}/t", "applies only to text fields");
  refused(bj::object{{"name", "domain"}, {"label", "Domain"}, {"type", "text"},
                     {"host_suffixes", bj::array{"localhost", "auth0.com"}}},
          "https://{connection.domain}/t", "may not mix localhost");
  refused(bj::object{{"name", "subdomain"}, {"label", "Subdomain"}, {"type", "text"}},
          "https://{connection.subdomain}/oauth/token", "whole label");
}

TEST_CASE("connection inputs: an optional input the token requests need is asked for before the user consents") {
  Lifecycle f;
  f.reopen_with_sandbox([&](bj::object& app) {
    app["connection_fields"] = bj::array{bj::object{{"name", "org"}, {"label", "Org"}, {"type", "text"},
                                                    {"required", false}}};
    app.at("oauth2").as_object()["token_params"] = bj::object{{"audience", "https://api.example.com/{connection.org}"}};
  });
  char* url = nullptr;
  CHECK(refold_oauth_begin(f.client.get(), "acct", "sandbox", nullptr, &url) == REFOLD_EINVALID);
  CHECK(last_error() == "app 'sandbox' needs the connection input 'org' for its token requests");
  CHECK(f.count("authorize") == 0);
  const std::string options = to_json(bj::object{{"connection", {{"org", "acme"}}}});
  REQUIRE_MESSAGE(refold_oauth_begin(f.client.get(), "acct", "sandbox", options.c_str(), &url) == REFOLD_OK,
                  last_error());
  REQUIRE_MESSAGE(refold_oauth_complete(f.client.get(), follow_authorize(take(url)).c_str(), nullptr) == REFOLD_OK,
                  last_error());
}

TEST_CASE("connection inputs: a key-based app's field picks the host its verification goes to") {
  Lifecycle f;
  f.server.admin_post("/admin/config", R"({"tenant_hosts": true})");
  // The sandbox key app with a required "tenant" field whose host serves
  // the verification, as Zendesk's subdomain does for its API tokens.
  f.reopen_with_config([](bj::object& cfg) {
    bj::object& keybased = cfg.at("catalog").as_array().at(1).as_object().at("keybased").as_object();
    keybased.at("fields").as_array().push_back(
        bj::object{{"name", "tenant"}, {"label", "Subdomain"}, {"type", "text"}});
    std::string url = tenant_url(keybased.at("verify").at("url"));
    url.replace(url.find("{connection.tenant}"), 19, "{tenant}");
    keybased.at("verify").as_object()["url"] = url;
  });

  const std::string key = "sk_sandbox_acme_" + random_token(20);
  auto payload = [&](const char* tenant) {
    return to_json(bj::object{{"tenant", tenant}, {"api_key", key}});
  };
  REQUIRE_MESSAGE(refold_connect(f.client.get(), "acct", "sandbox-keys", payload("Acme").c_str()) == REFOLD_OK,
                  last_error());
  CHECK(field_is(credential_fields(f.client.get(), "acct", "sandbox-keys"), "tenant", "Acme"));
  // Acme's key at another tenant's host is refused there, and nothing
  // stored changes.
  CHECK(refold_connect(f.client.get(), "acct", "sandbox-keys", payload("globex").c_str()) == REFOLD_EAUTH);
  CHECK(last_error().find(key) == std::string::npos);
  CHECK(field_is(credential_fields(f.client.get(), "acct", "sandbox-keys"), "tenant", "Acme"));
  CHECK(f.count("keys_verify") == 2);
  // A value that is not one label would change the host: refused before
  // any request, naming the field and not the value.
  CHECK(refold_connect(f.client.get(), "acct", "sandbox-keys", payload("evil.example").c_str()) == REFOLD_EINVALID);
  CHECK(last_error().find("'tenant'") != std::string::npos);
  CHECK(last_error().find("evil.example") == std::string::npos);
  CHECK(f.count("keys_verify") == 2);
  CHECK(field_is(credential_fields(f.client.get(), "acct", "sandbox-keys"), "tenant", "Acme"));
}

TEST_CASE("connection inputs: a key-based host input (Okta's domain) verifies at the tenant's whole domain") {
  Lifecycle f;
  f.server.admin_post("/admin/config", R"({"tenant_hosts": true})");
  const std::string port = f.server.base_url().substr(f.server.base_url().rfind(':') + 1);
  f.reopen_with_config([&](bj::object& cfg) {
    cfg.at("catalog").as_array().push_back(bj::object{
        {"slug", "tenant-keys"},
        {"name", "Tenant keys"},
        {"auth_types", bj::array{"keybased"}},
        {"keybased",
         bj::object{{"fields", bj::array{bj::object{{"name", "domain"}, {"label", "Domain"}, {"type", "text"},
                                                    {"host_suffixes", bj::array{"localhost"}}},
                                         bj::object{{"name", "api_key"}, {"label", "Key"}, {"type", "text"},
                                                    {"secret", true}}}},
                    {"verify", bj::object{{"url", "http://{domain}:" + port + "/keys/verify"},
                                          {"headers", bj::object{{"Authorization", "Bearer {api_key}"}}}}}}}});
  });
  const std::string key = "sk_sandbox_acme_" + random_token(20);
  auto payload = [&](const char* domain) { return to_json(bj::object{{"domain", domain}, {"api_key", key}}); };

  // Outside the suffixes: refused by name before any request.
  CHECK(refold_connect(f.client.get(), "acct", "tenant-keys", payload("acme.example.com").c_str()) == REFOLD_EINVALID);
  CHECK(last_error().find("'domain'") != std::string::npos);
  CHECK(f.count("keys_verify") == 0);
  // The tenant's own domain takes its key; another tenant's refuses it.
  REQUIRE_MESSAGE(refold_connect(f.client.get(), "acct", "tenant-keys", payload("ACME.localhost").c_str()) == REFOLD_OK,
                  last_error());
  CHECK(refold_connect(f.client.get(), "acct", "tenant-keys", payload("globex.localhost").c_str()) == REFOLD_EAUTH);
  CHECK(f.count("keys_verify") == 2);
  CHECK(field_is(credential_fields(f.client.get(), "acct", "tenant-keys"), "domain", "acme.localhost"));
}
