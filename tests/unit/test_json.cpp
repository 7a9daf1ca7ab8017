#include <doctest/doctest.h>

#include "util/error.hpp"
#include "util/json.hpp"
#include "util/text.hpp"
#include "util/time.hpp"

namespace bj = boost::json;

TEST_CASE("json parse errors name the document and not its text") {
  try {
    refold::json::parse("{\"secret\": \"hunter2\"", "config");
    FAIL("parse accepted truncated JSON");
  } catch (const refold::Error& e) {
    CHECK(e.code() == REFOLD_EINVALID);
    std::string msg = e.what();
    CHECK(msg.find("config") == 0);
    CHECK(msg.find("hunter2") == std::string::npos);
  }
}

TEST_CASE("json reader rejects unknown keys by name") {
  bj::object o{{"name", "x"}, {"nmae", "y"}};
  refold::json::Reader r(o, "catalog: app 'x'");
  try {
    r.only({"name"});
    FAIL("unknown key accepted");
  } catch (const refold::Error& e) {
    CHECK(std::string(e.what()).find("'nmae'") != std::string::npos);
  }
}

TEST_CASE("utf8 validation") {
  CHECK(refold::text::valid_utf8("plain"));
  CHECK(refold::text::valid_utf8("caf\xc3\xa9 \xf0\x9f\x98\x80"));
  CHECK_FALSE(refold::text::valid_utf8("\xc3"));              // truncated
  CHECK_FALSE(refold::text::valid_utf8("\xc0\xaf"));          // overlong
  CHECK_FALSE(refold::text::valid_utf8("\xed\xa0\x80"));      // surrogate
  CHECK_FALSE(refold::text::valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  CHECK(refold::text::utf8_length("caf\xc3\xa9") == 4);
}

TEST_CASE("rfc3339 formats UTC with milliseconds") {
  CHECK(refold::rfc3339(0) == "1970-01-01T00:00:00.000Z");
  CHECK(refold::rfc3339(1795702281123) == "2026-11-26T14:11:21.123Z");
}
