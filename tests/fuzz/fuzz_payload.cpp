// Key-based payloads (App::check_payload) against a fixed app with a field
// of each type. What passes is normalised and within the declaration; an
// error names the field and never quotes a value.
#include <boost/json.hpp>
#include <cmath>
#include <re2/re2.h>

#include "catalog/catalog.hpp"
#include "check.hpp"
#include "util/json.hpp"
#include "util/text.hpp"

namespace bj = boost::json;
using namespace refold;

namespace {

constexpr const char* kApp = R"({
  "slug": "fuzzkeys", "name": "Fuzz keys", "auth_types": ["keybased"],
  "keybased": {"fields": [
    {"name": "api_key", "label": "API key", "type": "text", "secret": true,
     "pattern": "sk_(live|test)_[A-Za-z0-9]{8,32}", "min_length": 10, "max_length": 40},
    {"name": "note", "label": "Note", "type": "text", "required": false, "max_length": 16},
    {"name": "port", "label": "Port", "type": "number", "minimum": 1, "maximum": 65535},
    {"name": "sandbox", "label": "Sandbox", "type": "boolean", "required": false},
    {"name": "region", "label": "Region", "type": "select",
     "options": [{"name": "US", "value": "us"}, {"name": "EU", "value": "eu"}]}
  ]}})";

// Everything a message may say after the field's name: fixed words and the
// app's own declaration, never a value.
constexpr std::string_view kReasons[] = {
    "is not a field of app 'fuzzkeys'", "is required", "must be a string", "is not valid UTF-8",
    "is shorter than 10 characters", "is longer than 40 characters", "is longer than 16 characters",
    "does not match the pattern sk_(live|test)_[A-Za-z0-9]{8,32}", "must be a number",
    "must be a finite number", "is below the minimum 1", "is above the maximum 65535",
    "must be true or false", "must be a string naming one of its options",
    "is not one of its options"};

const catalog::App& app() {
  static const catalog::App a = catalog::parse_app(json::parse(kApp, "fuzz app"), "fuzz");
  return a;
}

void check_accepted(const bj::object& out) {
  for (const auto& kv : out) {
    bool known = false;
    for (const auto& f : app().fields) known = known || f.name == kv.key();
    FUZZ_CHECK(known);
  }
  const bj::string& key = out.at("api_key").as_string();
  FUZZ_CHECK(re2::RE2::FullMatch(std::string_view(key), *app().fields[0].pattern));
  FUZZ_CHECK(key.size() >= 10 && key.size() <= 40);
  if (const bj::value* n = out.if_contains("note"))
    FUZZ_CHECK(n->is_string() && text::valid_utf8(n->get_string()) && text::utf8_length(n->get_string()) <= 16);
  const bj::value& port = out.at("port");
  FUZZ_CHECK(port.is_number());
  double p = port.to_number<double>();
  FUZZ_CHECK(std::isfinite(p) && p >= 1 && p <= 65535);
  if (const bj::value* s = out.if_contains("sandbox")) FUZZ_CHECK(s->is_bool());
  const bj::value& region = out.at("region");
  FUZZ_CHECK(region == "us" || region == "eu");
}

// "payload: field '<name>' <reason>", the name a declared field, a plain
// key of the payload or "(unprintable name)".
void check_message(std::string_view msg, const bj::object& payload) {
  constexpr std::string_view kPrefix = "payload: field '";
  FUZZ_CHECK(msg.starts_with(kPrefix));
  msg.remove_prefix(kPrefix.size());
  auto end = msg.find("' ");
  FUZZ_CHECK(end != std::string_view::npos);
  std::string_view name = msg.substr(0, end), reason = msg.substr(end + 2);
  bool declared = false;
  for (const auto& f : app().fields) declared = declared || f.name == name;
  bool key = payload.contains(name) && name.size() <= 64 && name.find_first_not_of(
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == std::string_view::npos;
  FUZZ_CHECK(declared || key || name == "(unprintable name)");
  bool known = false;
  for (auto r : kReasons) known = known || r == reason;
  FUZZ_CHECK(known);
}

void run(const std::uint8_t* data, std::size_t size) {
  bj::value doc;
  try {
    doc = json::parse(fuzz::as_text(data, size), "payload");
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == REFOLD_EINVALID);
    return;
  }
  if (!doc.is_object()) return;
  try {
    check_accepted(app().check_payload(doc.get_object()));
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == REFOLD_EINVALID);
    check_message(e.what(), doc.get_object());
  }
}

}  // namespace

FUZZ_ENTRY(run)
