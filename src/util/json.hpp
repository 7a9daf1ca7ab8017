// Small helpers over Boost.JSON for reading documents whose every error must
// name the offending key.
#pragma once

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace refold::json {

namespace bj = boost::json;

// Parses `text` as JSON; on failure throws REFOLD_EINVALID "<what> is not
// valid JSON (...)" without quoting the text (it may hold secrets). The
// parser's working memory is on `sp` too.
bj::value parse(std::string_view text, std::string_view what,
                bj::storage_ptr sp = {});

// Typed member access for validating documents. `where` prefixes errors, for
// example "catalog: app 'twilio'". Each throws REFOLD_EINVALID naming `key`.
class Reader {
 public:
  Reader(const bj::object& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  // Rejects keys outside `allowed`, naming the first unknown one.
  void only(std::initializer_list<std::string_view> allowed) const;

  std::optional<std::string> str(std::string_view key, bool required = false) const;
  std::optional<bool> boolean(std::string_view key) const;
  std::optional<double> number(std::string_view key) const;
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max) const;
  std::vector<std::string> strings(std::string_view key, bool required = false) const;
  const bj::array* array(std::string_view key, bool required = false) const;
  const bj::object* object(std::string_view key, bool required = false) const;

  [[noreturn]] void bad(std::string_view key, std::string_view why) const;
  const std::string& where() const { return where_; }

 private:
  const bj::value* get(std::string_view key, bool required) const;
  const bj::object& obj_;
  std::string where_;
};

// Serializes `v` into a std::string.
std::string dump(const bj::value& v);

}  // namespace refold::json
