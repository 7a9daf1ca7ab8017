// Field patterns come from the host's catalog and are matched against what
// an end customer typed: no pattern and value may crash or hang the host.
#include "small_stack.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace refold_test;

namespace {

// A catalog of one key-based app "pat" whose only field "code" has `pattern`
// and room for long values.
json::array pattern_catalog(const std::string& pattern) {
  json::object field;
  field["name"] = "code";
  field["label"] = "Code";
  field["type"] = "text";
  field["pattern"] = pattern;
  field["max_length"] = 60000;
  json::object app;
  app["slug"] = "pat";
  app["name"] = "Pattern test";
  app["auth_types"] = json::array({"keybased"});
  app["keybased"] = json::object({{"fields", json::array({field})}});
  return json::array({app});
}

std::string code_payload(const std::string& value) {
  json::object p;
  p["code"] = value;
  return to_json(p);
}

// refold_connect on a thread with a 64 KiB stack; returns its code and
// leaves the thread's error text in `error`.
int connect_on_small_stack(refold_client* c, const std::string& payload, std::string& error) {
  int rc = 0;
  run_on_stack(kSmallStack, [&] {
    rc = refold_connect(c, "acct", "pat", payload.c_str());
    error = refold_last_error();
  });
  return rc;
}

}  // namespace

TEST_CASE("patterns: a 19,000-character value against (a|b)* on a 64 KiB stack is accepted") {
  Store s;
  ClientPtr client = open_client(s.config_with_catalog(pattern_catalog("(a|b)*")));
  std::string value;
  for (int i = 0; i < 19000; ++i) value += (i % 3 == 0) ? 'b' : 'a';
  std::string error;
  REQUIRE_MESSAGE(connect_on_small_stack(client.get(), code_payload(value), error) == REFOLD_OK,
                  error);
  const auto fields = credential_fields(client.get(), "acct", "pat");
  CHECK(field_is(fields, "code", value));

  SUBCASE("one character outside the pattern, at the end, is rejected naming the field") {
    int rc = connect_on_small_stack(client.get(), code_payload(value + "c"), error);
    CHECK(rc == REFOLD_EINVALID);
    CHECK(contains(error, "'code'"));
    CHECK(contains(error, "pattern"));
    // The value stored before is untouched.
    CHECK(field_is(credential_fields(client.get(), "acct", "pat"), "code", value));
  }
}

TEST_CASE("patterns: (a|a)*b against a run of a's is rejected at once, not after backtracking") {
  Store s;
  ClientPtr client = open_client(s.config_with_catalog(pattern_catalog("(a|a)*b")));
  // Backtracking engines take 2^n steps here; 30 never finishes, 50,000
  // would not in the lifetime of the machine.
  for (std::size_t n : {30, 50000}) {
    CAPTURE(n);
    std::string error;
    const int rc = connect_on_small_stack(client.get(), code_payload(std::string(n, 'a')), error);
    CHECK(rc == REFOLD_EINVALID);
    CHECK(contains(error, "'code'"));
    CHECK(contains(error, "does not match the pattern"));
  }
  std::string error;
  CHECK(connect_on_small_stack(client.get(), code_payload(std::string(29, 'a') + "b"), error) ==
        REFOLD_OK);
}

TEST_CASE("patterns: a pattern RE2 cannot compile fails open naming the app and the field") {
  struct Case {
    const char* what;
    const char* pattern;
  };
  const Case cases[] = {
      {"unbalanced parenthesis", "([a-z]"},
      {"backreference", "(a)\\1"},
      {"lookahead", "(?=x)x"},
      {"lookbehind", "(?<!x)y"},
      {"repeat count over RE2's limit", "a{1001}"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    Store s;
    ClientPtr client;
    const int rc = try_open(s.config_with_catalog(pattern_catalog(c.pattern)), client);
    const std::string msg = last_error();
    CHECK(rc == REFOLD_EINVALID);
    CHECK(contains(msg, "'pat'"));
    CHECK(contains(msg, "'code'"));
    CHECK(contains(msg, "RE2"));
  }
}

TEST_CASE("patterns: anchored on both ends, alternation included") {
  Store s;
  ClientPtr client = open_client(s.config_with_catalog(pattern_catalog("ab|cd")));
  std::string error;
  CHECK(connect_on_small_stack(client.get(), code_payload("ab"), error) == REFOLD_OK);
  CHECK(connect_on_small_stack(client.get(), code_payload("cd"), error) == REFOLD_OK);
  for (const char* bad : {"abcd", "abd", "acd", "xab", "cdx", ""}) {
    CAPTURE(bad);
    CHECK(connect_on_small_stack(client.get(), code_payload(bad), error) == REFOLD_EINVALID);
  }
}
