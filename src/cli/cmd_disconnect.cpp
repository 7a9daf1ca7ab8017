// refold disconnect APP: remove the account's connections to an app.
#include "commands.hpp"
#include "errors.hpp"
#include "output.hpp"
#include "session.hpp"

#include <cstdio>

namespace refold_cli {

int cmd_disconnect(const Args& args) {
  Session s(args);
  const std::string& app = args.app();
  // What there is to remove, so the output can say what happened (the
  // library's disconnect is idempotent and silent about it).
  boost::json::array removed;
  for (const auto& v : s.connections(false))
    if (v.is_object() && str_of(v.get_object(), "app") == app)
      removed.push_back(boost::json::value(str_of(v.get_object(), "auth_type")));

  check(refold_disconnect(s.client(), s.account().c_str(), app.c_str()), "disconnect " + app);

  if (args.json) {
    print_json(boost::json::object{{"account", s.account()},
                                   {"app", app},
                                   {"disconnected", !removed.empty()},
                                   {"auth_types", removed}});
  } else if (removed.empty()) {
    std::printf("%s was not connected for account '%s'; nothing to do.\n", app.c_str(),
                s.account().c_str());
  } else {
    std::printf("Disconnected %s for account '%s'.\n", app.c_str(), s.account().c_str());
  }
  return 0;
}

}  // namespace refold_cli
