// crypto::SecretString under the freed-heap scan: what the wiping
// allocator alone leaves behind (a short value in the small-string buffer
// of a string that lives inside a freed block), and that SecretString
// leaves nothing in the ways refold's code uses it.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto/secret_string.hpp"
#include "recording.hpp"
#include "test_support.hpp"

namespace {

using refold::crypto::SecretString;
using refold::crypto::WipedString;
using refold_test::escape;
using refold_test::freed_blocks_holding;
using refold_test::Recording;

// A map node freed with a short value inside it, as the callback's
// parameters are.
template <class String>
void free_map_node(const std::string& value) {
  Recording r;
  std::map<std::string, String> m;
  m.emplace("code", value);
  escape(&m);
}

TEST_CASE("secrets: the scan finds a short value left in the small-string buffer of a freed block") {
  freed_heap_clear();
  const std::string value = refold_test::random_token(12);  // fits the buffer inside the object
  free_map_node<std::string>(value);
  CHECK(freed_blocks_holding(value).size() == 1);
  freed_heap_clear();
  // The wiping allocator wipes heap buffers only: not enough on its own.
  free_map_node<WipedString>(value);
  CHECK(freed_blocks_holding(value).size() == 1);
  freed_heap_clear();
  free_map_node<SecretString>(value);
  CHECK(freed_blocks_holding(value).empty());
  freed_heap_clear();
}

TEST_CASE("secrets: SecretString leaves nothing behind when it grows, moves, shrinks or dies") {
  freed_heap_clear();
  const std::string small = refold_test::random_token(12);
  const std::string large = refold_test::random_token(200);
  {
    Recording r;
    // Elements moved by vector growth, a small value grown onto the heap,
    // appends that reallocate, a shorter assignment, a moved-from object.
    std::vector<SecretString> v;
    for (int i = 0; i < 9; ++i) v.emplace_back(i % 2 ? std::string_view(small) : std::string_view(large));
    v[0] = small;
    v[0] += large;
    for (char c : large) v[1] += c;
    v[2] = "short";
    SecretString taken = std::move(v[3]);
    escape(taken.data());
    auto boxed = std::make_unique<std::optional<SecretString>>(small);
    boxed->reset();
    *boxed = SecretString(large);
    escape(&boxed);
  }
  CHECK(freed_blocks_holding(small).empty());
  CHECK(freed_blocks_holding(large).empty());
  CHECK(freed_blocks_holding(std::string_view(large).substr(0, 40)).empty());
  freed_heap_clear();
}

}  // namespace
