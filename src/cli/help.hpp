// Help texts: `refold --help`, `refold COMMAND --help`, `refold --version`.
#pragma once

#include <string>

namespace refold_cli {

// Prints the help of `command` ("" for the top level) to stdout.
void print_help(const std::string& command);

// Prints "refold <cli version> (library <runtime version>)".
void print_version();

}  // namespace refold_cli
