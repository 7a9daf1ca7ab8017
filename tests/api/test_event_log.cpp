// The durable event log (refold_read_events, refold_ack_events): every
// event the handler gets is in the store, written with the change; named
// consumers read it at least once, in order, from any client, across
// crashes. Runs against both stores.
#include "lifecycle_fixture.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace refold_test;

namespace {

// refold_read_events, parsed; REQUIREs success.
bj::object read_events(refold_client* c, const char* consumer, std::size_t max = 10000) {
  char* out = nullptr;
  REQUIRE_MESSAGE(refold_read_events(c, consumer, max, &out) == REFOLD_OK, last_error());
  return parse(take(out)).as_object();
}

std::vector<bj::object> events_of(const bj::object& page) {
  std::vector<bj::object> out;
  for (const auto& e : page.at("events").as_array()) out.push_back(e.as_object());
  return out;
}

std::int64_t seq_of(const bj::object& e) { return e.at("seq").as_int64(); }

// "type account app [reason]" of each event.
std::vector<std::string> summary(const std::vector<bj::object>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    std::string line = str_at(e, "type") + " " + str_at(e, "account") + " " + str_at(e, "app");
    if (has_key(e, "reason")) line += " " + str_at(e, "reason");
    out.push_back(line);
  }
  return out;
}

}  // namespace

TEST_CASE("event log: every event the handler gets is in the log, in commit order, with its seq") {
  Lifecycle f;
  f.connect();                                          // created
  f.connect();                                          // reauthenticated
  f.clock.ms = f.expires_at() + 1000;
  f.token_ok();                                         // refreshed
  f.server.admin_post("/admin/fail", R"({"endpoint":"token","mode":"500","count":1})");
  f.clock.ms = f.expires_at() + 1000;
  int rc = 0;
  f.token(rc);                                          // refresh_failed
  CHECK(rc != REFOLD_OK);
  REQUIRE(refold_mark_reauth(f.client.get(), "acct", "sandbox", "user_left") == REFOLD_OK);  // expired
  connect_ok(f.client.get(), "other", "twilio", twilio_payload(random_token()));
  REQUIRE(refold_disconnect(f.client.get(), "acct", "sandbox") == REFOLD_OK);              // deleted
  REQUIRE(refold_delete_account(f.client.get(), "other") == REFOLD_OK);                     // deleted

  const auto handled = f.events.events();
  const auto page = read_events(f.client.get(), "relay");
  const auto logged = events_of(page);
  CHECK_FALSE(page.at("missed").as_bool());
  CHECK(summary(logged) == summary(handled));
  CHECK(summary(logged) == std::vector<std::string>{
                               "connection.created acct sandbox",
                               "connection.reauthenticated acct sandbox",
                               "connection.refreshed acct sandbox",
                               "connection.refresh_failed acct sandbox server_error",
                               "connection.expired acct sandbox user_left",
                               "connection.created other twilio",
                               "connection.deleted acct sandbox disconnected",
                               "connection.deleted other twilio account_deleted",
                           });
  for (std::size_t i = 0; i < logged.size(); ++i) {
    CHECK(str_at(logged[i], "auth_type") == str_at(handled[i], "auth_type"));
    CHECK(is_rfc3339_utc(str_at(logged[i], "at")));
    if (i > 0) CHECK(seq_of(logged[i]) > seq_of(logged[i - 1]));
  }
  CHECK(is_rfc3339_utc(str_at(logged[3], "retry_at")));
  CHECK(str_at(logged[3], "retry_at") == str_at(handled[3], "retry_at"));
  CHECK_FALSE(has_key(logged[6], "revoked"));  // known only after the commit
}

TEST_CASE("event log: consumers keep their own cursors in the store, read from any client") {
  Store s;
  ClientPtr a = open_client(s.config());
  for (int i = 0; i < 5; ++i)
    connect_ok(a.get(), ("acct-" + std::to_string(i)).c_str(), "twilio", twilio_payload(random_token()));
  auto all = events_of(read_events(a.get(), "mailer"));
  REQUIRE(all.size() == 5);
  // Reading changes nothing: the same five again, and in pages.
  CHECK(summary(events_of(read_events(a.get(), "mailer"))) == summary(all));
  auto first_two = events_of(read_events(a.get(), "mailer", 2));
  REQUIRE(first_two.size() == 2);
  CHECK(seq_of(first_two[1]) == seq_of(all[1]));

  // Acknowledged up to the second: another client (another instance) reads on.
  REQUIRE(refold_ack_events(a.get(), "mailer", seq_of(all[1])) == REFOLD_OK);
  ClientPtr b = open_client(s.config());
  auto rest = events_of(read_events(b.get(), "mailer"));
  REQUIRE(rest.size() == 3);
  CHECK(seq_of(rest[0]) == seq_of(all[2]));
  // Another consumer is still at the start.
  CHECK(events_of(read_events(b.get(), "audit")).size() == 5);
  // A cursor never moves back.
  REQUIRE(refold_ack_events(b.get(), "mailer", seq_of(all[4])) == REFOLD_OK);
  REQUIRE(refold_ack_events(b.get(), "mailer", seq_of(all[0])) == REFOLD_OK);
  CHECK(events_of(read_events(a.get(), "mailer")).empty());
  connect_ok(b.get(), "acct-9", "twilio", twilio_payload(random_token()));
  auto next = events_of(read_events(a.get(), "mailer"));
  REQUIRE(next.size() == 1);
  CHECK(str_at(next[0], "account") == "acct-9");

  // Bad arguments are named, and change nothing.
  char* out = nullptr;
  CHECK(refold_ack_events(a.get(), "mailer", seq_of(next[0]) + 1) == REFOLD_EINVALID);
  CHECK(contains(last_error(), "past the last event"));
  CHECK(refold_ack_events(a.get(), "mailer", 0) == REFOLD_EINVALID);
  CHECK(refold_ack_events(a.get(), "", 1) == REFOLD_EINVALID);
  CHECK(contains(last_error(), "consumer"));
  CHECK(refold_read_events(a.get(), nullptr, 10, &out) == REFOLD_EINVALID);
  CHECK(contains(last_error(), "consumer"));
  CHECK(refold_read_events(a.get(), "mailer", 0, &out) == REFOLD_EINVALID);
  CHECK(contains(last_error(), "max"));
  CHECK(refold_read_events(a.get(), "mailer", 10001, &out) == REFOLD_EINVALID);
  CHECK(out == nullptr);
  CHECK(refold_read_events(a.get(), "mailer", 10, nullptr) == REFOLD_EINVALID);
  CHECK(refold_read_events(nullptr, "mailer", 10, &out) == REFOLD_EINVALID);
  CHECK(events_of(read_events(a.get(), "mailer")).size() == 1);
}

TEST_CASE("event log: an event outlives a process that dies between its commit and its handler") {
  Store s;
  const std::string config = s.config();
  Child child = spawn([&]() -> std::string {
    refold_client* c = nullptr;
    if (refold_client_open(&c, config.c_str()) != REFOLD_OK) return "open failed";
    // The handler never gets to relay anything: the process dies in it.
    refold_set_event_handler(c, [](const char*, void*) { ::_exit(3); }, nullptr, nullptr);
    refold_connect(c, "acct", "twilio", twilio_payload(random_token()).c_str());
    return "handler not called";
  });
  CHECK(read_line(child) == "");  // died without a line
  reap(child);

  ClientPtr c = open_client(config);
  auto logged = events_of(read_events(c.get(), "relay"));
  REQUIRE(logged.size() == 1);
  CHECK(summary(logged)[0] == "connection.created acct twilio");
}

TEST_CASE("event log: retention removes old events and a consumer left behind is told it missed some") {
  Store s;
  json::object cfg = config_object(s.path, s.key);
  cfg["event_retention"] = "1h";
  ClientPtr c = open_client(to_json(cfg));
  TestClock clock;
  clock.install(c.get());
  connect_ok(c.get(), "old", "twilio", twilio_payload(random_token()));
  auto first = events_of(read_events(c.get(), "slow"));
  REQUIRE(first.size() == 1);
  REQUIRE(refold_ack_events(c.get(), "slow", seq_of(first[0])) == REFOLD_OK);
  connect_ok(c.get(), "old", "twilio", twilio_payload(random_token()));  // unread by "slow"
  CHECK_FALSE(read_events(c.get(), "slow").at("missed").as_bool());

  // Two hours on, the log is pruned as it grows (every 1024th event).
  clock.advance(2 * kHour);
  const std::string token = random_token();
  for (int i = 0; i < 1100; ++i) connect_ok(c.get(), "new", "twilio", twilio_payload(token));
  auto page = read_events(c.get(), "slow");
  CHECK(page.at("missed").as_bool());
  auto kept = events_of(page);
  REQUIRE_FALSE(kept.empty());
  for (const auto& e : kept) CHECK(str_at(e, "account") == "new");
  // A consumer that starts now misses nothing it was promised.
  CHECK_FALSE(read_events(c.get(), "fresh").at("missed").as_bool());

  for (const char* bad : {"30m", "366d", "1w", ""}) {
    cfg["event_retention"] = bad;
    ClientPtr other;
    CHECK(try_open(to_json(cfg), other) == REFOLD_EINVALID);
    CHECK(contains(last_error(), "event_retention"));
  }
}
