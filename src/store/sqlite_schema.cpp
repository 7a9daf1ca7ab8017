// The SQLite store's schema, as the list of migrations that build it.
#include "store/sqlite_internal.hpp"

namespace refold::store::detail {

namespace {

// Schema migrations: entry i takes the schema from version i to i + 1.
const char* const kMigrations[] = {
    // 0 -> 1: meta, data keys, connections.
    R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value BLOB NOT NULL
) STRICT;
CREATE TABLE data_keys (
  id         INTEGER PRIMARY KEY,
  nonce      BLOB NOT NULL,
  wrapped    BLOB NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE connections (
  account          TEXT NOT NULL,
  app              TEXT NOT NULL,
  auth_type        TEXT NOT NULL CHECK (auth_type IN ('oauth2', 'keybased')),
  status           TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'reauth_required')),
  reason           TEXT,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  expires_at       INTEGER,
  refresh_failures INTEGER NOT NULL DEFAULT 0,
  next_refresh_at  INTEGER,
  lease_owner      TEXT,
  lease_expires_at INTEGER,
  version          INTEGER NOT NULL DEFAULT 1,
  key_id           INTEGER NOT NULL REFERENCES data_keys (id),
  nonce            BLOB NOT NULL,
  ciphertext       BLOB NOT NULL,
  config           TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (account, app, auth_type)
) STRICT, WITHOUT ROWID;
CREATE INDEX connections_by_expiry ON connections (expires_at) WHERE expires_at IS NOT NULL;
)sql",
    // 1 -> 2: pending OAuth flows, so begin and complete may run in
    // different processes.
    R"sql(
CREATE TABLE oauth_flows (
  state_hash BLOB PRIMARY KEY,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  key_id     INTEGER NOT NULL REFERENCES data_keys (id),
  nonce      BLOB NOT NULL,
  ciphertext BLOB NOT NULL
) STRICT, WITHOUT ROWID;
)sql",
    // 2 -> 3: refresh scheduling. Connections saved before this version get
    // the default refresh-ahead window; a token that came from a refresh the
    // host forced after a 401 is marked, so a second 401 means re-auth.
    R"sql(
ALTER TABLE connections ADD COLUMN forced_refresh INTEGER NOT NULL DEFAULT 0;
UPDATE connections SET next_refresh_at = expires_at - 300000
  WHERE auth_type = 'oauth2' AND expires_at IS NOT NULL AND next_refresh_at IS NULL;
CREATE INDEX connections_due ON connections (next_refresh_at)
  WHERE auth_type = 'oauth2' AND status = 'active' AND next_refresh_at IS NOT NULL;
)sql",
    // 3 -> 4: data-key rotation finds the records of a retiring key, and
    // counts them for its progress, without scanning every connection.
    R"sql(
CREATE INDEX connections_by_key ON connections (key_id);
)sql",
    // 4 -> 5: the change log. Every change to what a reader caches of a
    // connection (credentials, status, schedule, failures) appends the
    // connection in the same transaction, so each process drops only what
    // changed from its cache. A re-seal under a new data key and a refresh
    // lease change nothing a reader sees, and are not logged. The log keeps
    // its last 65,536 entries; a reader further behind drops everything.
    R"sql(
CREATE TABLE changes (
  seq     INTEGER PRIMARY KEY AUTOINCREMENT,
  account TEXT NOT NULL,
  app     TEXT NOT NULL
) STRICT;
CREATE TRIGGER connections_inserted AFTER INSERT ON connections BEGIN
  INSERT INTO changes (account, app) VALUES (NEW.account, NEW.app);
END;
CREATE TRIGGER connections_updated AFTER UPDATE ON connections
  WHEN OLD.version IS NOT NEW.version OR OLD.status IS NOT NEW.status
    OR OLD.refresh_failures IS NOT NEW.refresh_failures OR OLD.reason IS NOT NEW.reason
    OR OLD.next_refresh_at IS NOT NEW.next_refresh_at OR OLD.expires_at IS NOT NEW.expires_at
BEGIN
  INSERT INTO changes (account, app) VALUES (NEW.account, NEW.app);
END;
CREATE TRIGGER connections_deleted AFTER DELETE ON connections BEGIN
  INSERT INTO changes (account, app) VALUES (OLD.account, OLD.app);
END;
CREATE TRIGGER changes_pruned AFTER INSERT ON changes WHEN NEW.seq % 4096 = 0 BEGIN
  DELETE FROM changes WHERE seq <= NEW.seq - 65536;
END;
)sql",
    // 5 -> 6: filtered, paged listings (sqlite_listing.cpp). Each filter
    // is an equality on the leading columns, followed by the rest of the
    // (account, app, auth_type) keyset, so a page is one index range with
    // a LIMIT: by status (and account, and app), by app, and by app and
    // status. Filters on account (and app) use the primary key. Only a
    // status change moves a row in these indexes. The due list names
    // connections_due (sqlite_lifecycle.cpp): SQLite would otherwise take
    // connections_by_status for its "status = 'active'".
    R"sql(
CREATE INDEX connections_by_status ON connections (status, account, app, auth_type);
CREATE INDEX connections_by_app ON connections (app, account, auth_type);
CREATE INDEX connections_by_app_status ON connections (app, status, account, auth_type);
)sql",
    // 6 -> 7: the due list reads only its index. It passes over leased rows,
    // and with the lease expiry outside the index every entry it walked
    // cost a lookup of the row: 3 ms for 128 at a million connections,
    // against 1 ms wanted. A lease taken or released now rewrites the row's
    // entry too, in the same write. Built once, inside the migration's
    // write transaction: other processes' writes wait for it. `status` is there too, though the WHERE
    // fixes it: SQLite counts an index as covering a query only when every
    // column the query names is a column of the index (or of the key).
    R"sql(
DROP INDEX IF EXISTS connections_due;
CREATE INDEX connections_due ON connections (next_refresh_at, lease_expires_at, status)
  WHERE auth_type = 'oauth2' AND status = 'active' AND next_refresh_at IS NOT NULL;
)sql",
    // 7 -> 8: client-credentials connections (auth type oauth2_cc). SQLite
    // cannot change a CHECK constraint in place, so the table is built
    // again (https://www.sqlite.org/lang_altertable.html, "other kinds of
    // table schema changes"): copied into a new one, dropped (with its
    // indexes and triggers: the copy and the drop log no change) and the
    // copy renamed; then the indexes and the change-log triggers are made
    // again. Nothing references the table. The due list takes every auth
    // type with tokens. One pass over the rows, inside the migration's
    // write transaction.
    R"sql(
CREATE TABLE connections_v8 (
  account          TEXT NOT NULL,
  app              TEXT NOT NULL,
  auth_type        TEXT NOT NULL CHECK (auth_type IN ('oauth2', 'oauth2_cc', 'keybased')),
  status           TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'reauth_required')),
  reason           TEXT,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL,
  expires_at       INTEGER,
  refresh_failures INTEGER NOT NULL DEFAULT 0,
  next_refresh_at  INTEGER,
  lease_owner      TEXT,
  lease_expires_at INTEGER,
  version          INTEGER NOT NULL DEFAULT 1,
  key_id           INTEGER NOT NULL REFERENCES data_keys (id),
  nonce            BLOB NOT NULL,
  ciphertext       BLOB NOT NULL,
  config           TEXT NOT NULL DEFAULT '{}',
  forced_refresh   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (account, app, auth_type)
) STRICT, WITHOUT ROWID;
INSERT INTO connections_v8 (account, app, auth_type, status, reason, created_at, updated_at, expires_at,
                            refresh_failures, next_refresh_at, lease_owner, lease_expires_at, version, key_id,
                            nonce, ciphertext, config, forced_refresh)
  SELECT account, app, auth_type, status, reason, created_at, updated_at, expires_at, refresh_failures,
         next_refresh_at, lease_owner, lease_expires_at, version, key_id, nonce, ciphertext, config, forced_refresh
  FROM connections;
DROP TABLE connections;
ALTER TABLE connections_v8 RENAME TO connections;
CREATE INDEX connections_by_expiry ON connections (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX connections_by_key ON connections (key_id);
CREATE INDEX connections_by_status ON connections (status, account, app, auth_type);
CREATE INDEX connections_by_app ON connections (app, account, auth_type);
CREATE INDEX connections_by_app_status ON connections (app, status, account, auth_type);
CREATE INDEX connections_due ON connections (next_refresh_at, lease_expires_at, status)
  WHERE auth_type <> 'keybased' AND status = 'active' AND next_refresh_at IS NOT NULL;
CREATE TRIGGER connections_inserted AFTER INSERT ON connections BEGIN
  INSERT INTO changes (account, app) VALUES (NEW.account, NEW.app);
END;
CREATE TRIGGER connections_updated AFTER UPDATE ON connections
  WHEN OLD.version IS NOT NEW.version OR OLD.status IS NOT NEW.status
    OR OLD.refresh_failures IS NOT NEW.refresh_failures OR OLD.reason IS NOT NEW.reason
    OR OLD.next_refresh_at IS NOT NEW.next_refresh_at OR OLD.expires_at IS NOT NEW.expires_at
BEGIN
  INSERT INTO changes (account, app) VALUES (NEW.account, NEW.app);
END;
CREATE TRIGGER connections_deleted AFTER DELETE ON connections BEGIN
  INSERT INTO changes (account, app) VALUES (OLD.account, OLD.app);
END;
)sql",
    // 8 -> 9: the durable event log. Each write that changes a connection
    // appends the event it reports in its own transaction; named consumers
    // keep their cursors here, so a host relays every event at least once
    // whatever crashes. Events older than the retention are pruned as new
    // ones come; event_log remembers how far, so a consumer left behind
    // learns it missed some.
    R"sql(
CREATE TABLE events (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT,
  type      TEXT NOT NULL,
  account   TEXT NOT NULL,
  app       TEXT NOT NULL,
  auth_type TEXT NOT NULL,
  at        INTEGER NOT NULL,
  reason    TEXT,
  retry_at  INTEGER
) STRICT;
CREATE INDEX events_by_at ON events (at);
CREATE TABLE event_consumers (
  name       TEXT PRIMARY KEY,
  acked      INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE TABLE event_log (
  id             INTEGER PRIMARY KEY CHECK (id = 1),
  pruned_through INTEGER NOT NULL
) STRICT;
INSERT INTO event_log (id, pruned_through) VALUES (1, 0);
)sql",
};

}  // namespace

std::span<const char* const> migrations() { return kMigrations; }

}  // namespace refold::store::detail
