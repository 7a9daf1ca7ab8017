// The SQLite store's durable event log: appends inside the write
// transactions that make the changes, and named consumers' cursors.
#include "store/sqlite_internal.hpp"
#include "util/error.hpp"

namespace refold::store {

using detail::Use;

void SqliteStore::append_event(Pooled& c, const char* type, const ConnectionId& id, Millis at,
                               const std::optional<std::string>& reason, std::optional<Millis> retry_at) {
  static const char* kAppend =
      "INSERT INTO events (type, account, app, auth_type, at, reason, retry_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
  static const char* kPrune = "DELETE FROM events WHERE at < ?1 RETURNING seq";
  static const char* kPruned =
      "UPDATE event_log SET pruned_through = max(pruned_through, ?1) WHERE id = 1";
  {
    Use w(c->stmt(kAppend));
    w->bind(1, std::string_view(type)).bind(2, id.account).bind(3, id.app).bind(4, id.auth_type)
        .bind(5, at).bind(6, reason).bind(7, retry_at);
    w->run();
  }
  const std::int64_t seq = sqlite3_last_insert_rowid(c->db.raw());
  if (seq % kEventPruneEvery != 0) return;
  std::int64_t through = 0;
  {
    Use p(c->stmt(kPrune));
    p->bind(1, at - event_retention_);
    while (p->step()) through = std::max(through, p->integer(0));
  }
  if (through == 0) return;
  Use u(c->stmt(kPruned));
  u->bind(1, through).run();
}

EventPage SqliteStore::read_events(const std::string& consumer, std::size_t max) {
  static const char* kCursor =
      "SELECT coalesce((SELECT acked FROM event_consumers WHERE name = ?1), 0),"
      " (SELECT pruned_through FROM event_log WHERE id = 1)";
  static const char* kEvents =
      "SELECT seq, type, account, app, auth_type, at, reason, retry_at FROM events"
      " WHERE seq > ?1 ORDER BY seq LIMIT ?2";
  auto c = acquire();
  sqlite::Transaction tx(c->db, sqlite::Transaction::deferred);  // one snapshot
  EventPage page;
  std::int64_t acked = 0;
  {
    Use s(c->stmt(kCursor));
    s->bind(1, consumer);
    if (s->step()) {
      acked = s->integer(0);
      // A consumer that has acknowledged something (or a new one) missed
      // events if retention removed some after its cursor.
      page.missed = acked > 0 && s->integer(1) > acked;
    }
  }
  Use s(c->stmt(kEvents));
  s->bind(1, acked).bind(2, static_cast<std::int64_t>(max));
  while (s->step()) {
    StoredEvent e;
    e.seq = s->integer(0);
    e.type = s->text(1);
    e.id = {s->text(2), s->text(3), s->text(4)};
    e.at = s->integer(5);
    e.reason = s->opt_text(6);
    e.retry_at = s->opt_integer(7);
    page.events.push_back(std::move(e));
  }
  return page;
}

void SqliteStore::ack_events(const std::string& consumer, std::int64_t seq, Millis now) {
  static const char* kLast = "SELECT seq FROM sqlite_sequence WHERE name = 'events'";
  static const char* kAck =
      "INSERT INTO event_consumers (name, acked, updated_at) VALUES (?1, ?2, ?3)"
      " ON CONFLICT (name) DO UPDATE SET acked = max(acked, excluded.acked), updated_at = excluded.updated_at";
  std::lock_guard wl(write_mu_);
  auto c = acquire();
  sqlite::Transaction tx(c->db, sqlite::Transaction::immediate);
  std::int64_t last = 0;
  {
    Use s(c->stmt(kLast));
    if (s->step()) last = s->integer(0);
  }
  if (seq > last)
    fail(REFOLD_EINVALID, "seq " + std::to_string(seq) + " is past the last event (" + std::to_string(last) + ")");
  {
    Use w(c->stmt(kAck));
    w->bind(1, consumer).bind(2, seq).bind(3, now).run();
  }
  tx.commit();
}

}  // namespace refold::store
