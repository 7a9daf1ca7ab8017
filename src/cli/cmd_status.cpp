// refold status: every connection (of one account, or all) with a health
// word a person can act on, and an exit code a script can branch on.
#include "commands.hpp"
#include "errors.hpp"
#include "health.hpp"
#include "output.hpp"
#include "session.hpp"
#include "timefmt.hpp"

#include <cstdio>

namespace refold_cli {

namespace {

namespace bj = boost::json;

// A listing member copied as it is (a string or null).
bj::value member(const bj::object& c, std::string_view key) {
  auto it = c.find(key);
  return it == c.end() ? bj::value(nullptr) : it->value();
}

bj::object status_json(const bj::object& c, const Health& h, std::int64_t now) {
  bj::object o{{"account", member(c, "account")},
               {"app", member(c, "app")},
               {"auth_type", member(c, "auth_type")},
               {"status", member(c, "status")},
               {"health", h.token},
               {"healthy", h.healthy},
               {"reason", member(c, "reason")},
               {"detail", h.detail},
               {"expires_at", member(c, "expires_at")},
               {"expires_in_ms", nullptr},
               {"next_refresh_at", member(c, "next_refresh_at")},
               {"refresh_token_expires_at", member(c, "refresh_token_expires_at")},
               {"refresh_failures", member(c, "refresh_failures")},
               {"created_at", member(c, "created_at")},
               {"updated_at", member(c, "updated_at")}};
  if (auto e = parse_rfc3339(str_of(c, "expires_at"))) o["expires_in_ms"] = *e - now;
  return o;
}

}  // namespace

int cmd_status(const Args& args) {
  Session s(args, Use::observe);
  bj::array list = s.connections(!args.account_given);
  const std::int64_t now = now_ms();
  int code = kExitOk;

  bj::array out;
  Table t({"ACCOUNT", "APP", "AUTH TYPE", "STATUS", "HEALTH", "EXPIRES", "DETAIL"});
  for (const auto& v : list) {
    if (!v.is_object()) continue;
    const auto& c = v.get_object();
    Health h = health_of(c, now);
    code = worst_exit_code(code, h.exit_code);
    if (args.json) {
      out.push_back(status_json(c, h, now));
      continue;
    }
    auto expires = parse_rfc3339(str_of(c, "expires_at"));
    t.add({str_of(c, "account"), str_of(c, "app"), str_of(c, "auth_type"), str_of(c, "status"),
           h.word, expires ? relative(*expires, now) : "-", h.detail.empty() ? "-" : h.detail});
  }

  if (args.json) {
    print_json(out);
    return code;
  }
  if (!list.empty()) t.print();
  else if (args.account_given) std::printf("No connections for account '%s'.\n", s.account().c_str());
  else std::puts("No connections.");
  bj::object keys = data_key_status(s.client());
  if (keys["rotating"].as_bool()) {
    const std::int64_t total = record_count(keys);
    const auto left = keys["records_to_reseal"].to_number<std::int64_t>();
    std::printf("Data-key rotation to key %lld: %lld of %lld records re-encrypted, %lld to go"
                " ('refold rotate-data-key' finishes one that stopped).\n",
                static_cast<long long>(keys["current_key"].to_number<std::int64_t>()),
                static_cast<long long>(total - left), static_cast<long long>(total),
                static_cast<long long>(left));
  }
  return code;
}

}  // namespace refold_cli
