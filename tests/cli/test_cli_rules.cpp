// The rules behind `status` and `watch`, on made-up listings: the health
// of a connection, and the events `watch` derives from two listings,
// including the cases a test cannot reliably stage through the store (two
// changes within one interval). The tool's own sources, compiled in.
#include <doctest/doctest.h>

#include "errors.hpp"
#include "health.hpp"
#include "timefmt.hpp"
#include "watch_events.hpp"

using namespace refold_cli;
namespace bj = boost::json;

namespace {

constexpr std::int64_t kNow = 1'760'000'000'000;  // 2025-10-09T08:53:20.000Z
constexpr std::int64_t kMin = 60'000;

RowKey key(const char* account = "acme", const char* auth_type = "oauth2") {
  return {account, "sandbox", auth_type};
}

Row oauth_row() {
  Row r;
  r.status = "active";
  r.created_at = kNow - 60 * kMin;
  r.updated_at = r.created_at;
  r.expires_at = kNow + 10 * kMin;
  r.next_refresh_at = kNow + 5 * kMin;
  return r;
}

std::vector<std::string> types(const std::vector<WatchEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.type);
  return out;
}

std::vector<WatchEvent> diff(const Row& before, const Row& after, RowKey k = key()) {
  return diff_snapshots(Snapshot{{k, before}}, Snapshot{{k, after}}, kNow);
}

bj::object conn(const char* status, const char* auth_type, bj::value expires_at,
                int failures = 0, const char* reason = nullptr) {
  return bj::object{{"account", "acme"},
                    {"app", "sandbox"},
                    {"auth_type", auth_type},
                    {"status", status},
                    {"reason", reason ? bj::value(reason) : bj::value(nullptr)},
                    {"expires_at", expires_at},
                    {"next_refresh_at", format_rfc3339(kNow + kMin)},
                    {"refresh_failures", failures}};
}

}  // namespace

TEST_CASE("rules: times parse, print and read relative") {
  CHECK(format_rfc3339(kNow) == "2025-10-09T08:53:20.000Z");
  CHECK(parse_rfc3339("2025-10-09T08:53:20.000Z") == kNow);
  CHECK(parse_rfc3339("2025-10-09T08:53:20.5Z") == kNow + 500);
  CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == 0);
  CHECK_FALSE(parse_rfc3339("2025-10-09 08:53:20Z"));
  // An offset is applied; a date that does not exist is refused.
  CHECK(parse_rfc3339("2025-10-09T09:53:20.000+01:00") == kNow);
  CHECK(parse_rfc3339("2025-10-09T08:23:20-00:30") == kNow);
  CHECK(parse_rfc3339("2025-10-09t08:53:20z") == kNow);
  CHECK_FALSE(parse_rfc3339("2025-02-29T00:00:00Z"));
  CHECK(parse_rfc3339("2024-02-29T00:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2025-10-09T08:53:20+1:00"));
  CHECK_FALSE(parse_rfc3339("2025-10-09T08:53:20"));
  CHECK_FALSE(parse_rfc3339(""));
  CHECK(relative(kNow + 42 * kMin + 59'999, kNow) == "in 42m");
  CHECK(relative(kNow - 3 * kMin, kNow) == "3m ago");
  CHECK(relative(kNow + 500, kNow) == "now");
  CHECK(relative(kNow + 30'000, kNow) == "in 30s");
  CHECK(relative(kNow + 65 * kMin, kNow) == "in 1h 5m");
  CHECK(relative(kNow - 60 * kMin, kNow) == "1h ago");
  CHECK(relative(kNow + (51 * 60 + 7) * kMin, kNow) == "in 2d 3h");
}

TEST_CASE("rules: health words and the exit code they give") {
  auto in = [](std::int64_t ms) { return bj::value(format_rfc3339(kNow + ms)); };
  Health h = health_of(conn("active", "oauth2", in(42 * kMin)), kNow);
  CHECK(h.word == "ok");
  CHECK(h.healthy);
  CHECK(h.detail == "next refresh in 1m");
  CHECK(health_of(conn("active", "oauth2", nullptr), kNow).word == "ok");
  CHECK(health_of(conn("active", "oauth2", in(5 * kMin)), kNow).word == "expires soon");
  CHECK(health_of(conn("active", "oauth2", in(5 * kMin + 1)), kNow).word == "ok");
  h = health_of(conn("active", "oauth2", in(-kMin)), kNow);
  CHECK(h.word == "refresh due");
  CHECK(h.token == "refresh_due");
  CHECK(h.exit_code == 0);
  h = health_of(conn("active", "keybased", nullptr), kNow);
  CHECK(h.word == "key-based");
  CHECK(h.token == "keybased");

  h = health_of(conn("active", "oauth2", in(kMin), 2, "server_error"), kNow);
  CHECK(h.word == "refresh failing");
  CHECK_FALSE(h.healthy);
  CHECK(h.exit_code == kExitError);
  CHECK(h.detail == "reason: server_error, 2 failures, next attempt in 1m (" +
                        format_rfc3339(kNow + kMin) + ")");
  CHECK(health_of(conn("active", "oauth2", in(kMin), 1, "timeout"), kNow).exit_code == kExitNetwork);
  CHECK(health_of(conn("active", "oauth2", in(kMin), 1, "network"), kNow).exit_code == kExitNetwork);
  CHECK(health_of(conn("active", "oauth2", in(kMin), 1, "rate_limited"), kNow).exit_code == kExitError);
  CHECK(health_of(conn("active", "oauth2", in(kMin), 1, "invalid_client"), kNow).exit_code == kExitAuth);
  h = health_of(conn("reauth_required", "oauth2", in(-kMin), 0, "invalid_grant"), kNow);
  CHECK(h.word == "reauth required");
  CHECK(h.exit_code == kExitReauth);
  CHECK(h.detail == "reason: invalid_grant; the user must connect again");
  // Key-based connections can need re-auth too (refold_mark_reauth).
  CHECK(health_of(conn("reauth_required", "keybased", nullptr, 0, "revoked"), kNow).word ==
        "reauth required");

  // A refresh token that has lapsed: nothing can renew the access token.
  auto lapsing = [&](std::int64_t access_in, std::int64_t lapses_in) {
    bj::object c = conn("active", "oauth2", in(access_in));
    c["refresh_token_expires_at"] = in(lapses_in);
    return health_of(c, kNow);
  };
  h = lapsing(30 * kMin, -2 * kMin);
  CHECK(h.word == "refresh token expired");
  CHECK(h.token == "refresh_token_expired");
  CHECK_FALSE(h.healthy);
  CHECK(h.exit_code == kExitReauth);
  CHECK(h.detail == "the refresh token expired 2m ago; the user must connect again before the access token "
                    "expires in 30m");
  CHECK(lapsing(-kMin, -2 * kMin).detail == "the refresh token expired 2m ago; the user must connect again");
  // One that lapses within a week is named; later ones are not.
  h = lapsing(42 * kMin, 3 * 24 * 60 * kMin);
  CHECK(h.word == "ok");
  CHECK(h.detail == "next refresh in 1m; the refresh token expires in 3d: the user must connect again by then "
                    "unless it is refreshed");
  CHECK(lapsing(42 * kMin, 8 * 24 * 60 * kMin).detail == "next refresh in 1m");

  CHECK(worst_exit_code(kExitOk, kExitError) == kExitError);
  CHECK(worst_exit_code(kExitError, kExitNetwork) == kExitNetwork);
  CHECK(worst_exit_code(kExitAuth, kExitNetwork) == kExitAuth);
  CHECK(worst_exit_code(kExitReauth, kExitAuth) == kExitReauth);
  CHECK(worst_exit_code(kExitAuth, kExitOk) == kExitAuth);
}

TEST_CASE("watch rules: rows that appear, go, or come back") {
  Row r = oauth_row();
  auto events = diff_snapshots({}, Snapshot{{key(), r}}, kNow);
  REQUIRE(types(events) == std::vector<std::string>{"connection.created"});
  CHECK(events[0].at == r.created_at);
  CHECK(events[0].expires_at == r.expires_at);

  events = diff_snapshots(Snapshot{{key(), r}}, {}, kNow);
  REQUIRE(types(events) == std::vector<std::string>{"connection.deleted"});
  CHECK(events[0].at == kNow);
  CHECK(events[0].reason.empty());

  // Disconnected and connected again within one interval.
  Row again = oauth_row();
  again.created_at = again.updated_at = kNow - kMin;
  CHECK(types(diff(r, again)) == std::vector<std::string>{"connection.deleted", "connection.created"});

  // Appeared already needing re-auth, or with a failed refresh.
  Row marked = oauth_row();
  marked.status = "reauth_required";
  marked.reason = "uninstalled";
  events = diff_snapshots({}, Snapshot{{key(), marked}}, kNow);
  REQUIRE(types(events) == std::vector<std::string>{"connection.created", "connection.expired"});
  CHECK(events[1].reason == "uninstalled");
  Row failing = oauth_row();
  failing.refresh_failures = 1;
  CHECK(types(diff_snapshots({}, Snapshot{{key(), failing}}, kNow)) ==
        std::vector<std::string>{"connection.created", "connection.refresh_failed"});

  // Other rows are left alone, and nothing changed is nothing.
  CHECK(diff(r, r).empty());
  events = diff_snapshots(Snapshot{{key("a"), r}, {key("b"), r}},
                          Snapshot{{key("b"), r}, {key("c"), r}}, kNow);
  REQUIRE(types(events) == std::vector<std::string>{"connection.deleted", "connection.created"});
  CHECK(events[0].account == "a");
  CHECK(events[1].account == "c");
}

TEST_CASE("watch rules: status changes") {
  Row active = oauth_row();
  Row marked = active;
  marked.status = "reauth_required";
  marked.reason = "invalid_grant";
  marked.updated_at = kNow - kMin;
  auto events = diff(active, marked);
  REQUIRE(types(events) == std::vector<std::string>{"connection.expired"});
  CHECK(events[0].reason == "invalid_grant");
  CHECK(events[0].at == kNow - kMin);

  Row back = active;
  back.updated_at = kNow;
  back.expires_at = kNow + 60 * kMin;
  CHECK(types(diff(marked, back)) == std::vector<std::string>{"connection.reauthenticated"});

  // Still needing re-auth but updated: connected again, expired again.
  Row again = marked;
  again.updated_at = kNow;
  again.reason = "unauthorized";
  events = diff(marked, again);
  REQUIRE(types(events) == std::vector<std::string>{"connection.reauthenticated", "connection.expired"});
  CHECK(events[1].reason == "unauthorized");
}

TEST_CASE("watch rules: refreshes, failures, and a token replaced early") {
  Row b = oauth_row();  // next refresh at kNow + 5m
  Row failed = b;
  failed.refresh_failures = 1;
  failed.reason = "server_error";
  failed.updated_at = kNow + 5 * kMin;
  failed.next_refresh_at = kNow + 6 * kMin;
  auto events = diff(b, failed);
  REQUIRE(types(events) == std::vector<std::string>{"connection.refresh_failed"});
  CHECK(events[0].reason == "server_error");
  CHECK(events[0].refresh_failures == 1);
  CHECK(events[0].retry_at == kNow + 6 * kMin);

  // Refreshed once due; and after failures, the retry that succeeds.
  Row refreshed = b;
  refreshed.updated_at = kNow + 5 * kMin;
  refreshed.expires_at = kNow + 65 * kMin;
  CHECK(types(diff(b, refreshed)) == std::vector<std::string>{"connection.refreshed"});
  Row retried = refreshed;
  retried.updated_at = kNow + 6 * kMin;  // a retry comes once its back-off ends
  CHECK(types(diff(failed, retried)) == std::vector<std::string>{"connection.refreshed"});
  // Connected again during the back-off.
  CHECK(types(diff(failed, refreshed)) == std::vector<std::string>{"connection.reauthenticated"});

  // Replaced before it was due: connected again (or a forced refresh).
  Row early = b;
  early.updated_at = kNow;
  early.expires_at = kNow + 60 * kMin;
  events = diff(b, early);
  REQUIRE(types(events) == std::vector<std::string>{"connection.reauthenticated"});
  CHECK_FALSE(events[0].note.empty());

  // A success and new failures within one interval.
  Row mixed = failed;
  mixed.expires_at = kNow + 65 * kMin;
  mixed.updated_at = kNow + 70 * kMin;
  CHECK(types(diff(failed, mixed)) ==
        std::vector<std::string>{"connection.refreshed", "connection.refresh_failed"});

  // A key-based connection never refreshes: a change is a connect again.
  Row kb;
  kb.status = "active";
  kb.created_at = kb.updated_at = kNow - kMin;
  Row kb2 = kb;
  kb2.updated_at = kNow;
  events = diff(kb, kb2, key("acme", "keybased"));
  REQUIRE(types(events) == std::vector<std::string>{"connection.reauthenticated"});
  CHECK(events[0].note.empty());
}

TEST_CASE("watch rules: an event as a line and as JSON") {
  WatchEvent e;
  e.type = "connection.refresh_failed";
  e.account = "acme";
  e.app = "sandbox";
  e.auth_type = "oauth2";
  e.at = kNow;
  e.reason = "rate_limited";
  e.retry_at = kNow + 30'000;
  e.refresh_failures = 2;
  CHECK(event_line(e, kNow) ==
        "2025-10-09T08:53:20.000Z  connection.refresh_failed   acme  sandbox  oauth2  rate_limited"
        "  (2 failures, next attempt in 30s)");
  bj::object j = event_json(e);
  CHECK(j.at("type") == "connection.refresh_failed");
  CHECK(j.at("at") == "2025-10-09T08:53:20.000Z");
  CHECK(j.at("retry_at") == "2025-10-09T08:53:50.000Z");
  CHECK(j.at("refresh_failures") == 2);
  CHECK(j.at("source") == "store");
  CHECK_FALSE(j.contains("expires_at"));

  auto lib = library_event(
      R"({"type":"connection.deleted","account":"acme","app":"sandbox","auth_type":"oauth2",)"
      R"("at":"2025-10-09T08:53:20.000Z","reason":"disconnected","revoked":true})");
  REQUIRE(lib);
  CHECK(event_line(*lib, kNow) ==
        "2025-10-09T08:53:20.000Z  connection.deleted          acme  sandbox  oauth2  disconnected"
        "  (tokens revoked, from this process)");
  CHECK(event_json(*lib).at("source") == "client");
  CHECK_FALSE(library_event("not json"));
  CHECK_FALSE(library_event(R"({"account":"acme"})"));
}
