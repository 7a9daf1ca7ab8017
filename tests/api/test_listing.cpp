// Listings: refold_list_apps and refold_list_connections.
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <ctime>
#include <set>
#include <string>
#include <vector>

using namespace refold_test;

namespace {

const std::vector<std::string> kBuiltins = {"twilio", "stripe", "openai",          "sendgrid", "slack", "github",
                                            "google", "hubspot", "google-calendar", "google-drive", "gmail"};

struct Fixture {
  Store store;
  ClientPtr client = open_client(store.config_with_catalog(widget_catalog()));
  refold_client* c() const { return client.get(); }
};

std::vector<std::string> strings_of(const json::value& v) {
  std::vector<std::string> out;
  if (!v.is_array()) {
    FAIL_CHECK("not an array");
    return out;
  }
  for (const auto& e : v.as_array()) {
    if (e.is_string())
      out.emplace_back(e.as_string());
    else
      FAIL_CHECK("array element is not a string");
  }
  return out;
}

std::set<std::string> set_of(const json::value& v) {
  auto s = strings_of(v);
  return {s.begin(), s.end()};
}

// The keybased input fields of an app in a listing.
json::array input_fields(const json::object& app) {
  REQUIRE(app.contains("auth_type_options"));
  REQUIRE(app.at("auth_type_options").is_object());
  const auto& opts = app.at("auth_type_options").as_object();
  REQUIRE(opts.contains("keybased"));
  REQUIRE(opts.at("keybased").is_array());
  return opts.at("keybased").as_array();
}

json::object input_field(const json::object& app, std::string_view name) {
  for (const auto& f : input_fields(app))
    if (f.is_object() && field_is(f.as_object(), "name", name)) return f.as_object();
  FAIL("no input field " << name);
  return {};
}

bool bool_at(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  REQUIRE_MESSAGE(v != nullptr, "missing key " << key);
  REQUIRE_MESSAGE(v->is_bool(), "not a boolean: " << key);
  return v->as_bool();
}

// "YYYY-MM-DDTHH:MM:SS" in UTC for now + offset seconds.
std::string utc_seconds(long offset) {
  const std::time_t t = std::time(nullptr) + offset;
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

}  // namespace

TEST_CASE("listing: every built-in app is listed with its description") {
  Fixture f;
  const auto apps = list_apps(f.c(), nullptr);
  std::set<std::string> slugs;
  for (const auto& a : apps) {
    REQUIRE(a.is_object());
    slugs.insert(str_at(a.as_object(), "slug"));
  }
  for (const auto& slug : kBuiltins) {
    INFO("app " << slug);
    CHECK(slugs.count(slug) == 1);
    const auto app = find_app(apps, slug);
    CHECK(!str_at(app, "name").empty());
    CHECK(!str_at(app, "description").empty());
    CHECK(!str_at(app, "icon").empty());
    CHECK(!strings_of(app.at("tags")).empty());
    const auto auth = set_of(app.at("auth_types"));
    CHECK(!auth.empty());
    for (const auto& t : auth) CHECK((t == "oauth2" || t == "keybased"));
    REQUIRE(app.contains("auth_type_options"));
    CHECK(app.at("auth_type_options").is_object());
    CHECK(bool_at(app, "connected") == false);
    CHECK(bool_at(app, "reauth_required") == false);
    REQUIRE(app.contains("connected_accounts"));
    REQUIRE(app.at("connected_accounts").is_array());
    CHECK(app.at("connected_accounts").as_array().empty());
    // Key-based apps describe their form; OAuth-only apps have none.
    if (auth.count("keybased")) {
      CHECK(!input_fields(app).empty());
    } else {
      const auto& opts = app.at("auth_type_options").as_object();
      if (opts.contains("keybased")) {
        CHECK(opts.at("keybased").is_array());
        CHECK(opts.at("keybased").as_array().empty());
      }
    }
  }
  CHECK(slugs.count("widget") == 1);
  CHECK(slugs.size() == apps.size());  // no duplicates
}

TEST_CASE("listing: built-in apps carry their catalog values") {
  Fixture f;
  const auto apps = list_apps(f.c(), nullptr);
  const auto twilio = find_app(apps, "twilio");
  CHECK(str_at(twilio, "name") == "Twilio");
  CHECK(str_at(twilio, "icon") == "https://www.twilio.com/favicon.ico");
  CHECK(strings_of(twilio.at("tags")) == std::vector<std::string>{"communication", "sms", "voice"});
  CHECK(strings_of(twilio.at("auth_types")) == std::vector<std::string>{"keybased"});
  CHECK(strings_of(find_app(apps, "github").at("auth_types")) ==
        std::vector<std::string>{"oauth2"});
  CHECK(set_of(find_app(apps, "hubspot").at("auth_types")) ==
        std::set<std::string>{"oauth2", "keybased"});
  CHECK(input_fields(find_app(apps, "hubspot")).size() == 1);
  CHECK(str_at(find_app(apps, "slack"), "name") == "Slack");
}

TEST_CASE("listing: keybased input fields describe the form") {
  Fixture f;
  const auto apps = list_apps(f.c(), nullptr);
  const auto twilio = find_app(apps, "twilio");

  std::vector<std::string> names;
  for (const auto& fld : input_fields(twilio)) names.push_back(str_at(fld.as_object(), "name"));
  CHECK(names == std::vector<std::string>{"sid", "auth_token", "number"});  // declared order

  const auto sid = input_field(twilio, "sid");
  CHECK(str_at(sid, "label") == "Account SID");
  CHECK(str_at(sid, "type") == "text");
  CHECK(bool_at(sid, "required") == true);
  CHECK(bool_at(input_field(twilio, "auth_token"), "required") == true);
  CHECK(bool_at(input_field(twilio, "number"), "required") == false);
  CHECK(str_at(input_field(twilio, "number"), "label") == "Phone number");

  const auto mode = input_field(find_app(apps, "stripe"), "mode");
  CHECK(str_at(mode, "type") == "select");
  REQUIRE(mode.contains("options"));
  REQUIRE(mode.at("options").is_array());
  const auto& opts = mode.at("options").as_array();
  REQUIRE(opts.size() == 2);
  CHECK(str_at(opts[0].as_object(), "name") == "Live");
  CHECK(str_at(opts[0].as_object(), "value") == "live");
  CHECK(str_at(opts[1].as_object(), "name") == "Test");
  CHECK(str_at(opts[1].as_object(), "value") == "test");

  const auto sendgrid = find_app(apps, "sendgrid");
  CHECK(str_at(input_field(sendgrid, "eu_region"), "type") == "boolean");
  CHECK(str_at(input_field(sendgrid, "daily_limit"), "type") == "number");

  // A custom app: "required" defaults to true.
  const auto widget = find_app(apps, "widget");
  CHECK(bool_at(input_field(widget, "api_key"), "required") == true);
  CHECK(bool_at(input_field(widget, "nickname"), "required") == false);
  CHECK(str_at(input_field(widget, "region"), "type") == "select");
  CHECK(input_fields(widget).size() == 6);
}

TEST_CASE("listing: apps show the connection state of the given account") {
  Fixture f;
  const std::string before = utc_seconds(-1);
  connect_ok(f.c(), "A", "twilio", twilio_payload(random_token()));
  const std::string after = utc_seconds(2);

  SUBCASE("the connected account") {
    const auto apps = list_apps(f.c(), "A");
    const auto twilio = find_app(apps, "twilio");
    CHECK(bool_at(twilio, "connected") == true);
    CHECK(bool_at(twilio, "reauth_required") == false);
    REQUIRE(twilio.at("connected_accounts").is_array());
    const auto& accts = twilio.at("connected_accounts").as_array();
    REQUIRE(accts.size() == 1);
    REQUIRE(accts[0].is_object());
    const auto& entry = accts[0].as_object();
    CHECK(str_at(entry, "auth_type") == "keybased");
    CHECK(str_at(entry, "status") == "active");
    const std::string at = str_at(entry, "connected_at");
    CHECK(is_rfc3339_utc(at));
    // In UTC, at the time of the connect (second precision).
    CHECK(at.substr(0, 19) >= before);
    CHECK(at.substr(0, 19) <= after);
    // Other apps are not connected.
    for (const char* slug : {"stripe", "openai", "hubspot", "github", "widget"}) {
      INFO("app " << std::string(slug));
      CHECK(bool_at(find_app(apps, slug), "connected") == false);
      CHECK(find_app(apps, slug).at("connected_accounts").as_array().empty());
    }
  }
  SUBCASE("another account") {
    const auto twilio = find_app(list_apps(f.c(), "B"), "twilio");
    CHECK(bool_at(twilio, "connected") == false);
    CHECK(twilio.at("connected_accounts").as_array().empty());
  }
  SUBCASE("no account") {
    for (const auto& a : list_apps(f.c(), nullptr)) {
      CHECK(bool_at(a.as_object(), "connected") == false);
      CHECK(a.as_object().at("connected_accounts").as_array().empty());
    }
  }
  SUBCASE("after a disconnect") {
    REQUIRE(refold_disconnect(f.c(), "A", "twilio") == REFOLD_OK);
    const auto twilio = find_app(list_apps(f.c(), "A"), "twilio");
    CHECK(bool_at(twilio, "connected") == false);
    CHECK(twilio.at("connected_accounts").as_array().empty());
  }
  SUBCASE("an app offering both auth types connected with keys") {
    const std::string token = "pat-eu1-" + to_hex(random_key_bytes()).substr(0, 36);
    connect_ok(f.c(), "A", "hubspot", R"({"access_token": ")" + token + "\"}");
    const auto hubspot = find_app(list_apps(f.c(), "A"), "hubspot");
    CHECK(bool_at(hubspot, "connected") == true);
    const auto& accts = hubspot.at("connected_accounts").as_array();
    REQUIRE(accts.size() == 1);
    CHECK(str_at(accts[0].as_object(), "auth_type") == "keybased");
  }
  SUBCASE("a bad account id") {
    char* out = nullptr;
    CHECK(refold_list_apps(f.c(), "", &out) == REFOLD_EINVALID);
    CHECK(out == nullptr);
    CHECK(refold_list_connections(f.c(), "", &out) == REFOLD_EINVALID);
    CHECK(out == nullptr);
    CHECK(refold_list_apps(f.c(), "bad\xff", &out) == REFOLD_EINVALID);
    CHECK(refold_list_connections(f.c(), std::string(257, 'x').c_str(), &out) == REFOLD_EINVALID);
  }
}

TEST_CASE("listing: connections of one account or of all") {
  Fixture f;
  const std::string before = utc_seconds(-1);
  connect_ok(f.c(), "A", "twilio", twilio_payload(random_token()));
  connect_ok(f.c(), "A", "widget", to_json(widget_payload(widget_key())));
  connect_ok(f.c(), "B", "twilio", twilio_payload(random_token()));
  const std::string after = utc_seconds(2);

  const auto a = list_connections(f.c(), "A");
  REQUIRE(a.size() == 2);
  std::set<std::string> apps;
  for (const auto& v : a) {
    REQUIRE(v.is_object());
    const auto& o = v.as_object();
    CHECK(str_at(o, "account") == "A");
    apps.insert(str_at(o, "app"));
    CHECK(str_at(o, "auth_type") == "keybased");
    CHECK(str_at(o, "status") == "active");
    REQUIRE(o.contains("reason"));
    CHECK(o.at("reason").is_null());
    const std::string created = str_at(o, "created_at");
    const std::string updated = str_at(o, "updated_at");
    CHECK(is_rfc3339_utc(created));
    CHECK(is_rfc3339_utc(updated));
    CHECK(created <= updated);
    CHECK(created.substr(0, 19) >= before);
    CHECK(created.substr(0, 19) <= after);
  }
  CHECK(apps == std::set<std::string>{"twilio", "widget"});

  const auto all = list_connections(f.c(), nullptr);
  CHECK(all.size() == 3);
  std::set<std::pair<std::string, std::string>> pairs;
  for (const auto& v : all)
    pairs.emplace(str_at(v.as_object(), "account"), str_at(v.as_object(), "app"));
  CHECK(pairs == std::set<std::pair<std::string, std::string>>{
                     {"A", "twilio"}, {"A", "widget"}, {"B", "twilio"}});

  CHECK(list_connections(f.c(), "B").size() == 1);
  CHECK(list_connections(f.c(), "nobody").empty());
}

TEST_CASE("listing: an empty store lists no connections") {
  Fixture f;
  CHECK(list_connections(f.c(), nullptr).empty());
  CHECK(list_connections_text(f.c(), "A") == "[]");
}
