// refold status: each connection's health, and the exit code a script
// branches on. OAuth connections come from the sandbox provider; their
// refreshes fail and re-auth is marked through the library, from this
// process, as a host application sharing the store would.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "cli_runner.hpp"
#include "devserver.hpp"
#include "sandbox.hpp"

using namespace refold_cli_test;
using refold_test::contains;
namespace bj = boost::json;

namespace {

// The one row of `status --json` for `app` (REQUIREd to be there).
bj::object row(const Result& r, const std::string& account, const std::string& app) {
  bj::value v = parse_json(r.out);
  REQUIRE(v.is_array());
  for (const auto& c : v.as_array())
    if (c.at("account") == account.c_str() && c.at("app") == app.c_str()) return c.as_object();
  FAIL("no row for " << account << "/" << app << " in " << r.out);
  return {};
}

// The line of the human table that names `account`.
std::string line_of(const std::string& out, const std::string& account) {
  std::size_t at = out.find("\n" + account + " ");
  REQUIRE_MESSAGE(at != std::string::npos, out);
  return out.substr(at + 1, out.find('\n', at + 1) - at - 1);
}

}  // namespace

TEST_CASE("status: an empty store is healthy") {
  Cli cli;
  Result r = cli.run({"status"});
  CHECK(r.status == 0);
  CHECK(r.out == "No connections.\n");
  r = cli.run({"status", "--json"});
  CHECK(r.status == 0);
  CHECK(parse_json(r.out) == bj::array{});
  r = cli.run({"status", "--account", "acme"});
  CHECK(r.status == 0);
  CHECK(r.out == "No connections for account 'acme'.\n");
}

TEST_CASE("status: a key-based connection has no expiry") {
  Cli cli;
  std::string secret = refold_test::random_token(40);
  REQUIRE(cli.run({"--account", "acme", "connect", "twilio", "--field", "sid=" + refold_test::valid_sid(),
                   "--field", "auth_token=" + secret})
              .status == 0);
  Result r = cli.run({"status"});
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "ACCOUNT  APP     AUTH TYPE  STATUS  HEALTH     EXPIRES  DETAIL"));
  CHECK(contains(r.out, "acme     twilio  keybased   active  key-based  -        no expiry"));

  r = cli.run({"status", "--json"});
  REQUIRE(r.status == 0);
  bj::object c = row(r, "acme", "twilio");
  CHECK(c.at("auth_type") == "keybased");
  CHECK(c.at("status") == "active");
  CHECK(c.at("health") == "keybased");
  CHECK(c.at("healthy") == true);
  CHECK(c.at("expires_at").is_null());
  CHECK(c.at("expires_in_ms").is_null());
  CHECK(c.at("refresh_failures") == 0);
  CHECK(refold_test::is_rfc3339_utc(c.at("created_at").as_string()));

  // Another account's status sees none of it.
  r = cli.run({"status", "--account", "other"});
  CHECK(r.status == 0);
  CHECK(contains(r.out, "No connections for account 'other'."));
  CHECK_FALSE(contains(cli.transcript(), secret));
}

TEST_CASE("status: OAuth tokens are ok, expire soon, or are due for a refresh") {
  Cli cli;
  refold_test::Devserver server({"--auto-approve"});
  std::string config = sandbox_config(cli, server);
  connect_sandbox(cli, config, "later");  // 3600 s
  server.admin_post("/admin/config", R"({"access_token_ttl":240})");
  connect_sandbox(cli, config, "soon");
  server.admin_post("/admin/config", R"({"access_token_ttl":1})");
  connect_sandbox(cli, config, "past");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // past its expiry, unread

  Result r = cli.run({"--config", config, "status"});
  REQUIRE_MESSAGE(r.status == 0, r.out);
  std::string later = line_of(r.out, "later");
  CHECK(contains(later, "  ok  "));
  CHECK((contains(later, "in 59m") || contains(later, "in 1h")));
  CHECK(contains(later, "next refresh in 5"));  // 5 minutes early, less a little jitter
  std::string soon = line_of(r.out, "soon");
  CHECK(contains(soon, "expires soon"));
  CHECK(contains(soon, "in 3m"));
  std::string past = line_of(r.out, "past");
  CHECK(contains(past, "refresh due"));
  CHECK(contains(past, "the next read refreshes it"));

  r = cli.run({"--config", config, "status", "--json"});
  REQUIRE(r.status == 0);
  bj::object c = row(r, "later", "sandbox");
  CHECK(c.at("health") == "ok");
  CHECK(c.at("healthy") == true);
  CHECK(refold_test::is_rfc3339_utc(c.at("expires_at").as_string()));
  CHECK(refold_test::is_rfc3339_utc(c.at("next_refresh_at").as_string()));
  CHECK(c.at("expires_in_ms").to_number<std::int64_t>() > 3000 * 1000);
  CHECK(row(r, "soon", "sandbox").at("health") == "expires_soon");
  c = row(r, "past", "sandbox");
  CHECK(c.at("health") == "refresh_due");
  CHECK(c.at("expires_in_ms").to_number<std::int64_t>() <= 0);
  CHECK_FALSE(contains(cli.transcript(), kSandboxSecret));
}

TEST_CASE("status: failing refreshes and re-auth set the exit code") {
  Cli cli;
  refold_test::Devserver server({"--auto-approve", "--access-token-ttl", "1"});
  std::string config = sandbox_config(cli, server);
  for (const char* account : {"flaky", "misconfigured", "gone"}) connect_sandbox(cli, config, account);
  auto lib = library_client(cli, server);
  int rc = 0;

  // Once the 1-second tokens expire, a read refreshes, and the provider
  // fails it, passingly (500) or refusing the app's client.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  server.admin_post("/admin/fail", R"({"endpoint":"token","mode":"500"})");
  refold_test::get_credentials(lib.get(), "flaky", "sandbox", rc);
  CHECK(rc == REFOLD_EPROVIDER);
  server.admin_post("/admin/fail", R"({"endpoint":"token","mode":"invalid_client"})");
  refold_test::get_credentials(lib.get(), "misconfigured", "sandbox", rc);
  CHECK(rc == REFOLD_EAUTH);
  // The host learned from a webhook that the app was uninstalled.
  REQUIRE(refold_mark_reauth(lib.get(), "gone", "sandbox", "uninstalled") == REFOLD_OK);

  Result r = cli.run({"--config", config, "status", "--account", "flaky"});
  CHECK(r.status == 1);  // the provider answered with an error
  std::string flaky = line_of(r.out, "flaky");
  CHECK(contains(flaky, "refresh failing"));
  CHECK(contains(flaky, "reason: server_error, 1 failure, next attempt "));
  CHECK(r.err.empty());

  r = cli.run({"--config", config, "status", "--account", "misconfigured"});
  CHECK(r.status == 5);  // the provider refused the app's client
  CHECK(contains(line_of(r.out, "misconfigured"), "reason: invalid_client"));

  r = cli.run({"--config", config, "status", "--account", "gone"});
  CHECK(r.status == 4);
  std::string gone = line_of(r.out, "gone");
  CHECK(contains(gone, "reauth_required"));
  CHECK(contains(gone, "reauth required"));
  CHECK(contains(gone, "reason: uninstalled"));

  // All accounts: re-auth wins.
  r = cli.run({"--config", config, "status", "--json"});
  CHECK(r.status == 4);
  bj::object c = row(r, "flaky", "sandbox");
  CHECK(c.at("health") == "refresh_failing");
  CHECK(c.at("healthy") == false);
  CHECK(c.at("reason") == "server_error");
  CHECK(c.at("refresh_failures") == 1);
  CHECK(refold_test::is_rfc3339_utc(c.at("next_refresh_at").as_string()));
  c = row(r, "gone", "sandbox");
  CHECK(c.at("health") == "reauth_required");
  CHECK(c.at("status") == "reauth_required");
  CHECK(c.at("reason") == "uninstalled");

  // Connected again, the account is healthy; what is left is the client
  // refusal (5) before the server error (1).
  connect_sandbox(cli, config, "gone");
  CHECK(cli.run({"--config", config, "status", "--account", "gone"}).status == 0);
  CHECK(cli.run({"--config", config, "status"}).status == 5);
  CHECK_FALSE(contains(cli.transcript(), kSandboxSecret));
  CHECK_FALSE(contains(cli.transcript(), cli.key));
}
