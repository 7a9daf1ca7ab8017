// refold import: connections made elsewhere, one JSON object a line; each
// line imported or refused on its own, by line number and member.
#include <doctest/doctest.h>

#include "cli_runner.hpp"

using namespace refold_cli_test;
using refold_test::contains;
namespace bj = boost::json;

TEST_CASE("import: each line is imported or refused on its own, naming the line and the member") {
  Cli cli;
  const std::string github = "gho_" + refold_test::random_token(36);
  const std::string hubspot = "hub-" + refold_test::random_token(30);
  const std::string sid = "AC" + refold_test::random_hex_key().substr(0, 32);
  const std::string auth_token = refold_test::random_token(40);
  const std::string file = cli.dir.file("moved.jsonl");
  refold_test::write_file(
      file, R"({"account": "acme", "app": "github", "access_token": ")" + github +
                R"(", "expires_at": null, "scopes": ["repo"]})" + "\n\n" +
                R"({"account": "acme", "app": "hubspot", "access_token": ")" + hubspot +
                R"(", "expires_at": "tomorrow"})" + "\n" +
                R"({"app": "twilio", "fields": {"sid": ")" + sid + R"(", "auth_token": ")" + auth_token + "\"}}\n" +
                "not json " + hubspot + "\n" + R"({"account": "acme", "access_token": "x"})");

  Result r = cli.run({"import", file});
  CHECK(r.status == 2);
  CHECK(contains(r.out, "line 1: imported github for account 'acme'"));
  CHECK(contains(r.err, "refold: line 3: hubspot for account 'acme': credentials: 'expires_at' must be an RFC 3339"));
  CHECK(contains(r.out, "line 4: imported twilio for account 'default'"));
  CHECK(contains(r.err, "refold: line 5: not a JSON object"));
  CHECK(contains(r.err, "refold: line 6: 'app' is required"));
  CHECK(contains(r.out, "Imported 2 of 5 connections."));
  for (const std::string& secret : {github, hubspot, auth_token})
    CHECK_FALSE(contains(cli.transcript(), secret));

  bj::array conns = parse_json(cli.run({"connections", "--all", "--json"}).out).as_array();
  REQUIRE(conns.size() == 2);
  r = cli.run({"token", "github", "--account", "acme", "--reveal", "--json"}, revealed());
  REQUIRE(r.status == 0);
  CHECK(refold_test::field_is(parse_json(r.out).as_object(), "access_token", github));

  // From standard input, with --json; every line good exits 0.
  r = cli.run({"import", "-", "--account", "beta", "--json"},
              with_stdin(R"({"app": "github", "access_token": ")" + github + "\"}\n"));
  REQUIRE_MESSAGE(r.status == 0, r.err);
  bj::array results = parse_json(r.out).as_array();
  REQUIRE(results.size() == 1);
  CHECK(results[0].at("line") == 1);
  CHECK(results[0].at("ok") == true);
  CHECK(results[0].at("account") == "beta");
  CHECK(results[0].at("app") == "github");

  CHECK(cli.run({"import"}).status == 2);
  r = cli.run({"import", cli.dir.file("absent.jsonl")});
  CHECK(r.status == 2);
  CHECK(contains(r.err, "cannot read"));
}
