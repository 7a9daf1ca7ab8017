#include "keybased.hpp"

#include <cstring>
#include <map>
#include <string_view>

#include "errors.hpp"
#include "output.hpp"
#include "prompt.hpp"

namespace refold_cli {

namespace {

struct FieldDef {
  std::string name;
  std::string label;
  std::string type;
  std::string placeholder;
  std::string help_text;
  std::string choices;  // select: option values joined with "/"
  bool required = true;
  bool secret = false;
};

std::vector<FieldDef> read_defs(const boost::json::array& defs) {
  std::vector<FieldDef> out;
  for (const auto& v : defs) {
    if (!v.is_object()) continue;
    const auto& o = v.get_object();
    FieldDef d;
    d.name = str_of(o, "name");
    d.label = str_of(o, "label");
    if (d.label.empty()) d.label = d.name;
    d.type = str_of(o, "type");
    d.placeholder = str_of(o, "placeholder");
    d.help_text = str_of(o, "help_text");
    auto req = o.find("required");
    d.required = req == o.end() || !req->value().is_bool() || req->value().get_bool();
    d.secret = bool_of(o, "secret");
    if (auto opts = o.find("options"); opts != o.end() && opts->value().is_array()) {
      for (const auto& opt : opts->value().get_array()) {
        if (!opt.is_object()) continue;
        if (!d.choices.empty()) d.choices += "/";
        d.choices += str_of(opt.get_object(), "value");
      }
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::string names_of(const std::vector<FieldDef>& defs) {
  std::string out;
  for (const auto& d : defs) out += (out.empty() ? "" : ", ") + d.name;
  return out;
}

std::string prompt_text(const FieldDef& d) {
  std::string text;
  if (!d.help_text.empty()) text += d.help_text + "\n";
  text += d.label;
  if (!d.choices.empty()) text += " (" + d.choices + ")";
  else if (d.type == "boolean") text += " (true/false)";
  else if (!d.placeholder.empty()) text += " [" + d.placeholder + "]";
  if (!d.required) text += " (optional, Enter to skip)";
  return text + ": ";
}

// Asks for one field until a required one gets a value. False: skipped.
bool ask(const std::string& app, const FieldDef& d, SecretString& value) {
  for (;;) {
    if (!prompt_line(prompt_text(d), d.secret, value))
      throw Failure(kExitCancelled, "connect " + app + ": input ended before field '" + d.name +
                                        "' was entered");
    if (!value.empty()) return true;
    if (!d.required) return false;
  }
}

// Adds "name":"value" to a payload that starts with '{'.
void add_member(SecretString& payload, std::string_view name, std::string_view value) {
  if (payload.size() > 1) payload.push_back(',');
  append_json_string(payload, name);
  payload.push_back(':');
  append_json_string(payload, value);
}

}  // namespace

SecretString keybased_payload(const std::string& app, const boost::json::array& def_json,
                              const std::vector<char*>& field_args) {
  std::vector<FieldDef> defs = read_defs(def_json);
  std::string what = "connect " + app;

  // NAME -> the VALUE part in argv. Errors quote names only: an argument
  // without '=' may be a pasted secret, so it is not quoted at all.
  std::map<std::string, char*> given;
  for (char* arg : field_args) {
    char* eq = std::strchr(arg, '=');
    if (!eq || eq == arg) throw usage_error(what + ": --field takes NAME=VALUE", "connect");
    std::string name(arg, eq);
    bool known = false;
    for (const auto& d : defs) known = known || d.name == name;
    if (!known)
      throw Failure(kExitUsage, what + ": app '" + app + "' has no field '" + name +
                                    "' (its fields: " + names_of(defs) + ")");
    if (!given.emplace(name, eq + 1).second)
      throw usage_error(what + ": field '" + name + "' is given twice", "connect");
  }

  bool interactive = can_prompt();
  std::vector<std::string> missing;
  for (const auto& d : defs)
    if (d.required && !given.count(d.name)) missing.push_back(d.name);
  if (!missing.empty() && !interactive) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    bool many = missing.size() > 1;
    throw Failure(kExitUsage, what + ": missing required field" + (many ? "s " : " ") + list +
                                  " (give " + (many ? "them" : "it") +
                                  " with --field NAME=VALUE, or run on a terminal to be asked)");
  }

  SecretString payload;
  payload.push_back('{');
  SecretString entered;
  for (const auto& d : defs) {
    auto it = given.find(d.name);
    if (it != given.end()) {
      add_member(payload, d.name, it->second);
    } else if (interactive && (d.required || given.empty())) {
      // Asked: the required fields, and every field when none was given.
      if (ask(app, d, entered)) add_member(payload, d.name, entered.view());
    }
  }
  payload.push_back('}');

  // The values are copied; shorten their exposure in /proc/<pid>/cmdline.
  for (auto& [name, value] : given) wipe(value, std::strlen(value));
  return payload;
}

}  // namespace refold_cli
