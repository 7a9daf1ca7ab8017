// refold connections: status and times of the account's connections (or
// every account's), filtered by app and status; every page, or one page
// with --limit or --cursor.
#include "commands.hpp"
#include "output.hpp"
#include "session.hpp"

#include <cstdio>

namespace refold_cli {

namespace {

void print_empty(const Args& args, const Session& s) {
  if (args.app_filter || args.status_filter || args.cursor) std::puts("No matching connections.");
  else if (args.all) std::puts("No connections.");
  else std::printf("No connections for account '%s'.\n", s.account().c_str());
}

}  // namespace

int cmd_connections(const Args& args) {
  Session s(args);
  ConnectionQuery query;
  if (!args.all) query.account = s.account();
  query.app = args.app_filter;
  query.status = args.status_filter;

  boost::json::array list;
  std::optional<std::string> next;
  if (args.limit || args.cursor) {
    boost::json::object page = s.connections_page(query, args.limit.value_or(100), args.cursor);
    if (args.json) {
      print_json(page);
      return 0;
    }
    list = std::move(page["connections"].get_array());
    if (const auto& n = page["next_cursor"]; n.is_string()) next = std::string(n.get_string());
  } else {
    list = s.all_connections(query);
    if (args.json) {
      print_json(list);
      return 0;
    }
  }

  if (list.empty()) {
    print_empty(args, s);
  } else {
    std::vector<std::string> header{"APP", "AUTH TYPE", "STATUS", "REASON", "CREATED", "UPDATED"};
    if (args.all) header.insert(header.begin(), "ACCOUNT");
    Table t(std::move(header));
    for (const auto& v : list) {
      if (!v.is_object()) continue;
      const auto& c = v.get_object();
      std::string reason = str_of(c, "reason");
      std::vector<std::string> row{str_of(c, "app"),        str_of(c, "auth_type"),
                                   str_of(c, "status"),     reason.empty() ? "-" : reason,
                                   str_of(c, "created_at"), str_of(c, "updated_at")};
      if (args.all) row.insert(row.begin(), str_of(c, "account"));
      t.add(std::move(row));
    }
    t.print();
  }
  // The same options with --cursor list the next page.
  if (next) std::printf("More connections: add --cursor %s\n", next->c_str());
  return 0;
}

}  // namespace refold_cli
