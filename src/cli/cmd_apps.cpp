// refold apps: the catalog, with the account's connection state.
#include "commands.hpp"
#include "output.hpp"
#include "session.hpp"

namespace refold_cli {

int cmd_apps(const Args& args) {
  Session s(args);
  if (args.json) {
    // The library's own Application objects: they hold no secret.
    print_json_text(s.apps_text());
    return 0;
  }
  Table t({"APP", "NAME", "AUTH TYPES", "CONNECTED"});
  for (const auto& v : s.apps()) {
    if (!v.is_object()) continue;
    const auto& app = v.get_object();
    std::string connected = "no";
    if (bool_of(app, "reauth_required")) connected = "reauth required";
    else if (bool_of(app, "connected")) connected = "yes";
    t.add({str_of(app, "slug"), str_of(app, "name"), join_of(app, "auth_types", ", "), connected});
  }
  t.print();
  return 0;
}

}  // namespace refold_cli
