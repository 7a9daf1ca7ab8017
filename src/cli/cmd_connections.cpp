// refold connections: status and times of the account's connections.
#include "commands.hpp"
#include "output.hpp"
#include "session.hpp"

#include <cstdio>

namespace refold_cli {

int cmd_connections(const Args& args) {
  Session s(args);
  if (args.json) {
    print_json_text(s.connections_text(args.all));
    return 0;
  }
  boost::json::array list = s.connections(args.all);
  if (list.empty()) {
    if (args.all) std::puts("No connections.");
    else std::printf("No connections for account '%s'.\n", s.account().c_str());
    return 0;
  }
  std::vector<std::string> header{"APP", "AUTH TYPE", "STATUS", "REASON", "CREATED", "UPDATED"};
  if (args.all) header.insert(header.begin(), "ACCOUNT");
  Table t(std::move(header));
  for (const auto& v : list) {
    if (!v.is_object()) continue;
    const auto& c = v.get_object();
    std::string reason = str_of(c, "reason");
    std::vector<std::string> row{str_of(c, "app"),           str_of(c, "auth_type"),
                                 str_of(c, "status"),        reason.empty() ? "-" : reason,
                                 str_of(c, "created_at"),    str_of(c, "updated_at")};
    if (args.all) row.insert(row.begin(), str_of(c, "account"));
    t.add(std::move(row));
  }
  t.print();
  return 0;
}

}  // namespace refold_cli
