// Holding secrets briefly: a string that wipes its bytes, a JSON memory
// resource that wipes what it frees, and library strings released with
// refold_free (which wipes them too). Credentials, field values and config
// text (which may carry a master key or client secret) live only in these.
#pragma once

#include <refold.h>

#include <boost/json.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>

namespace refold_cli {

// Overwrites n bytes at p with zeros in a way the compiler keeps.
void wipe(void* p, std::size_t n) noexcept;

// A growable, NUL-terminated byte string whose every buffer is wiped before
// it is released (on growth, clear and destruction).
class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string_view s) { append(s); }
  ~SecretString() { release(); }
  SecretString(SecretString&& o) noexcept;
  SecretString& operator=(SecretString&& o) noexcept;
  SecretString(const SecretString&) = delete;
  SecretString& operator=(const SecretString&) = delete;

  void append(std::string_view s);
  void push_back(char c) { append(std::string_view(&c, 1)); }
  // Drops the last character (for a terminal's erase key); no-op when empty.
  void pop_back() noexcept;
  void clear() noexcept;

  std::string_view view() const { return {data_ ? data_.get() : "", size_}; }
  const char* c_str() const { return data_ ? data_.get() : ""; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  void release() noexcept;
  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

// Appends `s` as a JSON string literal (quotes and escapes included).
void append_json_string(SecretString& out, std::string_view s);

// Serialises a JSON value into `out`, with no intermediate std::string.
void serialize_into(SecretString& out, const boost::json::value& v);

// A memory resource for Boost.JSON values that hold secrets: every block is
// wiped before it goes back to the heap.
class WipingResource final : public boost::json::memory_resource {
 private:
  void* do_allocate(std::size_t n, std::size_t align) override;
  void do_deallocate(void* p, std::size_t n, std::size_t align) override;
  bool do_is_equal(const boost::json::memory_resource& o) const noexcept override {
    return this == &o;
  }
};

// Parses JSON text into a value allocated from `res`; the parser's scratch
// space is wiped too. std::nullopt for invalid JSON. `res` must outlive the
// value, and the value must only be moved, never copy-assigned into a value
// with other storage.
std::optional<boost::json::value> parse_secret(std::string_view text, WipingResource& res);

// A string returned by the library; refold_free wipes and releases it.
struct LibraryFree {
  void operator()(char* p) const noexcept { refold_free(p); }
};
using LibraryString = std::unique_ptr<char, LibraryFree>;

}  // namespace refold_cli
