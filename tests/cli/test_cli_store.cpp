// refold store copy FROM TO: every connection copied into another store.
#include <doctest/doctest.h>

#include "cli_runner.hpp"

using namespace refold_cli_test;
using refold_test::contains;

TEST_CASE("store copy: the connections of one store are copied into another, and read there") {
  Cli cli;
  const std::string token = refold_test::random_token(40);
  REQUIRE(cli.run({"--account", "acme", "connect", "twilio", "--field", "sid=" + refold_test::valid_sid(),
                   "--field", "auth_token=" + token})
              .status == 0);
  REQUIRE(cli.run({"--account", "beta", "connect", "twilio", "--field", "sid=" + refold_test::valid_sid(),
                   "--field", "auth_token=" + refold_test::random_token(40)})
              .status == 0);
  const std::string to = cli.dir.file("moved.db");
  Result r = cli.run_raw({"store", "copy", cli.store, to});
  CHECK(r.status == 0);
  CHECK(contains(r.out, "Copied 2 connections from " + cli.store + " to " + to));
  Result json = cli.run_raw({"store", "copy", cli.store, to, "--json"});
  CHECK(json.status == 0);
  CHECK(contains(json.out, "\"copied\":2"));

  Result listed = cli.run_raw({"--store", to, "connections", "--all"});
  CHECK(listed.status == 0);
  CHECK(contains(listed.out, "acme"));
  CHECK(contains(listed.out, "beta"));
  Result shown = cli.run_raw({"--store", to, "--account", "acme", "token", "twilio", "--reveal"});
  CHECK(shown.status == 0);
  CHECK(contains(shown.out, token));
  CHECK_FALSE(contains(r.out + r.err + json.out, token));
}

TEST_CASE("store copy: usage mistakes exit 2, a store onto itself is refused") {
  Cli cli;
  for (auto args : {std::vector<std::string>{"store"},
                    {"store", "move", "a.db", "b.db"},
                    {"store", "copy", "a.db"},
                    {"store", "copy", "a.db", "b.db", "c.db"}}) {
    CAPTURE(args.size());
    Result r = cli.run_raw(args);
    CHECK(r.status == 2);
    CHECK(contains(r.err, "Try 'refold "));
  }
  REQUIRE(cli.run({"apps"}).status == 0);  // makes the store
  Result same = cli.run_raw({"store", "copy", cli.store, cli.store});
  CHECK(same.status != 0);
  CHECK(contains(same.err, "same store"));
  Result scheme = cli.run_raw({"store", "copy", cli.store, "mysql://db.example/x"});
  CHECK(scheme.status != 0);
  CHECK(contains(scheme.err, "mysql://"));
}
