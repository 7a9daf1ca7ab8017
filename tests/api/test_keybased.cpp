// Key-based connections: payload validation, credentials, disconnect, delete.
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

using namespace refold_test;

namespace {

using Fixture = WidgetClient;

std::set<std::string> keys_of(const json::object& o) {
  std::set<std::string> out;
  for (const auto& kv : o) out.emplace(kv.key());
  return out;
}

std::string random_sid() {
  std::string hex = to_hex(random_key_bytes()).substr(0, 32);
  return "AC" + hex;
}

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

// Connect that must fail with EINVALID naming `field` and not containing
// `value` (when given).
void expect_rejected(refold_client* c, const char* app, const std::string& payload,
                     const std::string& field, const std::string& value = {}) {
  const int rc = refold_connect(c, "acct", app, payload.c_str());
  const std::string msg = last_error();
  CHECK(rc == REFOLD_EINVALID);
  CHECK(contains(msg, field));
  if (!value.empty()) CHECK_MESSAGE(!contains(msg, value), "the message holds the bad value");
}

}  // namespace

// ---- Good payloads ------------------------------------------------------------------------

TEST_CASE("keybased: twilio connect stores the fields") {
  Fixture f;
  const std::string sid = random_sid();
  const std::string token = random_token(40);
  json::object p;
  p["sid"] = sid;
  p["auth_token"] = token;
  p["number"] = "+15551234567";
  connect_ok(f.c(), "acct", "twilio", to_json(p));

  int rc = 0;
  const std::string text = get_credentials(f.c(), "acct", "twilio", rc);
  REQUIRE(rc == REFOLD_OK);
  const json::value v = parse(text);
  REQUIRE(v.is_object());
  CHECK(str_at(v.as_object(), "auth_type") == "keybased");
  REQUIRE(v.as_object().contains("fields"));
  const auto& fields = v.as_object().at("fields").as_object();
  CHECK(keys_of(fields) == std::set<std::string>{"sid", "auth_token", "number"});
  CHECK(field_is(fields, "sid", sid));
  CHECK(field_is(fields, "auth_token", token));
  CHECK(fields.at("number") == "+15551234567");
  CHECK(std::string(refold_last_error()).empty());
}

TEST_CASE("keybased: the SDK example number given as a JSON integer is stored as text") {
  Fixture f;
  const std::string token = random_token(32);
  const std::string payload =
      R"({"number": 1234567890, "sid": ")" + valid_sid() + R"(", "auth_token": ")" + token + "\"}";
  connect_ok(f.c(), "acct", "twilio", payload);
  const auto fields = credential_fields(f.c(), "acct", "twilio");
  REQUIRE(fields.contains("number"));
  CHECK(fields.at("number").is_string());
  CHECK(fields.at("number") == "1234567890");
}

TEST_CASE("keybased: every field type of a custom app") {
  Fixture f;
  const std::string key = widget_key();
  json::object p = widget_payload(key);
  p["nickname"] = "abc";
  p["count"] = 42;
  p["enabled"] = true;
  p["region"] = "eu";
  p["notes"] = "hello there";
  connect_ok(f.c(), "acct", "widget", to_json(p));
  const auto fields = credential_fields(f.c(), "acct", "widget");
  CHECK(keys_of(fields) ==
        std::set<std::string>{"api_key", "nickname", "count", "enabled", "region", "notes"});
  CHECK(field_is(fields, "api_key", key));
  CHECK(fields.at("nickname") == "abc");
  REQUIRE(fields.at("count").is_number());
  CHECK(fields.at("count").to_number<double>() == doctest::Approx(42.0));
  CHECK(fields.at("enabled") == true);
  CHECK(fields.at("region") == "eu");
  CHECK(fields.at("notes") == "hello there");
}

TEST_CASE("keybased: accepted coercions") {
  Fixture f;
  json::object p = widget_payload(widget_key());

  SUBCASE("number field given a numeric string") {
    p["count"] = "42";
    connect_ok(f.c(), "acct", "widget", to_json(p));
    const auto fields = credential_fields(f.c(), "acct", "widget");
    REQUIRE(fields.contains("count"));
    REQUIRE(fields.at("count").is_number());
    CHECK(fields.at("count").to_number<double>() == doctest::Approx(42.0));
  }
  SUBCASE("number field given a fraction") {
    p["count"] = 42.5;
    connect_ok(f.c(), "acct", "widget", to_json(p));
    const auto fields = credential_fields(f.c(), "acct", "widget");
    REQUIRE(fields.at("count").is_number());
    CHECK(fields.at("count").to_number<double>() == doctest::Approx(42.5));
  }
  SUBCASE("boolean field given the string true") {
    p["enabled"] = "true";
    connect_ok(f.c(), "acct", "widget", to_json(p));
    CHECK(credential_fields(f.c(), "acct", "widget").at("enabled") == true);
  }
  SUBCASE("boolean field given the string false") {
    p["enabled"] = "false";
    connect_ok(f.c(), "acct", "widget", to_json(p));
    CHECK(credential_fields(f.c(), "acct", "widget").at("enabled") == false);
  }
  SUBCASE("boolean field given false") {
    p["enabled"] = false;
    connect_ok(f.c(), "acct", "widget", to_json(p));
    CHECK(credential_fields(f.c(), "acct", "widget").at("enabled") == false);
  }
  SUBCASE("text field given an integer") {
    p["nickname"] = 12345;
    connect_ok(f.c(), "acct", "widget", to_json(p));
    CHECK(credential_fields(f.c(), "acct", "widget").at("nickname") == "12345");
  }
}

TEST_CASE("keybased: optional fields may be omitted") {
  Fixture f;
  const std::string key = widget_key();
  connect_ok(f.c(), "acct", "widget", to_json(widget_payload(key)));
  const auto fields = credential_fields(f.c(), "acct", "widget");
  CHECK(keys_of(fields) == std::set<std::string>{"api_key", "region"});

  const std::string token = random_token();
  connect_ok(f.c(), "acct", "twilio", twilio_payload(token));
  CHECK(keys_of(credential_fields(f.c(), "acct", "twilio")) ==
        std::set<std::string>{"sid", "auth_token"});
}

TEST_CASE("keybased: boundaries of lengths and ranges are accepted") {
  Fixture f;
  json::object p = widget_payload(widget_key());
  SUBCASE("nickname of 3 characters") {
    p["nickname"] = "abc";
  }
  SUBCASE("nickname of 5 characters") {
    p["nickname"] = "abcde";
  }
  SUBCASE("nickname of 5 two-byte characters") {
    p["nickname"] = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9";
  }
  SUBCASE("nickname of 3 four-byte characters") {
    p["nickname"] = "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80";
  }
  SUBCASE("count 1") {
    p["count"] = 1;
  }
  SUBCASE("count 100") {
    p["count"] = 100;
  }
  SUBCASE("notes of 4096 characters") {
    p["notes"] = std::string(4096, 'n');
  }
  SUBCASE("api_key of 32 pattern characters") {
    p["api_key"] = "wk_" + std::string(32, 'a');
  }
  const std::string payload = to_json(p);
  connect_ok(f.c(), "acct", "widget", payload);
}

TEST_CASE("keybased: twilio auth token length counts characters not bytes") {
  Fixture f;
  const std::string e = "\xc3\xa9";  // one character, two bytes
  SUBCASE("40 characters in 80 bytes is accepted") {
    connect_ok(f.c(), "acct", "twilio", twilio_payload(repeat(e, 40)));
    CHECK(field_is(credential_fields(f.c(), "acct", "twilio"), "auth_token", repeat(e, 40)));
  }
  SUBCASE("31 characters in 62 bytes is too short") {
    expect_rejected(f.c(), "twilio", twilio_payload(repeat(e, 31)), "auth_token");
  }
  SUBCASE("65 characters is too long") {
    expect_rejected(f.c(), "twilio", twilio_payload(repeat(e, 65)), "auth_token");
  }
}

TEST_CASE("keybased: hubspot offers key-based auth beside oauth2") {
  Fixture f;
  const std::string token = "pat-na1-" + to_hex(random_key_bytes()).substr(0, 36);
  connect_ok(f.c(), "acct", "hubspot", R"({"access_token": ")" + token + "\"}");
  CHECK(field_is(credential_fields(f.c(), "acct", "hubspot"), "access_token", token));
  // A NULL payload asks for OAuth, which needs an oauth_clients registration
  // this config lacks: refused before any flow starts, nothing saved.
  CHECK(refold_connect(f.c(), "acct2", "hubspot", nullptr) == REFOLD_EINVALID);
  CHECK(contains(last_error(), "oauth_clients"));
  int rc = 0;
  get_credentials(f.c(), "acct2", "hubspot", rc);
  CHECK(rc == REFOLD_ENOTFOUND);
}

// ---- Bad payloads ----------------------------------------------------------------------------

TEST_CASE("keybased: bad widget payloads are rejected naming the field and not the value") {
  struct Bad {
    const char* what;
    std::function<void(json::object&)> mutate;
    const char* field;
    std::string value;  // must not appear in the message
  };
  const std::string stranger = "zq" + random_token(16);
  const std::vector<Bad> cases = {
      {"missing required text", [](json::object& p) { p.erase("api_key"); }, "api_key", ""},
      {"missing required select", [](json::object& p) { p.erase("region"); }, "region", ""},
      {"unknown field", [&](json::object& p) { p["colour"] = stranger; }, "colour", stranger},
      {"text given an object",
       [&](json::object& p) {
         p["api_key"] = json::object({{"k", stranger}});
       },
       "api_key", stranger},
      {"text given an array", [&](json::object& p) { p["api_key"] = json::array({stranger}); },
       "api_key", stranger},
      {"text given a boolean", [](json::object& p) { p["api_key"] = true; }, "api_key", ""},
      {"required text given null", [](json::object& p) { p["api_key"] = nullptr; }, "api_key", ""},
      {"number given a non-numeric string", [&](json::object& p) { p["count"] = stranger; },
       "count", stranger},
      {"number given an empty string", [](json::object& p) { p["count"] = ""; }, "count", ""},
      {"number given a boolean", [](json::object& p) { p["count"] = true; }, "count", ""},
      {"boolean given 3", [](json::object& p) { p["enabled"] = 3; }, "enabled", ""},
      {"boolean given another string", [&](json::object& p) { p["enabled"] = stranger; }, "enabled",
       stranger},
      {"select value not in options", [&](json::object& p) { p["region"] = stranger; }, "region",
       stranger},
      {"select given an option's name", [](json::object& p) { p["region"] = "Europe"; }, "region",
       ""},
      {"pattern mismatch", [&](json::object& p) { p["api_key"] = "wk_" + stranger; }, "api_key",
       stranger},
      {"pattern matches only a prefix",
       [&](json::object& p) { p["api_key"] = "wk_abcdefgh12-" + stranger; }, "api_key", stranger},
      {"pattern matches only a suffix",
       [&](json::object& p) { p["api_key"] = stranger + "wk_abcdefgh12"; }, "api_key", stranger},
      {"text too long", [](json::object& p) { p["nickname"] = "abcdef"; }, "nickname", "abcdef"},
      {"text too short", [](json::object& p) { p["nickname"] = "ab"; }, "nickname", ""},
      {"text too long in characters",
       [](json::object& p) { p["nickname"] = "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"; },
       "nickname", ""},
      {"text over the default maximum of 4096",
       [&](json::object& p) { p["notes"] = stranger + std::string(4097, 'n'); }, "notes", stranger},
      {"number below minimum", [](json::object& p) { p["count"] = 0; }, "count", ""},
      {"number above maximum", [](json::object& p) { p["count"] = 101; }, "count", ""},
      {"negative number", [](json::object& p) { p["count"] = -5; }, "count", ""},
      {"numeric string above maximum", [](json::object& p) { p["count"] = "101"; }, "count", ""},
  };
  Fixture f;
  EventRecorder events;
  events.install(f.c());
  for (const auto& bad : cases) {
    json::object p = widget_payload(widget_key());
    bad.mutate(p);
    INFO("case: " << std::string(bad.what));
    expect_rejected(f.c(), "widget", to_json(p), bad.field, bad.value);
  }
  int rc = 0;
  get_credentials(f.c(), "acct", "widget", rc);
  CHECK(rc == REFOLD_ENOTFOUND);
  CHECK(list_connections(f.c(), nullptr).empty());
  CHECK(events.size() == 0);
}

TEST_CASE("keybased: bad twilio payloads are rejected naming the field and not the value") {
  Fixture f;
  const std::string token = random_token(40);
  const std::string stranger = "zq" + random_token(16);
  SUBCASE("sid not matching AC and 32 hex") {
    expect_rejected(f.c(), "twilio",
                    R"({"sid": "AC)" + stranger + R"(", "auth_token": ")" + token + "\"}", "sid",
                    stranger);
  }
  SUBCASE("sid with one hex digit too many") {
    expect_rejected(f.c(), "twilio",
                    R"({"sid": ")" + valid_sid() + R"(0", "auth_token": ")" + token + "\"}", "sid");
  }
  SUBCASE("auth_token too short") {
    const std::string t = random_token(31);
    expect_rejected(f.c(), "twilio", twilio_payload(t), "auth_token", t);
  }
  SUBCASE("auth_token too long") {
    const std::string t = random_token(65);
    expect_rejected(f.c(), "twilio", twilio_payload(t), "auth_token", t);
  }
  SUBCASE("missing auth_token") {
    expect_rejected(f.c(), "twilio", R"({"sid": ")" + valid_sid() + "\"}", "auth_token");
  }
  SUBCASE("number with a leading zero") {
    expect_rejected(f.c(), "twilio", twilio_payload(token, "+0123456789"), "number");
  }
  SUBCASE("number given a short integer") {
    expect_rejected(
        f.c(), "twilio",
        R"({"number": 12, "sid": ")" + valid_sid() + R"(", "auth_token": ")" + token + "\"}",
        "number");
  }
  SUBCASE("unknown field") {
    expect_rejected(f.c(), "twilio",
                    R"({"sid": ")" + valid_sid() + R"(", "auth_token": ")" + token +
                        R"(", "api_secret": ")" + stranger + "\"}",
                    "api_secret", stranger);
  }
  // Whatever failed, the valid token was not echoed either.
  CHECK(!contains(last_error(), token));
  int rc = 0;
  get_credentials(f.c(), "acct", "twilio", rc);
  CHECK(rc == REFOLD_ENOTFOUND);
}

TEST_CASE("keybased: payloads that are not a JSON object are rejected") {
  Fixture f;
  const std::vector<std::string> bad = {
      "{",
      R"({"sid": })",
      "sid=AC1",
      "",
      R"([{"sid": "x"}])",
      R"("text")",
      "42",
      "true",
      "null",
      twilio_payload(random_token()) + " trailing",
      R"({"sid": ")" + valid_sid() + R"(", "auth_token": ")" + "ab\xff\xfe" + random_token(40) +
          "\"}",
  };
  for (const auto& payload : bad) {
    INFO("payload #" << (&payload - bad.data()));
    CHECK(refold_connect(f.c(), "acct", "twilio", payload.c_str()) == REFOLD_EINVALID);
    CHECK(!last_error().empty());
  }
  CHECK(list_connections(f.c(), nullptr).empty());
}

TEST_CASE("keybased: a payload over 64 KiB is rejected") {
  Fixture f;
  const std::string token = random_token();
  const std::string body = twilio_payload(token);
  // The same valid payload, padded with insignificant white space.
  SUBCASE("just under 64 KiB is fine") {
    const std::string payload = std::string(64 * 1024 - body.size() - 1, ' ') + body;
    REQUIRE(payload.size() < 64 * 1024);
    connect_ok(f.c(), "acct", "twilio", payload);
  }
  SUBCASE("over 64 KiB is rejected") {
    const std::string payload = std::string(64 * 1024, ' ') + body;
    CHECK(refold_connect(f.c(), "acct", "twilio", payload.c_str()) == REFOLD_EINVALID);
    CHECK(!contains(last_error(), token));
    int rc = 0;
    get_credentials(f.c(), "acct", "twilio", rc);
    CHECK(rc == REFOLD_ENOTFOUND);
  }
}

TEST_CASE("keybased: a failed connect loses nothing stored before") {
  Fixture f;
  const std::string token = random_token();
  connect_ok(f.c(), "acct", "twilio", twilio_payload(token, "+15551234567"));
  const auto before = list_connections(f.c(), "acct");

  const std::string other = random_token(65);
  CHECK(refold_connect(f.c(), "acct", "twilio", twilio_payload(other).c_str()) == REFOLD_EINVALID);
  CHECK(refold_connect(f.c(), "acct", "twilio", "{not json") == REFOLD_EINVALID);
  CHECK(refold_connect(f.c(), "acct", "twilio", nullptr) == REFOLD_EINVALID);

  const auto fields = credential_fields(f.c(), "acct", "twilio");
  CHECK(field_is(fields, "auth_token", token));
  CHECK(fields.at("number") == "+15551234567");
  CHECK(list_connections(f.c(), "acct") == before);
}

TEST_CASE("keybased: connecting again replaces the fields and keeps the creation time") {
  Fixture f;
  const std::string t1 = random_token(), t2 = random_token();
  connect_ok(f.c(), "acct", "twilio", twilio_payload(t1, "+15551234567"));
  const auto first = list_connections(f.c(), "acct");
  REQUIRE(first.size() == 1);
  const std::string created = str_at(first[0].as_object(), "created_at");

  connect_ok(f.c(), "acct", "twilio", twilio_payload(t2));
  const auto fields = credential_fields(f.c(), "acct", "twilio");
  CHECK(field_is(fields, "auth_token", t2));
  CHECK(!fields.contains("number"));  // replaced, not merged

  const auto second = list_connections(f.c(), "acct");
  REQUIRE(second.size() == 1);
  CHECK(str_at(second[0].as_object(), "created_at") == created);
  const std::string updated = str_at(second[0].as_object(), "updated_at");
  CHECK(is_rfc3339_utc(updated));
  CHECK(updated >= created);
}

// ---- Apps, accounts and arguments --------------------------------------------------------------

TEST_CASE("keybased: an unknown app is not found") {
  Fixture f;
  CHECK(refold_connect(f.c(), "acct", "no-such-app", twilio_payload(random_token()).c_str()) ==
        REFOLD_ENOTFOUND);
  CHECK(contains(last_error(), "no-such-app"));
  CHECK(refold_connect(f.c(), "acct", "no-such-app", nullptr) == REFOLD_ENOTFOUND);
}

TEST_CASE("keybased: a NULL payload on a keybased-only app is rejected") {
  Fixture f;
  CHECK(refold_connect(f.c(), "acct", "twilio", nullptr) == REFOLD_EINVALID);
  CHECK(!last_error().empty());
  CHECK(refold_connect(f.c(), "acct", "widget", nullptr) == REFOLD_EINVALID);
  CHECK(list_connections(f.c(), nullptr).empty());
}

TEST_CASE("keybased: bad account ids are rejected") {
  Fixture f;
  const std::string payload = twilio_payload(random_token());
  const std::vector<std::string> bad = {
      "",
      std::string(257, 'a'),
      "ab\xff\xfe",
      "ab\xc3",        // truncated sequence
      "\xc0\xaf",      // overlong encoding of '/'
      "\xed\xa0\x80",  // UTF-16 surrogate
      "a\nb",
      "a\tb",
      std::string("a\x01") + "b",
      std::string("a\x1f") + "b",
      std::string("a\x7f") + "b",
  };
  EventRecorder events;
  events.install(f.c());
  for (const auto& acct : bad) {
    INFO("account #" << (&acct - bad.data()));
    CHECK(refold_connect(f.c(), acct.c_str(), "twilio", payload.c_str()) == REFOLD_EINVALID);
    CHECK(!last_error().empty());
    char* out = nullptr;
    CHECK(refold_get_credentials(f.c(), acct.c_str(), "twilio", &out) == REFOLD_EINVALID);
    CHECK(out == nullptr);
    CHECK(refold_disconnect(f.c(), acct.c_str(), "twilio") == REFOLD_EINVALID);
    CHECK(refold_delete_account(f.c(), acct.c_str()) == REFOLD_EINVALID);
  }
  CHECK(refold_connect(f.c(), nullptr, "twilio", payload.c_str()) == REFOLD_EINVALID);
  char* out = nullptr;
  CHECK(refold_get_credentials(f.c(), nullptr, "twilio", &out) == REFOLD_EINVALID);
  CHECK(refold_disconnect(f.c(), nullptr, "twilio") == REFOLD_EINVALID);
  CHECK(refold_delete_account(f.c(), nullptr) == REFOLD_EINVALID);
  CHECK(list_connections(f.c(), nullptr).empty());
  CHECK(events.size() == 0);
}

TEST_CASE("keybased: unusual but valid account ids work") {
  Fixture f;
  const std::vector<std::string> good = {
      std::string(256, 'a'),
      repeat("\xc3\xa9", 128),  // 256 bytes
      "jos\xc3\xa9 \xf0\x9f\x98\x80 / o'brien@example.com",
      "a",
      "{\"json\": [1]}",
  };
  for (const auto& acct : good) {
    INFO("account #" << (&acct - good.data()));
    const std::string token = random_token();
    connect_ok(f.c(), acct.c_str(), "twilio", twilio_payload(token));
    CHECK(field_is(credential_fields(f.c(), acct.c_str(), "twilio"), "auth_token", token));
    const auto conns = list_connections(f.c(), acct.c_str());
    REQUIRE(conns.size() == 1);
    CHECK(str_at(conns[0].as_object(), "account") == acct);
  }
  CHECK(list_connections(f.c(), nullptr).size() == good.size());
}

TEST_CASE("keybased: NULL arguments are rejected") {
  Fixture f;
  const std::string payload = twilio_payload(random_token());
  CHECK(refold_connect(nullptr, "acct", "twilio", payload.c_str()) == REFOLD_EINVALID);
  CHECK(refold_connect(f.c(), "acct", nullptr, payload.c_str()) == REFOLD_EINVALID);
  connect_ok(f.c(), "acct", "twilio", payload);
  CHECK(refold_get_credentials(f.c(), "acct", "twilio", nullptr) == REFOLD_EINVALID);
  char* out = reinterpret_cast<char*>(&f);  // must be overwritten
  CHECK(refold_get_credentials(nullptr, "acct", "twilio", &out) == REFOLD_EINVALID);
  CHECK(out == nullptr);
  out = nullptr;
  CHECK(refold_get_credentials(f.c(), "acct", nullptr, &out) == REFOLD_EINVALID);
  CHECK(refold_disconnect(nullptr, "acct", "twilio") == REFOLD_EINVALID);
  CHECK(refold_disconnect(f.c(), "acct", nullptr) == REFOLD_EINVALID);
  CHECK(refold_delete_account(nullptr, "acct") == REFOLD_EINVALID);
  CHECK(refold_list_apps(nullptr, nullptr, &out) == REFOLD_EINVALID);
  CHECK(refold_list_apps(f.c(), nullptr, nullptr) == REFOLD_EINVALID);
  CHECK(refold_list_connections(nullptr, nullptr, &out) == REFOLD_EINVALID);
  CHECK(refold_list_connections(f.c(), nullptr, nullptr) == REFOLD_EINVALID);
  CHECK(refold_rotate_master_key(nullptr, random_hex_key().c_str()) == REFOLD_EINVALID);
  CHECK(refold_rotate_master_key(f.c(), nullptr) == REFOLD_EINVALID);
  CHECK(refold_set_event_handler(nullptr, nullptr, nullptr, nullptr) == REFOLD_EINVALID);
  // The connection made above is intact.
  CHECK(list_connections(f.c(), nullptr).size() == 1);
}

TEST_CASE("keybased: reading credentials of what is not connected is not found") {
  Fixture f;
  connect_ok(f.c(), "acct", "twilio", twilio_payload(random_token()));
  int rc = 0;
  CHECK(get_credentials(f.c(), "other", "twilio", rc).empty());
  CHECK(rc == REFOLD_ENOTFOUND);
  CHECK(get_credentials(f.c(), "acct", "stripe", rc).empty());
  CHECK(rc == REFOLD_ENOTFOUND);
  CHECK(get_credentials(f.c(), "acct", "no-such-app", rc).empty());
  CHECK(rc == REFOLD_ENOTFOUND);
  char* out = reinterpret_cast<char*>(&f);
  CHECK(refold_get_credentials(f.c(), "other", "twilio", &out) == REFOLD_ENOTFOUND);
  CHECK(out == nullptr);
}

// ---- Disconnect and delete
// ------------------------------------------------------------------------

TEST_CASE("keybased: disconnect removes the connection") {
  Fixture f;
  const std::string t1 = random_token(), t2 = random_token();
  connect_ok(f.c(), "alice", "twilio", twilio_payload(t1));
  connect_ok(f.c(), "bob", "twilio", twilio_payload(t2));
  connect_ok(f.c(), "alice", "widget", to_json(widget_payload(widget_key())));

  REQUIRE(refold_disconnect(f.c(), "alice", "twilio") == REFOLD_OK);
  CHECK(std::string(refold_last_error()).empty());
  int rc = 0;
  get_credentials(f.c(), "alice", "twilio", rc);
  CHECK(rc == REFOLD_ENOTFOUND);
  // Bob's twilio and Alice's widget are untouched.
  CHECK(field_is(credential_fields(f.c(), "bob", "twilio"), "auth_token", t2));
  credential_fields(f.c(), "alice", "widget");
  const auto conns = list_connections(f.c(), "alice");
  REQUIRE(conns.size() == 1);
  CHECK(str_at(conns[0].as_object(), "app") == "widget");

  // Again: nothing to do, still success.
  CHECK(refold_disconnect(f.c(), "alice", "twilio") == REFOLD_OK);
  CHECK(refold_disconnect(f.c(), "nobody", "stripe") == REFOLD_OK);
  // An unknown app with nothing stored is not found.
  CHECK(refold_disconnect(f.c(), "alice", "no-such-app") == REFOLD_ENOTFOUND);

  // Connecting again after a disconnect starts afresh.
  connect_ok(f.c(), "alice", "twilio", twilio_payload(t2));
  CHECK(field_is(credential_fields(f.c(), "alice", "twilio"), "auth_token", t2));
}

TEST_CASE("keybased: deleting an account removes only that account's connections") {
  Fixture f;
  const std::string tb = random_token();
  connect_ok(f.c(), "alice", "twilio", twilio_payload(random_token()));
  connect_ok(f.c(), "alice", "widget", to_json(widget_payload(widget_key())));
  connect_ok(f.c(), "alice", "openai", R"({"api_key": "sk-)" + random_token(30) + "\"}");
  connect_ok(f.c(), "bob", "twilio", twilio_payload(tb));
  connect_ok(f.c(), "alice2", "twilio", twilio_payload(random_token()));

  REQUIRE(refold_delete_account(f.c(), "alice") == REFOLD_OK);
  CHECK(list_connections(f.c(), "alice").empty());
  int rc = 0;
  for (const char* app : {"twilio", "widget", "openai"}) {
    INFO("app " << std::string(app));
    get_credentials(f.c(), "alice", app, rc);
    CHECK(rc == REFOLD_ENOTFOUND);
  }
  CHECK(field_is(credential_fields(f.c(), "bob", "twilio"), "auth_token", tb));
  CHECK(list_connections(f.c(), "alice2").size() == 1);
  CHECK(list_connections(f.c(), nullptr).size() == 2);

  // An account without connections: success, nothing changes.
  CHECK(refold_delete_account(f.c(), "alice") == REFOLD_OK);
  CHECK(refold_delete_account(f.c(), "never-seen") == REFOLD_OK);
  CHECK(list_connections(f.c(), nullptr).size() == 2);
}

TEST_CASE("keybased: credentials never appear in listings") {
  Fixture f;
  const std::string sid = random_sid();
  const std::string token = random_token(48);
  const std::string key = widget_key();
  const std::string number = "+4915112345678";
  json::object tp;
  tp["sid"] = sid;
  tp["auth_token"] = token;
  tp["number"] = number;
  connect_ok(f.c(), "acct", "twilio", to_json(tp));
  connect_ok(f.c(), "acct", "widget", to_json(widget_payload(key)));
  for (const char* acct : {"acct", static_cast<const char*>(nullptr)}) {
    const std::string apps = list_apps_text(f.c(), acct);
    const std::string conns = list_connections_text(f.c(), acct);
    for (const std::string* secret : {&sid, &token, &key, &number}) {
      CHECK(!contains(apps, *secret));
      CHECK(!contains(conns, *secret));
    }
  }
}
