// refold connections --app, --status, --limit and --cursor, and listings
// larger than one page of the library (status and connections fetch 1000
// at a time). The connections are made through the library, from this
// process, as a host sharing the store would.
#include <doctest/doctest.h>

#include <cstdio>

#include "cli_runner.hpp"

using namespace refold_cli_test;
using refold_test::contains;
namespace bj = boost::json;

namespace {

std::string numbered(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "acct-%04d", i);
  return buf;
}

// `n` accounts with a Twilio connection each (key-based, offline); every
// fourth needs re-auth.
void populate(const Cli& cli, int n) {
  refold_test::ClientPtr c = refold_test::open_client(refold_test::make_config(cli.store, cli.key));
  for (int i = 0; i < n; ++i) {
    const std::string a = numbered(i);
    refold_test::connect_ok(c.get(), a.c_str(), "twilio", refold_test::twilio_payload(refold_test::random_token()));
    if (i % 4 == 0) REQUIRE(refold_mark_reauth(c.get(), a.c_str(), "twilio", "revoked") == REFOLD_OK);
  }
}

std::vector<std::string> accounts_of(const bj::array& conns) {
  std::vector<std::string> out;
  for (const auto& v : conns) out.emplace_back(v.at("account").as_string());
  return out;
}

// The cursor on the "More connections" line, or "" when there is none.
std::string more_cursor(const std::string& out) {
  const std::string marker = "More connections: add --cursor ";
  const auto at = out.find(marker);
  if (at == std::string::npos) return "";
  const auto start = at + marker.size();
  return out.substr(start, out.find('\n', start) - start);
}

}  // namespace

TEST_CASE("connections: --app and --status filter, with every page or one") {
  Cli cli;
  populate(cli, 10);

  Result r = cli.run({"connections", "--all", "--status", "reauth_required"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  CHECK(contains(r.out, "acct-0000  twilio"));
  CHECK(contains(r.out, "acct-0004  twilio"));
  CHECK(contains(r.out, "acct-0008  twilio"));
  CHECK(!contains(r.out, "acct-0001"));
  CHECK(!contains(r.out, "More connections"));

  r = cli.run({"connections", "--all", "--status", "active", "--app", "twilio", "--json"});
  REQUIRE(r.status == 0);
  CHECK(accounts_of(parse_json(r.out).as_array()) ==
        std::vector<std::string>{"acct-0001", "acct-0002", "acct-0003", "acct-0005", "acct-0006",
                                 "acct-0007", "acct-0009"});

  r = cli.run({"connections", "--account", "acct-0004", "--status", "reauth_required", "--json"});
  REQUIRE(r.status == 0);
  CHECK(accounts_of(parse_json(r.out).as_array()) == std::vector<std::string>{"acct-0004"});

  r = cli.run({"connections", "--all", "--app", "github"});
  REQUIRE(r.status == 0);
  CHECK(r.out == "No matching connections.\n");
}

TEST_CASE("connections: --limit pages and --cursor continues, each connection once") {
  Cli cli;
  populate(cli, 10);

  // JSON: the library's page object.
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    std::vector<std::string> args{"connections", "--all", "--limit", "3", "--json"};
    if (!cursor.empty()) {
      args.push_back("--cursor");
      args.push_back(cursor);
    }
    Result r = cli.run(args);
    REQUIRE_MESSAGE(r.status == 0, r.err);
    bj::object page = parse_json(r.out).as_object();
    for (auto& a : accounts_of(page.at("connections").as_array())) seen.push_back(a);
    cursor = page.at("next_cursor").is_string() ? std::string(page.at("next_cursor").as_string()) : "";
    REQUIRE(++pages <= 4);
  } while (!cursor.empty());
  CHECK(pages == 4);
  std::vector<std::string> all;
  for (int i = 0; i < 10; ++i) all.push_back(numbered(i));
  CHECK(seen == all);

  // The table ends with the cursor of the next page while there is one.
  Result r = cli.run({"connections", "--all", "--status", "active", "--limit", "4"});
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "acct-0005"));
  CHECK(!contains(r.out, "acct-0006"));
  cursor = more_cursor(r.out);
  REQUIRE(!cursor.empty());
  r = cli.run({"connections", "--all", "--status", "active", "--cursor", cursor});
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "acct-0006"));
  CHECK(contains(r.out, "acct-0009"));
  CHECK(!contains(r.out, "acct-0005"));
  CHECK(more_cursor(r.out).empty());

  // A cursor of another query, or a changed one, is a usage error.
  r = cli.run({"connections", "--all", "--cursor", cursor});
  CHECK(r.status == 2);
  CHECK(contains(r.err, "'cursor' is not valid"));
  CHECK(!contains(r.err, cursor));
  std::string bad = cursor;
  bad[bad.size() / 2] = bad[bad.size() / 2] == 'A' ? 'B' : 'A';
  r = cli.run({"connections", "--all", "--status", "active", "--cursor", bad});
  CHECK(r.status == 2);
  CHECK(contains(r.err, "'cursor' is not valid"));
}

TEST_CASE("connections: bad --status, --limit and --app are usage errors") {
  Cli cli;
  Result r = cli.run({"connections", "--status", "expired"});
  CHECK(r.status == 2);
  CHECK(contains(r.err, "--status must be 'active' or 'reauth_required'"));
  for (const char* n : {"0", "1001", "ten"}) {
    r = cli.run({"connections", "--limit", n});
    CHECK(r.status == 2);
    CHECK(contains(r.err, "'--limit' needs a whole number from 1 to 1000"));
  }
  r = cli.run({"connections", "--app", "Not A Slug"});
  CHECK(r.status == 2);
  CHECK(contains(r.err, "'app'"));
  r = cli.run({"status", "--app", "twilio"});
  CHECK(r.status == 2);
  CHECK(contains(r.err, "does not apply to 'status'"));
}

TEST_CASE("connections and status: more than one page of the library's is listed whole") {
  Cli cli;
  populate(cli, 1003);
  Result r = cli.run({"connections", "--all", "--json"});
  REQUIRE_MESSAGE(r.status == 0, r.err);
  bj::array conns = parse_json(r.out).as_array();
  REQUIRE(conns.size() == 1003);
  CHECK(conns.front().at("account") == "acct-0000");
  CHECK(conns.back().at("account") == "acct-1002");
  for (std::size_t i = 1; i < conns.size(); ++i)
    CHECK(conns[i - 1].at("account").as_string() < conns[i].at("account").as_string());

  r = cli.run({"status", "--json"});
  CHECK(r.status == 4);  // some need re-auth
  CHECK(parse_json(r.out).as_array().size() == 1003);
  r = cli.run({"connections", "--all", "--status", "reauth_required", "--json"});
  CHECK(parse_json(r.out).as_array().size() == 251);
}
