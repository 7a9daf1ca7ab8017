// The payload of a key-based connect: --field arguments checked against the
// app's declared input fields, missing ones asked for on a terminal.
#pragma once

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "secret.hpp"

namespace refold_cli {

// Builds the JSON object of field values (every value a JSON string: the
// library accepts strings for number, boolean and select fields too).
// `defs` is the app's auth_type_options.keybased. `field_args` are
// "NAME=VALUE" strings in argv; their values are wiped once copied.
// Throws a Failure naming fields, never values: unknown or repeated fields
// and, without a terminal, missing required ones (exit 2); input ending at a
// prompt (exit 7).
SecretString keybased_payload(const std::string& app, const boost::json::array& defs,
                              const std::vector<char*>& field_args);

}  // namespace refold_cli
