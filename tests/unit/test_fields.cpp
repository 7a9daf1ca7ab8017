#include <doctest/doctest.h>

#include "catalog/catalog.hpp"
#include "small_stack.hpp"
#include "util/error.hpp"
#include "util/json.hpp"

namespace bj = boost::json;
using refold::catalog::App;

namespace {

App sample() {
  return refold::catalog::parse_app(refold::json::parse(R"({
    "slug": "sample", "name": "Sample", "auth_types": ["keybased"],
    "keybased": {"fields": [
      {"name": "token", "label": "Token", "type": "text", "secret": true,
       "pattern": "tk_[a-z]+", "min_length": 4, "max_length": 12},
      {"name": "port", "label": "Port", "type": "number", "required": false, "minimum": 1, "maximum": 65535},
      {"name": "tls", "label": "TLS", "type": "boolean", "required": false},
      {"name": "region", "label": "Region", "type": "select", "required": false,
       "options": [{"name": "EU", "value": "eu"}, {"name": "US", "value": "us"}]}
    ]}})", "test"), "test");
}

// The error of checking `payload`, or "" when it passes.
std::string error_of(const App& app, const char* payload) {
  try {
    app.check_payload(refold::json::parse(payload, "payload").as_object());
    return "";
  } catch (const refold::Error& e) {
    CHECK(e.code() == REFOLD_EINVALID);
    return e.what();
  }
}

}  // namespace

TEST_CASE("field checks accept good values and normalise coercions") {
  App app = sample();
  auto out = app.check_payload(
      refold::json::parse(R"({"token":"tk_abc","port":"8080","tls":"true","region":"eu"})", "p").as_object());
  CHECK(out.at("token") == "tk_abc");
  CHECK(out.at("port") == 8080);
  CHECK(out.at("tls") == true);
  CHECK(out.at("region") == "eu");
  auto minimal = app.check_payload(refold::json::parse(R"({"token":"tk_abcd"})", "p").as_object());
  CHECK(minimal.size() == 1);
}

TEST_CASE("field errors name the field and never the value") {
  App app = sample();
  struct Case { const char* payload; const char* field; const char* value; };
  const Case cases[] = {
      {R"({})", "token", nullptr},
      {R"({"token":"tk_abc","extra":1})", "extra", nullptr},
      {R"({"token":"xx_zzzzz"})", "token", "xx_zzzzz"},
      {R"({"token":"tk_"})", "token", "tk_"},
      {R"({"token":"tk_abcdefghijk"})", "token", "tk_abcdefghijk"},
      {R"({"token":true})", "token", nullptr},
      {R"({"token":"tk_abc","port":"eighty"})", "port", "eighty"},
      {R"({"token":"tk_abc","port":70000})", "port", "70000"},
      {R"({"token":"tk_abc","tls":3})", "tls", nullptr},
      {R"({"token":"tk_abc","region":"mars"})", "region", "mars"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.payload);
    std::string msg = error_of(app, c.payload);
    REQUIRE(!msg.empty());
    CHECK(msg.find(std::string("'") + c.field + "'") != std::string::npos);
    if (c.value) CHECK(msg.find(c.value) == std::string::npos);
  }
}

TEST_CASE("every built-in pattern takes long values on a 64 KiB stack") {
  // Values of each field's full length, and one character over it, built
  // from runs that keep a matcher busy: the prefix the placeholder shows,
  // then one character repeated. Each must be answered (accepted, or
  // rejected naming the field) without overflowing a small stack.
  refold::catalog::Catalog catalog;
  std::size_t checked = 0;
  for (const auto& [slug, app] : catalog.apps()) {
    for (const auto& f : app.fields) {
      if (!f.pattern) continue;
      const std::string prefix = f.placeholder.substr(0, f.placeholder.find('.'));
      for (char fill : {'a', '0', 'Z', '-', '_'}) {
        for (std::size_t length : {f.max_length, f.max_length + 1}) {
          std::string value = prefix.substr(0, length);
          value.resize(length, fill);
          CAPTURE(slug);
          CAPTURE(f.name);
          CAPTURE(fill);
          CAPTURE(length);
          std::string error;
          refold_test::run_on_stack(refold_test::kSmallStack, [&] {
            try {
              f.check(bj::value(value));
            } catch (const refold::Error& e) {
              error = e.what();
            }
          });
          if (length > f.max_length) CHECK(error.find("is longer than") != std::string::npos);
          if (!error.empty()) CHECK(error.find("'" + f.name + "'") != std::string::npos);
          ++checked;
        }
      }
    }
  }
  CHECK(checked >= 7 * 10);  // every pattern of the built-in apps above
}
