// refold_copy_connections: every connection of one store sealed again into
// another (how a SQLite store moves into PostgreSQL). Runs against both
// stores; tests/postgres copies from SQLite into PostgreSQL.
#include "lifecycle_fixture.hpp"

#include <doctest/doctest.h>

using namespace refold_test;

namespace {

bj::object copy_ok(refold_client* from, refold_client* to) {
  char* out = nullptr;
  REQUIRE_MESSAGE(refold_copy_connections(from, to, &out) == REFOLD_OK, last_error());
  return parse(take(out)).as_object();
}

}  // namespace

TEST_CASE("copy: every connection goes into another store, sealed again, and works there") {
  Lifecycle f;
  f.connect("acct");
  f.connect("gone");
  REQUIRE(refold_mark_reauth(f.client.get(), "gone", "sandbox", "user_left") == REFOLD_OK);
  const std::string key_token = random_token();
  connect_ok(f.client.get(), "acct", "twilio", twilio_payload(key_token));
  const std::string access = f.token_ok("acct");

  // Another store, another master key, the same apps.
  Store other;
  bj::object cfg = parse(f.config).as_object();
  cfg["store"] = other.path;
  cfg["master_key"] = other.key;
  ClientPtr to = open_client(to_json(cfg));
  EventRecorder events;
  events.install(to.get());
  TestClock clock;
  clock.ms = f.clock.ms.load();
  clock.install(to.get());

  const bj::object report = copy_ok(f.client.get(), to.get());
  CHECK(report.at("copied").as_int64() == 3);
  CHECK(report.at("reauth_required").as_int64() == 1);

  // The same listings, statuses and reasons; the same secrets.
  const auto rows = list_connections(to.get(), nullptr);
  REQUIRE(rows.size() == 3);
  const auto source = list_connections(f.client.get(), nullptr);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& a = rows[i].as_object();
    const auto& b = source[i].as_object();
    for (const char* k : {"account", "app", "auth_type", "status", "reason", "expires_at", "next_refresh_at"})
      CHECK_MESSAGE(a.at(k) == b.at(k), k);
  }
  CHECK(field_is(credential_fields(to.get(), "acct", "twilio"), "auth_token", key_token));
  int rc = 0;
  const std::string creds = get_credentials(to.get(), "acct", "sandbox", rc);
  REQUIRE(rc == REFOLD_OK);
  CHECK(same(str_at(parse(creds).as_object(), "access_token"), access));
  get_credentials(to.get(), "gone", "sandbox", rc);
  CHECK(rc == REFOLD_EREAUTH);

  // The refresh token came along: the copy refreshes at the provider.
  const auto refreshes = f.count("token_refresh");
  clock.ms = f.expires_at("acct") + 1000;
  const std::string fresh = str_at(parse(get_credentials(to.get(), "acct", "sandbox", rc)).as_object(), "access_token");
  REQUIRE_MESSAGE(rc == REFOLD_OK, last_error());
  CHECK_FALSE(same(fresh, access));
  CHECK(f.count("token_refresh") == refreshes + 1);

  // Events in the destination: created for each, expired for the one that needs re-auth.
  std::size_t created = 0, expired = 0;
  for (const auto& e : events.events()) {
    created += str_at(e, "type") == "connection.created";
    expired += str_at(e, "type") == "connection.expired";
  }
  CHECK(created == 3);
  CHECK(expired == 1);

  // Copying again replaces what is there.
  CHECK(copy_ok(f.client.get(), to.get()).at("copied").as_int64() == 3);
  CHECK(list_connections(to.get(), nullptr).size() == 3);
}

TEST_CASE("copy: the same store, or missing arguments, are refused") {
  Store s;
  ClientPtr a = open_client(s.config());
  ClientPtr b = open_client(s.config());
  char* out = nullptr;
  CHECK(refold_copy_connections(a.get(), a.get(), &out) == REFOLD_EINVALID);
  CHECK(contains(last_error(), "same client"));
  CHECK(refold_copy_connections(a.get(), b.get(), &out) == REFOLD_EINVALID);
  CHECK(contains(last_error(), "same store"));
  CHECK(refold_copy_connections(nullptr, b.get(), &out) == REFOLD_EINVALID);
  CHECK(refold_copy_connections(a.get(), nullptr, &out) == REFOLD_EINVALID);
  CHECK(refold_copy_connections(a.get(), b.get(), nullptr) == REFOLD_EINVALID);
  CHECK(out == nullptr);
}
