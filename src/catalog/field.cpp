#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include <re2/re2.h>

#include "catalog/catalog.hpp"
#include "catalog/template.hpp"
#include "crypto/secret_string.hpp"
#include "util/error.hpp"
#include "util/text.hpp"

namespace refold::catalog {

namespace bj = boost::json;

namespace {

[[noreturn]] void bad(const Field& f, std::string_view where, const std::string& why) {
  fail(REFOLD_EINVALID, std::string(where) + ": field '" + f.name + "' " + why);
}

std::string fmt(double d) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

std::optional<double> parse_number(std::string_view s) {
  double d = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), d);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return d;
}

}  // namespace

bj::value Field::check(const bj::value& v, std::string_view where) const {
  switch (type) {
    case FieldType::text: {
      crypto::SecretString s;  // text fields hold keys
      if (v.is_string()) s = std::string_view(v.get_string());
      else if (v.is_int64()) s = std::to_string(v.get_int64());  // the hosted SDK sends numbers
      else if (v.is_uint64()) s = std::to_string(v.get_uint64());
      else bad(*this, where, "must be a string");
      if (!text::valid_utf8(s)) bad(*this, where, "is not valid UTF-8");
      std::size_t n = text::utf8_length(s);
      if (n < min_length) bad(*this, where, "is shorter than " + std::to_string(min_length) + " characters");
      if (n > max_length) bad(*this, where, "is longer than " + std::to_string(max_length) + " characters");
      if (pattern && !re2::RE2::FullMatch(re2::StringPiece(s.data(), s.size()), *pattern))
        bad(*this, where, "does not match the pattern " + *pattern_source);
      if (!host_suffixes.empty()) {
        std::string host = text::lower(s.view());
        if (!is_host_name(host)) bad(*this, where, "must be a host name");
        const bool within = std::any_of(host_suffixes.begin(), host_suffixes.end(), [&](const std::string& d) {
          return host == d || (host.size() > d.size() && host.ends_with(d) && host[host.size() - d.size() - 1] == '.');
        });
        if (!within) {
          std::string list;
          for (const auto& d : host_suffixes) list += (list.empty() ? "" : ", ") + d;
          bad(*this, where, "must be a host name within " + list);
        }
        return bj::value(host, v.storage());
      }
      return bj::value(s.view(), v.storage());
    }
    case FieldType::number: {
      std::optional<double> d;
      if (v.is_number()) d = v.to_number<double>();
      else if (v.is_string()) d = parse_number(std::string_view(v.get_string()));
      if (!d) bad(*this, where, "must be a number");
      if (!std::isfinite(*d)) bad(*this, where, "must be a finite number");
      if (minimum && *d < *minimum) bad(*this, where, "is below the minimum " + fmt(*minimum));
      if (maximum && *d > *maximum) bad(*this, where, "is above the maximum " + fmt(*maximum));
      if (v.is_int64() || v.is_uint64()) return v;
      double whole = std::trunc(*d);
      if (whole == *d && std::fabs(whole) < 9.0e15) return bj::value(static_cast<std::int64_t>(whole));
      return bj::value(*d);
    }
    case FieldType::boolean:
      if (v.is_bool()) return v;
      if (v.is_string() && v.get_string() == "true") return bj::value(true);
      if (v.is_string() && v.get_string() == "false") return bj::value(false);
      bad(*this, where, "must be true or false");
    case FieldType::select:
      if (!v.is_string()) bad(*this, where, "must be a string naming one of its options");
      for (const auto& o : options)
        if (o.value == v.get_string()) return bj::value(o.value, v.storage());
      bad(*this, where, "is not one of its options");
  }
  bad(*this, where, "has an unknown type");
}

namespace {

// Checks `input` against `fields` (unknown keys refused, required ones
// present) and returns the normalised object; errors start with `where`.
bj::object check_fields(const std::vector<Field>& fields, const bj::object& input, std::string_view where,
                        const std::string& slug) {
  for (const auto& kv : input) {
    bool known = std::any_of(fields.begin(), fields.end(),
                             [&](const Field& f) { return f.name == kv.key(); });
    if (!known) {
      std::string key(kv.key());
      bool plain = !key.empty() && key.size() <= 64 &&
                   std::all_of(key.begin(), key.end(), [](char c) {
                     return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
                   });
      if (!plain) key = "(unprintable name)";
      fail(REFOLD_EINVALID, std::string(where) + ": field '" + key + "' is not a field of app '" + slug + "'");
    }
  }
  bj::object out(input.storage());
  for (const auto& f : fields) {
    const bj::value* v = input.if_contains(f.name);
    if (!v || v->is_null()) {
      if (f.required) bad(f, where, "is required");
      continue;
    }
    out.emplace(f.name, f.check(*v, where));
  }
  return out;
}

}  // namespace

bj::object App::check_payload(const bj::object& payload) const {
  if (!offers("keybased")) fail(REFOLD_EINVALID, "app '" + slug + "' does not offer key-based auth");
  return check_fields(fields, payload, "payload", slug);
}

bj::object App::check_connection(const bj::object& inputs) const {
  return check_fields(connection_fields, inputs, "connection", slug);
}

}  // namespace refold::catalog
