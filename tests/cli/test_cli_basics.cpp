// The refold tool's surface: help, usage errors, the catalog listing,
// configuration sources and how library errors become exit codes.
#include <doctest/doctest.h>

#include <set>

#include "cli_runner.hpp"

using namespace refold_cli_test;
using refold_test::contains;
namespace bj = boost::json;

TEST_CASE("help: every command's --help exits 0") {
  Cli cli;
  for (std::string cmd : {"apps", "connect", "connections", "token", "disconnect", "status", "watch"}) {
    CAPTURE(cmd);
    Result r = cli.run_raw({cmd, "--help"});
    CHECK(r.status == 0);
    CHECK(contains(r.out, "Usage: refold " + cmd));
    CHECK(contains(r.out, "--account NAME"));
    CHECK(r.err.empty());
    CHECK(cli.run_raw({"help", cmd}).status == 0);
    CHECK(cli.run_raw({"-h", cmd}).status == 0);
  }
  for (auto args : {std::vector<std::string>{"--help"}, {"help"}, {"-h"}}) {
    Result r = cli.run_raw(args);
    CHECK(r.status == 0);
    CHECK(contains(r.out, "Usage: refold [OPTIONS] COMMAND"));
    CHECK(contains(r.out, "Exit status"));
  }
  // --help wins over a missing APP.
  CHECK(cli.run_raw({"token", "--help"}).status == 0);
  Result v = cli.run_raw({"--version"});
  CHECK(v.status == 0);
  CHECK(contains(v.out, "refold 0.1.0 (library 0.1.0)"));
}

TEST_CASE("usage: mistakes exit 2 with a hint to --help") {
  Cli cli;
  struct Case {
    std::vector<std::string> args;
    std::string message;
    std::string hint;
  };
  std::vector<Case> cases = {
      {{}, "missing command", "Try 'refold --help'."},
      {{"frobnicate"}, "unknown command 'frobnicate'", "Try 'refold --help'."},
      {{"apps", "--colour"}, "unknown option '--colour'", "Try 'refold apps --help'."},
      {{"connect"}, "connect: missing APP", "Try 'refold connect --help'."},
      {{"token", "a", "b"}, "token: unexpected argument 'b'", "Try 'refold token --help'."},
      {{"apps", "--reveal"}, "option '--reveal' does not apply to 'apps'", "Try 'refold apps --help'."},
      {{"connect", "twilio", "--account"}, "option '--account' needs a value", "refold connect --help"},
      {{"apps", "--json=yes"}, "option '--json' takes no value", "refold apps --help"},
      {{"connect", "twilio", "--auth-type", "saml"}, "connect: --auth-type must be", "refold connect --help"},
      {{"connect", "sandbox", "--no-browser", "--open-with", "true"}, "connect: --no-browser and --open-with exclude each other",
       "refold connect --help"},
      {{"help", "frob"}, "unknown command 'frob'", "Try 'refold --help'."},
  };
  for (const auto& c : cases) {
    CAPTURE(c.message);
    Result r = cli.run(c.args);
    CHECK(r.status == 2);
    CHECK(contains(r.err, "refold: " + c.message));
    CHECK(contains(r.err, c.hint));
    CHECK(r.out.empty());
  }
  // A --field without NAME=VALUE may be a pasted secret: it is not quoted.
  Result r = cli.run({"connect", "twilio", "--field", "pasted-secret-value-4711"});
  CHECK(r.status == 2);
  CHECK(contains(r.err, "--field takes NAME=VALUE"));
  CHECK_FALSE(contains(r.err, "pasted-secret-value-4711"));
}

TEST_CASE("apps: the catalog with auth types and connection state") {
  Cli cli;
  Result r = cli.run({"apps"});
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "APP"));
  CHECK(contains(r.out, "twilio"));
  CHECK(contains(r.out, "sandbox"));
  CHECK(contains(r.out, "oauth2, keybased"));  // hubspot offers both

  Result j = cli.run({"apps", "--json"});
  REQUIRE(j.status == 0);
  bj::value apps = parse_json(j.out);
  REQUIRE(apps.is_array());
  std::set<std::string> slugs;
  for (const auto& a : apps.as_array()) {
    slugs.insert(std::string(a.at("slug").as_string()));
    CHECK(a.at("connected") == false);
  }
  CHECK(slugs.count("twilio"));
  CHECK(slugs.count("sandbox"));
  CHECK(slugs.count("sandbox-keys"));

  REQUIRE(cli.run({"connect", "twilio", "--field", "sid=" + refold_test::valid_sid(), "--field",
                   "auth_token=" + refold_test::random_token(40)})
              .status == 0);
  bj::value after = parse_json(cli.run({"apps", "--json"}).out);
  for (const auto& a : after.as_array()) CHECK(a.at("connected") == (a.at("slug") == "twilio"));
  // Another account sees nothing connected.
  bj::value other = parse_json(cli.run({"apps", "--json", "--account", "other"}).out);
  for (const auto& a : other.as_array()) CHECK(a.at("connected") == false);
}

TEST_CASE("apps: --category and --search narrow the catalog") {
  Cli cli;
  bj::array all = parse_json(cli.run({"apps", "--json"}).out).as_array();
  bj::value crm = parse_json(cli.run({"apps", "--json", "--category", "crm"}).out);
  REQUIRE(crm.is_array());
  std::size_t want = 0;
  for (const auto& a : all)
    if (a.at("category") == "crm") ++want;
  CHECK(want > 0);
  CHECK(crm.as_array().size() == want);
  std::set<std::string> slugs;
  for (const auto& a : crm.as_array()) {
    CHECK(a.at("category") == "crm");
    CHECK(a.at("docs_url").as_string().starts_with("https://"));
    slugs.insert(std::string(a.at("slug").as_string()));
  }
  CHECK(slugs.count("hubspot"));
  CHECK_FALSE(slugs.count("twilio"));

  // Any case, in the name, slug, description or tags.
  Result r = cli.run({"apps", "--search", "ZenDesk"});
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "zendesk"));
  CHECK(contains(r.out, "CATEGORY"));
  CHECK_FALSE(contains(r.out, "twilio"));
  bj::array found = parse_json(cli.run({"apps", "--json", "--search", "zendesk"}).out).as_array();
  REQUIRE_FALSE(found.empty());
  for (const auto& a : found) {
    if (a.at("slug") != "zendesk") continue;
    // Its OAuth half needs the customer's subdomain first.
    bj::array inputs = a.at("connection_fields").as_array();
    REQUIRE_FALSE(inputs.empty());
    CHECK(a.at("auth_type_options").at("oauth2") == a.at("connection_fields"));
  }
  CHECK(parse_json(cli.run({"apps", "--json", "--search", "no-such-app-anywhere"}).out).as_array().empty());

  r = cli.run({"apps", "--category", "crmm"});
  CHECK(r.status == 2);
  CHECK(contains(r.err, "no app has the category 'crmm'"));
  CHECK(contains(r.err, "crm,"));
}

TEST_CASE("exit codes: library errors map to documented codes") {
  Cli cli;
  // 3: not found.
  Result r = cli.run({"connect", "no-such-app"});
  CHECK(r.status == 3);
  CHECK(contains(r.err, "refold: connect no-such-app: unknown app 'no-such-app'"));
  r = cli.run({"token", "twilio"});
  CHECK(r.status == 3);
  CHECK(contains(r.err, "refold: token twilio: "));

  // 8: a store opened with the wrong master key.
  REQUIRE(cli.run({"connect", "twilio", "--field", "sid=" + refold_test::valid_sid(), "--field",
                   "auth_token=" + refold_test::random_token(40)})
              .status == 0);
  std::string wrong_key = refold_test::random_hex_key();
  r = cli.run({"connections"}, with_env("REFOLD_MASTER_KEY", wrong_key));
  CHECK(r.status == 8);
  CHECK(contains(r.err, "refold: open: "));
  CHECK_FALSE(contains(r.err, wrong_key));
  CHECK_FALSE(contains(r.err, cli.key));

  // 2: a config file that is not JSON, is missing, or has an unknown key.
  std::string bad = cli.dir.file("bad.json");
  refold_test::write_file(bad, "{\"master_key\": \"" + cli.key + "\", oops");
  r = cli.run({"apps", "--config", bad});
  CHECK(r.status == 2);
  CHECK(contains(r.err, "is not valid JSON"));
  CHECK_FALSE(contains(r.err, cli.key));
  r = cli.run({"apps", "--config", cli.dir.file("missing.json")});
  CHECK(r.status == 2);
  CHECK(contains(r.err, "cannot read config file"));
  r = cli.run({"apps", "--config", cli.write_config("typo.json", {{"stroe", "x"}})});
  CHECK(r.status == 2);
  CHECK(contains(r.err, "stroe"));
}

TEST_CASE("config: a file from --config or REFOLD_CONFIG and --store overriding it") {
  Cli cli;
  std::string in_config = cli.dir.file("from-config.db");
  std::string path = cli.write_config("refold.json", {{"store", in_config}});
  std::string sid = "sid=" + refold_test::valid_sid();
  std::string token = "auth_token=" + refold_test::random_token(40);

  // --config: the store named there.
  REQUIRE(cli.run_raw({"--config", path, "connect", "twilio", "--field", sid, "--field", token}).status == 0);
  CHECK(refold_test::file_exists(in_config));
  // REFOLD_CONFIG names the same file.
  Result r = cli.run_raw({"connections", "--json"}, with_env("REFOLD_CONFIG", path));
  REQUIRE(r.status == 0);
  CHECK(parse_json(r.out).as_array().size() == 1);
  // --store overrides the file's store: nothing is connected there.
  r = cli.run({"connections", "--json", "--config", path});
  REQUIRE(r.status == 0);
  CHECK(parse_json(r.out).as_array().empty());
  CHECK_FALSE(contains(cli.transcript(), token.substr(11)));
}
