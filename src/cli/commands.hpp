// The commands. Each returns the exit code, or throws a Failure.
#pragma once

#include "args.hpp"

namespace refold_cli {

int cmd_apps(const Args& args);
int cmd_connect(const Args& args);
int cmd_connections(const Args& args);
int cmd_token(const Args& args);
int cmd_disconnect(const Args& args);
int cmd_status(const Args& args);
int cmd_watch(const Args& args);

}  // namespace refold_cli
