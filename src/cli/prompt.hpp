// Asking for key-based fields on a terminal, with echo off for secrets.
#pragma once

#include <string>

#include "secret.hpp"

namespace refold_cli {

// Whether connect may ask for missing fields: stdin is a terminal.
bool can_prompt();

// Shows `text` on the terminal (/dev/tty, else stderr) and reads one line
// into `out`, without its newline. With `secret`, the terminal does not echo
// what is typed, and a signal (Ctrl-C) restores echo before the default
// action runs. Returns false when input ends before a line starts.
bool prompt_line(const std::string& text, bool secret, SecretString& out);

}  // namespace refold_cli
