// The catalog's settings for providers that depart from RFC 6749, each
// through the C API against the sandbox made to behave like them: a
// connect, reads, a refresh and a disconnect with errors that come back
// with HTTP 200 (Slack), a token endpoint that takes one kind of client
// authentication only, JSON token requests (Notion), answers without
// expires_in, and the after-connect lookup that fills metadata (Jira's
// cloudId, Xero's tenant).
#include <doctest/doctest.h>

#include "lifecycle_fixture.hpp"

using namespace refold_test;

namespace {

void sandbox_config(Lifecycle& f, const std::string& json) {
  f.server.admin_post("/admin/config", json);
}

// A refresh, then a disconnect that revokes at the sandbox: the rest of
// what each quirk's connection must go through.
void refresh_and_disconnect(Lifecycle& f) {
  const std::string first = f.token_ok();
  f.clock.ms = f.expires_at() + 1000;
  const std::string second = f.token_ok();
  CHECK(second != first);
  CHECK(f.count("token_refresh") == 1);
  CHECK(f.me(second) == 200);
  REQUIRE_MESSAGE(refold_disconnect(f.client.get(), "acct", "sandbox") == REFOLD_OK, last_error());
  CHECK(f.count("revoke") >= 1);
  CHECK(f.me(second) == 401);
  CHECK(sql_scalar(f.store.path, "SELECT count(*) FROM connections") == "0");
}

bj::array sandbox_grants(Lifecycle& f) {
  return parse(curl("GET", f.server.base_url() + "/admin/grants").body).at("grants").as_array();
}

// What the sandbox's lookup at `path` answers the connection's access
// token (in `creds`), read the way a host would.
bj::value sandbox_answer(Lifecycle& f, const char* path, const bj::object& creds) {
  return parse(curl("GET", f.server.base_url() + path, "", {"Authorization: Bearer " + str_at(creds, "access_token")})
                   .body);
}

// Runs the authorization and returns what refold_oauth_complete returned.
int try_connect(Lifecycle& f) {
  char* url = nullptr;
  REQUIRE_MESSAGE(refold_oauth_begin(f.client.get(), "acct", "sandbox", nullptr, &url) == REFOLD_OK, last_error());
  std::string callback = follow_authorize(take(url));
  return refold_oauth_complete(f.client.get(), callback.c_str(), nullptr);
}

}  // namespace

TEST_CASE("provider quirks: errors that come with HTTP 200 (Slack's ok:false) are taken as the errors they are") {
  Lifecycle f;
  sandbox_config(f, R"({"errors_with_200": true})");
  f.connect();
  CHECK(f.status() == "active/");
  refresh_and_disconnect(f);

  // A refused refresh in a 200 makes the connection need its user, once.
  f.connect();
  f.server.admin_post("/admin/grants/revoke", R"({"all": true})");
  f.clock.ms = f.expires_at() + 1000;
  int rc = 0;
  f.token(rc);
  CHECK(rc == REFOLD_EREAUTH);
  CHECK(f.status() == "reauth_required/invalid_grant");
  CHECK(f.count_type("connection.expired") == 1);

  // A refused code exchange in a 200 fails the connect by its error.
  REQUIRE_MESSAGE(refold_disconnect(f.client.get(), "acct", "sandbox") == REFOLD_OK, last_error());
  f.reopen_with_sandbox([](bj::object& app) {
    app.at("oauth2").as_object()["token_endpoint_auth_method"] = "client_secret_post";
  });
  sandbox_config(f, R"({"client_auth": "client_secret_basic"})");
  CHECK(try_connect(f) == REFOLD_EAUTH);
  CHECK(last_error().find("invalid_client") != std::string::npos);
  CHECK(last_error().find(kSecret) == std::string::npos);
  CHECK(sql_scalar(f.store.path, "SELECT count(*) FROM connections") == "0");
}

TEST_CASE("provider quirks: the app's client authentication is the one a one-method token endpoint takes") {
  for (const char* method : {"client_secret_basic", "client_secret_post"}) {
    CAPTURE(method);
    Lifecycle f;
    sandbox_config(f, std::string(R"({"client_auth": ")") + method + "\"}");
    f.reopen_with_sandbox([&](bj::object& app) {
      app.at("oauth2").as_object()["token_endpoint_auth_method"] = method;
    });
    f.connect();
    refresh_and_disconnect(f);
    // The disconnect's RFC 7009 request authenticated the same way: the
    // grant is revoked at the sandbox, not only forgotten here.
    bj::array grants = sandbox_grants(f);
    REQUIRE(grants.size() == 1);
    CHECK(grants[0].at("revoked") == true);
  }
}

TEST_CASE("provider quirks: token requests as JSON bodies (body_format json) against a JSON-only endpoint") {
  Lifecycle f;
  sandbox_config(f, R"({"token_body": "json"})");
  // A form is refused there: the setting is what makes it work.
  CHECK(try_connect(f) == REFOLD_EPROVIDER);
  CHECK(last_error().find("invalid_request") != std::string::npos);
  f.reopen_with_sandbox([](bj::object& app) { app.at("oauth2").as_object()["body_format"] = "json"; });
  f.connect();
  CHECK(f.count("token_authorization_code") == 2);
  refresh_and_disconnect(f);
}

TEST_CASE("provider quirks: a token answer without expires_in takes the app's default_expires_in") {
  Lifecycle f({"--auto-approve", "--access-token-ttl", "600"});
  sandbox_config(f, R"({"omit_expires_in": true})");
  f.reopen_with_sandbox([](bj::object& app) { app.at("oauth2").as_object()["default_expires_in"] = 300; });
  const double before = f.clock.ms.load();
  f.connect();
  // Refreshed ahead of the app's 300 s, not the sandbox's real 600 s.
  CHECK(f.expires_at() == doctest::Approx(before + 300000).epsilon(0.001));
  CHECK_FALSE(listed(f).at("expires_at").is_null());
  refresh_and_disconnect(f);

  // Without the setting such a token is taken not to expire: it is served
  // however late, and never refreshed.
  f.reopen_with_sandbox([](bj::object& app) { app.at("oauth2").as_object().erase("default_expires_in"); });
  f.server.admin_post("/admin/reset-counters", "{}");
  f.connect();
  CHECK(listed(f).at("expires_at").is_null());
  f.clock.ms = f.clock.ms.load() + 3600 * 1000.0;
  f.token_ok();
  CHECK(f.count("token_refresh") == 0);
}

namespace {

// The sandbox app with a Jira-like lookup of the site its grant reaches.
void lookup_app(Lifecycle& f, const char* id_path = "0.id") {
  const std::string base = f.server.base_url();
  f.reopen_with_sandbox([&](bj::object& app) {
    app.at("oauth2").as_object()["after_connect"] =
        bj::object{{"url", base + "/api/resources"},
                   {"headers", bj::object{{"Accept", "application/json"}}},
                   {"metadata", bj::object{{"cloudId", id_path}, {"site_name", "0.name"}, {"rank", "0.rank"}}}};
    app["api_base_url"] = base + "/ex/jira/{metadata.cloudId}";
  });
}

}  // namespace

TEST_CASE("after_connect: the lookup fills metadata and the API base, once, and refreshes keep them") {
  Lifecycle f;
  lookup_app(f);
  f.connect();
  CHECK(f.count("resources") == 1);
  int rc = 0;
  bj::object creds = parse(get_credentials(f.client.get(), "acct", "sandbox", rc)).as_object();
  REQUIRE(rc == REFOLD_OK);
  const bj::value sites = sandbox_answer(f, "/api/resources", creds);
  const bj::object want{{"cloudId", sites.at(0).at("id")}, {"site_name", sites.at(0).at("name")}, {"rank", "1"}};
  CHECK(creds.at("metadata").as_object() == want);
  CHECK(creds.at("api_base_url").as_string() == f.server.base_url() + "/ex/jira/" + str_at(want, "cloudId"));
  CHECK(listed(f).at("metadata").as_object() == want);

  f.clock.ms = f.expires_at() + 1000;
  f.token_ok();
  CHECK(f.count("token_refresh") == 1);
  bj::object after = parse(get_credentials(f.client.get(), "acct", "sandbox", rc)).as_object();
  CHECK(after.at("metadata").as_object() == want);
  CHECK(f.count("resources") == 2);  // the host's read above; the refresh asked nothing
  REQUIRE_MESSAGE(refold_disconnect(f.client.get(), "acct", "sandbox") == REFOLD_OK, last_error());
  CHECK(sql_scalar(f.store.path, "SELECT count(*) FROM connections") == "0");
}

TEST_CASE("after_connect: a failed lookup fails the connect, stores nothing and hands the grant back") {
  Lifecycle f;
  SUBCASE("the provider refuses it") {
    lookup_app(f);
    f.server.admin_post("/admin/fail", R"({"endpoint": "resources", "mode": "500"})");
    CHECK(try_connect(f) == REFOLD_EPROVIDER);
    CHECK(last_error().find("HTTP 500") != std::string::npos);
  }
  SUBCASE("its answer lacks a value the app keeps") {
    lookup_app(f, "3.id");
    CHECK(try_connect(f) == REFOLD_EPROVIDER);
    CHECK(last_error().find("'3.id'") != std::string::npos);
    CHECK(last_error().find("cloudId") != std::string::npos);
  }
  SUBCASE("its answer is not JSON") {
    lookup_app(f);
    f.server.admin_post("/admin/fail", R"({"endpoint": "resources", "mode": "malformed_json"})");
    CHECK(try_connect(f) == REFOLD_EPROVIDER);
    CHECK(last_error().find("JSON") != std::string::npos);
  }
  CHECK(last_error().find("app 'sandbox'") != std::string::npos);
  CHECK(last_error().find("after_connect") != std::string::npos);
  CHECK(sql_scalar(f.store.path, "SELECT count(*) FROM connections") == "0");
  CHECK(f.count_type("connection.created") == 0);
  bj::array grants = sandbox_grants(f);
  REQUIRE(grants.size() == 1);
  CHECK(grants[0].at("revoked") == true);
}

namespace {

// The sandbox app with a DocuSign-like lookup of the user's accounts, the
// one to use marked by a member, and the token sent after `scheme`.
void accounts_app(Lifecycle& f, const char* scheme, const char* id_path = "accounts.is_default=true.account_id") {
  const std::string base = f.server.base_url();
  f.reopen_with_sandbox([&](bj::object& app) {
    bj::object lookup{{"url", base + "/api/accounts"},
                      {"metadata", bj::object{{"account_id", id_path},
                                              {"base_uri", "accounts.product=current.base_uri"},
                                              {"scheme", "scheme"}}}};
    if (scheme) lookup["auth_scheme"] = scheme;
    app.at("oauth2").as_object()["after_connect"] = std::move(lookup);
    app["api_base_url"] = "{metadata.base_uri}/restapi/accounts/{metadata.account_id}";
  });
}

}  // namespace

TEST_CASE("after_connect: an answer's entry picked by a member's value, with the token after the app's scheme") {
  for (const char* scheme : {"OAuth", static_cast<const char*>(nullptr)}) {
    CAPTURE(scheme ? scheme : "(default)");
    Lifecycle f;
    accounts_app(f, scheme);
    f.connect();
    CHECK(f.count("resources") == 1);
    int rc = 0;
    bj::object creds = parse(get_credentials(f.client.get(), "acct", "sandbox", rc)).as_object();
    REQUIRE(rc == REFOLD_OK);
    // The sandbox lists an older account first; the marked one is second.
    const bj::value answer = sandbox_answer(f, "/api/accounts", creds);
    const bj::object& marked = answer.at("accounts").at(1).as_object();
    REQUIRE(marked.at("is_default") == true);
    const bj::object want{{"account_id", marked.at("account_id")},
                          {"base_uri", marked.at("base_uri")},
                          {"scheme", scheme ? "OAuth" : "Bearer"}};
    CHECK(creds.at("metadata").as_object() == want);
    CHECK(creds.at("api_base_url").as_string() ==
          str_at(marked, "base_uri") + "/restapi/accounts/" + str_at(marked, "account_id"));
    CHECK(listed(f).at("metadata").as_object() == want);
    refresh_and_disconnect(f);
  }
}

TEST_CASE("after_connect: a pick that matches no entry fails the connect and names the path") {
  Lifecycle f;
  accounts_app(f, "OAuth", "accounts.product=gone.account_id");
  CHECK(try_connect(f) == REFOLD_EPROVIDER);
  CHECK(last_error().find("'accounts.product=gone.account_id'") != std::string::npos);
  CHECK(last_error().find("account_id") != std::string::npos);
  CHECK(sql_scalar(f.store.path, "SELECT count(*) FROM connections") == "0");
  bj::array grants = sandbox_grants(f);
  REQUIRE(grants.size() == 1);
  CHECK(grants[0].at("revoked") == true);
}

TEST_CASE("after_connect: catalog entries are checked, by app and key") {
  Lifecycle f;
  auto refused = [&](bj::object after_connect, const char* want) {
    const std::string err = refused_catalog(
        f, [&](bj::object& app) { app.at("oauth2").as_object()["after_connect"] = std::move(after_connect); });
    CAPTURE(err);
    CHECK(err.find("app 'sandbox'") != std::string::npos);
    CHECK(err.find("after_connect") != std::string::npos);
    CHECK(err.find(want) != std::string::npos);
  };
  const bj::object ids{{"site", "0.id"}};
  refused(bj::object{{"metadata", ids}}, "'url'");
  refused(bj::object{{"url", "https://api.example.com/r"}}, "'metadata'");
  refused(bj::object{{"url", "https://api.example.com/r"}, {"metadata", bj::object{}}}, "'metadata'");
  refused(bj::object{{"url", "http://api.example.com/r"}, {"metadata", ids}}, "'url'");
  refused(bj::object{{"url", "https://api.example.com/r"}, {"method", "DELETE"}, {"metadata", ids}}, "'method'");
  refused(bj::object{{"url", "https://api.example.com/{metadata.nope}"}, {"metadata", ids}}, "{metadata.nope}");
  refused(bj::object{{"url", "https://api.example.com/r"}, {"metadata", bj::object{{"refresh_token", "0.x"}}}},
          "secret");
  refused(bj::object{{"url", "https://api.example.com/r"}, {"metadata", bj::object{{"site", "0.api_key"}}}}, "secret");
  refused(bj::object{{"url", "https://api.example.com/r"}, {"metadata", bj::object{{"site", "access_token.0"}}}},
          "secret");
  refused(bj::object{{"url", "https://api.example.com/r"}, {"metadata", bj::object{{"site", 3}}}}, "'site'");
  refused(bj::object{{"url", "https://api.example.com/r"}, {"headers", bj::object{{"Authorization", "x"}}},
                     {"metadata", ids}},
          "Authorization");
  refused(bj::object{{"url", "https://api.example.com/r"}, {"metadata", ids}, {"body", "x"}}, "'body'");
  // Picks of an entry: a name, '=', a value, and something after them.
  for (const char* path : {"accounts.=x.id", "accounts.product=.id", "accounts.a=b=c.id", "accounts.product=current",
                           "accounts.product=two words.id", "accounts..id"}) {
    CAPTURE(path);
    refused(bj::object{{"url", "https://api.example.com/r"}, {"metadata", bj::object{{"site", path}}}}, "'site'");
  }
  for (const char* scheme : {"", "O Auth", "Bearer:"}) {
    CAPTURE(scheme);
    refused(bj::object{{"url", "https://api.example.com/r"}, {"auth_scheme", scheme}, {"metadata", ids}},
            "'auth_scheme'");
  }
  refused(bj::object{{"url", "https://api.example.com/r"}, {"auth_scheme", 1}, {"metadata", ids}}, "'auth_scheme'");
}

TEST_CASE("provider quirks: revocation requests as Slack and HubSpot declare them") {
  Lifecycle f;
  const std::string base = f.server.base_url();
  SUBCASE("Slack's auth.revoke: each token as a Bearer, confirmed by \"ok\"") {
    sandbox_config(f, R"({"errors_with_200": true, "user_tokens": true})");
    f.reopen_with_sandbox([&](bj::object& app) {
      bj::object& oauth2 = app.at("oauth2").as_object();
      oauth2.erase("revocation_endpoint");
      oauth2["revocation"] = bj::object{{"url", base + "/api/auth.revoke"}, {"client_auth", "bearer"}};
      oauth2["user_token_path"] = "authed_user";
    });
    f.connect();
    REQUIRE_MESSAGE(refold_disconnect(f.client.get(), "acct", "sandbox") == REFOLD_OK, last_error());
    CHECK(f.count("revoke") == 2);  // the bot token and the user token
    for (const auto& g : sandbox_grants(f)) CHECK(g.at("revoked") == true);
    CHECK(f.last_event("connection.deleted").at("revoked") == true);

    // The user removed the app meanwhile: Slack answers "ok": false, so the
    // disconnect does not claim a revocation.
    f.connect();
    f.server.admin_post("/admin/grants/revoke", R"({"all": true})");
    REQUIRE_MESSAGE(refold_disconnect(f.client.get(), "acct", "sandbox") == REFOLD_OK, last_error());
    CHECK(f.last_event("connection.deleted").at("revoked") == false);
  }
  SUBCASE("HubSpot's DELETE of the refresh token, named in the path") {
    f.reopen_with_sandbox([&](bj::object& app) {
      bj::object& oauth2 = app.at("oauth2").as_object();
      oauth2.erase("revocation_endpoint");
      oauth2["revocation"] = bj::object{{"method", "DELETE"},
                                        {"token", "refresh_token"},
                                        {"url", base + "/oauth/refresh-tokens/{refresh_token}"}};
    });
    f.connect();
    const std::string token = f.token_ok();
    REQUIRE_MESSAGE(refold_disconnect(f.client.get(), "acct", "sandbox") == REFOLD_OK, last_error());
    CHECK(f.count("revoke") == 1);
    CHECK(sandbox_grants(f).at(0).at("revoked") == true);
    CHECK(f.last_event("connection.deleted").at("revoked") == true);
    CHECK(f.me(token) == 401);
  }
}
