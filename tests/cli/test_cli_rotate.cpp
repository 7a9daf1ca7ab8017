// refold rotate-data-key: re-encrypts every record under a new data key;
// one that stopped part-way shows in `status` and is finished by the next
// run.
#include <doctest/doctest.h>

#include "cli_runner.hpp"

using namespace refold_cli_test;
using refold_test::contains;
namespace bj = boost::json;

TEST_CASE("rotate-data-key: a stopped rotation shows in status and the next run finishes it") {
  Cli cli;
  std::vector<std::string> secrets;
  for (const char* account : {"acme1", "acme2", "acme3", "acme4", "acme5", "zz"}) {
    secrets.push_back(refold_test::random_token(40));
    REQUIRE(cli.run({"--account", account, "connect", "twilio", "--field",
                     "sid=" + refold_test::valid_sid(), "--field", "auth_token=" + secrets.back()})
                .status == 0);
  }
  // A damaged record: the rotation cannot open it, so its batch (here, all
  // six records) rolls back after the new key became current.
  refold_test::sql_exec(cli.store, "UPDATE connections SET ciphertext = zeroblob(80) WHERE account = 'zz'");
  Result r = cli.run({"rotate-data-key"});
  CHECK(r.status == 8);
  CHECK(contains(r.err, "rotate-data-key: "));
  CHECK(contains(r.err, "failed authentication"));
  CHECK(contains(r.err, "account 'zz' to 'twilio'"));

  r = cli.run({"status"});
  CHECK(r.status == 0);
  CHECK(contains(r.out, "Data-key rotation to key 2: 0 of 6 records re-encrypted, 6 to go"));
  // Every good record still reads.
  CHECK(cli.run({"--account", "acme3", "token", "twilio"}).status == 0);

  REQUIRE(cli.run({"--account", "zz", "disconnect", "twilio"}).status == 0);
  r = cli.run({"rotate-data-key"});
  CHECK(r.status == 0);
  CHECK(contains(r.out, "Finishing the rotation to data key 2: 5 records to re-encrypt."));
  CHECK(contains(r.out, "Every record (5) is sealed under data key 2; the older keys are destroyed."));
  r = cli.run({"status"});
  CHECK(r.status == 0);
  CHECK_FALSE(contains(r.out, "Data-key rotation"));

  // A new rotation, with the keys afterwards as JSON.
  r = cli.run({"rotate-data-key", "--json"});
  REQUIRE(r.status == 0);
  bj::object st = parse_json(r.out).as_object();
  CHECK(st.at("current_key") == 3);
  CHECK(st.at("rotating") == false);
  CHECK(st.at("records_to_reseal") == 0);
  REQUIRE(st.at("keys").as_array().size() == 1);
  CHECK(st.at("keys").as_array()[0].at("connections") == 5);
  CHECK(cli.run({"--account", "acme1", "token", "twilio"}).status == 0);

  for (const auto& s : secrets) CHECK_FALSE(contains(cli.transcript(), s));
}

TEST_CASE("rotate-data-key: takes no argument") {
  Cli cli;
  Result r = cli.run({"rotate-data-key", "extra"});
  CHECK(r.status == 2);
  CHECK(contains(r.err, "unexpected argument 'extra'"));
  r = cli.run({"rotate-data-key", "--help"});
  CHECK(r.status == 0);
  CHECK(contains(r.out, "Usage: refold rotate-data-key"));
}
