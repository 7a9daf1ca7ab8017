// Connection metadata: values an app keeps from the token response and the
// authorization callback, and the API base built from them, through the C
// API against the sandbox made to answer like Salesforce and QuickBooks.
#include <doctest/doctest.h>

#include "lifecycle_fixture.hpp"

using namespace refold_test;

namespace {

// The sandbox app keeping metadata as a Salesforce-and-QuickBooks-like app
// would, with the sandbox answering with those values.
void metadata_app(Lifecycle& f) {
  f.server.admin_post("/admin/config", R"({
      "token_response_extra": {"instance_url": "https://na1.crm.example", "team": {"id": "T1", "name": "Acme"},
                               "hub_id": 42, "nested": {"list": [1]}},
      "callback_extra": {"realmId": "9130"}})");
  f.reopen_with_sandbox([](bj::object& app) {
    bj::object& oauth2 = app.at("oauth2").as_object();
    oauth2["token_response_metadata"] = bj::array{"instance_url", "team.id", "hub_id", "nested.list", "absent.path"};
    oauth2["callback_metadata"] = bj::array{"realmId"};
    app["api_base_url"] = "{metadata.instance_url}/services/data/{metadata.realmId}";
  });
}

}  // namespace

TEST_CASE("metadata: kept from the token response and the callback, with the API base built from it") {
  Lifecycle f;
  metadata_app(f);
  f.connect();
  int rc = 0;
  bj::object creds = parse(get_credentials(f.client.get(), "acct", "sandbox", rc)).as_object();
  REQUIRE(rc == REFOLD_OK);
  // Strings as they came, numbers as text; objects, arrays and absent
  // paths are not kept.
  const bj::object want{{"instance_url", "https://na1.crm.example"}, {"team.id", "T1"}, {"hub_id", "42"},
                        {"realmId", "9130"}};
  CHECK(creds.at("metadata").as_object() == want);
  CHECK(creds.at("api_base_url") == "https://na1.crm.example/services/data/9130");
  CHECK_FALSE(creds.contains("refresh_token"));

  // Listings show them without opening the sealed record.
  bj::object row = listed(f);
  CHECK(row.at("metadata").as_object() == want);
  CHECK(row.at("api_base_url") == creds.at("api_base_url"));
  CHECK(sql_scalar(f.store.path, "SELECT config FROM connections").find("na1.crm.example") != std::string::npos);

  // A refresh takes the new value the provider sends and keeps the rest.
  f.server.admin_post("/admin/config", R"({"token_response_extra": {"instance_url": "https://na2.crm.example"}})");
  f.clock.ms = f.expires_at() + 1000;
  f.token_ok();
  REQUIRE(f.count("token_refresh") == 1);
  bj::object after = parse(get_credentials(f.client.get(), "acct", "sandbox", rc)).as_object();
  REQUIRE(rc == REFOLD_OK);
  CHECK(after.at("metadata").at("instance_url") == "https://na2.crm.example");
  CHECK(after.at("metadata").at("team.id") == "T1");
  CHECK(after.at("metadata").at("realmId") == "9130");
  CHECK(after.at("api_base_url") == "https://na2.crm.example/services/data/9130");
  CHECK(listed(f).at("api_base_url") == "https://na2.crm.example/services/data/9130");
}

TEST_CASE("metadata: a connect whose answer cannot make the API base fails and stores nothing") {
  Lifecycle f;
  metadata_app(f);
  // No instance_url: the API base cannot be built.
  f.server.admin_post("/admin/config", R"({"token_response_extra": {"team": {"id": "T1"}}})");
  char* url = nullptr;
  REQUIRE(refold_oauth_begin(f.client.get(), "acct", "sandbox", nullptr, &url) == REFOLD_OK);
  std::string callback = follow_authorize(take(url));
  CHECK(refold_oauth_complete(f.client.get(), callback.c_str(), nullptr) == REFOLD_EPROVIDER);
  const std::string err = last_error();
  CHECK(err.find("app 'sandbox'") != std::string::npos);
  CHECK(err.find("instance_url") != std::string::npos);
  CHECK(sql_scalar(f.store.path, "SELECT count(*) FROM connections") == "0");
  CHECK(f.count_type("connection.created") == 0);
  // The grant the provider made is handed back, not left behind.
  CHECK(f.count("revoke") == 2);
  bj::array grants = parse(curl("GET", f.server.base_url() + "/admin/grants").body).at("grants").as_array();
  REQUIRE(grants.size() == 1);
  CHECK(grants[0].at("revoked") == true);

  // An instance_url that is not https is refused the same way.
  f.server.admin_post("/admin/config", R"({"token_response_extra": {"instance_url": "http://evil.example"}})");
  REQUIRE(refold_oauth_begin(f.client.get(), "acct", "sandbox", nullptr, &url) == REFOLD_OK);
  callback = follow_authorize(take(url));
  CHECK(refold_oauth_complete(f.client.get(), callback.c_str(), nullptr) == REFOLD_EPROVIDER);
  CHECK(last_error().find("https") != std::string::npos);
  CHECK(last_error().find("evil") == std::string::npos);
  CHECK(sql_scalar(f.store.path, "SELECT count(*) FROM connections") == "0");
}

TEST_CASE("metadata: an app without it returns credentials and listings as before") {
  Lifecycle f;
  f.connect();
  int rc = 0;
  bj::object creds = parse(get_credentials(f.client.get(), "acct", "sandbox", rc)).as_object();
  REQUIRE(rc == REFOLD_OK);
  CHECK_FALSE(creds.contains("metadata"));
  CHECK_FALSE(creds.contains("api_base_url"));
  CHECK_FALSE(listed(f).contains("metadata"));
  CHECK(sql_scalar(f.store.path, "SELECT config FROM connections") == "{}");
}
