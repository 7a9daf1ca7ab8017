// refold import FILE: connections made elsewhere, one JSON object a line,
// each saved with refold_import_connection. Every line gets its own result;
// a bad line stores nothing and does not stop the others.
#include "commands.hpp"
#include "errors.hpp"
#include "output.hpp"
#include "secret.hpp"
#include "session.hpp"

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace refold_cli {

namespace {

namespace bj = boost::json;

// Reads one line of `f` into `line` (without its newline). False at the end.
bool read_line(std::FILE* f, SecretString& line) {
  line.clear();
  int c;
  bool any = false;
  while ((c = std::fgetc(f)) != EOF) {
    any = true;
    if (c == '\n') return true;
    line.push_back(static_cast<char>(c));
  }
  return any;
}

bool blank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r') return false;
  return true;
}

struct LineResult {
  long long line = 0;
  std::string account;
  std::string app;
  int rc = REFOLD_OK;
  std::string error;  // names the line's member, never a value
};

// Imports one line; fills the result instead of throwing.
void import_line(refold_client* client, std::string_view text, const std::string& default_account,
                 LineResult& r) {
  WipingResource wiping;
  std::optional<bj::value> doc = parse_secret(text, wiping);
  auto bad = [&](std::string why) {
    r.rc = REFOLD_EINVALID;
    r.error = std::move(why);
  };
  if (!doc || !doc->is_object()) return bad("not a JSON object");
  bj::object& o = doc->get_object();
  // The connection it names: "account" (else --account) and "app".
  auto name = [&](const char* key, std::string& out) {
    const bj::value* v = o.if_contains(key);
    if (!v) return true;
    if (!v->is_string() || v->get_string().empty()) return false;
    out = std::string(v->get_string());
    o.erase(key);
    return true;
  };
  r.account = default_account;
  if (!name("account", r.account)) return bad("'account' must be a non-empty string");
  if (!name("app", r.app)) return bad("'app' must be a non-empty string");
  if (r.app.empty()) return bad("'app' is required");
  SecretString credentials;
  serialize_into(credentials, *doc);
  r.rc = refold_import_connection(client, r.account.c_str(), r.app.c_str(), credentials.c_str());
  if (r.rc != REFOLD_OK) {
    const char* detail = refold_last_error();
    r.error = detail && *detail ? detail : refold_strerror(r.rc);
  }
}

}  // namespace

int cmd_import(const Args& args) {
  const std::string& path = args.operands.at(0);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(nullptr, std::fclose);
  std::FILE* in = stdin;
  if (path != "-") {
    file.reset(std::fopen(path.c_str(), "rb"));
    if (!file) throw Failure(kExitUsage, "import: cannot read '" + path + "'");
    in = file.get();
  }
  Session s(args);

  std::vector<LineResult> results;
  SecretString line;
  for (long long n = 1; read_line(in, line); ++n) {
    if (blank(line.view())) continue;
    LineResult r;
    r.line = n;
    import_line(s.client(), line.view(), s.account(), r);
    line.clear();
    if (!args.json) {
      if (r.rc == REFOLD_OK)
        std::printf("line %lld: imported %s for account '%s'\n", n, r.app.c_str(), r.account.c_str());
      else
        std::fprintf(stderr, "refold: line %lld: %s%s\n", n,
                     r.app.empty() ? "" : (r.app + " for account '" + r.account + "': ").c_str(), r.error.c_str());
    }
    results.push_back(std::move(r));
  }
  if (std::ferror(in)) throw Failure(kExitError, "import: reading '" + path + "' failed");

  int code = kExitOk;
  std::size_t ok = 0;
  bj::array out;
  for (const auto& r : results) {
    if (r.rc == REFOLD_OK) ++ok;
    else if (code == kExitOk) code = exit_code_for(r.rc);
    if (args.json) {
      bj::object o{{"line", r.line}, {"ok", r.rc == REFOLD_OK}};
      o["account"] = r.account.empty() ? bj::value(nullptr) : bj::value(r.account);
      o["app"] = r.app.empty() ? bj::value(nullptr) : bj::value(r.app);
      if (r.rc != REFOLD_OK) o["error"] = r.error;
      out.push_back(std::move(o));
    }
  }
  if (args.json) print_json(out);
  else
    std::printf("Imported %zu of %zu connection%s.\n", ok, results.size(), results.size() == 1 ? "" : "s");
  return code;
}

}  // namespace refold_cli
