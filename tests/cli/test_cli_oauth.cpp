// OAuth 2.0 through the tool against the sandbox provider (refold-devserver):
// the interactive flow with --open-with playing the browser (curl), and
// --no-browser timing out.
#include <doctest/doctest.h>

#include "cli_runner.hpp"
#include "devserver.hpp"

using namespace refold_cli_test;
using refold_test::contains;
namespace bj = boost::json;

namespace {

const char* kClientSecret = "sandbox-secret";  // the sandbox's default client

// A config pointing "sandbox" at this server, with the default client.
std::string sandbox_config(Cli& cli, const refold_test::Devserver& server,
                           std::optional<int> timeout_ms = std::nullopt) {
  bj::object cfg{{"catalog", bj::array{server.sandbox_app()}},
                 {"oauth_clients", bj::object{{"sandbox", bj::object{{"client_id", "sandbox-client"},
                                                                     {"client_secret", kClientSecret}}}}}};
  if (timeout_ms) cfg["oauth"] = bj::object{{"interactive_timeout_ms", *timeout_ms}};
  return cli.write_config("sandbox.json", cfg);
}

}  // namespace

TEST_CASE("oauth: connect against the sandbox with --open-with curl") {
  Cli cli;
  refold_test::Devserver server({"--auto-approve"});
  std::string config = sandbox_config(cli, server);

  Result r = cli.run({"--config", config, "connect", "sandbox", "--open-with",
                      "curl -s -L --max-time 20 -o /dev/null"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(contains(r.out, "Connected sandbox (oauth2) for account 'default'."));
  CHECK(contains(r.err, "Opening the authorization page for sandbox"));
  CHECK(server.counters().at("token_authorization_code").to_number<int>() == 1);

  // Hidden by default: type, expiry and scopes only.
  r = cli.run({"--config", config, "token", "sandbox"});
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "auth_type:    oauth2"));
  CHECK(contains(r.out, "token_type:   Bearer"));
  CHECK(contains(r.out, "scopes:       profile read"));
  CHECK(contains(r.out, "access_token: (hidden; use --reveal)"));
  r = cli.run({"--config", config, "token", "sandbox", "--json"});
  REQUIRE(r.status == 0);
  bj::object hidden = parse_json(r.out).as_object();
  CHECK(hidden.at("access_token").is_null());
  CHECK(refold_test::is_rfc3339_utc(hidden.at("expires_at").as_string()));
  CHECK(hidden.at("scopes") == bj::array{"profile", "read"});

  // --reveal: the token alone, which the provider's API accepts.
  r = cli.run({"--config", config, "token", "sandbox", "--reveal"}, revealed());
  REQUIRE(r.status == 0);
  REQUIRE(r.out.size() > 1);
  CHECK(r.out.back() == '\n');
  std::string token = r.out.substr(0, r.out.size() - 1);
  CHECK(token.find_first_of(" \n\t") == std::string::npos);
  auto me = refold_test::curl("GET", server.base_url() + "/api/me", "", {"Authorization: Bearer " + token});
  CHECK(me.status == 200);
  CHECK(contains(me.body, "sandbox-client"));

  // Listed as an active oauth2 connection; the catalog shows it connected.
  r = cli.run({"--config", config, "connections", "--json"});
  REQUIRE(r.status == 0);
  bj::array conns = parse_json(r.out).as_array();
  REQUIRE(conns.size() == 1);
  CHECK(conns[0].at("auth_type") == "oauth2");
  CHECK(conns[0].at("status") == "active");
  r = cli.run({"--config", config, "apps", "--json"});
  bj::value apps = parse_json(r.out);
  for (const auto& a : apps.as_array())
    if (a.at("slug") == "sandbox") CHECK(a.at("connected") == true);

  r = cli.run({"--config", config, "disconnect", "sandbox"});
  CHECK(r.status == 0);
  CHECK(cli.run({"--config", config, "token", "sandbox"}).status == 3);

  CHECK_FALSE(contains(cli.transcript(), token));
  CHECK_FALSE(contains(cli.transcript(), kClientSecret));
}

TEST_CASE("oauth: --no-browser prints the URL and times out") {
  Cli cli;
  refold_test::Devserver server({"--auto-approve"});
  std::string config = sandbox_config(cli, server, 300);

  Result r = cli.run({"--config", config, "connect", "sandbox", "--no-browser"});
  CHECK(r.status == 6);
  CHECK(contains(r.err, "Open this URL to connect sandbox: " + server.base_url() + "/oauth/authorize?"));
  CHECK(contains(r.err, "refold: connect sandbox: "));
  CHECK(r.out.empty());
  CHECK(server.counters().at("token").to_number<int>() == 0);
  CHECK(cli.run({"--config", config, "token", "sandbox"}).status == 3);

  // The printed URL is the real one: following it (as a browser would)
  // reaches the provider, which redirects to the loopback callback.
  auto line_start = r.err.find("Open this URL to connect sandbox: ");
  std::string url = r.err.substr(line_start + 34, r.err.find('\n', line_start) - line_start - 34);
  auto q = refold_test::query_params(url);
  CHECK(q["client_id"] == "sandbox-client");
  CHECK(q["redirect_uri"].rfind("http://127.0.0.1:", 0) == 0);
  CHECK_FALSE(contains(cli.transcript(), kClientSecret));
}

TEST_CASE("oauth: --open-with a command that fails at once ends the flow") {
  Cli cli;
  refold_test::Devserver server({"--auto-approve"});
  std::string config = sandbox_config(cli, server);
  Result r = cli.run({"--config", config, "connect", "sandbox", "--open-with", "exit 3 #"});
  CHECK(r.status == 1);
  CHECK(contains(r.err, "refold: connect sandbox: the --open-with command exited with status 3"));
  CHECK(server.counters().at("authorize").to_number<int>() == 0);
  CHECK_FALSE(contains(cli.transcript(), kClientSecret));
}

TEST_CASE("oauth: a client-credentials app connects with --field client_id/client_secret and --connection") {
  Cli cli;
  refold_test::Devserver server({"--auto-approve"});
  server.admin_post("/admin/config", R"({"tenant_hosts": true})");
  std::string token_url = server.base_url() + "/oauth/token";
  token_url.replace(token_url.find("127.0.0.1"), 9, "{connection.tenant}.localhost");
  bj::object app{{"slug", "sandbox-cc"},
                 {"name", "Sandbox machine to machine"},
                 {"auth_types", bj::array{"oauth2_cc"}},
                 {"connection_fields", bj::array{bj::object{{"name", "tenant"}, {"label", "Tenant"}, {"type", "text"}}}},
                 {"oauth2_cc", bj::object{{"token_endpoint", token_url}, {"token_response_metadata", bj::array{"tenant"}}}}};
  const std::string config = cli.write_config("cc.json", bj::object{{"catalog", bj::array{app}}});

  Result r = cli.run({"--config", config, "connect", "sandbox-cc", "--field", "client_id=sandbox-client",
                      "--field", std::string("client_secret=") + kClientSecret, "--connection", "tenant=acme"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(contains(r.out, "Connected sandbox-cc (oauth2_cc) for account 'default'."));
  CHECK(server.counters().at("token_client_credentials").to_number<int>() == 1);
  r = cli.run({"--config", config, "token", "sandbox-cc"});
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "auth_type:    oauth2_cc"));
  CHECK(contains(r.out, "access_token: (hidden; use --reveal)"));
  CHECK_FALSE(contains(cli.transcript(), kClientSecret));

  // A refused client: exit 5, nothing stored; a missing input: exit 2.
  r = cli.run({"--config", config, "connect", "sandbox-cc", "--account", "b", "--field", "client_id=sandbox-client",
               "--field", "client_secret=wrong-secret-1234", "--connection", "tenant=acme"});
  CHECK(r.status == 5);
  CHECK(contains(r.err, "invalid_client"));
  CHECK_FALSE(contains(r.err, "wrong-secret-1234"));
  r = cli.run({"--config", config, "connect", "sandbox-cc", "--account", "b", "--field", "client_id=sandbox-client",
               "--field", std::string("client_secret=") + kClientSecret});
  CHECK(r.status == 2);
  CHECK(contains(r.err, "tenant"));
  r = cli.run({"--config", config, "connect", "sandbox-cc", "--field", "api_key=x"});
  CHECK(r.status == 2);
  CHECK(contains(r.err, "has no field 'api_key'"));
  CHECK(cli.run({"--config", config, "connect", "sandbox-cc", "--connection", "tenant"}).status == 2);
  CHECK(parse_json(cli.run({"--config", config, "connections", "--all", "--json"}).out).as_array().size() == 1);
}

TEST_CASE("oauth: --connection gives an OAuth app its tenant before the browser opens") {
  Cli cli;
  refold_test::Devserver server({"--auto-approve"});
  server.admin_post("/admin/config", R"({"tenant_hosts": true})");
  bj::object app = server.sandbox_app();
  bj::object& def = app.at("oauth2").as_object();
  for (const char* key : {"authorization_endpoint", "token_endpoint", "revocation_endpoint"}) {
    std::string url(def.at(key).as_string());
    url.replace(url.find("127.0.0.1"), 9, "{connection.tenant}.localhost");
    def[key] = url;
  }
  def["token_response_metadata"] = bj::array{"tenant"};
  app["connection_fields"] = bj::array{bj::object{{"name", "tenant"}, {"label", "Tenant"}, {"type", "text"}}};
  const std::string config = cli.write_config(
      "tenant.json", bj::object{{"catalog", bj::array{app}},
                                {"oauth_clients", bj::object{{"sandbox", bj::object{{"client_id", "sandbox-client"},
                                                                                   {"client_secret", kClientSecret}}}}}});
  // Without it the flow cannot start; a bad one is named before a browser opens.
  Result r = cli.run({"--config", config, "connect", "sandbox", "--no-browser"});
  CHECK(r.status == 2);
  CHECK(contains(r.err, "tenant"));
  r = cli.run({"--config", config, "connect", "sandbox", "--no-browser", "--connection", "tenant=not a label"});
  CHECK(r.status == 2);
  CHECK(contains(r.err, "tenant"));
  CHECK(server.counters().at("authorize").to_number<int>() == 0);

  r = cli.run({"--config", config, "connect", "sandbox", "--connection", "tenant=acme", "--open-with",
               "curl -s -L --max-time 20 -o /dev/null"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(contains(r.out, "Connected sandbox (oauth2) for account 'default'."));
  r = cli.run({"--config", config, "connections", "--json"});
  bj::array rows = parse_json(r.out).as_array();
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].at("connection") == bj::object{{"tenant", "acme"}});
  CHECK(rows[0].at("metadata") == bj::object{{"tenant", "acme"}});
}
