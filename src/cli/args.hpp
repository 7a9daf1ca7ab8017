// The command line: `refold [OPTIONS] COMMAND [ARGS]`, options anywhere
// (before or after the command), `--name VALUE` or `--name=VALUE`, `--`
// ending options.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace refold_cli {

struct Args {
  std::string command;                // "" when none was given
  std::vector<std::string> operands;  // arguments after the command

  // Options of every command.
  std::string account = "default";
  bool account_given = false;  // --account was given (status and watch: else all accounts)
  std::optional<std::string> store;
  std::optional<std::string> config;
  bool json = false;
  bool help = false;
  bool version = false;

  // connect. Field arguments "NAME=VALUE" point into argv, so their values
  // can be wiped once copied (they show in /proc/<pid>/cmdline until then).
  std::vector<char*> fields;
  bool no_browser = false;
  std::optional<std::string> open_with;
  std::optional<std::string> auth_type;
  // --connection NAME=VALUE: the connection's inputs (not secret).
  std::vector<std::string> connection;

  // connections: --all, and the filters and paging of one page
  bool all = false;
  std::optional<std::string> app_filter;     // --app
  std::optional<std::string> category;       // --category (apps)
  std::optional<std::string> search;         // --search (apps)
  std::optional<std::string> status_filter;  // --status
  std::optional<long long> limit;            // --limit
  std::optional<std::string> cursor;         // --cursor

  // token
  bool reveal = false;

  // watch
  long long interval_ms = 1000;
  std::optional<long long> count;
  std::optional<std::string> consumer;  // --consumer: read the durable event log as this consumer

  // The operand naming the app (connect, token, disconnect).
  const std::string& app() const { return operands.at(0); }
};

// Parses argv; throws a usage Failure (exit 2) on a mistake. With --help or
// --version, operands are not checked.
Args parse_args(int argc, char** argv);

// Whether `name` is a command.
bool is_command(const std::string& name);

}  // namespace refold_cli
