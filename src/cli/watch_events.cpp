#include "watch_events.hpp"

#include "output.hpp"
#include "timefmt.hpp"

namespace refold_cli {

namespace {

namespace bj = boost::json;

std::optional<std::int64_t> time_of(const bj::object& o, std::string_view key) {
  return parse_rfc3339(str_of(o, key));
}

WatchEvent make(const char* type, const RowKey& k, std::int64_t at, std::string reason = {}) {
  WatchEvent e;
  e.type = type;
  std::tie(e.account, e.app, e.auth_type) = k;
  e.at = at;
  e.reason = std::move(reason);
  return e;
}

WatchEvent failed(const RowKey& k, const Row& a) {
  WatchEvent e = make("connection.refresh_failed", k, a.updated_at, a.reason);
  e.retry_at = a.next_refresh_at;
  e.refresh_failures = a.refresh_failures;
  return e;
}

// The credentials of a connection that stayed active were replaced. A
// key-based connection never refreshes, so that is a connect again. An
// OAuth token is refreshed only once due (the row's next_refresh_at), so a
// replacement at or after the time the earlier listing gave is a refresh;
// one before it is a connect again, or a refresh a reported 401 forced,
// which the listing cannot tell apart.
WatchEvent replaced(const RowKey& k, const Row& b, const Row& a) {
  const bool keybased = std::get<2>(k) == "keybased";
  if (!keybased && b.next_refresh_at && a.updated_at >= *b.next_refresh_at) {
    WatchEvent e = make("connection.refreshed", k, a.updated_at);
    e.expires_at = a.expires_at;
    return e;
  }
  WatchEvent e = make("connection.reauthenticated", k, a.updated_at);
  e.expires_at = a.expires_at;
  if (!keybased)
    e.note = "token replaced before its refresh was due: connected again, or a refresh forced "
             "by a reported 401";
  return e;
}

void changes(const RowKey& k, const Row& b, const Row& a, std::vector<WatchEvent>& out) {
  const bool updated = a.updated_at != b.updated_at || a.expires_at != b.expires_at;
  if (!updated && a.status == b.status && a.refresh_failures == b.refresh_failures) return;

  if (b.active() && !a.active()) {
    out.push_back(make("connection.expired", k, a.updated_at, a.reason));
    return;
  }
  if (!b.active()) {
    // A row that needs re-auth changes only by being connected again
    // (marking it again changes nothing): active now, or expired once more.
    WatchEvent e = make("connection.reauthenticated", k, a.updated_at);
    e.expires_at = a.expires_at;
    out.push_back(std::move(e));
    if (!a.active()) out.push_back(make("connection.expired", k, a.updated_at, a.reason));
    else if (a.refresh_failures > 0) out.push_back(failed(k, a));
    return;
  }
  // Active before and after. A failed refresh counts up and keeps the
  // token; a new token (refresh or connect) resets the count. So the token
  // was replaced when expires_at moved, the count went down, or the row
  // changed with the count unchanged.
  const bool token_replaced = a.expires_at != b.expires_at ||
                              a.refresh_failures < b.refresh_failures ||
                              (updated && a.refresh_failures == b.refresh_failures);
  if (token_replaced) out.push_back(replaced(k, b, a));
  if (a.refresh_failures > 0 && (token_replaced || a.refresh_failures > b.refresh_failures))
    out.push_back(failed(k, a));
}

void appeared(const RowKey& k, const Row& a, std::vector<WatchEvent>& out) {
  WatchEvent e = make("connection.created", k, a.created_at);
  e.expires_at = a.expires_at;
  out.push_back(std::move(e));
  // What became of it before this listing, as far as its state shows.
  if (!a.active()) out.push_back(make("connection.expired", k, a.updated_at, a.reason));
  else if (a.refresh_failures > 0) out.push_back(failed(k, a));
}

}  // namespace

Snapshot snapshot_of(const bj::array& listing) {
  Snapshot s;
  for (const auto& v : listing) {
    if (!v.is_object()) continue;
    const auto& o = v.get_object();
    RowKey k{str_of(o, "account"), str_of(o, "app"), str_of(o, "auth_type")};
    if (std::get<0>(k).empty() || std::get<1>(k).empty()) continue;
    Row r;
    r.status = str_of(o, "status");
    r.reason = str_of(o, "reason");
    r.created_at = time_of(o, "created_at").value_or(0);
    r.updated_at = time_of(o, "updated_at").value_or(r.created_at);
    r.expires_at = time_of(o, "expires_at");
    r.next_refresh_at = time_of(o, "next_refresh_at");
    if (auto it = o.find("refresh_failures"); it != o.end() && it->value().is_number())
      r.refresh_failures = it->value().to_number<std::int64_t>();
    s.emplace(std::move(k), std::move(r));
  }
  return s;
}

std::vector<WatchEvent> diff_snapshots(const Snapshot& before, const Snapshot& after,
                                       std::int64_t now) {
  std::vector<WatchEvent> out;
  auto b = before.begin();
  auto a = after.begin();
  while (b != before.end() || a != after.end()) {
    if (a == after.end() || (b != before.end() && b->first < a->first)) {
      out.push_back(make("connection.deleted", b->first, now));
      ++b;
    } else if (b == before.end() || a->first < b->first) {
      appeared(a->first, a->second, out);
      ++a;
    } else {
      if (a->second.created_at != b->second.created_at) {
        // Disconnected and connected again between two listings.
        out.push_back(make("connection.deleted", b->first, now));
        appeared(a->first, a->second, out);
      } else {
        changes(a->first, b->second, a->second, out);
      }
      ++a;
      ++b;
    }
  }
  return out;
}

bj::object event_json(const WatchEvent& e) {
  bj::object o{{"type", e.type},
               {"account", e.account},
               {"app", e.app},
               {"auth_type", e.auth_type},
               {"at", format_rfc3339(e.at)},
               {"reason", e.reason.empty() ? bj::value(nullptr) : bj::value(e.reason)}};
  if (e.expires_at) o["expires_at"] = format_rfc3339(*e.expires_at);
  if (e.retry_at) o["retry_at"] = format_rfc3339(*e.retry_at);
  if (e.refresh_failures) o["refresh_failures"] = *e.refresh_failures;
  if (e.revoked) o["revoked"] = *e.revoked;
  if (!e.note.empty()) o["note"] = e.note;
  if (e.seq) o["seq"] = *e.seq;
  o["source"] = e.source;
  return o;
}

std::string event_line(const WatchEvent& e, std::int64_t now) {
  std::string type = e.type;
  if (type.size() < 26) type.append(26 - type.size(), ' ');
  std::string line = format_rfc3339(e.at) + "  " + type + "  " + e.account + "  " + e.app + "  " +
                     e.auth_type + "  " + (e.reason.empty() ? "-" : e.reason);
  std::string more;
  auto add = [&more](const std::string& s) { more += (more.empty() ? "" : ", ") + s; };
  if (e.refresh_failures)
    add(std::to_string(*e.refresh_failures) + (*e.refresh_failures == 1 ? " failure" : " failures"));
  if (e.retry_at) add("next attempt " + relative(*e.retry_at, now));
  if (e.expires_at) add("expires " + relative(*e.expires_at, now));
  if (e.revoked) add(*e.revoked ? "tokens revoked" : "tokens not revoked");
  if (!e.note.empty()) add(e.note);
  if (e.source == "client") add("from this process");
  if (e.source == "log" && e.seq) add("seq " + std::to_string(*e.seq));
  if (!more.empty()) line += "  (" + more + ")";
  return line;
}

std::optional<WatchEvent> library_event(std::string_view text) {
  boost::system::error_code ec;
  bj::value v = bj::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const bj::object& o = v.get_object();
  WatchEvent e;
  e.type = str_of(o, "type");
  if (e.type.empty()) return std::nullopt;
  e.account = str_of(o, "account");
  e.app = str_of(o, "app");
  e.auth_type = str_of(o, "auth_type");
  e.at = time_of(o, "at").value_or(now_ms());
  e.reason = str_of(o, "reason");
  e.retry_at = time_of(o, "retry_at");
  if (auto it = o.find("revoked"); it != o.end() && it->value().is_bool()) e.revoked = it->value().get_bool();
  if (auto it = o.find("seq"); it != o.end() && it->value().is_int64()) e.seq = it->value().get_int64();
  e.source = "client";
  return e;
}

}  // namespace refold_cli
