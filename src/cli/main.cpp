// refold: the command-line tool, built on refold.h only (dogfooding the C
// ABI). docs/cli.md describes the commands, options and exit codes.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>

#include "args.hpp"
#include "commands.hpp"
#include "errors.hpp"
#include "help.hpp"

using namespace refold_cli;

namespace {

int run(int argc, char** argv) {
  Args a = parse_args(argc, argv);
  if (a.help) {
    print_help(a.command);
    return kExitOk;
  }
  if (a.version) {
    print_version();
    return kExitOk;
  }
  if (a.command == "apps") return cmd_apps(a);
  if (a.command == "connect") return cmd_connect(a);
  if (a.command == "connections") return cmd_connections(a);
  if (a.command == "token") return cmd_token(a);
  if (a.command == "status") return cmd_status(a);
  if (a.command == "watch") return cmd_watch(a);
  if (a.command == "rotate-data-key") return cmd_rotate_data_key(a);
  if (a.command == "import") return cmd_import(a);
  if (a.command == "store") return cmd_store_copy(a);
  return cmd_disconnect(a);
}

}  // namespace

int main(int argc, char** argv) {
  int code = kExitError;
  try {
    code = run(argc, argv);
  } catch (const Failure& f) {
    report(f);
    code = f.exit_code();
  } catch (const std::exception& e) {
    // Library strings and Boost errors here never quote a secret.
    report(Failure(kExitError, e.what()));
  }
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "refold: write: %s\n", std::strerror(errno));
    if (code == kExitOk) code = kExitError;
  }
  return code;
}
