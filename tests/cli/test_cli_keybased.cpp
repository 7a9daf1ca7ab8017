// Key-based apps through the tool: fields from --field or a terminal prompt,
// the connection listed, credentials hidden unless revealed, disconnect.
#include <doctest/doctest.h>

#include "cli_runner.hpp"
#include "devserver.hpp"

using namespace refold_cli_test;
using refold_test::contains;
namespace bj = boost::json;

namespace {

// "AC" + 32 hex digits, different each time.
std::string random_sid() {
  std::string hex = refold_test::random_hex_key().substr(0, 32);
  return "AC" + hex;
}

}  // namespace

TEST_CASE("keybased: connect twilio with --field then list read and disconnect it") {
  Cli cli;
  std::string sid = random_sid();
  std::string auth_token = refold_test::random_token(40);

  Result r = cli.run({"connect", "twilio", "--field", "sid=" + sid, "--field", "auth_token=" + auth_token});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(contains(r.out, "Connected twilio (keybased) for account 'default'."));

  // connections: a table, and JSON with status and times.
  r = cli.run({"connections"});
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "twilio"));
  CHECK(contains(r.out, "keybased"));
  CHECK(contains(r.out, "active"));
  r = cli.run({"connections", "--json"});
  REQUIRE(r.status == 0);
  bj::array conns = parse_json(r.out).as_array();
  REQUIRE(conns.size() == 1);
  CHECK(conns[0].at("account") == "default");
  CHECK(conns[0].at("app") == "twilio");
  CHECK(conns[0].at("status") == "active");
  CHECK(refold_test::is_rfc3339_utc(conns[0].at("created_at").as_string()));
  CHECK(refold_test::is_rfc3339_utc(conns[0].at("updated_at").as_string()));
  // --all lists every account, with an ACCOUNT column.
  r = cli.run({"connect", "twilio", "--account", "acct-2", "--field", "sid=" + sid, "--field",
               "auth_token=" + auth_token, "--json"});
  REQUIRE(r.status == 0);
  bj::object made = parse_json(r.out).as_object();
  CHECK(made.at("account") == "acct-2");
  CHECK(made.at("app") == "twilio");
  CHECK(made.at("auth_type") == "keybased");
  CHECK(made.at("status") == "active");
  r = cli.run({"connections", "--all"});
  CHECK(contains(r.out, "ACCOUNT"));
  CHECK(contains(r.out, "acct-2"));
  CHECK(parse_json(cli.run({"connections", "--all", "--json"}).out).as_array().size() == 2);

  // token: the secret field hidden, the SID shown.
  r = cli.run({"token", "twilio"});
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "auth_token: (hidden; use --reveal)"));
  CHECK(contains(r.out, sid));
  CHECK(contains(r.out, "keybased"));
  r = cli.run({"token", "twilio", "--json"});
  REQUIRE(r.status == 0);
  bj::object hidden = parse_json(r.out).as_object();
  CHECK(hidden.at("fields").at("sid") == sid.c_str());
  CHECK(hidden.at("fields").at("auth_token").is_null());
  CHECK(hidden.at("hidden") == bj::array{"auth_token"});

  // token --reveal: the fields as JSON, the only output with the secret.
  r = cli.run({"token", "twilio", "--reveal"}, revealed());
  REQUIRE(r.status == 0);
  bj::object fields = parse_json(r.out).as_object();
  CHECK(refold_test::field_is(fields, "auth_token", auth_token));
  CHECK(refold_test::field_is(fields, "sid", sid));
  r = cli.run({"token", "twilio", "--reveal", "--json"}, revealed());
  REQUIRE(r.status == 0);
  bj::object creds = parse_json(r.out).as_object();
  CHECK(creds.at("auth_type") == "keybased");
  CHECK(refold_test::field_is(creds.at("fields").as_object(), "auth_token", auth_token));

  // disconnect removes it; a second time there is nothing to do.
  r = cli.run({"disconnect", "twilio"});
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "Disconnected twilio"));
  CHECK(parse_json(cli.run({"connections", "--json"}).out).as_array().empty());
  CHECK(cli.run({"token", "twilio"}).status == 3);
  r = cli.run({"disconnect", "twilio", "--json"});
  REQUIRE(r.status == 0);
  CHECK(parse_json(r.out).at("disconnected") == false);
  // The other account keeps its connection.
  CHECK(cli.run({"token", "twilio", "--account", "acct-2"}).status == 0);

  CHECK_FALSE(contains(cli.transcript(), auth_token));
}

TEST_CASE("keybased: a bad field fails naming the field and never the value") {
  Cli cli;
  std::string bad_sid = "AC-not-hex-" + refold_test::random_token(12);
  std::string auth_token = refold_test::random_token(40);
  Result r = cli.run({"connect", "twilio", "--field", "sid=" + bad_sid, "--field", "auth_token=" + auth_token});
  CHECK(r.status == 2);
  CHECK(contains(r.err, "refold: connect twilio: "));
  CHECK(contains(r.err, "'sid'"));
  CHECK_FALSE(contains(r.err, bad_sid));

  std::string short_token = refold_test::random_token(10);
  r = cli.run({"connect", "twilio", "--field", "sid=" + random_sid(), "--field", "auth_token=" + short_token});
  CHECK(r.status == 2);
  CHECK(contains(r.err, "'auth_token'"));
  CHECK_FALSE(contains(r.err, short_token));

  r = cli.run({"connect", "twilio", "--field", "sid=" + random_sid(), "--field", "auth_token=" + auth_token,
               "--field", "colour=" + short_token});
  CHECK(r.status == 2);
  CHECK(contains(r.err, "no field 'colour'"));

  r = cli.run({"connect", "twilio", "--field", "sid=" + random_sid(), "--field", "sid=" + random_sid()});
  CHECK(r.status == 2);
  CHECK(contains(r.err, "field 'sid' is given twice"));

  // An OAuth-only app takes no fields.
  r = cli.run({"connect", "github", "--field", "token=" + short_token});
  CHECK(r.status == 2);
  CHECK(contains(r.err, "takes no --field"));

  CHECK(parse_json(cli.run({"connections", "--json"}).out).as_array().empty());
  CHECK_FALSE(contains(cli.transcript(), auth_token));
  CHECK_FALSE(contains(cli.transcript(), short_token));
  CHECK_FALSE(contains(cli.transcript(), bad_sid));
}

TEST_CASE("keybased: missing fields without a terminal are an error naming them") {
  Cli cli;
  Result r = cli.run({"connect", "twilio"}, with_stdin("ignored\n"));
  CHECK(r.status == 2);
  CHECK(contains(r.err, "missing required fields sid, auth_token"));
  CHECK_FALSE(contains(r.err, "number"));  // optional

  std::string sid = random_sid();
  r = cli.run({"connect", "twilio", "--field", "sid=" + sid});
  CHECK(r.status == 2);
  CHECK(contains(r.err, "missing required field auth_token"));
  CHECK_FALSE(contains(r.err, sid));
  CHECK(parse_json(cli.run({"connections", "--json"}).out).as_array().empty());
}

TEST_CASE("keybased: on a terminal connect asks for missing fields with echo off for secrets") {
  Cli cli;
  std::string sid = random_sid();
  std::string auth_token = refold_test::random_token(40);
  // No --field: asked for every field, the optional number skipped.
  Result r = cli.run_on_terminal({"connect", "twilio"}, {{"Account SID [AC", sid},
                                                         {"Auth Token", auth_token},
                                                         {"Phone number", ""}});
  CHECK(r.status == 0);
  CHECK(contains(r.out, "Shown on the Twilio console dashboard."));  // help text
  CHECK(contains(r.out, "(optional, Enter to skip)"));
  CHECK(contains(r.out, sid));              // echoed
  CHECK_FALSE(contains(r.out, auth_token));  // not echoed
  CHECK(contains(r.out, "Connected twilio"));

  Result t = cli.run({"token", "twilio", "--reveal"}, revealed());
  REQUIRE(t.status == 0);
  bj::object fields = parse_json(t.out).as_object();
  CHECK(refold_test::field_is(fields, "sid", sid));
  CHECK(refold_test::field_is(fields, "auth_token", auth_token));
  CHECK_FALSE(fields.contains("number"));

  // With the SID given, only the missing required field is asked for.
  std::string second = refold_test::random_token(40);
  r = cli.run_on_terminal({"connect", "twilio", "--field", "sid=" + sid}, {{"Auth Token", second}});
  CHECK(r.status == 0);
  CHECK_FALSE(contains(r.out, "Phone number"));
  CHECK_FALSE(contains(r.out, second));
  CHECK(contains(r.out, "Connected twilio"));

  CHECK_FALSE(contains(cli.transcript(), auth_token));
  CHECK_FALSE(contains(cli.transcript(), second));
}

TEST_CASE("keybased: Ctrl-C at a secret prompt gives the terminal its echo back") {
  Cli cli;
  bool echo = false;
  Result r = cli.run_on_terminal({"connect", "twilio", "--field", "sid=" + random_sid()},
                                 {{"Auth Token", "^C"}}, &echo);
  CHECK(r.status == -1);  // the default SIGINT action ended it
  CHECK(echo);
  CHECK(parse_json(cli.run({"connections", "--json"}).out).as_array().empty());

  // Input ending at a prompt cancels: exit 7, nothing saved.
  r = cli.run_on_terminal({"connect", "twilio", "--field", "sid=" + random_sid()}, {{"Auth Token", "\x04"}},
                          &echo);
  CHECK(r.status == 7);
  CHECK(contains(r.out, "input ended before field 'auth_token' was entered"));
  CHECK(echo);
}

TEST_CASE("keybased: a verification request maps to exit codes") {
  Cli cli;
  refold_test::Devserver server;
  bj::object unreachable = server.sandbox_keys_app();
  unreachable["slug"] = "closed-keys";
  unreachable["keybased"].as_object()["verify"].as_object()["url"] = "http://127.0.0.1:9/keys/verify";
  std::string config = cli.write_config(
      "keys.json", {{"catalog", bj::array{server.sandbox_keys_app(), unreachable}},
                    {"http", bj::object{{"connect_timeout_ms", 2000}, {"timeout_ms", 2000}}}});

  std::string good = "sk_sandbox_" + refold_test::random_token(24);
  std::string rejected = "sk_wrong_" + refold_test::random_token(24);
  Result r = cli.run({"--config", config, "connect", "sandbox-keys", "--field", "api_key=" + rejected});
  CHECK(r.status == 5);
  CHECK(contains(r.err, "rejected the credentials"));
  r = cli.run({"--config", config, "connect", "closed-keys", "--field", "api_key=" + good});
  CHECK(r.status == 6);
  r = cli.run({"--config", config, "connect", "sandbox-keys", "--field", "api_key=" + good});
  CHECK_MESSAGE(r.status == 0, r.err);
  r = cli.run({"--config", config, "token", "sandbox-keys"});
  CHECK(contains(r.out, "api_key:   (hidden; use --reveal)"));

  CHECK_FALSE(contains(cli.transcript(), good));
  CHECK_FALSE(contains(cli.transcript(), rejected));
}
