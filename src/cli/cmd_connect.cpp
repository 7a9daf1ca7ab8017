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
  // A client-credentials app is only that (docs/catalog.md).
  if (offers(app, "oauth2_cc")) return "oauth2_cc";
  if (!args.fields.empty()) {
    if (!offers(app, "keybased"))
      throw Failure(kExitUsage, what + ": app '" + slug + "' connects with OAuth and takes no --field");
    return "keybased";
  }
  return offers(app, "oauth2") ? "oauth2" : "keybased";
}

// The --connection inputs as a JSON object of strings (the library checks
// and converts them against the app's connection fields).
boost::json::object connection_inputs(const Args& args, const std::string& what) {
  boost::json::object o;
  for (const auto& input : args.connection) {
    const auto eq = input.find('=');
    const std::string name = input.substr(0, eq);
    if (o.contains(name)) throw usage_error(what + ": connection input '" + name + "' is given twice", "connect");
    o[name] = input.substr(eq + 1);
  }
  return o;
}

// A client-credentials app: the customer's client from --field client_id=
// and client_secret= (asked for on a terminal when no --field is given;
// both skipped: the config's oauth_clients registration), and the inputs.
void connect_client_credentials(const Session& s, const Args& args, const std::string& what) {
  if (args.no_browser || args.open_with)
    throw usage_error(what + ": --no-browser and --open-with apply to OAuth in a browser only", "connect");
  boost::json::array defs{
      boost::json::object{{"name", "client_id"}, {"label", "Client ID"}, {"type", "text"}, {"required", false}},
      boost::json::object{{"name", "client_secret"}, {"label", "Client secret"}, {"type", "text"},
                          {"required", false}, {"secret", true}}};
  SecretString payload = keybased_payload(args.app(), defs, args.fields);
  boost::json::object inputs = connection_inputs(args, what);
  if (!inputs.empty()) {
    payload.pop_back();  // the closing brace
    if (payload.size() > 1) payload.push_back(',');
    payload.append("\"connection\":");
    payload.append(boost::json::serialize(inputs));
    payload.push_back('}');
  }
  check(refold_connect(s.client(), s.account().c_str(), args.app().c_str(), payload.c_str()), what);
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
  // With inputs, the flow that takes begin's options.
  int rc;
  if (args.connection.empty()) {
    rc = refold_connect(s.client(), s.account().c_str(), slug.c_str(), nullptr);
  } else {
    const std::string options = boost::json::serialize(boost::json::object{{"connection", connection_inputs(args, what)}});
    rc = refold_connect_oauth(s.client(), s.account().c_str(), slug.c_str(), options.c_str());
  }
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
  if (!args.connection.empty() && auth == "keybased")
    throw usage_error(what + ": --connection applies to OAuth apps (a key-based app takes --field)", "connect");
  if (auth == "keybased") connect_keybased(s, args, app, what);
  else if (auth == "oauth2_cc") connect_client_credentials(s, args, what);
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
