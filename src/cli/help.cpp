#include "help.hpp"

#include <refold.h>

#include <cstdio>
#include <string>

namespace refold_cli {

namespace {

const char* kGlobal = R"(Options of every command:
  --account NAME   the account (your end customer) to act for; default "default"
  --store PATH     the store: a SQLite file or a postgresql:// URI; overrides the
                   config file's "store"
  --config FILE    a JSON config file, as refold_client_open takes it;
                   default: the file named by $REFOLD_CONFIG, else built-in defaults
  --json           machine-readable output (one JSON document on stdout)
  -h, --help       show help
)";

const char* kTop = R"(refold - connect apps for an account and read their credentials

Usage: refold [OPTIONS] COMMAND [ARGS]

Commands:
  apps              list the app catalog and what the account has connected
  connect APP       connect an app: key-based fields, or OAuth in the browser
  connections       list connections with status and times
  token APP         show an app's credentials (secrets hidden unless --reveal)
  disconnect APP    remove the account's connection to an app and its secrets
  import FILE       import connections made elsewhere, one JSON object a line
  status            every connection's health; exit status says if any needs care
  watch             print connection events as they happen, until Ctrl-C
  rotate-data-key   re-encrypt every record under a new data key
  store copy FROM TO  copy every connection into another store (SQLite to PostgreSQL)
  help [COMMAND]    show help

{options}      --version    show the versions of the tool and the library

Exit status:
  0 success            4 re-authentication required   7 cancelled
  1 other error        5 credentials rejected         8 store or master key
  2 usage or invalid   6 network error or timeout
  3 not found
'refold status' also exits 4 (or 5, 6, 1) when a connection needs care;
see 'refold status --help'.

Run 'refold COMMAND --help' for a command's options.
)";

const char* kApps = R"(Usage: refold apps [OPTIONS]

Lists the app catalog (built-in apps plus the config's "catalog"), each with
its category, auth types and whether the account has connected it.
--category keeps the apps of one category (crm, support, ...); --search
keeps those whose slug, name, description or tags contain TEXT, in any case.

Options:
  --category NAME  only the apps of category NAME
  --search TEXT    only the apps that mention TEXT

{options}
With --json, prints the library's listing: an array of apps with slug, name,
description, category, docs_url, auth_types, auth_type_options (key-based
input fields), connection_fields, connected, reauth_required and
connected_accounts; the filters apply to it too.
)";

const char* kConnect = R"(Usage: refold connect APP [--field NAME=VALUE ...] [OPTIONS]

Connects APP for the account; connecting again replaces the credentials.

Key-based apps take their fields from --field. On a terminal, refold asks
for every required field not given (and, when no --field is given at all,
for the optional ones too), without echo for secret fields. Otherwise a
missing required field is an error that names it.

OAuth apps open the provider's authorization page and wait for the browser
to come back to a listener on 127.0.0.1. The config must register the app's
OAuth client under "oauth_clients". For an app offering both, --field means
key-based and no --field means OAuth. An app whose provider has a host per
customer takes it as --connection (refold connect zendesk --connection
subdomain=acme).

Client-credentials apps (auth type oauth2_cc) take the customer's own
client as --field client_id=ID --field client_secret=SECRET (asked for on a
terminal when no --field is given; left out, the config's "oauth_clients"
registration is used) and their connection inputs as --connection, and
fetch a token at once, which proves the client works.

Options:
  --field NAME=VALUE  a field of a key-based app; repeat for each field.
                      Values on a command line are visible to other local
                      users (ps); prefer the prompt for secrets
  --connection NAME=VALUE
                      a connection input of an OAuth or client-credentials
                      app, such as its tenant's subdomain (repeat for each)
  --auth-type TYPE    'keybased' or 'oauth2', for apps offering both
  --no-browser        print the authorization URL to stderr instead of
                      opening a browser, then wait
  --open-with CMD     open the authorization URL with a shell command, run
                      as: /bin/sh -c 'CMD "$1"' sh URL (in the background;
                      its output goes to stderr)

{options})";

const char* kConnections = R"(Usage: refold connections [--all] [--app APP] [--status STATUS]
                          [--limit N] [--cursor CURSOR] [OPTIONS]

Lists the account's connections: app, auth type, status (active or
reauth_required), reason, and when each was created and last updated (UTC),
ordered by account, app and auth type. Never shows a secret.

Options:
  --all            list every account's connections
  --app APP        only connections to APP
  --status STATUS  only "active" or only "reauth_required" connections
  --limit N        list one page of at most N (1 to 1000) connections; when
                   there are more, a last line gives the --cursor that
                   lists the next page
  --cursor CURSOR  list the page after the one that gave CURSOR (the same
                   --account or --all, --app and --status; default limit 100)

Without --limit or --cursor, every matching connection is listed (fetched
1000 at a time). With --json, the array of connections as
refold_list_connections describes them; with --limit or --cursor, the page
as refold_list_connections_page returns it: {connections, next_cursor}.

{options})";

const char* kToken = R"(Usage: refold token APP [--reveal] [OPTIONS]

Shows the account's credentials for APP, with every secret hidden: for an
OAuth connection the auth type, token type, expiry and scopes; for a
key-based one each field, secret fields' values hidden.

Options:
  --reveal         print the secret itself: the access token alone on stdout
                   (OAuth), or the fields as a JSON object (key-based), so
                   TOKEN=$(refold token APP --reveal) works. With --json,
                   the library's whole credentials object

{options})";

const char* kStatus = R"(Usage: refold status [--account NAME] [OPTIONS]

Shows every connection (of every account, or only the one --account names)
with its health, a word to act on:

  ok               nothing to do
  expires soon     an OAuth token expiring within 5 minutes; the next read
                   refreshes it
  refresh due      an active OAuth token past its expiry; the next read
                   refreshes it (without a refresh token: asks for re-auth)
  refresh failing  refreshing failed and will be retried: the reason, the
                   number of failures and when the next attempt is
  reauth required  the user must connect again; the reason says why
  key-based        key-based credentials: no expiry

EXPIRES is relative ("in 42m", "3m ago"). While a data-key rotation is
under way (refold rotate-data-key), a last line says how many records are
still under the retiring key. Never shows a secret. Only reads: a
"background_refresh" in the config is turned off for this command.

{options}
With --json, an array of {account, app, auth_type, status, health
("ok", "expires_soon", "refresh_due", "refresh_failing", "reauth_required",
"keybased"), healthy, reason, detail, expires_at, expires_in_ms,
next_refresh_at, refresh_failures, created_at, updated_at}.

Exit status:
  0  every connection is healthy (ok, expires soon, refresh due, key-based),
     or there are none
  4  at least one connection needs re-authentication
  otherwise, when a refresh is failing, the status a read of that connection
  gets once its token has expired:
  5  the provider refused the app's OAuth client (a config problem)
  6  the provider could not be reached, or timed out
  1  the provider answered with an error (5xx, 429, malformed answer)
  The first that applies in the order 4, 5, 6, 1 wins; errors of the tool
  itself exit as every command does (2, 8, ...).
)";

const char* kWatch = R"(Usage: refold watch [--account NAME] [--interval MS] [--count N]
                    [--consumer NAME] [OPTIONS]

Prints connection events as they happen, for every account or the one
--account names, until Ctrl-C (or SIGTERM), then exits 0. It starts by
writing "watching <store> ..." to stderr.

Other processes (your application) make the changes, so watch reads them
from the store: it lists the connections every interval and prints what
changed: connection.created, connection.deleted, connection.refreshed,
connection.refresh_failed, connection.expired, connection.reauthenticated.
A change undone within one interval is not seen. Events of the tool's own
client are printed too (marked "from this process"). Only reads: a
"background_refresh" in the config is turned off for this command.

One line per event: time (UTC), type, account, app, auth type, reason
("-" for none), and details in parentheses.

With --consumer NAME it reads the store's durable event log instead
(refold_read_events): every event any process wrote, in commit order,
each printed once and then acknowledged for NAME, so the next run as NAME
goes on where this one stopped and a run killed mid-way prints again what
it had not acknowledged. --account then only filters what is printed.

Options:
  --interval MS    how often to look, in milliseconds (10 to 3600000;
                   default 1000)
  --count N        exit 0 after N events
  --consumer NAME  read the durable event log as consumer NAME

{options}
With --json, each event is one JSON object on its own line: type, account,
app, auth_type, at, reason, and where they apply expires_at, retry_at,
refresh_failures, revoked, note and seq; "source" is "store" (seen in the
store), "client" (the tool's own client) or "log" (the event log).
)";

const char* kRotateDataKey = R"(Usage: refold rotate-data-key [OPTIONS]

Replaces the store's data key: a new key becomes current for every write
at once (in every process on the store), every record is re-encrypted
under it in short batches while your application goes on reading and
refreshing, then the older keys are deleted from the store. Use it when a
data key may have leaked (a memory dump), or by policy. The master key
stays as it is.

If an earlier rotation stopped part-way (a crash, Ctrl-C), this finishes
it. 'refold status' shows a rotation's progress from another terminal.

{options}
With --json, prints the data keys afterwards: {current_key, rotating,
records_to_reseal, keys: [{id, created_at, state, connections,
pending_flows}]}. Never shows key material.
)";

const char* kDisconnect = R"(Usage: refold disconnect APP [OPTIONS]

Removes the account's connections to APP (every auth type) and wipes their
secrets from the store. Disconnecting what is not connected succeeds.

{options})";

const char* kImport = R"(Usage: refold import FILE [OPTIONS]

Imports connections made elsewhere (another system's tokens or keys), one
JSON object a line, from FILE ('-' for standard input). Each line names
its connection and carries what refold_import_connection takes:

  {"account": "acme", "app": "github", "access_token": "...",
   "refresh_token": "...", "expires_at": "2026-12-31T00:00:00Z",
   "scopes": ["repo"]}
  {"account": "acme", "app": "twilio", "fields": {"account_sid": "...", ...}}

"account" defaults to --account. Each line is checked as a connect is and
stored on its own: a bad line is reported with its number and the member
that is wrong (never a value), stores nothing, and the others go on. Blank
lines are skipped. Exits 0 when every line was imported, else with the
code of the first failure.

{options}
With --json, prints [{line, account, app, ok, error}] instead.
)";

const char* kStore = R"(Usage: refold store copy FROM TO [OPTIONS]

Copies every connection of the store FROM into the store TO: how a SQLite
store moves into PostgreSQL. FROM and TO are what "store" takes in config:
a SQLite file or a postgresql:// URI. Both are opened with the config file
(--config or $REFOLD_CONFIG), its "store" replaced; each finds its master
key as refold_client_open does (a SQLite store's own key file included),
so they may differ. Each record is opened and sealed again for TO; the
connections keep their secrets, inputs and metadata, schedule and status
(docs/deployment.md). One TO already has is replaced; pending OAuth flows
and the event log are not copied. Stop the processes writing to FROM first
for an exact move. On an error it stops, naming the connection; what it
copied stays, and running it again copies everything again. A password
written in a URI on the command line is visible to other users of the
machine (ps): keep it in ~/.pgpass or PGPASSWORD instead.

{options}
With --json, prints {"copied": N, "reauth_required": M}.
)";

}  // namespace

void print_help(const std::string& command) {
  const char* text = kTop;
  if (command == "apps") text = kApps;
  else if (command == "connect") text = kConnect;
  else if (command == "connections") text = kConnections;
  else if (command == "token") text = kToken;
  else if (command == "disconnect") text = kDisconnect;
  else if (command == "status") text = kStatus;
  else if (command == "watch") text = kWatch;
  else if (command == "rotate-data-key") text = kRotateDataKey;
  else if (command == "import") text = kImport;
  else if (command == "store") text = kStore;
  std::string out = text;
  if (auto at = out.find("{options}"); at != std::string::npos) out.replace(at, 9, kGlobal);
  std::fputs(out.c_str(), stdout);
}

void print_version() {
  std::printf("refold %s (library %s)\n", REFOLD_VERSION_STRING, refold_version());
}

}  // namespace refold_cli
