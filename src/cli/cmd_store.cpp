// refold store copy FROM TO: every connection of one store sealed again
// into another (refold_copy_connections), to move a SQLite store into
// PostgreSQL.
#include "commands.hpp"
#include "errors.hpp"
#include "output.hpp"
#include "session.hpp"

#include <cstdio>

namespace refold_cli {

namespace bj = boost::json;

int cmd_store_copy(const Args& args) {
  Args from_args = args;
  from_args.store = args.operands[1];
  Args to_args = args;
  to_args.store = args.operands[2];
  // Neither refreshes anything while the copy runs.
  Session from(from_args, Use::observe);
  Session to(to_args, Use::observe);
  char* out = nullptr;
  const int rc = refold_copy_connections(from.client(), to.client(), &out);
  LibraryString text(out);
  check(rc, "store copy");
  if (args.json) {
    print_json_text(text.get());
    return kExitOk;
  }
  bj::value report = bj::parse(text.get());
  const auto copied = report.at("copied").to_number<std::int64_t>();
  const auto reauth = report.at("reauth_required").to_number<std::int64_t>();
  std::printf("Copied %lld connection%s from %s to %s", static_cast<long long>(copied), copied == 1 ? "" : "s",
              from.store_path().c_str(), to.store_path().c_str());
  if (reauth > 0) std::printf(" (%lld need re-auth, as before)", static_cast<long long>(reauth));
  std::printf(".\n");
  return kExitOk;
}

}  // namespace refold_cli
