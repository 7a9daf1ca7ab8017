// The query of refold_list_connections_page (core::parse_page_query) and
// its cursors. A query that parses is within every documented range, and
// a cursor it accepts is one make_cursor wrote for the same filters; an
// error is REFOLD_EINVALID and never quotes a value (or a key that does
// not look like one).
//
// An input may start with a line "#cursor ACCOUNT<TAB>APP<TAB>AUTH_TYPE<TAB>N":
// the harness then writes the cursor of that row for the query's filters,
// puts it in the query as "cursor", and checks the query now pages after
// that row; then it changes the cursor's character N (if there is one)
// and checks the query is refused.
#include <boost/json.hpp>
#include <sodium.h>

#include "check.hpp"
#include "core/page_query.hpp"
#include "util/text.hpp"

namespace bj = boost::json;
using namespace refold;

namespace {

const core::CursorKey& key() {
  static const core::CursorKey k = core::cursor_key(store::Bytes(16, 0x5a));
  return k;
}

// What a secret looks like here: 8 or more letters, digits and '_', with
// a letter and a digit. (Any text may be in a message's fixed words; text
// like this is not.)
bool secret_looking(std::string_view s) {
  bool letter = false, digit = false;
  for (char ch : s) {
    const bool is_letter = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
    const bool is_digit = ch >= '0' && ch <= '9';
    if (!is_letter && !is_digit && ch != '_') return false;
    letter = letter || is_letter;
    digit = digit || is_digit;
  }
  return s.size() >= 8 && letter && digit;
}

// Every string value of the document (keys aside).
void collect_values(const bj::value& v, std::vector<std::string>& out) {
  if (v.is_string()) out.emplace_back(v.get_string());
  if (v.is_array())
    for (const auto& e : v.get_array()) collect_values(e, out);
  if (v.is_object())
    for (const auto& kv : v.get_object()) collect_values(kv.value(), out);
}

void check_filter(const store::PageFilter& f) {
  FUZZ_CHECK(f.limit >= 1 && f.limit <= core::kMaxPageLimit);
  if (f.account) {
    FUZZ_CHECK(!f.account->empty() && f.account->size() <= 256);
    FUZZ_CHECK(f.account->find('\0') == std::string::npos);
    FUZZ_CHECK(text::valid_utf8(*f.account));
  }
  if (f.app) FUZZ_CHECK(text::is_slug(*f.app));
  if (f.status) FUZZ_CHECK(*f.status == "active" || *f.status == "reauth_required");
}

bool same_filters(const store::PageFilter& a, const store::PageFilter& b) {
  return a.account == b.account && a.app == b.app && a.status == b.status;
}

// Parses `text`; checks the properties of a success or a failure. Returns
// the filter on success.
std::optional<store::PageFilter> parse(const std::string& text) {
  boost::system::error_code ec;
  bj::value doc = bj::parse(text, ec);
  std::vector<std::string> values;
  std::vector<std::string> keys;
  if (!ec) collect_values(doc, values);
  if (!ec && doc.is_object())
    for (const auto& kv : doc.get_object()) keys.emplace_back(kv.key());
  try {
    store::PageFilter f = core::parse_page_query(text.c_str(), key());
    FUZZ_CHECK(!ec && doc.is_object());
    check_filter(f);
    if (f.after) {
      // A cursor accepted is the one make_cursor writes for it, exactly.
      const bj::value* c = doc.get_object().if_contains("cursor");
      FUZZ_CHECK(c && c->is_string());
      FUZZ_CHECK(core::make_cursor(f, *f.after, key()) == std::string_view(c->get_string()));
    }
    return f;
  } catch (const Error& e) {
    FUZZ_CHECK(e.code() == REFOLD_EINVALID);
    const std::string_view msg = e.what();
    for (const auto& v : values) {
      if (!secret_looking(v)) continue;
      bool named = false;  // the same text is also a key the message may name
      for (const auto& k : keys) named = named || fuzz::contains(k, v);
      if (!named) FUZZ_CHECK(!fuzz::contains(msg, v));
    }
    for (const auto& k : keys)
      if (k.size() > 32 && secret_looking(k)) FUZZ_CHECK(!fuzz::contains(msg, k));
    return std::nullopt;
  }
}

void run(const std::uint8_t* data, std::size_t size) {
  std::string_view rest = fuzz::as_text(data, size);
  std::optional<store::ConnectionId> row;
  std::size_t flip = 0;
  if (rest.rfind("#cursor ", 0) == 0) {
    std::string_view line = fuzz::take_line(rest).substr(8);
    std::vector<std::string> parts;
    for (std::size_t tab; (tab = line.find('\t')) != std::string_view::npos; line.remove_prefix(tab + 1))
      parts.emplace_back(line.substr(0, tab));
    parts.emplace_back(line);
    if (parts.size() == 4 && !parts[0].empty() && parts[0].size() <= 256 && !parts[1].empty() &&
        parts[1].size() <= 64 && !parts[2].empty() && parts[2].size() <= 64) {
      row = store::ConnectionId{parts[0], parts[1], parts[2]};
      for (char ch : parts[3]) flip = flip * 10 + static_cast<std::size_t>(ch >= '0' && ch <= '9' ? ch - '0' : 0);
    }
  }
  // A C string: the API never sees bytes after a NUL.
  std::string text(rest);
  text = text.c_str();
  const auto f = parse(text);
  if (!row || !f || f->after) return;

  bj::value doc = bj::parse(text);
  const std::string cursor = core::make_cursor(*f, *row, key());
  doc.get_object()["cursor"] = cursor;
  const auto paged = parse(bj::serialize(doc));
  FUZZ_CHECK(paged && same_filters(*paged, *f) && paged->after);
  FUZZ_CHECK(paged->after->account == row->account && paged->after->app == row->app &&
             paged->after->auth_type == row->auth_type);
  if (flip < cursor.size()) {
    std::string bad = cursor;
    bad[flip] = bad[flip] == 'A' ? 'B' : 'A';
    doc.get_object()["cursor"] = bad;
    FUZZ_CHECK(!parse(bj::serialize(doc)));
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) { return sodium_init() < 0 ? 1 : 0; }

FUZZ_ENTRY(run)
