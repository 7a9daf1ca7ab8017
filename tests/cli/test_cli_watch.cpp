// refold watch: events of changes other processes make to the shared
// store, seen by polling it. The changes come from the tool run again
// (connect, disconnect) and from a library client in this process (refresh,
// failed refresh, re-auth). No timing is asserted: every wait has a
// generous limit so a hung watch fails the test instead of hanging it.
#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <thread>

#include "cli_runner.hpp"
#include "devserver.hpp"
#include "sandbox.hpp"

using namespace refold_cli_test;
using refold_test::contains;
namespace bj = boost::json;

namespace {

// Each line of `out` as a JSON object.
std::vector<bj::object> json_lines(const std::string& out) {
  std::vector<bj::object> events;
  std::size_t at = 0;
  while (at < out.size()) {
    std::size_t nl = out.find('\n', at);
    REQUIRE_MESSAGE(nl != std::string::npos, "an unterminated line in: " << out);
    bj::value v = parse_json(out.substr(at, nl - at));
    REQUIRE(v.is_object());
    events.push_back(v.as_object());
    at = nl + 1;
  }
  return events;
}

// `refold connect twilio` with a new auth token, kept in `secrets` so the
// test can check it never shows.
Result connect_twilio(Cli& cli, const std::string& account, std::vector<std::string>& secrets) {
  secrets.push_back(refold_test::random_token(40));
  return cli.run({"--account", account, "connect", "twilio", "--field",
                  "sid=" + refold_test::valid_sid(), "--field", "auth_token=" + secrets.back()});
}

void check_no_secret(const Cli& cli, const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) CHECK_FALSE(contains(cli.transcript(), s));
  CHECK_FALSE(contains(cli.transcript(), cli.key));
}

}  // namespace

TEST_CASE("watch: another process connects and disconnects (--json, --count)") {
  Cli cli;
  std::vector<std::string> secrets;
  auto watch = cli.start({"watch", "--count", "2", "--interval", "100", "--json"});
  watch->wait_for_err("watching " + cli.store + " for all accounts (0 connections), every 100 ms");

  REQUIRE(connect_twilio(cli, "acme", secrets).status == 0);
  watch->wait_for_out("connection.created");
  REQUIRE(cli.run({"--account", "acme", "disconnect", "twilio"}).status == 0);
  Result r = watch->finish();
  CHECK(r.status == 0);

  std::vector<bj::object> events = json_lines(r.out);
  REQUIRE(events.size() == 2);
  CHECK(events[0].at("type") == "connection.created");
  CHECK(events[1].at("type") == "connection.deleted");
  for (const auto& e : events) {
    CHECK(e.at("account") == "acme");
    CHECK(e.at("app") == "twilio");
    CHECK(e.at("auth_type") == "keybased");
    CHECK(e.at("reason").is_null());
    CHECK(e.at("source") == "store");
    CHECK(refold_test::is_rfc3339_utc(e.at("at").as_string()));
  }
  check_no_secret(cli, secrets);
}

TEST_CASE("watch: re-auth and connecting again, one account, until SIGINT") {
  Cli cli;
  refold_test::Devserver server({"--auto-approve"});
  auto lib = library_client(cli, server);
  std::vector<std::string> secrets;
  auto watch = cli.start({"watch", "--account", "acme", "--interval", "100"});
  watch->wait_for_err("for account 'acme'");

  REQUIRE(connect_twilio(cli, "other", secrets).status == 0);  // not watched
  REQUIRE(connect_twilio(cli, "acme", secrets).status == 0);
  watch->wait_for_out("connection.created");
  // The host marks it (a webhook said the app was uninstalled)...
  REQUIRE(refold_mark_reauth(lib.get(), "acme", "twilio", "uninstalled") == REFOLD_OK);
  watch->wait_for_out("connection.expired");
  // ... and the user connects again.
  REQUIRE(connect_twilio(cli, "acme", secrets).status == 0);
  watch->wait_for_out("connection.reauthenticated");
  // A key-based connect over an active one is a re-authentication too.
  REQUIRE(connect_twilio(cli, "acme", secrets).status == 0);
  watch->wait_for_out("connection.reauthenticated", 2);

  watch->signal(SIGINT);
  Result r = watch->finish();
  CHECK(r.status == 0);
  CHECK(contains(r.out, "  connection.created          acme  twilio  keybased  -\n"));
  CHECK(contains(r.out, "  connection.expired          acme  twilio  keybased  uninstalled\n"));
  CHECK(contains(r.out, "  connection.reauthenticated  acme  twilio  keybased  -\n"));
  CHECK_FALSE(contains(r.out, "other"));
  CHECK_FALSE(contains(r.out, "from this process"));
  check_no_secret(cli, secrets);
}

TEST_CASE("watch: an OAuth token refreshed, its refresh failing, then expired and deleted") {
  Cli cli;
  // Tokens that expire within a second: a read after that refreshes.
  refold_test::Devserver server({"--auto-approve", "--access-token-ttl", "1"});
  auto let_expire = [] { std::this_thread::sleep_for(std::chrono::milliseconds(1100)); };
  std::string config = sandbox_config(cli, server);
  auto lib = library_client(cli, server);
  auto watch = cli.start({"--config", config, "watch", "--count", "5", "--interval", "100", "--json"});
  watch->wait_for_err("watching ");

  connect_sandbox(cli, config, "acme");
  watch->wait_for_out("connection.created");
  let_expire();
  int rc = -1;
  refold_test::get_credentials(lib.get(), "acme", "sandbox", rc);
  REQUIRE(rc == REFOLD_OK);
  watch->wait_for_out("connection.refreshed");
  server.admin_post("/admin/fail", R"({"endpoint":"token","mode":"500"})");
  let_expire();
  refold_test::get_credentials(lib.get(), "acme", "sandbox", rc);
  REQUIRE(rc == REFOLD_EPROVIDER);
  watch->wait_for_out("connection.refresh_failed");
  REQUIRE(refold_mark_reauth(lib.get(), "acme", "sandbox", nullptr) == REFOLD_OK);
  watch->wait_for_out("connection.expired");
  REQUIRE(cli.run({"--config", config, "--account", "acme", "disconnect", "sandbox"}).status == 0);
  Result r = watch->finish();
  CHECK(r.status == 0);

  std::vector<bj::object> events = json_lines(r.out);
  REQUIRE(events.size() == 5);
  std::vector<std::string> types;
  for (const auto& e : events) {
    types.emplace_back(e.at("type").as_string());
    CHECK(e.at("account") == "acme");
    CHECK(e.at("auth_type") == "oauth2");
  }
  CHECK(types == std::vector<std::string>{"connection.created", "connection.refreshed",
                                          "connection.refresh_failed", "connection.expired",
                                          "connection.deleted"});
  CHECK(refold_test::is_rfc3339_utc(events[1].at("expires_at").as_string()));
  CHECK(events[2].at("reason") == "server_error");
  CHECK(events[2].at("refresh_failures") == 1);
  CHECK(refold_test::is_rfc3339_utc(events[2].at("retry_at").as_string()));
  CHECK(events[3].at("reason") == "revoked");
  CHECK_FALSE(contains(cli.transcript(), kSandboxSecret));
  CHECK_FALSE(contains(cli.transcript(), cli.key));
}

TEST_CASE("watch --consumer: the event log, each event printed once across runs, in order") {
  Cli cli;
  std::vector<std::string> secrets;
  // Written before any watch runs: the log keeps them for the consumer.
  REQUIRE(connect_twilio(cli, "acme", secrets).status == 0);
  REQUIRE(connect_twilio(cli, "acme", secrets).status == 0);
  REQUIRE(connect_twilio(cli, "beta", secrets).status == 0);

  Result first = cli.run({"watch", "--consumer", "relay", "--count", "2", "--json"});
  REQUIRE(first.status == 0);
  CHECK(contains(first.err, "as consumer 'relay'"));
  std::vector<bj::object> events = json_lines(first.out);
  REQUIRE(events.size() == 2);
  CHECK(events[0].at("type") == "connection.created");
  CHECK(events[1].at("type") == "connection.reauthenticated");
  CHECK(events[0].at("seq").as_int64() < events[1].at("seq").as_int64());
  for (const auto& e : events) CHECK(e.at("source") == "log");

  // The next run goes on where the first stopped, then sees a change made
  // while it waits.
  auto watch = cli.start({"watch", "--consumer", "relay", "--count", "2", "--interval", "50", "--json"});
  watch->wait_for_out("beta");
  REQUIRE(cli.run({"--account", "acme", "disconnect", "twilio"}).status == 0);
  Result second = watch->finish();
  CHECK(second.status == 0);
  events = json_lines(second.out);
  REQUIRE(events.size() == 2);
  CHECK(events[0].at("account") == "beta");
  CHECK(events[1].at("type") == "connection.deleted");
  CHECK(events[1].at("reason") == "disconnected");

  // Another consumer starts from the oldest event kept.
  Result other = cli.run({"watch", "--consumer", "audit", "--count", "4"});
  CHECK(other.status == 0);
  CHECK(contains(other.out, "(seq 1)"));
  CHECK(contains(other.out, "connection.deleted"));
  check_no_secret(cli, secrets);
}

TEST_CASE("watch and status: usage mistakes exit 2") {
  Cli cli;
  for (auto args : {std::vector<std::string>{"watch", "--interval", "5"},
                    {"watch", "--interval", "soon"},
                    {"watch", "--count", "0"},
                    {"watch", "extra"},
                    {"watch", "--consumer"},
                    {"connections", "--consumer", "x"},
                    {"status", "--count", "1"},
                    {"status", "--all"}}) {
    CAPTURE(args.back());
    Result r = cli.run(args);
    CHECK(r.status == 2);
    CHECK(contains(r.err, "Try 'refold "));
    CHECK(r.out.empty());
  }
}
