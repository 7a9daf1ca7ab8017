// The commands. Each returns the exit code, or throws a Failure.
#pragma once

#include <refold.h>

#include <boost/json.hpp>

#include "args.hpp"

namespace refold_cli {

int cmd_apps(const Args& args);
int cmd_connect(const Args& args);
int cmd_connections(const Args& args);
int cmd_token(const Args& args);
int cmd_disconnect(const Args& args);
int cmd_import(const Args& args);
int cmd_status(const Args& args);
int cmd_watch(const Args& args);
int cmd_rotate_data_key(const Args& args);
int cmd_store_copy(const Args& args);

// refold_data_key_status, parsed, and the records it counts (cmd_rotate.cpp).
boost::json::object data_key_status(refold_client* client);
std::int64_t record_count(const boost::json::object& status);

}  // namespace refold_cli
