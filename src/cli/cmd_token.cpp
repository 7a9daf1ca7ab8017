// refold token APP: the account's credentials for an app. Secrets are
// hidden unless --reveal; this is the only command that prints one.
#include "commands.hpp"
#include "errors.hpp"
#include "output.hpp"
#include "secret.hpp"
#include "session.hpp"

#include <algorithm>
#include <set>

namespace refold_cli {

namespace {

namespace bj = boost::json;

constexpr const char* kHidden = "(hidden; use --reveal)";

// An OAuth connection (authorization code or client credentials): it has
// an access token rather than fields.
bool has_token(const bj::object& creds) {
  const std::string type = str_of(creds, "auth_type");
  return type == "oauth2" || type == "oauth2_cc";
}

void reveal(const Args& args, const bj::object& creds, std::string_view raw) {
  if (args.json) {
    write_secret(raw);
  } else if (has_token(creds)) {
    auto it = creds.find("access_token");
    if (it == creds.end() || !it->value().is_string())
      throw Failure(kExitError, "token " + args.app() + ": the credentials hold no access token");
    write_secret(it->value().get_string());
  } else {
    SecretString text;
    if (auto it = creds.find("fields"); it != creds.end()) serialize_into(text, it->value());
    write_secret(text.view());
  }
  write_secret("\n");
}

// A copy of a non-secret value into ordinary memory.
bj::value plain_copy(const bj::value& v) { return bj::value(v, bj::storage_ptr()); }

void show_oauth(const Session& s, const Args& args, const bj::object& creds) {
  bj::value expires = creds.contains("expires_at") ? plain_copy(creds.at("expires_at")) : nullptr;
  bj::value scopes = creds.contains("scopes") ? plain_copy(creds.at("scopes")) : bj::array();
  if (args.json) {
    print_json(bj::object{{"account", s.account()},
                          {"app", args.app()},
                          {"auth_type", str_of(creds, "auth_type")},
                          {"token_type", str_of(creds, "token_type")},
                          {"expires_at", expires},
                          {"scopes", scopes},
                          {"access_token", nullptr},
                          {"hidden", bj::array{"access_token"}}});
    return;
  }
  std::string scope_list = join_of(creds, "scopes", " ");
  print_fields({{"app", args.app()},
                {"account", s.account()},
                {"auth_type", str_of(creds, "auth_type")},
                {"token_type", str_of(creds, "token_type")},
                {"expires_at", expires.is_string() ? std::string(expires.get_string()) : "-"},
                {"scopes", scope_list.empty() ? "-" : scope_list},
                {"access_token", kHidden}});
}

void show_keybased(const Session& s, const Args& args, const bj::object& creds) {
  // Which fields are secret comes from the catalog; a field it does not
  // declare (the app was redefined) counts as secret.
  std::vector<std::string> order;
  std::set<std::string> not_secret;
  if (auto app = s.find_app(args.app())) {
    const bj::value* defs = app->if_contains("auth_type_options");
    defs = defs && defs->is_object() ? defs->get_object().if_contains("keybased") : nullptr;
    if (defs && defs->is_array())
      for (const auto& d : defs->get_array()) {
        if (!d.is_object()) continue;
        order.push_back(str_of(d.get_object(), "name"));
        if (!bool_of(d.get_object(), "secret")) not_secret.insert(order.back());
      }
  }
  static const bj::object kNoFields;
  const bj::value* fv = creds.if_contains("fields");
  const bj::object& fields = fv && fv->is_object() ? fv->get_object() : kNoFields;
  for (const auto& kv : fields)
    if (std::find(order.begin(), order.end(), std::string(kv.key())) == order.end())
      order.emplace_back(kv.key());

  bj::object shown;
  bj::array hidden;
  std::vector<std::pair<std::string, std::string>> lines{
      {"app", args.app()}, {"account", s.account()}, {"auth_type", "keybased"}};
  for (const auto& name : order) {
    const bj::value* v = fields.if_contains(name);
    if (!v) continue;
    if (!not_secret.count(name)) {
      shown[name] = nullptr;
      hidden.emplace_back(name);
      lines.emplace_back(name, kHidden);
      continue;
    }
    shown[name] = plain_copy(*v);
    lines.emplace_back(name, v->is_string() ? std::string(v->get_string()) : bj::serialize(*v));
  }
  if (args.json)
    print_json(bj::object{{"account", s.account()},
                          {"app", args.app()},
                          {"auth_type", "keybased"},
                          {"fields", shown},
                          {"hidden", hidden}});
  else
    print_fields(lines);
}

}  // namespace

int cmd_token(const Args& args) {
  Session s(args);
  std::string what = "token " + args.app();
  char* out = nullptr;
  int rc = refold_get_credentials(s.client(), s.account().c_str(), args.app().c_str(), &out);
  LibraryString raw(out);
  check(rc, what);

  WipingResource res;
  std::optional<bj::value> doc = parse_secret(raw.get(), res);
  if (!doc || !doc->is_object()) throw Failure(kExitError, what + ": the library returned malformed credentials");
  const bj::object& creds = doc->get_object();

  if (args.reveal) reveal(args, creds, raw.get());
  else if (has_token(creds)) show_oauth(s, args, creds);
  else show_keybased(s, args, creds);
  return 0;
}

}  // namespace refold_cli
