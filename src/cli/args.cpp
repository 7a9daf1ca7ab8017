#include "args.hpp"

#include <charconv>
#include <cstring>
#include <string_view>
#include <system_error>

#include "errors.hpp"

namespace refold_cli {

namespace {

struct OptionSpec {
  std::string_view name;
  bool takes_value;
  std::string_view command;  // "" for an option of every command
};

constexpr OptionSpec kOptions[] = {
    {"--account", true, ""},       {"--store", true, ""},
    {"--config", true, ""},        {"--json", false, ""},
    {"--help", false, ""},         {"--version", false, ""},
    {"--field", true, "connect"},  {"--no-browser", false, "connect"},
    {"--connection", true, "connect"},
    {"--open-with", true, "connect"}, {"--auth-type", true, "connect"},
    {"--all", false, "connections"},  {"--app", true, "connections"},
    {"--status", true, "connections"}, {"--limit", true, "connections"},
    {"--cursor", true, "connections"}, {"--reveal", false, "token"},
    {"--category", true, "apps"},     {"--search", true, "apps"},
    {"--interval", true, "watch"},    {"--count", true, "watch"},
    {"--consumer", true, "watch"},
};

constexpr std::string_view kCommands[] = {"apps",   "connect", "connections",     "token", "disconnect",
                                          "status", "watch",   "rotate-data-key", "import", "store",
                                          "help"};

// A whole number in [lo, hi], or a usage error naming the option.
long long integer_option(std::string_view name, const char* text, long long lo, long long hi,
                         const std::string& command) {
  long long v = 0;
  std::string_view t = text;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc{} || end != t.data() + t.size() || v < lo || v > hi)
    throw usage_error("option '" + std::string(name) + "' needs a whole number from " +
                          std::to_string(lo) + " to " + std::to_string(hi),
                      command);
  return v;
}

const OptionSpec* find_option(std::string_view name) {
  for (const auto& o : kOptions)
    if (o.name == name) return &o;
  return nullptr;
}

struct Seen {
  const OptionSpec* spec;
  char* value;  // into argv; nullptr for a flag
};

void apply(Args& a, const Seen& s) {
  std::string_view n = s.spec->name;
  if (n == "--account") {
    a.account = s.value;
    a.account_given = true;
  } else if (n == "--store") a.store = s.value;
  else if (n == "--config") a.config = s.value;
  else if (n == "--json") a.json = true;
  else if (n == "--help") a.help = true;
  else if (n == "--version") a.version = true;
  else if (n == "--field") a.fields.push_back(s.value);
  else if (n == "--connection") a.connection.emplace_back(s.value);
  else if (n == "--no-browser") a.no_browser = true;
  else if (n == "--open-with") a.open_with = s.value;
  else if (n == "--auth-type") a.auth_type = s.value;
  else if (n == "--all") a.all = true;
  else if (n == "--app") a.app_filter = s.value;
  else if (n == "--category") a.category = s.value;
  else if (n == "--search") a.search = s.value;
  else if (n == "--status") a.status_filter = s.value;
  else if (n == "--limit") a.limit = integer_option(n, s.value, 1, 1000, a.command);
  else if (n == "--cursor") a.cursor = s.value;
  else if (n == "--reveal") a.reveal = true;
  else if (n == "--interval") a.interval_ms = integer_option(n, s.value, 10, 3'600'000, a.command);
  else if (n == "--count") a.count = integer_option(n, s.value, 1, 1'000'000'000, a.command);
  else if (n == "--consumer") a.consumer = s.value;
}

void check_operands(const Args& a) {
  const std::string& c = a.command;
  if (c == "store") {
    if (a.operands.empty() || a.operands[0] != "copy")
      throw usage_error("store: the only subcommand is 'copy FROM TO'", c);
    if (a.operands.size() != 3) throw usage_error("store copy: takes FROM and TO", c);
    return;
  }
  std::size_t want = (c == "connect" || c == "token" || c == "disconnect" || c == "import") ? 1 : 0;
  if (a.operands.size() < want) throw usage_error(c + (c == "import" ? ": missing FILE" : ": missing APP"), c);
  if (a.operands.size() > want)
    throw usage_error(c + ": unexpected argument '" + a.operands[want] + "'", c);
  if (c == "connect") {
    if (a.no_browser && a.open_with)
      throw usage_error("connect: --no-browser and --open-with exclude each other", c);
    if (a.auth_type && *a.auth_type != "oauth2" && *a.auth_type != "oauth2_cc" && *a.auth_type != "keybased")
      throw usage_error("connect: --auth-type must be 'oauth2', 'oauth2_cc' or 'keybased'", c);
    for (const auto& input : a.connection)
      if (input.find('=') == std::string::npos || input.front() == '=')
        throw usage_error("connect: --connection takes NAME=VALUE", c);
  }
  if (a.status_filter && *a.status_filter != "active" && *a.status_filter != "reauth_required")
    throw usage_error(c + ": --status must be 'active' or 'reauth_required'", c);
}

}  // namespace

bool is_command(const std::string& name) {
  for (auto c : kCommands)
    if (c == name) return true;
  return false;
}

Args parse_args(int argc, char** argv) {
  Args a;
  std::vector<Seen> seen;
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    char* arg = argv[i];
    std::string_view s = arg;
    if (options_done || s.size() < 2 || s[0] != '-') {
      if (a.command.empty()) a.command = s;
      else a.operands.emplace_back(s);
      continue;
    }
    if (s == "--") {
      options_done = true;
      continue;
    }
    if (s == "-h") {
      seen.push_back({find_option("--help"), nullptr});
      continue;
    }
    std::size_t eq = s.find('=');
    std::string_view name = s.substr(0, eq);
    const OptionSpec* spec = s.rfind("--", 0) == 0 ? find_option(name) : nullptr;
    if (!spec) throw usage_error("unknown option '" + std::string(name) + "'", a.command);
    char* value = nullptr;
    if (eq != std::string_view::npos) {
      if (!spec->takes_value)
        throw usage_error("option '" + std::string(name) + "' takes no value", a.command);
      value = arg + eq + 1;
    } else if (spec->takes_value) {
      if (i + 1 >= argc)
        throw usage_error("option '" + std::string(name) + "' needs a value", a.command);
      value = argv[++i];
    }
    seen.push_back({spec, value});
  }

  if (a.command == "help") {
    // `refold help [COMMAND]` is `refold [COMMAND] --help`.
    a.help = true;
    a.command = a.operands.empty() ? "" : a.operands.front();
    if (a.operands.size() > 1) throw usage_error("help: unexpected argument '" + a.operands[1] + "'", "help");
    a.operands.clear();
  }
  if (!a.command.empty() && !is_command(a.command))
    throw usage_error("unknown command '" + a.command + "'", "");

  for (const auto& s : seen) {
    if (!s.spec->command.empty() && s.spec->command != a.command) {
      std::string where = a.command.empty() ? "without a command" : "to '" + a.command + "'";
      throw usage_error("option '" + std::string(s.spec->name) + "' does not apply " + where,
                        a.command);
    }
    apply(a, s);
  }
  if (a.help || a.version) return a;
  if (a.command.empty()) throw usage_error("missing command", "");
  check_operands(a);
  return a;
}

}  // namespace refold_cli
