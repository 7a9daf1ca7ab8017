// `refold watch` sees other processes' changes only through the shared
// store, so it derives events by comparing two listings of
// refold_list_connections taken one interval apart. The rules are in
// diff_snapshots() and docs/cli.md; they are a best reading of what changed,
// since a listing shows each connection's state, not its history.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace refold_cli {

// One connection as listed, times in ms since the epoch.
struct Row {
  std::string status;  // "active" or "reauth_required"
  std::string reason;  // "" for none
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::optional<std::int64_t> expires_at;
  std::optional<std::int64_t> next_refresh_at;
  std::int64_t refresh_failures = 0;

  bool active() const { return status == "active"; }
};

// (account, app, auth_type).
using RowKey = std::tuple<std::string, std::string, std::string>;
using Snapshot = std::map<RowKey, Row>;

// The listing as a snapshot; rows that are not objects or lack a key are
// skipped.
Snapshot snapshot_of(const boost::json::array& listing);

struct WatchEvent {
  std::string type;  // "connection.created", ...
  std::string account, app, auth_type;
  std::int64_t at = 0;  // when it happened (the row's time), or when it was noticed
  std::string reason;   // "" for none
  std::optional<std::int64_t> expires_at;        // created, refreshed, reauthenticated
  std::optional<std::int64_t> retry_at;          // refresh_failed
  std::optional<std::int64_t> refresh_failures;  // refresh_failed
  std::optional<bool> revoked;                   // deleted, from the library only
  std::string note;                              // what a person should know, or ""
  std::optional<std::int64_t> seq;               // its place in the durable event log
  std::string source = "store";                  // "store" (derived), "client" (the
                                                 // library's handler in this process)
                                                 // or "log" (the durable event log)
};

// The events that take `before` to `after`, in key order; `now` is when
// `after` was taken.
std::vector<WatchEvent> diff_snapshots(const Snapshot& before, const Snapshot& after,
                                       std::int64_t now);

// {"type","account","app","auth_type","at","reason", ..., "source"}.
boost::json::object event_json(const WatchEvent& e);

// One line for people: time, type, account, app, auth type, reason, and
// the note or the details.
std::string event_line(const WatchEvent& e, std::int64_t now);

// An event the library delivered to this process's own handler (its JSON),
// as a WatchEvent; nullopt when it is not an object with a type.
std::optional<WatchEvent> library_event(std::string_view event_json);

}  // namespace refold_cli
