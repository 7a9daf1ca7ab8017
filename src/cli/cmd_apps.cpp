// refold apps: the catalog, with the account's connection state.
#include <algorithm>
#include <cctype>
#include <set>

#include "commands.hpp"
#include "errors.hpp"
#include "output.hpp"
#include "session.hpp"

namespace refold_cli {

namespace bj = boost::json;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Whether `app` mentions `needle` (lower case) in its slug, name,
// description or tags.
bool mentions(const bj::object& app, const std::string& needle) {
  for (const char* key : {"slug", "name", "description"})
    if (lower(str_of(app, key)).find(needle) != std::string::npos) return true;
  if (const auto* tags = app.if_contains("tags"); tags && tags->is_array())
    for (const auto& t : tags->get_array())
      if (t.is_string() && lower(t.get_string()).find(needle) != std::string::npos) return true;
  return false;
}

}  // namespace

int cmd_apps(const Args& args) {
  Session s(args);
  bj::array apps;
  std::set<std::string> categories;
  for (const auto& v : s.apps()) {
    if (!v.is_object()) continue;
    const auto& app = v.get_object();
    categories.insert(str_of(app, "category"));
    if (args.category && str_of(app, "category") != *args.category) continue;
    if (args.search && !mentions(app, lower(*args.search))) continue;
    apps.push_back(v);
  }
  if (args.category && !categories.count(*args.category)) {
    std::string known;
    for (const auto& c : categories)
      if (!c.empty()) known += (known.empty() ? "" : ", ") + c;
    throw usage_error("apps: no app has the category '" + *args.category + "' (categories: " + known + ")", "apps");
  }
  if (args.json) {
    // The library's own Application objects: they hold no secret.
    print_json(apps);
    return 0;
  }
  Table t({"APP", "NAME", "CATEGORY", "AUTH TYPES", "CONNECTED"});
  for (const auto& v : apps) {
    const auto& app = v.get_object();
    std::string connected = "no";
    if (bool_of(app, "reauth_required")) connected = "reauth required";
    else if (bool_of(app, "connected")) connected = "yes";
    t.add({str_of(app, "slug"), str_of(app, "name"), str_of(app, "category"), join_of(app, "auth_types", ", "),
           connected});
  }
  t.print();
  return 0;
}

}  // namespace refold_cli
