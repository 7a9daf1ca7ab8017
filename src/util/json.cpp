#include "util/json.hpp"

#include <cmath>

#include "util/error.hpp"

namespace refold::json {

bj::value parse(std::string_view text, std::string_view what, bj::storage_ptr sp) {
  boost::system::error_code ec;
  bj::parse_options opts;
  opts.max_depth = 64;
  // The parser's own stack holds strings while they are being built (one
  // with escapes, say), so it lives on the document's storage: a wiping
  // one wipes it too. (boost::json::parse would put it on the default
  // heap, past a few KiB on the stack.)
  bj::parser p(sp, opts);
  p.reset(std::move(sp));
  p.write(bj::string_view(text.data(), text.size()), ec);
  if (ec) fail(REFOLD_EINVALID, std::string(what) + " is not valid JSON (" + ec.message() + ")");
  return p.release();
}

void Reader::only(std::initializer_list<std::string_view> allowed) const {
  for (const auto& kv : obj_) {
    bool known = false;
    for (auto a : allowed) known = known || kv.key() == a;
    if (!known) bad(std::string_view(kv.key().data(), kv.key().size()), "is not a known key");
  }
}

void Reader::bad(std::string_view key, std::string_view why) const {
  fail(REFOLD_EINVALID, where_ + ": '" + std::string(key) + "' " + std::string(why));
}

const bj::value* Reader::get(std::string_view key, bool required) const {
  const bj::value* v = obj_.if_contains(bj::string_view(key.data(), key.size()));
  if (!v && required) bad(key, "is required");
  return v;
}

std::optional<std::string> Reader::str(std::string_view key, bool required) const {
  const bj::value* v = get(key, required);
  if (!v) return std::nullopt;
  if (!v->is_string()) bad(key, "must be a string");
  return std::string(v->get_string());
}

std::optional<bool> Reader::boolean(std::string_view key) const {
  const bj::value* v = get(key, false);
  if (!v) return std::nullopt;
  if (!v->is_bool()) bad(key, "must be true or false");
  return v->get_bool();
}

std::optional<double> Reader::number(std::string_view key) const {
  const bj::value* v = get(key, false);
  if (!v) return std::nullopt;
  if (!v->is_number()) bad(key, "must be a number");
  return v->to_number<double>();
}

std::optional<std::int64_t> Reader::integer(std::string_view key, std::int64_t min,
                                            std::int64_t max) const {
  const bj::value* v = get(key, false);
  if (!v) return std::nullopt;
  boost::system::error_code ec;
  auto n = v->to_number<std::int64_t>(ec);
  if (ec || n < min || n > max)
    bad(key, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
  return n;
}

std::vector<std::string> Reader::strings(std::string_view key, bool required) const {
  std::vector<std::string> out;
  const bj::array* a = array(key, required);
  if (!a) return out;
  for (const auto& item : *a) {
    if (!item.is_string()) bad(key, "must be an array of strings");
    out.emplace_back(item.get_string());
  }
  return out;
}

const bj::array* Reader::array(std::string_view key, bool required) const {
  const bj::value* v = get(key, required);
  if (!v) return nullptr;
  if (!v->is_array()) bad(key, "must be an array");
  return &v->get_array();
}

const bj::object* Reader::object(std::string_view key, bool required) const {
  const bj::value* v = get(key, required);
  if (!v) return nullptr;
  if (!v->is_object()) bad(key, "must be an object");
  return &v->get_object();
}

std::string dump(const bj::value& v) { return bj::serialize(v); }

}  // namespace refold::json
