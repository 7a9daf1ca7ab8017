// A customer's own OAuth client for one connection (begin's options
// "client"): it authorizes, exchanges the code, refreshes and revokes,
// never the host's registration; its secret is sealed and never handed out.
#include <doctest/doctest.h>

#include "lifecycle_fixture.hpp"

using namespace refold_test;

namespace {

const char* kOwnId = "customer-client";
const char* kOwnSecret = "customer-secret-5eed-1234";

// The sandbox's grant of `client_id` (REQUIREs there is exactly one).
bj::object grant_of(Lifecycle& f, const std::string& client_id) {
  bj::array grants = parse(curl("GET", f.server.base_url() + "/admin/grants").body).at("grants").as_array();
  bj::object found;
  int n = 0;
  for (const auto& g : grants)
    if (g.at("client_id") == client_id.c_str()) found = g.as_object(), ++n;
  REQUIRE(n == 1);
  return found;
}

}  // namespace

TEST_CASE("own client: the customer's client authorizes, refreshes and revokes its connection") {
  Lifecycle f({"--auto-approve", "--access-token-ttl", "600", "--client", std::string(kOwnId) + ":" + kOwnSecret});
  const std::string options =
      to_json(bj::object{{"client", {{"client_id", kOwnId}, {"client_secret", kOwnSecret}}}});
  char* out = nullptr;
  REQUIRE_MESSAGE(refold_oauth_begin(f.client.get(), "acct", "sandbox", options.c_str(), &out) == REFOLD_OK,
                  last_error());
  const std::string url = take(out);
  CHECK(query_params(url).at("client_id") == kOwnId);
  CHECK(url.find(kOwnSecret) == std::string::npos);
  REQUIRE_MESSAGE(refold_oauth_complete(f.client.get(), follow_authorize(url).c_str(), nullptr) == REFOLD_OK,
                  last_error());
  CHECK(grant_of(f, kOwnId).at("revoked") == false);

  int rc = 0;
  const std::string text = get_credentials(f.client.get(), "acct", "sandbox", rc);
  REQUIRE(rc == REFOLD_OK);
  CHECK(text.find(kOwnSecret) == std::string::npos);
  CHECK(parse(text).at("client_id") == kOwnId);
  CHECK(sql_scalar(f.store.path, "SELECT config FROM connections").find(kOwnId) == std::string::npos);

  // The sandbox refuses a refresh token presented by another client: the
  // refresh succeeding shows it went as the customer's client.
  f.clock.ms = f.expires_at() + 1000;
  f.token_ok();
  CHECK(f.count("token_refresh") == 1);
  CHECK(grant_of(f, kOwnId).at("refreshes") == 1);
  CHECK(f.status() == "active/");

  REQUIRE(refold_disconnect(f.client.get(), "acct", "sandbox") == REFOLD_OK);
  CHECK(grant_of(f, kOwnId).at("revoked") == true);
}

TEST_CASE("own client: a bad client option is refused by name before anything starts") {
  Lifecycle f;
  const std::string secret = "option-secret-value-0xabc";
  struct Case {
    bj::object client;
    const char* names;
  };
  const Case cases[] = {
      {{{"client_secret", secret}}, "'client_id' is required"},
      {{{"client_id", ""}, {"client_secret", secret}}, "'client_id' must be"},
      {{{"client_id", "x"}}, "needs a client_secret"},
      {{{"client_id", "x"}, {"client_secret", ""}}, "'client_secret' must be"},
      {{{"client_id", "x"}, {"client_secret", secret}, {"redirect", "y"}}, "'redirect' is not a known key"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.names);
    const std::string options = to_json(bj::object{{"client", c.client}});
    char* out = nullptr;
    CHECK(refold_oauth_begin(f.client.get(), "acct", "sandbox", options.c_str(), &out) == REFOLD_EINVALID);
    CHECK(out == nullptr);
    const std::string err = last_error();
    CHECK_MESSAGE(err.find(c.names) != std::string::npos, err);
    CHECK(err.find(secret) == std::string::npos);
  }
  CHECK(sql_scalar(f.store.path, "SELECT count(*) FROM oauth_flows") == "0");
}
