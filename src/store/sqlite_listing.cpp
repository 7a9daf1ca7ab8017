// Filtered, paged listings: one statement per combination of filters, each
// an index range with a LIMIT (the indexes of schema version 6).
#include "store/sqlite_internal.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "util/error.hpp"

namespace refold::store {

using detail::read_connection;
using detail::Use;

namespace {

// Which filters a page has; one statement per combination.
enum : unsigned { kAccount = 1, kApp = 2, kStatus = 4, kAfter = 8, kShapes = 16 };

unsigned shape_of(const PageFilter& f) {
  return (f.account ? kAccount : 0U) | (f.app ? kApp : 0U) | (f.status ? kStatus : 0U) |
         (f.after ? kAfter : 0U);
}

// Parameters: ?1 account, ?2 app, ?3 status, ?4 ?5 ?6 the key paged after,
// ?7 the limit (always used, so every shape takes all seven).
//
// The keyset comparison and the ORDER BY leave out the columns an equality
// fixes: an index range continues only the columns after its equalities,
// in order, so "app = ?2 AND (account, auth_type) > (?4, ?6)" is a range
// of connections_by_app where "(account, app, auth_type) > (...)" would be
// a filter over every row of the app. It means the same because the key
// paged after matches the filter (list_page checks).
std::string build(unsigned shape) {
  std::string where;
  auto add = [&where](const std::string& cond) {
    where += where.empty() ? " WHERE " : " AND ";
    where += cond;
  };
  if (shape & kAccount) add("account = ?1");
  if (shape & kApp) add("app = ?2");
  if (shape & kStatus) add("status = ?3");
  std::vector<std::pair<const char*, const char*>> keyset;
  if (!(shape & kAccount)) keyset.emplace_back("account", "?4");
  if (!(shape & kApp)) keyset.emplace_back("app", "?5");
  keyset.emplace_back("auth_type", "?6");
  std::string cols, params;
  for (const auto& [col, param] : keyset) {
    if (!cols.empty()) {
      cols += ", ";
      params += ", ";
    }
    cols += col;
    params += param;
  }
  if (shape & kAfter)
    add(keyset.size() == 1 ? cols + " > " + params : "(" + cols + ") > (" + params + ")");
  return "SELECT " REFOLD_CONNECTION_COLUMNS " FROM connections" + where + " ORDER BY " + cols +
         " LIMIT ?7";
}

// Built once; the strings' addresses key each connection's statement cache.
const std::string& page_sql(const PageFilter& f) {
  static const std::array<std::string, kShapes> sql = [] {
    std::array<std::string, kShapes> out;
    for (unsigned s = 0; s < kShapes; ++s) out[s] = build(s);
    return out;
  }();
  return sql[shape_of(f)];
}

void bind_page(sqlite::Stmt& s, const PageFilter& f) {
  s.bind(1, f.account).bind(2, f.app).bind(3, f.status);
  if (f.after) s.bind(4, f.after->account).bind(5, f.after->app).bind(6, f.after->auth_type);
  s.bind(7, static_cast<std::int64_t>(f.limit));
}

}  // namespace

std::vector<Connection> SqliteStore::list_page(const PageFilter& filter) {
  if (filter.after && ((filter.account && filter.after->account != *filter.account) ||
                       (filter.app && filter.after->app != *filter.app)))
    fail(REFOLD_EINVALID, "list_page: the key to page after does not match the filter");
  std::vector<Connection> out;
  if (filter.limit == 0) return out;
  out.reserve(std::min<std::size_t>(filter.limit, 1024));
  auto c = acquire();
  Use s(c->stmt(page_sql(filter).c_str()));
  bind_page(*s, filter);
  while (s->step()) out.push_back(read_connection(*s, 0));
  return out;
}

std::vector<std::string> SqliteStore::page_plan(const PageFilter& filter) {
  auto c = acquire();
  sqlite::Stmt s(c->db, "EXPLAIN QUERY PLAN " + page_sql(filter));
  bind_page(s, filter);
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(3));
  return out;
}

}  // namespace refold::store
