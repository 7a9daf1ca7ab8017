#include <doctest/doctest.h>

#include "catalog/catalog.hpp"
#include "util/error.hpp"
#include "util/json.hpp"

using refold::catalog::acceptable_endpoint;
using refold::catalog::Catalog;

TEST_CASE("the built-in catalog loads and holds the documented apps") {
  Catalog c;
  for (const char* slug : {"twilio", "stripe", "openai", "sendgrid", "slack", "github", "google", "hubspot"}) {
    CAPTURE(slug);
    REQUIRE(c.find(slug));
  }
  CHECK(c.find("hubspot")->offers("oauth2"));
  CHECK(c.find("hubspot")->offers("keybased"));
  CHECK(c.find("slack")->oauth2->scope_separator == ",");
}

TEST_CASE("endpoints must be https or loopback http") {
  CHECK(acceptable_endpoint("https://example.com/token"));
  CHECK(acceptable_endpoint("HTTPS://example.com"));
  CHECK(acceptable_endpoint("http://127.0.0.1:8080/token"));
  CHECK(acceptable_endpoint("http://localhost/token"));
  CHECK(acceptable_endpoint("http://[::1]:9000/x"));
  CHECK(acceptable_endpoint("https://api.example.com/Accounts/{sid}.json?x={k}"));
  CHECK_FALSE(acceptable_endpoint("http://example.com/token"));
  CHECK_FALSE(acceptable_endpoint("http://127.0.0.1.evil.com/token"));
  CHECK_FALSE(acceptable_endpoint("http://localhost.evil.com/"));
  CHECK_FALSE(acceptable_endpoint("ftp://example.com"));
  CHECK_FALSE(acceptable_endpoint("https://"));
}

TEST_CASE("bad definitions name the app and the key") {
  struct Case { const char* json; const char* expect; };
  const Case cases[] = {
      {R"({"slug":"Bad Slug","name":"x","auth_types":["keybased"]})", "slug"},
      {R"({"slug":"a1","auth_types":["keybased"]})", "name"},
      {R"({"slug":"a1","name":"x","auth_types":["magic"]})", "auth_types"},
      {R"({"slug":"a1","name":"x","auth_types":["keybased"]})", "keybased"},
      {R"({"slug":"a1","name":"x","auth_types":["keybased"],"colour":"red","keybased":{"fields":[{"name":"k","label":"K","type":"text"}]}})", "colour"},
      {R"({"slug":"a1","name":"x","auth_types":["keybased"],"keybased":{"fields":[{"name":"k","label":"K","type":"date"}]}})", "type"},
      {R"({"slug":"a1","name":"x","auth_types":["keybased"],"keybased":{"fields":[{"name":"k","label":"K","type":"text","pattern":"("}]}})", "pattern"},
      {R"({"slug":"a1","name":"x","auth_types":["keybased"],"keybased":{"fields":[{"name":"k","label":"K","type":"select"}]}})", "options"},
      {R"({"slug":"a1","name":"x","auth_types":["oauth2"],"oauth2":{"authorization_endpoint":"http://example.com/a","token_endpoint":"https://example.com/t"}})", "authorization_endpoint"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.json);
    try {
      refold::catalog::parse_app(refold::json::parse(c.json, "test"), "test");
      FAIL("accepted a bad definition");
    } catch (const refold::Error& e) {
      CHECK(e.code() == REFOLD_EINVALID);
      CHECK(std::string(e.what()).find(std::string("'") + c.expect + "'") != std::string::npos);
    }
  }
}
