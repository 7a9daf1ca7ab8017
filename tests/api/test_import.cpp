// Importing connections made elsewhere (refold_import_connection): tokens a
// host got from the sandbox without refold are read, refreshed and revoked
// like a connect's; bad imports name the member, never a value, and change
// nothing; key-based fields are checked and verified as a connect does.
#include <doctest/doctest.h>

#include "lifecycle_fixture.hpp"

using namespace refold_test;

namespace {

// RFC 7636 appendix B: a verifier and its S256 challenge.
constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr const char* kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
constexpr const char* kRedirect = "http://127.0.0.1:9/callback";

// Tokens got from the sandbox by another system: the authorization code
// flow done by hand, as the host's old code did it.
bj::object tokens_from_elsewhere(Lifecycle& f, const std::string& client_id = kClientId,
                                 const std::string& secret = kSecret) {
  std::string url = f.server.base_url() + "/oauth/authorize?response_type=code&client_id=" + client_id +
                    "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback&scope=read&state=s1&code_challenge=" +
                    kChallenge + "&code_challenge_method=S256";
  std::string code = query_params(follow_authorize(url)).at("code");
  HttpResult r = curl("POST", f.server.base_url() + "/oauth/token",
                      "grant_type=authorization_code&code=" + code + "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcallback"
                      "&code_verifier=" + kVerifier + "&client_id=" + client_id + "&client_secret=" + secret,
                      {"Content-Type: application/x-www-form-urlencoded"});
  REQUIRE_MESSAGE(r.status == 200, r.body);  // an error body: no token in it
  return parse(r.body).as_object();
}

int import(Lifecycle& f, const bj::object& credentials, const char* app = "sandbox", const char* account = "acct") {
  return refold_import_connection(f.client.get(), account, app, to_json(credentials).c_str());
}

std::string stored_record(Lifecycle& f) {
  const std::string hex = postgres_uri() ? "encode(ciphertext, 'hex')" : "hex(ciphertext)";
  return sql_scalar(f.store.path, "SELECT " + hex + " || status || version FROM connections");
}

}  // namespace

TEST_CASE("import: tokens from elsewhere are read, refreshed and revoked like a connect's") {
  Lifecycle f;
  bj::object got = tokens_from_elsewhere(f);
  const std::string access = str_at(got, "access_token");
  const std::string refresh = str_at(got, "refresh_token");
  REQUIRE(f.count("token_refresh") == 0);

  // Imported as already expired: the first read refreshes it with the
  // imported refresh token.
  const double now = f.clock.ms.load();
  REQUIRE(import(f, bj::object{{"auth_type", "oauth2"},
                               {"access_token", access},
                               {"refresh_token", refresh},
                               {"token_type", "bearer"},
                               {"expires_at", "2001-01-01T00:00:00Z"},
                               {"scopes", "read"}}) == REFOLD_OK);
  CHECK(f.types() == std::vector<std::string>{"connection.created"});
  CHECK(f.expires_at() < now);
  const std::string fresh = f.token_ok();
  CHECK(f.count("token_refresh") == 1);
  CHECK_FALSE(same(fresh, access));
  CHECK(f.me(fresh) == 200);
  int rc = 0;
  bj::object creds = parse(get_credentials(f.client.get(), "acct", "sandbox", rc)).as_object();
  REQUIRE(rc == REFOLD_OK);
  CHECK(creds.at("token_type") == "Bearer");
  CHECK(creds.at("scopes") == bj::array{"read"});
  CHECK_FALSE(creds.contains("refresh_token"));

  // Importing again replaces it, keeping its creation time.
  const std::string created = sql_scalar(f.store.path, "SELECT created_at FROM connections");
  got = tokens_from_elsewhere(f);
  REQUIRE(import(f, bj::object{{"access_token", got.at("access_token")},
                               {"refresh_token", got.at("refresh_token")},
                               {"expires_at", "2999-12-31T23:59:59+02:00"}}) == REFOLD_OK);
  CHECK(f.count_type("connection.reauthenticated") == 1);
  CHECK(sql_scalar(f.store.path, "SELECT created_at FROM connections") == created);
  CHECK(same(f.token_ok(), str_at(got, "access_token")));

  // Disconnecting revokes the imported grant at the provider.
  REQUIRE(refold_disconnect(f.client.get(), "acct", "sandbox") == REFOLD_OK);
  CHECK(f.count("revoke") >= 1);
  CHECK(f.me(str_at(got, "access_token")) == 401);
}

TEST_CASE("import: a bad import names what is wrong, never a value, and changes nothing") {
  Lifecycle f;
  f.connect();
  const std::string before = stored_record(f);
  const std::string secret = "imported-secret-value-0x5eed";
  struct Case {
    const char* name;
    bj::object credentials;
    const char* names;
  };
  const Case cases[] = {
      {"no access token", {{"refresh_token", secret}}, "'access_token' is required"},
      {"empty access token", {{"access_token", ""}}, "'access_token' must not be empty"},
      {"a number for a token", {{"access_token", 5}}, "'access_token' must be a string"},
      {"empty refresh token", {{"access_token", secret}, {"refresh_token", ""}}, "'refresh_token' must not be empty"},
      {"a bad expiry", {{"access_token", secret}, {"expires_at", "tomorrow"}}, "'expires_at' must be an RFC 3339"},
      {"a date that does not exist", {{"access_token", secret}, {"expires_at", "2026-02-30T00:00:00Z"}}, "'expires_at'"},
      {"expired, nothing to refresh with",
       {{"access_token", secret}, {"expires_at", "2001-01-01T00:00:00Z"}},
       "'expires_at' is past and there is no refresh_token"},
      {"expired, refresh token lapsed",
       {{"access_token", secret}, {"refresh_token", secret}, {"expires_at", "2001-01-01T00:00:00Z"},
        {"refresh_token_expires_at", "2001-01-02T00:00:00Z"}},
       "is past and so is refresh_token_expires_at"},
      {"a refresh expiry without a refresh token",
       {{"access_token", secret}, {"refresh_token_expires_at", "2999-01-01T00:00:00Z"}},
       "'refresh_token_expires_at' is given without a refresh_token"},
      {"scopes of numbers", {{"access_token", secret}, {"scopes", bj::array{1}}}, "'scopes'"},
      {"metadata the app does not keep", {{"access_token", secret}, {"metadata", {{"instance_url", "x"}}}},
       "'instance_url', which app 'sandbox' does not keep"},
      {"connection inputs the app does not take", {{"access_token", secret}, {"connection", {{"subdomain", "x"}}}},
       "subdomain"},
      {"an unknown member", {{"access_token", secret}, {"id_token", secret}}, "'id_token' is not a known key"},
      {"an unknown auth type", {{"auth_type", "oauth1"}, {"access_token", secret}}, "'auth_type'"},
      {"key-based on an OAuth app", {{"fields", {{"api_key", secret}}}}, "does not offer keybased"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CHECK(import(f, c.credentials) == REFOLD_EINVALID);
    const std::string err = last_error();
    CHECK_MESSAGE(err.find(c.names) != std::string::npos, err);
    CHECK(err.find(secret) == std::string::npos);
  }
  CHECK(refold_import_connection(f.client.get(), "acct", "sandbox", "{\"access_token\": ") == REFOLD_EINVALID);
  CHECK(refold_import_connection(f.client.get(), "acct", "sandbox", "[]") == REFOLD_EINVALID);
  CHECK(refold_import_connection(f.client.get(), "acct", "sandbox", nullptr) == REFOLD_EINVALID);
  CHECK(import(f, {{"access_token", secret}}, "no-such-app") == REFOLD_ENOTFOUND);
  CHECK(import(f, {{"access_token", secret}}, "sandbox", "") == REFOLD_EINVALID);

  CHECK(stored_record(f) == before);
  CHECK(f.types() == std::vector<std::string>{"connection.created"});
}

TEST_CASE("import: metadata and connection inputs are kept as a connect keeps them") {
  Lifecycle f;
  f.reopen_with_sandbox([](bj::object& app) {
    app.at("oauth2").as_object()["token_response_metadata"] = bj::array{"instance_url"};
    app["api_base_url"] = "{metadata.instance_url}/api";
  });
  // The API base is built from the imported metadata, which must make one.
  CHECK(import(f, {{"access_token", "at-one-1234"}}) == REFOLD_EINVALID);
  CHECK(last_error() == "credentials: 'metadata' lacks 'instance_url', which app 'sandbox' needs for its "
                        "api_base_url");
  CHECK(import(f, {{"access_token", "at-one-1234"}, {"metadata", {{"instance_url", "http://evil.example"}}}}) ==
        REFOLD_EINVALID);
  CHECK(last_error().find("credentials: 'metadata' makes") != std::string::npos);
  CHECK(last_error().find("evil") == std::string::npos);
  CHECK(sql_scalar(f.store.path, "SELECT count(*) FROM connections") == "0");

  REQUIRE(import(f, {{"access_token", "at-one-1234"}, {"metadata", {{"instance_url", "https://na1.example"}}}}) ==
          REFOLD_OK);
  int rc = 0;
  bj::object creds = parse(get_credentials(f.client.get(), "acct", "sandbox", rc)).as_object();
  REQUIRE(rc == REFOLD_OK);
  CHECK(creds.at("metadata") == bj::object{{"instance_url", "https://na1.example"}});
  CHECK(creds.at("api_base_url") == "https://na1.example/api");
  // A token without an expiry is taken not to expire.
  CHECK(creds.at("expires_at").is_null());
}

TEST_CASE("import: key-based fields are checked and verified as a connect does") {
  Lifecycle f;
  const std::string good = "sk_sandbox_" + std::string(20, 'k');
  CHECK(import(f, {{"fields", {{"api_key", "sk_wrong_but_long_enough_1234"}}}}, "sandbox-keys") == REFOLD_EAUTH);
  CHECK(f.count("keys_verify") == 1);
  CHECK(import(f, {{"auth_type", "keybased"}}, "sandbox-keys") == REFOLD_EINVALID);
  CHECK(last_error().find("'fields' is required") != std::string::npos);
  CHECK(import(f, {{"auth_type", "oauth2"}, {"access_token", "x"}}, "sandbox-keys") == REFOLD_EINVALID);
  CHECK(last_error().find("does not offer oauth2") != std::string::npos);
  CHECK(sql_scalar(f.store.path, "SELECT count(*) FROM connections") == "0");

  REQUIRE(import(f, {{"fields", {{"api_key", good}}}}, "sandbox-keys") == REFOLD_OK);
  int rc = 0;
  bj::object creds = parse(get_credentials(f.client.get(), "acct", "sandbox-keys", rc)).as_object();
  REQUIRE(rc == REFOLD_OK);
  CHECK(creds.at("auth_type") == "keybased");
  CHECK(field_is(creds.at("fields").as_object(), "api_key", good));
  CHECK(f.types() == std::vector<std::string>{"connection.created"});
}

TEST_CASE("import: a connection made with the customer's own client is refreshed and revoked with it") {
  const std::string own_id = "customer-client", own_secret = "customer-secret-5eed-1234";
  Lifecycle f({"--auto-approve", "--client", own_id + ":" + own_secret});
  bj::object got = tokens_from_elsewhere(f, own_id, own_secret);
  const bj::object client{{"client_id", own_id}, {"client_secret", own_secret}};
  CHECK(import(f, {{"access_token", got.at("access_token")}, {"client", {{"client_id", own_id}}}}) ==
        REFOLD_EINVALID);
  CHECK(last_error().find("'client_secret'") != std::string::npos);
  CHECK(import(f, {{"access_token", got.at("access_token")}, {"client", bj::object{}}}) == REFOLD_EINVALID);
  CHECK(last_error().find("'client_id'") != std::string::npos);
  REQUIRE_MESSAGE(import(f, {{"access_token", got.at("access_token")},
                             {"refresh_token", got.at("refresh_token")},
                             {"expires_at", "2001-01-01T00:00:00Z"},
                             {"client", client}}) == REFOLD_OK,
                  last_error());
  // The sandbox refuses a refresh token presented by another client: the
  // refresh working shows it went as the customer's.
  const std::string fresh = f.token_ok();
  CHECK(f.count("token_refresh") == 1);
  CHECK(f.me(fresh) == 200);
  int rc = 0;
  const std::string text = get_credentials(f.client.get(), "acct", "sandbox", rc);
  CHECK(parse(text).at("client_id") == own_id.c_str());
  CHECK(text.find(own_secret) == std::string::npos);
  REQUIRE(refold_disconnect(f.client.get(), "acct", "sandbox") == REFOLD_OK);
  CHECK(f.me(fresh) == 401);
}

TEST_CASE("import: metadata an app looks up after connecting is taken from the import, or looked up") {
  Lifecycle f;
  const std::string base = f.server.base_url();
  f.reopen_with_sandbox([&](bj::object& app) {
    app.at("oauth2").as_object()["after_connect"] =
        bj::object{{"url", base + "/api/resources"}, {"metadata", bj::object{{"cloudId", "0.id"}}}};
    app["api_base_url"] = base + "/ex/jira/{metadata.cloudId}";
  });
  // Given: kept as given, and nothing is asked.
  REQUIRE_MESSAGE(import(f, {{"access_token", "at-one-1234"}, {"metadata", {{"cloudId", "c-42"}}}}) == REFOLD_OK,
                  last_error());
  CHECK(f.count("resources") == 0);
  int rc = 0;
  bj::object creds = parse(get_credentials(f.client.get(), "acct", "sandbox", rc)).as_object();
  CHECK(creds.at("api_base_url").as_string() == base + "/ex/jira/c-42");
  REQUIRE(refold_disconnect(f.client.get(), "acct", "sandbox") == REFOLD_OK);

  // Missing, with an expired access token: named, and nothing is asked.
  CHECK(import(f, {{"access_token", "at-one-1234"}, {"refresh_token", "rt-one-1234"},
                   {"expires_at", "2001-01-01T00:00:00Z"}}) == REFOLD_EINVALID);
  CHECK(last_error().find("'metadata' lacks 'cloudId'") != std::string::npos);
  CHECK(f.count("resources") == 0);
  // Missing, with a token the provider refuses: the lookup fails the import.
  CHECK(import(f, {{"access_token", "at-one-1234"}}) == REFOLD_EPROVIDER);
  CHECK(last_error().find("after_connect") != std::string::npos);
  CHECK(last_error().find("at-one-1234") == std::string::npos);
  CHECK(f.count("resources") == 1);
  CHECK(sql_scalar(f.store.path, "SELECT count(*) FROM connections") == "0");

  // Missing, with a working token: looked up with it, as a connect would.
  bj::object got = tokens_from_elsewhere(f);
  REQUIRE_MESSAGE(import(f, {{"access_token", got.at("access_token")}, {"refresh_token", got.at("refresh_token")}}) ==
                      REFOLD_OK,
                  last_error());
  CHECK(f.count("resources") == 2);
  creds = parse(get_credentials(f.client.get(), "acct", "sandbox", rc)).as_object();
  const bj::value sites = parse(curl("GET", base + "/api/resources", "",
                                     {"Authorization: Bearer " + str_at(creds, "access_token")})
                                    .body);
  CHECK(creds.at("metadata").at("cloudId") == sites.at(0).at("id"));
  CHECK(creds.at("api_base_url").as_string() == base + "/ex/jira/" + std::string(sites.at(0).at("id").as_string()));
}
