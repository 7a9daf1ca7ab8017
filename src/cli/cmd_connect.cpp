// refold connect APP: key-based fields, or the interactive OAuth flow.
#include "commands.hpp"
#include "errors.hpp"
#include "keybased.hpp"
#include "opener.hpp"
#include "output.hpp"
#include "session.hpp"

#include <cstdio>

namespace refold_cli {

namespace {

// Which auth type to connect: --auth-type, else --field means key-based,
// else OAuth where the app offers it.
std::string choose_auth(const Args& args, const boost::json::object& app, const std::string& what) {
  const std::string& slug = args.app();
  if (args.auth_type) {
    if (!offers(app, *args.auth_type))
      throw Failure(kExitUsage, what + ": app '" + slug + "' does not offer " + *args.auth_type +
                                    " auth (it offers: " + join_of(app, "auth_types", ", ") + ")");
    if (*args.auth_type == "oauth2" && !args.fields.empty())
      throw usage_error(what + ": --field applies to key-based auth only", "connect");
    return *args.auth_type;
  }
  if (!args.fields.empty()) {
    if (!offers(app, "keybased"))
      throw Failure(kExitUsage, what + ": app '" + slug + "' connects with OAuth and takes no --field");
    return "keybased";
  }
  return offers(app, "oauth2") ? "oauth2" : "keybased";
}

void connect_keybased(const Session& s, const Args& args, const boost::json::object& app,
                      const std::string& what) {
  if (args.no_browser || args.open_with)
    throw usage_error(what + ": --no-browser and --open-with apply to OAuth only", "connect");
  boost::json::array defs;
  if (auto opts = app.find("auth_type_options"); opts != app.end() && opts->value().is_object())
    if (auto kb = opts->value().get_object().find("keybased");
        kb != opts->value().get_object().end() && kb->value().is_array())
      defs = kb->value().get_array();
  SecretString payload = keybased_payload(args.app(), defs, args.fields);
  check(refold_connect(s.client(), s.account().c_str(), args.app().c_str(), payload.c_str()), what);
}

void connect_oauth(const Session& s, const Args& args, const std::string& what) {
  const std::string& slug = args.app();
  Opener::Mode mode = args.no_browser  ? Opener::Mode::print
                      : args.open_with ? Opener::Mode::command
                                       : Opener::Mode::system;
  Opener opener(mode, slug, args.open_with.value_or(""));
  opener.install(s.client());
  if (mode == Opener::Mode::system) {
    std::fprintf(stderr, "Connecting %s in your browser; waiting for the authorization (Ctrl-C to give up)...\n",
                 slug.c_str());
    std::fflush(stderr);
  }
  int rc = refold_connect(s.client(), s.account().c_str(), slug.c_str(), nullptr);
  std::optional<Failure> failed;
  if (rc != REFOLD_OK) failed = library_failure(rc, what);  // before any other refold call
  opener.finish(s.client());
  if (!opener.failure().empty()) throw Failure(kExitError, what + ": " + opener.failure());
  if (!failed) return;
  if (mode == Opener::Mode::system && rc == REFOLD_ERROR)
    throw Failure(failed->exit_code(),
                  std::string(failed->what()) + " (use --no-browser to open the URL yourself)");
  throw *failed;
}

}  // namespace

int cmd_connect(const Args& args) {
  Session s(args);
  const std::string& slug = args.app();
  std::string what = "connect " + slug;
  boost::json::object app = s.app(slug, what);
  std::string auth = choose_auth(args, app, what);
  if (auth == "keybased") connect_keybased(s, args, app, what);
  else connect_oauth(s, args, what);

  boost::json::object row{{"account", s.account()}, {"app", slug}, {"auth_type", auth}};
  for (auto& v : s.connections(false)) {
    if (!v.is_object()) continue;
    auto& c = v.get_object();
    if (str_of(c, "app") == slug && str_of(c, "auth_type") == auth) row = std::move(c);
  }
  if (args.json) print_json(row);
  else std::printf("Connected %s (%s) for account '%s'.\n", slug.c_str(), auth.c_str(), s.account().c_str());
  return 0;
}

}  // namespace refold_cli
