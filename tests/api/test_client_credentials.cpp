// Client-credentials apps (oauth2_cc) through the C API against the
// sandbox: a connect fetches a token with the payload's client (or the
// host's registration), reads serve it, the lifecycle fetches another
// before it expires, a refused client needs the user again, and a
// disconnect revokes the token.
#include <doctest/doctest.h>

#include "lifecycle_fixture.hpp"

using namespace refold_test;

namespace {

// Adds the "sandbox-cc" app (and, with `registered`, the host's client for
// it) to the fixture's config and opens the client again.
void add_cc_app(Lifecycle& f, bool registered = false, bj::object extra = {}) {
  bj::object cfg = parse(f.config).as_object();
  const std::string base = f.server.base_url();
  bj::object def{{"token_endpoint", base + "/oauth/token"},
                 {"revocation_endpoint", base + "/oauth/revoke"},
                 {"scopes", bj::array{"read"}}};
  for (const auto& kv : extra) def[kv.key()] = kv.value();
  cfg.at("catalog").as_array().push_back(bj::object{{"slug", "sandbox-cc"},
                                                     {"name", "Sandbox machine to machine"},
                                                     {"auth_types", bj::array{"oauth2_cc"}},
                                                     {"oauth2_cc", std::move(def)}});
  if (registered)
    cfg.at("oauth_clients").as_object()["sandbox-cc"] = bj::object{{"client_id", kClientId}, {"client_secret", kSecret}};
  f.config = to_json(cfg);
  f.client.reset();
  f.client = f.open(f.config);
}

std::string own_client(const char* secret = kSecret) {
  return to_json(bj::object{{"client_id", kClientId}, {"client_secret", secret}});
}

double cc_expires_at(Lifecycle& f) {
  return std::stod(sql_scalar(f.store.path, "SELECT expires_at FROM connections WHERE app = 'sandbox-cc'"));
}

std::string cc_token(Lifecycle& f, int& rc) {
  std::string creds = get_credentials(f.client.get(), "acct", "sandbox-cc", rc);
  return rc == REFOLD_OK ? str_at(parse(creds).as_object(), "access_token") : "";
}

}  // namespace

TEST_CASE("client credentials: a connect fetches a token, reads serve it, another is fetched before expiry, and "
          "a disconnect revokes it") {
  Lifecycle f({"--auto-approve", "--access-token-ttl", "600"});
  add_cc_app(f);
  REQUIRE_MESSAGE(refold_connect(f.client.get(), "acct", "sandbox-cc", own_client().c_str()) == REFOLD_OK,
                  last_error());
  CHECK(f.count("token_client_credentials") == 1);
  bj::object created = f.last_event("connection.created");
  CHECK(str_at(created, "auth_type") == "oauth2_cc");

  int rc = 0;
  const std::string text = get_credentials(f.client.get(), "acct", "sandbox-cc", rc);
  REQUIRE(rc == REFOLD_OK);
  CHECK(text.find(kSecret) == std::string::npos);  // the client secret is never handed out
  bj::object creds = parse(text).as_object();
  CHECK(creds.at("auth_type") == "oauth2_cc");
  CHECK(creds.at("client_id") == kClientId);
  CHECK(creds.at("scopes") == bj::array{"read"});
  const std::string first = str_at(creds, "access_token");
  CHECK(f.me(first) == 200);
  char* list = nullptr;
  REQUIRE(refold_list_connections(f.client.get(), "acct", &list) == REFOLD_OK);
  bj::array rows = parse(take(list)).as_array();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].at("auth_type") == "oauth2_cc");
  CHECK(rows[0].at("next_refresh_at").is_string());

  // Past its expiry, a read waits for a new grant with the same client.
  f.clock.ms = cc_expires_at(f) + 1000;
  const std::string second = cc_token(f, rc);
  REQUIRE_MESSAGE(rc == REFOLD_OK, last_error());
  CHECK_FALSE(same(first, second));
  CHECK(f.count("token_client_credentials") == 2);
  CHECK(f.count("token_refresh") == 0);
  CHECK(f.me(second) == 200);
  CHECK(str_at(f.last_event("connection.refreshed"), "auth_type") == "oauth2_cc");

  // A passing failure keeps the valid token and backs off.
  f.server.admin_post("/admin/fail", R"({"endpoint": "token", "mode": "500"})");
  f.clock.ms = cc_expires_at(f) - 60 * 1000;  // inside the refresh window
  CHECK(same(cc_token(f, rc), second));
  REQUIRE(eventually([&] { return f.count_type("connection.refresh_failed") == 1; }));
  CHECK(sql_scalar(f.store.path, "SELECT status || refresh_failures FROM connections") == "active1");

  // A disconnect revokes the token at the provider.
  REQUIRE(refold_disconnect(f.client.get(), "acct", "sandbox-cc") == REFOLD_OK);
  CHECK(f.count("revoke") == 1);
  CHECK(f.me(second) == 401);
  CHECK(sql_scalar(f.store.path, "SELECT count(*) FROM connections") == "0");
}

TEST_CASE("client credentials: a refused client fails the connect, and later makes the connection need the user") {
  Lifecycle f({"--auto-approve", "--access-token-ttl", "600"});
  add_cc_app(f);
  CHECK(refold_connect(f.client.get(), "acct", "sandbox-cc", own_client("not-the-secret-9876").c_str()) ==
        REFOLD_EAUTH);
  const std::string err = last_error();
  CHECK(err.find("invalid_client") != std::string::npos);
  CHECK(err.find("not-the-secret-9876") == std::string::npos);
  CHECK(sql_scalar(f.store.path, "SELECT count(*) FROM connections") == "0");
  CHECK(f.types().empty());

  REQUIRE(refold_connect(f.client.get(), "acct", "sandbox-cc", own_client().c_str()) == REFOLD_OK);
  // The client was deleted at the provider meanwhile.
  f.server.admin_post("/admin/fail", R"({"endpoint": "token", "mode": "invalid_client"})");
  f.clock.ms = cc_expires_at(f) + 1000;
  int rc = 0;
  cc_token(f, rc);
  CHECK(rc == REFOLD_EREAUTH);
  CHECK(sql_scalar(f.store.path, "SELECT status || '/' || reason FROM connections") ==
        "reauth_required/invalid_client");
  bj::object expired = f.last_event("connection.expired");
  CHECK(str_at(expired, "auth_type") == "oauth2_cc");
  CHECK(str_at(expired, "reason") == "invalid_client");
  cc_token(f, rc);
  CHECK(rc == REFOLD_EREAUTH);
  CHECK(f.count_type("connection.expired") == 1);
  CHECK(f.count("token_client_credentials") == 3);  // the failed connect, the connect, the refused renewal

  // Connecting again with a good client makes it active.
  REQUIRE(refold_connect(f.client.get(), "acct", "sandbox-cc", own_client().c_str()) == REFOLD_OK);
  CHECK(f.count_type("connection.reauthenticated") == 1);
  CHECK(!cc_token(f, rc).empty());
  CHECK(rc == REFOLD_OK);
}

TEST_CASE("client credentials: the host's registration stands in for the payload's client") {
  Lifecycle f;
  add_cc_app(f, true);
  REQUIRE_MESSAGE(refold_connect(f.client.get(), "acct", "sandbox-cc", nullptr) == REFOLD_OK, last_error());
  REQUIRE_MESSAGE(refold_connect(f.client.get(), "other", "sandbox-cc", "{}") == REFOLD_OK, last_error());
  CHECK(f.count("token_client_credentials") == 2);
  int rc = 0;
  bj::object creds = parse(get_credentials(f.client.get(), "acct", "sandbox-cc", rc)).as_object();
  REQUIRE(rc == REFOLD_OK);
  CHECK_FALSE(creds.contains("client_id"));  // the host's own registration is not the connection's
  CHECK(f.me(str_at(creds, "access_token")) == 200);
}

TEST_CASE("client credentials: bad payloads are refused by name, never by value, before any request") {
  Lifecycle f;
  add_cc_app(f);
  const std::string secret = "payload-secret-value-0xfeed";
  struct Case {
    std::string payload;
    const char* names;
  };
  const Case cases[] = {
      {"{}", "client_id and client_secret, or oauth_clients.sandbox-cc"},
      {to_json(bj::object{{"client_secret", secret}}), "'client_id' is required"},
      {to_json(bj::object{{"client_id", kClientId}}), "'client_secret' is required"},
      {to_json(bj::object{{"client_id", kClientId}, {"client_secret", ""}}), "'client_secret' is required"},
      {to_json(bj::object{{"client_id", kClientId}, {"client_secret", secret}, {"api_key", secret}}),
       "'api_key' is not a known key"},
      {to_json(bj::object{{"client_id", kClientId}, {"client_secret", secret}, {"connection", {{"tenant", "x"}}}}),
       "tenant"},
      {to_json(bj::object{{"client_id", kClientId}, {"client_secret", secret}, {"scopes", "read"}}), "'scopes'"},
      {"[]", "payload must be a JSON object"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.names);
    CHECK(refold_connect(f.client.get(), "acct", "sandbox-cc", c.payload.c_str()) == REFOLD_EINVALID);
    const std::string err = last_error();
    CHECK_MESSAGE(err.find(c.names) != std::string::npos, err);
    CHECK(err.find(secret) == std::string::npos);
  }
  CHECK(refold_connect(f.client.get(), "acct", "sandbox-cc", nullptr) == REFOLD_EINVALID);
  CHECK(f.count("token") == 0);
  CHECK(sql_scalar(f.store.path, "SELECT count(*) FROM connections") == "0");

  // There is no user to send to a browser.
  char* url = nullptr;
  CHECK(refold_oauth_begin(f.client.get(), "acct", "sandbox-cc", nullptr, &url) == REFOLD_EINVALID);
  CHECK(last_error().find("client-credentials") != std::string::npos);
  CHECK(url == nullptr);
}

TEST_CASE("client credentials: connection inputs pick the tenant's host for every token, and metadata is kept") {
  Lifecycle f({"--auto-approve", "--access-token-ttl", "600"});
  f.server.admin_post("/admin/config", R"({"tenant_hosts": true})");
  add_cc_app(f, false, bj::object{{"token_response_metadata", bj::array{"tenant"}}});
  // The token endpoint on the tenant's host, with a "tenant" input.
  bj::object cfg = parse(f.config).as_object();
  bj::object& app = cfg.at("catalog").as_array().back().as_object();
  bj::object& def = app.at("oauth2_cc").as_object();
  for (const char* key : {"token_endpoint", "revocation_endpoint"}) {
    std::string url(def.at(key).as_string());
    url.replace(url.find("127.0.0.1"), 9, "{connection.tenant}.localhost");
    def[key] = url;
  }
  app["connection_fields"] = bj::array{bj::object{{"name", "tenant"}, {"label", "Tenant"}, {"type", "text"}}};
  f.config = to_json(cfg);
  f.client.reset();
  f.client = f.open(f.config);

  const std::string payload = to_json(bj::object{{"client_id", kClientId}, {"client_secret", kSecret},
                                                  {"connection", {{"tenant", "acme"}}}});
  REQUIRE_MESSAGE(refold_connect(f.client.get(), "acct", "sandbox-cc", payload.c_str()) == REFOLD_OK, last_error());
  int rc = 0;
  bj::object creds = parse(get_credentials(f.client.get(), "acct", "sandbox-cc", rc)).as_object();
  REQUIRE(rc == REFOLD_OK);
  CHECK(creds.at("connection") == bj::object{{"tenant", "acme"}});
  CHECK(creds.at("metadata") == bj::object{{"tenant", "acme"}});

  f.clock.ms = cc_expires_at(f) + 1000;
  cc_token(f, rc);
  REQUIRE_MESSAGE(rc == REFOLD_OK, last_error());
  CHECK(f.count("token_client_credentials") == 2);
  REQUIRE(refold_disconnect(f.client.get(), "acct", "sandbox-cc") == REFOLD_OK);
  CHECK(f.count("revoke") == 1);

  // Without the input, nothing is asked of the provider.
  CHECK(refold_connect(f.client.get(), "acct", "sandbox-cc", own_client().c_str()) == REFOLD_EINVALID);
  CHECK(last_error().find("tenant") != std::string::npos);
  CHECK(f.count("token_client_credentials") == 2);
}

TEST_CASE("client credentials: an import brings the client and the token it holds, or has one fetched") {
  Lifecycle f({"--auto-approve", "--access-token-ttl", "600"});
  add_cc_app(f, false, bj::object{{"after_connect", bj::object{{"url", f.server.base_url() + "/api/me"},
                                                               {"metadata", bj::object{{"sub", "sub"}}}}}});
  // A token the host's old system got with the customer's client.
  HttpResult got = curl("POST", f.server.base_url() + "/oauth/token",
                        std::string("grant_type=client_credentials&scope=read&client_id=") + kClientId +
                            "&client_secret=" + kSecret,
                        {"Content-Type: application/x-www-form-urlencoded"});
  REQUIRE_MESSAGE(got.status == 200, got.body);
  const std::string token = str_at(parse(got.body).as_object(), "access_token");
  REQUIRE(f.count("token_client_credentials") == 1);

  // No auth_type: the app's kind. The client is sealed with the connection.
  bj::object credentials{{"client_id", kClientId}, {"client_secret", kSecret}, {"access_token", token},
                         {"expires_at", "2001-01-01T00:00:00Z"}, {"metadata", {{"sub", "client:x"}}}};
  REQUIRE_MESSAGE(refold_import_connection(f.client.get(), "acct", "sandbox-cc", to_json(credentials).c_str()) ==
                      REFOLD_OK,
                  last_error());
  CHECK(f.count("token_client_credentials") == 1);  // nothing asked of the provider
  CHECK(f.count("me") == 0);                        // nor the lookup: the import brought its value
  CHECK(str_at(f.last_event("connection.created"), "auth_type") == "oauth2_cc");
  // Expired as imported: the first read fetches a new one with that client.
  int rc = 0;
  const std::string fresh = cc_token(f, rc);
  REQUIRE_MESSAGE(rc == REFOLD_OK, last_error());
  CHECK(fresh != token);
  CHECK(f.count("token_client_credentials") == 2);
  bj::object creds = parse(get_credentials(f.client.get(), "acct", "sandbox-cc", rc)).as_object();
  CHECK(creds.at("client_id") == kClientId);
  CHECK(creds.at("metadata").at("sub") == "client:x");
  REQUIRE(refold_disconnect(f.client.get(), "acct", "sandbox-cc") == REFOLD_OK);

  // Without a token, one is fetched now, as a connect does, and the
  // lookup runs.
  credentials.erase("access_token");
  credentials.erase("expires_at");
  credentials.erase("metadata");
  REQUIRE_MESSAGE(refold_import_connection(f.client.get(), "acct", "sandbox-cc", to_json(credentials).c_str()) ==
                      REFOLD_OK,
                  last_error());
  CHECK(f.count("token_client_credentials") == 3);
  creds = parse(get_credentials(f.client.get(), "acct", "sandbox-cc", rc)).as_object();
  CHECK(creds.at("metadata").at("sub").as_string() == std::string("client:") + kClientId);
  CHECK(f.me(str_at(creds, "access_token")) == 200);
}

TEST_CASE("client credentials: a bad import names what is wrong and stores nothing") {
  Lifecycle f({"--auto-approve", "--access-token-ttl", "600"});
  add_cc_app(f);
  auto refused = [&](const bj::object& credentials, int code, const char* want) {
    CAPTURE(want);
    CHECK(refold_import_connection(f.client.get(), "acct", "sandbox-cc", to_json(credentials).c_str()) == code);
    CHECK(last_error().find(want) != std::string::npos);
    CHECK(last_error().find(kSecret) == std::string::npos);
  };
  refused({{"access_token", "at-1234"}}, REFOLD_EINVALID, "'client_id' and 'client_secret'");
  refused({{"client_id", kClientId}}, REFOLD_EINVALID, "'client_secret'");
  refused({{"client_id", kClientId}, {"client_secret", kSecret}, {"expires_at", "2030-01-01T00:00:00Z"}},
          REFOLD_EINVALID, "'expires_at' is given without an access_token");
  refused({{"client_id", kClientId}, {"client_secret", kSecret}, {"refresh_token", "rt-1234"}}, REFOLD_EINVALID,
          "'refresh_token'");
  refused({{"auth_type", "oauth2"}, {"access_token", "at-1234"}}, REFOLD_EINVALID, "does not offer oauth2");
  // A client the provider refuses, with no token to bring: refused by it.
  refused({{"client_id", kClientId}, {"client_secret", "not-the-secret-9876"}}, REFOLD_EAUTH, "invalid_client");
  CHECK(sql_scalar(f.store.path, "SELECT count(*) FROM connections") == "0");
  CHECK(f.types().empty());
}

TEST_CASE("client credentials: a failed after_connect lookup stores nothing and revokes the token") {
  Lifecycle f({"--auto-approve", "--access-token-ttl", "600"});
  add_cc_app(f, false, bj::object{{"after_connect", bj::object{{"url", f.server.base_url() + "/api/resources"},
                                                               {"metadata", bj::object{{"site", "0.id"}}}}}});
  f.server.admin_post("/admin/fail", R"({"endpoint": "resources", "mode": "500"})");
  CHECK(refold_connect(f.client.get(), "acct", "sandbox-cc", own_client().c_str()) == REFOLD_EPROVIDER);
  CHECK(last_error().find("after_connect") != std::string::npos);
  CHECK(sql_scalar(f.store.path, "SELECT count(*) FROM connections") == "0");
  CHECK(f.types().empty());
  // The token fetched is handed back (RFC 7009: the sandbox revokes that
  // token; a client-credentials grant has no refresh token).
  CHECK(f.count("revoke") == 1);
}
