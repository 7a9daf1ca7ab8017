// refold_list_connections_page: filters, keyset paging, cursors that only
// their own store and query accept, and queries refused by key.
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <set>
#include <string>
#include <vector>

using namespace refold_test;

namespace {

struct Page {
  json::array connections;
  std::optional<std::string> next_cursor;
};

// One page; REQUIREs success and the documented shape.
Page page(refold_client* c, const std::string& query) {
  char* out = nullptr;
  const int rc = refold_list_connections_page(c, query.c_str(), &out);
  const std::string text = take(out);
  INFO(query << ": " << last_error());
  REQUIRE(rc == REFOLD_OK);
  const json::value v = parse(text);
  REQUIRE(v.is_object());
  const auto& o = v.as_object();
  REQUIRE(o.size() == 2);
  REQUIRE(o.contains("connections"));
  REQUIRE(o.at("connections").is_array());
  REQUIRE(o.contains("next_cursor"));
  Page p{o.at("connections").as_array(), std::nullopt};
  if (!o.at("next_cursor").is_null()) {
    REQUIRE(o.at("next_cursor").is_string());
    p.next_cursor = std::string(o.at("next_cursor").as_string());
    CHECK(!p.next_cursor->empty());
  }
  return p;
}

// The query object with the cursor (when given) added.
std::string with_cursor(json::object query, const std::optional<std::string>& cursor) {
  if (cursor) query["cursor"] = *cursor;
  return to_json(query);
}

// Every page of `query`, concatenated; checks each page is full but the last.
json::array all_pages(refold_client* c, const json::object& query, std::size_t* pages = nullptr) {
  json::array out;
  std::optional<std::string> cursor;
  std::size_t n = 0;
  const std::size_t limit =
      query.contains("limit") ? static_cast<std::size_t>(query.at("limit").as_int64()) : 100;
  do {
    Page p = page(c, with_cursor(query, cursor));
    ++n;
    CHECK(p.connections.size() <= limit);
    if (p.next_cursor) CHECK(p.connections.size() == limit);
    for (auto& v : p.connections) out.push_back(v);
    cursor = p.next_cursor;
    REQUIRE(n < 10000);
  } while (cursor);
  if (pages) *pages = n;
  return out;
}

// "account/app" of each connection, in order.
std::vector<std::string> keys(const json::array& conns) {
  std::vector<std::string> out;
  for (const auto& v : conns) {
    REQUIRE(v.is_object());
    out.push_back(str_at(v.as_object(), "account") + "/" + str_at(v.as_object(), "app"));
  }
  return out;
}

// A call that must fail with REFOLD_EINVALID; returns refold_last_error().
std::string refused(refold_client* c, const char* query) {
  char* out = nullptr;
  const int rc = refold_list_connections_page(c, query, &out);
  CHECK(out == nullptr);
  refold_free(out);
  const std::string error = last_error();
  INFO(error);
  CHECK(rc == REFOLD_EINVALID);
  return error;
}

// "acct-007" style names that sort as numbers.
std::string numbered(const char* prefix, int i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s-%03d", prefix, i);
  return buf;
}

void connect_widget(refold_client* c, const std::string& account) {
  connect_ok(c, account.c_str(), "widget", to_json(widget_payload(widget_key())));
}

}  // namespace

TEST_CASE("paging: an empty store gives one empty last page") {
  WidgetClient f;
  for (const char* q : {"{}", R"({"status":"reauth_required"})", R"({"app":"widget","limit":1})",
                        R"({"account":"A","app":"twilio","status":"active"})"}) {
    Page p = page(f.c(), q);
    CHECK(p.connections.empty());
    CHECK(!p.next_cursor);
  }
  char* out = nullptr;
  REQUIRE(refold_list_connections_page(f.c(), nullptr, &out) == REFOLD_OK);
  CHECK(take(out) == R"({"connections":[],"next_cursor":null})");
}

TEST_CASE("paging: filters by account, app and status") {
  WidgetClient f;
  for (const char* a : {"carol", "alice", "bob"}) {
    connect_widget(f.c(), a);
    connect_ok(f.c(), a, "twilio", twilio_payload(random_token()));
  }
  REQUIRE(refold_mark_reauth(f.c(), "bob", "twilio", "revoked") == REFOLD_OK);
  REQUIRE(refold_mark_reauth(f.c(), "carol", "widget", "uninstalled") == REFOLD_OK);

  using V = std::vector<std::string>;
  CHECK(keys(page(f.c(), "{}").connections) ==
        V{"alice/twilio", "alice/widget", "bob/twilio", "bob/widget", "carol/twilio", "carol/widget"});
  CHECK(keys(page(f.c(), R"({"account":"bob"})").connections) == V{"bob/twilio", "bob/widget"});
  CHECK(keys(page(f.c(), R"({"app":"widget"})").connections) ==
        V{"alice/widget", "bob/widget", "carol/widget"});
  CHECK(keys(page(f.c(), R"({"status":"reauth_required"})").connections) ==
        V{"bob/twilio", "carol/widget"});
  CHECK(keys(page(f.c(), R"({"status":"active","app":"twilio"})").connections) ==
        V{"alice/twilio", "carol/twilio"});
  CHECK(keys(page(f.c(), R"({"status":"active","account":"carol"})").connections) == V{"carol/twilio"});
  CHECK(keys(page(f.c(), R"({"account":"alice","app":"widget","status":"active"})").connections) ==
        V{"alice/widget"});
  CHECK(page(f.c(), R"({"account":"nobody"})").connections.empty());
  CHECK(page(f.c(), R"({"app":"github"})").connections.empty());

  // The objects are refold_list_connections' own.
  const Page bob = page(f.c(), R"({"status":"reauth_required","account":"bob"})");
  REQUIRE(bob.connections.size() == 1);
  const json::array listed = list_connections(f.c(), "bob");
  bool found = false;
  for (const auto& v : listed) found = found || v == bob.connections[0];
  CHECK(found);
  CHECK(str_at(bob.connections[0].as_object(), "reason") == "revoked");
}

TEST_CASE("paging: small pages return every connection exactly once, in order") {
  WidgetClient f;
  constexpr int kAccounts = 57;
  for (int i = kAccounts - 1; i >= 0; --i) {
    const std::string a = numbered("acct", i);
    connect_widget(f.c(), a);
    if (i % 3 == 0) connect_ok(f.c(), a.c_str(), "twilio", twilio_payload(random_token()));
    if (i % 5 == 0) REQUIRE(refold_mark_reauth(f.c(), a.c_str(), "widget", "revoked") == REFOLD_OK);
  }
  const json::array full = list_connections(f.c(), nullptr);
  REQUIRE(full.size() == kAccounts + (kAccounts + 2) / 3);

  for (int limit : {1, 2, 7, 50, 76, 1000}) {
    INFO("limit " << limit);
    std::size_t pages = 0;
    const json::array got = all_pages(f.c(), {{"limit", limit}}, &pages);
    CHECK(got == full);
    CHECK(pages == (full.size() + static_cast<std::size_t>(limit) - 1) / static_cast<std::size_t>(limit));

    // Filtered: the same rows as filtering the full listing.
    json::array reauth;
    for (const auto& v : full)
      if (str_at(v.as_object(), "status") == "reauth_required") reauth.push_back(v);
    CHECK(reauth.size() == 12);
    CHECK(all_pages(f.c(), {{"limit", limit}, {"status", "reauth_required"}}) == reauth);
    json::array twilio;
    for (const auto& v : full)
      if (str_at(v.as_object(), "app") == "twilio") twilio.push_back(v);
    CHECK(all_pages(f.c(), {{"limit", limit}, {"app", "twilio"}}) == twilio);
  }

  // The default page is 100; the limit may change from page to page.
  const Page first = page(f.c(), R"({"limit":70})");
  REQUIRE(first.next_cursor);
  const Page rest = page(f.c(), with_cursor({}, first.next_cursor));
  CHECK(rest.connections.size() == full.size() - 70);
  CHECK(!rest.next_cursor);
  const json::array big = all_pages(f.c(), {});
  CHECK(big == full);
}

TEST_CASE("paging: connections added and removed between pages are neither repeated nor skipped") {
  WidgetClient f;
  for (int i = 0; i < 30; ++i) connect_widget(f.c(), numbered("acct", i));

  Page p = page(f.c(), R"({"limit":10,"app":"widget"})");
  std::vector<std::string> seen = keys(p.connections);
  REQUIRE(seen.back() == "acct-009/widget");
  REQUIRE(p.next_cursor);

  // Behind the cursor: a new one and a removed one, never seen again.
  connect_widget(f.c(), "acct-003a");
  REQUIRE(refold_disconnect(f.c(), "acct-005", "widget") == REFOLD_OK);
  // The cursor's own row, and the first row of the next page, removed.
  REQUIRE(refold_disconnect(f.c(), "acct-009", "widget") == REFOLD_OK);
  REQUIRE(refold_disconnect(f.c(), "acct-010", "widget") == REFOLD_OK);
  // Ahead of it: added ones are listed, removed ones are not.
  connect_widget(f.c(), "acct-015a");
  connect_widget(f.c(), "acct-099");
  REQUIRE(refold_disconnect(f.c(), "acct-020", "widget") == REFOLD_OK);
  // Another app ahead of it: not in this query.
  connect_ok(f.c(), "acct-016", "twilio", twilio_payload(random_token()));

  std::optional<std::string> cursor = p.next_cursor;
  while (cursor) {
    p = page(f.c(), with_cursor({{"limit", 10}, {"app", "widget"}}, cursor));
    for (auto& k : keys(p.connections)) seen.push_back(k);
    cursor = p.next_cursor;
    if (seen.size() == 20) connect_widget(f.c(), "acct-025a");  // during the last pages
  }

  std::vector<std::string> expected;
  for (int i = 0; i < 30; ++i) {
    if (i == 10 || i == 20) continue;
    expected.push_back(numbered("acct", i) + "/widget");
    if (i == 15) expected.push_back("acct-015a/widget");
    if (i == 25) expected.push_back("acct-025a/widget");
  }
  expected.push_back("acct-099/widget");
  CHECK(seen == expected);
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == seen.size());
}

TEST_CASE("paging: a changed, cut or foreign cursor is refused without being quoted") {
  WidgetClient f;
  for (int i = 0; i < 5; ++i) connect_widget(f.c(), numbered("acct", i));
  const Page p = page(f.c(), R"({"limit":2})");
  REQUIRE(p.next_cursor);
  const std::string cursor = *p.next_cursor;
  CHECK(keys(page(f.c(), with_cursor({{"limit", 2}}, cursor)).connections) ==
        std::vector<std::string>{"acct-002/widget", "acct-003/widget"});
  CHECK(!contains(cursor, "acct"));  // opaque, if not secret

  const auto check_refused = [&](const std::string& bad, const json::object& query) {
    const std::string q = with_cursor(query, bad);
    const std::string error = refused(f.c(), q.c_str());
    CHECK(contains(error, "'cursor' is not valid"));
    if (bad.size() >= 4) CHECK(!contains(error, bad));
  };
  // Every character changed, one at a time, to another base64url one.
  for (std::size_t i = 0; i < cursor.size(); ++i) {
    std::string bad = cursor;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    INFO("character " << i);
    check_refused(bad, {{"limit", 2}});
  }
  check_refused(cursor.substr(0, cursor.size() - 1), {});
  check_refused(cursor.substr(1), {});
  check_refused(cursor + "A", {});
  check_refused(cursor + "=", {});
  check_refused(cursor + "\n", {});
  check_refused("", {});
  check_refused(std::string(2000, 'A'), {});
  check_refused("not a cursor!", {});
  // A cursor of one query is not one of another.
  check_refused(cursor, {{"app", "widget"}});
  check_refused(cursor, {{"status", "active"}});

  // Another store, with the same connections: its cursors are its own.
  WidgetClient g;
  for (int i = 0; i < 5; ++i) connect_widget(g.c(), numbered("acct", i));
  const std::string q = with_cursor({{"limit", 2}}, cursor);
  const std::string error = refused(g.c(), q.c_str());
  CHECK(contains(error, "'cursor' is not valid"));
  // ...while another client of the first store takes it.
  ClientPtr again = open_client(f.store.config_with_catalog(widget_catalog()));
  CHECK(keys(page(again.get(), q).connections) ==
        std::vector<std::string>{"acct-002/widget", "acct-003/widget"});
}

TEST_CASE("paging: bad queries are refused, naming the key and never quoting a value") {
  WidgetClient f;
  struct Bad {
    const char* query;
    const char* names;  // what the message must contain
  };
  const Bad cases[] = {
      {"[]", "query must be a JSON object"},
      {"\"status\"", "query must be a JSON object"},
      {"{\"limit\":", "query is not valid JSON"},
      {R"({"limit":0})", "'limit' must be an integer from 1 to 1000"},
      {R"({"limit":1001})", "'limit'"},
      {R"({"limit":-5})", "'limit'"},
      {R"({"limit":2.5})", "'limit'"},
      {R"({"limit":"10"})", "'limit'"},
      {R"({"limit":true})", "'limit'"},
      {R"({"limit":null})", "'limit'"},
      {R"({"status":"expired"})", "'status' must be 'active' or 'reauth_required'"},
      {R"({"status":"ACTIVE"})", "'status'"},
      {R"({"status":1})", "'status' must be a string"},
      {R"({"account":5})", "'account' must be a string"},
      {R"({"account":""})", "account is empty"},
      {R"({"account":"a\u0000b"})", "'account' contains a control character"},
      {R"({"account":"a\nb"})", "account contains a control character"},
      {R"({"app":"Not A Slug"})", "'app' is not a valid app slug"},
      {R"({"app":["widget"]})", "'app' must be a string"},
      {R"({"cursor":5})", "'cursor' must be a string"},
      {R"({"cursor":null})", "'cursor' must be a string"},
      {R"({"bogus":1})", "'bogus' is not a known key"},
      {R"({"Status":"active"})", "'Status' is not a known key"},
  };
  for (const auto& b : cases) {
    INFO(b.query);
    const std::string error = refused(f.c(), b.query);
    CHECK(contains(error, b.names));
  }
  // A key or value that looks like a secret is never repeated.
  const std::string secret = "sk_live_" + random_token(40);
  for (const std::string& q : {R"({")" + secret + R"(":"x"})", R"({"status":")" + secret + R"("})",
                               R"({"app":")" + secret + R"("})", R"({"cursor":")" + secret + R"("})",
                               R"({"account":")" + secret + "\\t\"}", R"({"limit":")" + secret + R"("})"}) {
    const std::string error = refused(f.c(), q.c_str());
    CHECK(!contains(error, secret));
    CHECK(!contains(error, secret.substr(8)));
  }
  CHECK(contains(refused(f.c(), (R"({")" + secret + R"(":"x"})").c_str()), "a key of 48 bytes"));

  char* out = nullptr;
  CHECK(refold_list_connections_page(nullptr, "{}", &out) == REFOLD_EINVALID);
  CHECK(out == nullptr);
  CHECK(refold_list_connections_page(f.c(), "{}", nullptr) == REFOLD_EINVALID);
  CHECK(contains(last_error(), "json_out"));
}
