/*
 * refold.h - the public C interface of refold, an embeddable app-connection
 * manager.
 *
 * This is the only public header. It is C89 and C++ compatible.
 *
 * Conventions that hold for every function below:
 *
 *  - Return codes. A function that can fail returns int: REFOLD_OK (0) on
 *    success, a negative REFOLD_E* code otherwise. refold_strerror(code)
 *    gives static text for a code; refold_last_error() gives the detail of
 *    the last failure on the calling thread. A function returning void
 *    cannot fail.
 *  - Strings are NUL-terminated UTF-8. A string the library returns through
 *    a `char **` out-parameter is owned by the caller and must be released
 *    with refold_free(). On failure such an out-parameter is set to NULL.
 *  - Structured data (configuration, payloads, listings, credentials,
 *    events) crosses the boundary as JSON text.
 *  - Threads. A refold_client may be used from many threads at once; see
 *    docs/threading.md. refold_client_free() must not race with any other
 *    call on the same client.
 *  - Callbacks are never invoked while the library holds an internal lock,
 *    so a callback may call back into the library.
 *  - Secrets (keys, tokens, client secrets) never appear in error messages,
 *    events or anything the library logs.
 */
#ifndef REFOLD_H
#define REFOLD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#  if defined(REFOLD_BUILDING)
#    define REFOLD_EXTERN __declspec(dllexport)
#  else
#    define REFOLD_EXTERN __declspec(dllimport)
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define REFOLD_EXTERN __attribute__((visibility("default")))
#else
#  define REFOLD_EXTERN
#endif

/* Version of this header. Compare with refold_version() at run time. */
#define REFOLD_VERSION_MAJOR 0
#define REFOLD_VERSION_MINOR 1
#define REFOLD_VERSION_PATCH 0
#define REFOLD_VERSION_STRING "0.1.0"

/* Error codes. The values are stable and will never change meaning. */
#define REFOLD_OK          0   /* success */
#define REFOLD_ERROR      -1   /* unexpected internal failure (out of memory, bug) */
#define REFOLD_EINVALID   -2   /* bad argument, config, payload or catalog entry */
#define REFOLD_ENOTFOUND  -3   /* unknown app, or no such connection */
#define REFOLD_EREAUTH    -4   /* the connection needs its user to re-authenticate */
#define REFOLD_EAUTH      -5   /* the provider rejected the credentials */
#define REFOLD_ENETWORK   -6   /* the provider could not be reached */
#define REFOLD_EPROVIDER  -7   /* the provider answered with an error */
#define REFOLD_ESTATE     -8   /* unknown, reused or expired OAuth state */
#define REFOLD_ESTORE     -9   /* the store could not be read or written */
#define REFOLD_ECRYPTO   -10   /* wrong master key, or data failed authentication */
#define REFOLD_ETIMEOUT  -11   /* an operation ran out of time */
#define REFOLD_ECANCELLED -12  /* an operation was cancelled */

/* A client: one open store, one catalog, one master key. Opaque. */
typedef struct refold_client refold_client;

/*
 * URL opener for the interactive OAuth flow: open `url` (the provider's
 * authorization page) for the user, typically in a browser, and return 0;
 * any other value aborts the flow with REFOLD_ECANCELLED. `url` is valid
 * only during the call. Called on the thread running refold_connect, with
 * no internal lock held.
 */
typedef int (*refold_open_url_cb)(const char *url, void *payload);

/*
 * Event handler. `event_json` is an object with "type", "account", "app",
 * "auth_type", "at" (RFC 3339 UTC) and, where one applies, "reason":
 *
 *   connection.created          a new connection was saved
 *   connection.reauthenticated  an existing connection was connected again
 *                               (new credentials; config and creation time kept)
 *   connection.refreshed        an OAuth token was refreshed
 *   connection.refresh_failed   a refresh failed and will be retried; "reason"
 *                               ("server_error", "rate_limited", "timeout",
 *                               "network", "malformed_response", or the
 *                               provider's error for a client config problem)
 *                               and "retry_at" (RFC 3339) say why and when
 *   connection.expired          the connection needs its user to connect
 *                               again; "reason" ("invalid_grant", "expired",
 *                               "unauthorized", or what the host passed to
 *                               refold_mark_reauth). Sent once per change.
 *   connection.deleted          disconnected ("reason" "disconnected" or
 *                               "account_deleted"); for an OAuth connection
 *                               whose app has a revocation endpoint,
 *                               "revoked" (true/false) says whether the
 *                               provider confirmed revoking its tokens
 *
 * Events describe what this client did; another process sharing the store
 * reports its own. `event_json` is valid only for the duration of the call.
 * Called on the thread whose operation caused the event (the background
 * refresher's thread for its refreshes), after the change is committed,
 * with no internal lock held. A handler may call the client back (read
 * credentials, list), but must not call refold_client_free() on the client
 * that called it: freeing waits for the background refresher, which may be
 * the thread running the handler.
 */
typedef void (*refold_event_cb)(const char *event_json, void *payload);

/*
 * Clock: the current time as milliseconds since the Unix epoch (a whole
 * number; a double keeps the header C89). Used for token expiry, refresh
 * scheduling and timestamps. May be called from any thread, including the
 * background refresher's, with no internal lock held; must be fast and must
 * not call back into the library.
 */
typedef double (*refold_clock_cb)(void *payload);

/* ---- Library ----------------------------------------------------------- */

/*
 * The runtime library version, "MAJOR.MINOR.PATCH". Static storage; never
 * NULL; thread-safe.
 */
REFOLD_EXTERN const char *refold_version(void);

/*
 * Static English text for an error code ("unknown error code" for a value
 * that is not one). Never NULL; thread-safe; do not free.
 */
REFOLD_EXTERN const char *refold_strerror(int code);

/*
 * Detail of the last failure of a refold call on the calling thread, or ""
 * when the last call succeeded. Never NULL. The text is owned by the library
 * and valid until the next refold call on the same thread. It names what
 * was wrong (a config key, a payload field, an app) and never holds a
 * secret value.
 */
REFOLD_EXTERN const char *refold_last_error(void);

/*
 * Release a string or buffer returned by the library. Its bytes are wiped
 * before the memory is released, so credential JSON does not linger in the
 * heap. NULL is a no-op. Must only be given pointers the library returned.
 */
REFOLD_EXTERN void refold_free(void *ptr);

/* ---- Client ------------------------------------------------------------ */

/*
 * Open a client. `config_json` may be NULL or "{}" for all defaults, or an
 * object with these keys (any other key is rejected, naming it):
 *
 *   "store"       path of the SQLite store file. Default:
 *                 $XDG_DATA_HOME/refold/refold.db, else
 *                 ~/.local/share/refold/refold.db. Parent folders are
 *                 created with mode 0700. A relative path (here, in
 *                 key_file and in http.ca_file) is taken against the
 *                 working directory when the client opens; a later
 *                 chdir() does not move it.
 *                 Or a PostgreSQL URI, "postgresql://user@host:port/db?
 *                 sslmode=verify-full" (or postgres://), for many instances
 *                 sharing one store (docs/deployment.md): libpq connects,
 *                 with TLS, passwords, .pgpass and PG* variables as libpq
 *                 takes them. Any other "scheme://" is refused by name.
 *                 The URI's password never appears in a message.
 *   "postgresql_schema"  the schema the store's tables live in (default
 *                 "refold"; 1 to 56 lower-case letters, digits and '_'). Created
 *                 when missing, if the user may; each schema is a store.
 *   "postgresql_pool_size"  database connections per client at most (1 to
 *                 256, default 8); a call waits up to the connect timeout
 *                 for one to be free.
 *   "postgresql_connect_timeout_ms"  (1000 to 600000, default 10000) and
 *   "postgresql_statement_timeout_ms" (100 to 3600000, default 30000):
 *                 how long a connect, a statement or a lock wait may take
 *                 before the call fails with REFOLD_ESTORE. The postgresql_*
 *                 keys are refused with a SQLite store.
 *   "master_key"  the 32-byte master key, base64 or hex.
 *   "key_file"    path of a file holding the master key (base64 or hex).
 *   "passphrase"  a passphrase; the master key is derived with Argon2id and
 *                 a salt kept in the store.
 *   "catalog"     extra apps: the path of a JSON file holding an array of
 *                 app definitions, or an inline array (docs/catalog.md).
 *                 An app with the slug of a built-in app replaces it.
 *                 Field patterns are RE2 syntax (no backreferences or
 *                 lookaround) and match in time linear in the value.
 *   "oauth_clients" {"<app>": {"client_id", "client_secret", "redirect_uri",
 *                 "scopes", "max_in_flight"}}: OAuth client registrations.
 *                 The secret is never echoed back. "max_in_flight" (1 to
 *                 1024; default: no cap beyond refresh_concurrency) caps
 *                 the app's token refreshes in flight at once, so one
 *                 provider is never flooded.
 *   "http"        {"ca_file", "connect_timeout_ms" (10000), "timeout_ms"
 *                 (30000), "max_body_bytes" (1 MiB)}: the HTTPS client.
 *                 Peers are always verified; plain http:// is allowed only
 *                 to loopback hosts.
 *   "oauth"       {"loopback_port" (0: ephemeral), "interactive_timeout_ms"
 *                 (300000)}: the interactive flow.
 *   "refresh_ahead_ms"   how long before expiry an OAuth token is refreshed
 *                 (default 300000; at most half a token's lifetime, so short-
 *                 lived tokens refresh later; a little jitter is subtracted).
 *   "background_refresh" true: refreshes tokens as they come due, most
 *                 urgent first, so reads rarely wait for one (default
 *                 false). Without it, a read inside the refresh-ahead
 *                 window still gets the valid token at once and starts
 *                 the refresh in the background; only a read of an
 *                 expired token waits (docs/threading.md).
 *   "refresh_concurrency" refreshes in flight at once, in the background
 *                 and for reads together (1 to 1024, default 128). A 429 or
 *                 503 with Retry-After pauses that app's refreshes.
 *   "refresh_at_least_every" a duration ("1m" to "365d", such as "24h" or
 *                 "7d"): refresh every connection that has a refresh token
 *                 at least this often, whatever its access token's
 *                 lifetime, so refresh tokens that lapse when unused
 *                 (Google apps in testing, Pipedrive, Xero) stay alive.
 *                 Default: off.
 *   "event_retention"    how long the durable event log keeps an event
 *                 (refold_read_events): a duration from "1h" to "365d"
 *                 (default "7d").
 *   "credential_cache"   how many connections' decrypted credentials are
 *                 kept in memory for fast reads (default 10000; 0: none;
 *                 docs/security.md).
 *
 * At most one of master_key, key_file and passphrase may be given. Without
 * any, the key comes from the REFOLD_MASTER_KEY environment variable, then
 * (SQLite only) from the file "<store>.key", which is created with mode 0600
 * holding a new random key only when the store itself is new. A PostgreSQL
 * store never gets an invented key file: every instance must hold the same
 * key, so without one of the four opening fails with REFOLD_EINVALID.
 *
 * On success *out holds a client to release with refold_client_free().
 * Errors: REFOLD_EINVALID (bad config or catalog; the message names the
 * key, app or field), REFOLD_ECRYPTO (wrong or missing master key; nothing
 * on disk is changed), REFOLD_ESTORE (the store cannot be opened, is
 * corrupt, or was written by a newer refold; a PostgreSQL server that is
 * unreachable or refuses the login).
 * Thread-safe: opening several clients on one store, in one or several
 * processes, is supported.
 */
REFOLD_EXTERN int refold_client_open(refold_client **out, const char *config_json);

/*
 * Close a client and release everything it holds; the event handler's
 * free_payload runs. Stops the background refresher first: at once when it
 * is idle, within about 50 ms when a refresh request is in flight (the
 * request is abandoned; the lease it held expires). Then stops the
 * store's checkpoint thread, waiting for a checkpoint that is running
 * (usually milliseconds; up to the time to copy and sync 16 MiB on a slow
 * disk). NULL is a no-op. No other call on this client may be running or
 * made afterwards.
 */
REFOLD_EXTERN void refold_client_free(refold_client *client);

/* ---- Connections ------------------------------------------------------- */

/*
 * Connect `app` for `account` (an opaque, non-empty UTF-8 id of at most 256
 * bytes chosen by the host).
 *
 * With a `payload_json` object, connects the app's "keybased" auth: every
 * field is checked against the fields the app declares (required, type,
 * select options, pattern, length); unknown fields are rejected. Errors
 * name the field, never its value. Connecting again replaces the fields
 * and keeps the creation time.
 *
 * For an app of the client-credentials auth type ("oauth2_cc",
 * docs/catalog.md), the payload is {"client_id","client_secret",
 * "connection":{...},"scopes":[...]}, every member optional (NULL: the
 * host's registration in config oauth_clients, no inputs): the call
 * fetches a token with that client (RFC 6749 4.4), which also proves it
 * works (REFOLD_EAUTH when the provider refuses it; nothing is saved),
 * and stores it sealed with the client. The lifecycle fetches another
 * before it expires, as it refreshes other tokens; a client the provider
 * refuses then makes the connection reauth_required.
 *
 * With a NULL payload, connects the app's "oauth2" auth interactively
 * (RFC 8252): listens on 127.0.0.1 (config oauth.loopback_port, default an
 * ephemeral port) for the flow's duration only, opens the authorization URL
 * through the URL opener (default: the system browser), takes exactly one
 * request on /callback, answers it with a small page, completes the flow
 * and returns 0 once the tokens are saved. The app needs an
 * oauth_clients.<app> registration in config whose provider accepts a
 * loopback redirect URI. Gives up after oauth.interactive_timeout_ms
 * (default 5 minutes) with REFOLD_ETIMEOUT. An app that requires
 * connection inputs (connection_fields) cannot be connected this way:
 * REFOLD_EINVALID before a browser opens (use refold_connect_oauth, or
 * refold_oauth_begin).
 *
 * Where a key-based app declares a verification request, the credentials
 * are checked with the provider first: REFOLD_EAUTH when it rejects them
 * (401/403), REFOLD_ENETWORK/REFOLD_ETIMEOUT when it can't be reached;
 * either way nothing is saved.
 *
 * Emits "connection.created" for a new connection. Connecting again
 * replaces the credentials, keeps the connection's config and creation
 * time, makes it active (also after re-auth was required) and emits
 * "connection.reauthenticated". Returns once the change is durably
 * committed.
 * Errors: REFOLD_EINVALID, REFOLD_ENOTFOUND (unknown app), REFOLD_EAUTH,
 * REFOLD_ENETWORK, REFOLD_ETIMEOUT, REFOLD_EPROVIDER, REFOLD_ECANCELLED,
 * REFOLD_ESTATE, REFOLD_ESTORE, REFOLD_ECRYPTO. Thread-safe.
 */
REFOLD_EXTERN int refold_connect(refold_client *client, const char *account,
                                 const char *app, const char *payload_json);

/*
 * Connect `app`'s "oauth2" auth for `account` interactively, as
 * refold_connect with a NULL payload does (loopback listener, URL opener,
 * oauth.interactive_timeout_ms), with `options_json` as refold_oauth_begin
 * takes it, or NULL for none: {"scopes":[...], "params":{...} (extra
 * authorize parameters the app allows), "connection":{...} (the app's
 * connection inputs, such as a tenant's subdomain), "client":{...} (the
 * customer's own OAuth client)}. "redirect_uri" is
 * refused: the redirect goes to the flow's own listener. The inputs are
 * checked before a browser opens (errors name the input, never its value);
 * an app that requires inputs needs them here. Returns once the tokens are
 * saved; emits as refold_connect does.
 * Errors: as refold_connect's OAuth flow: REFOLD_EINVALID (also for an app
 * without the oauth2 auth type), REFOLD_ENOTFOUND, REFOLD_ETIMEOUT,
 * REFOLD_ECANCELLED, REFOLD_EAUTH, REFOLD_ENETWORK, REFOLD_EPROVIDER,
 * REFOLD_ESTATE, REFOLD_ESTORE, REFOLD_ECRYPTO. Thread-safe.
 */
REFOLD_EXTERN int refold_connect_oauth(refold_client *client, const char *account,
                                       const char *app, const char *options_json);

/*
 * Import a connection made elsewhere (another system's stored tokens or
 * keys) for `account` and `app`, without the user. `credentials_json` (at
 * most 64 KiB) is one of:
 *   {"auth_type":"oauth2","access_token":"...","refresh_token":"...",
 *    "token_type":"Bearer","expires_at":"<RFC 3339>" or null,
 *    "refresh_token_expires_at":"<RFC 3339>","scopes":[...],
 *    "metadata":{...},"connection":{...},
 *    "client":{"client_id","client_secret"}}
 *   {"auth_type":"oauth2_cc","client_id":"...","client_secret":"...",
 *    "access_token":"...","token_type":"Bearer","expires_at":"<RFC 3339>",
 *    "scopes":[...],"metadata":{...},"connection":{...}}
 *   {"auth_type":"keybased","fields":{...}}
 * "auth_type" may be left out: "fields" makes it keybased, else the app's
 * OAuth kind (oauth2_cc for a client-credentials app, else oauth2).
 * "client" is the customer's own OAuth client the connection was made
 * with (as refold_oauth_begin's option, but both "client_id" and
 * "client_secret" are required): its refreshes and revocation use it, and
 * its secret is sealed with the connection. A client-credentials
 * import needs its client ("client_id" and "client_secret", or config
 * oauth_clients.<app>); its "access_token" is optional: without one, a
 * token is fetched now, as refold_connect does (which also runs the app's
 * after_connect), and the provider's errors apply (REFOLD_EAUTH for a
 * refused client, REFOLD_ENETWORK, REFOLD_ETIMEOUT, REFOLD_EPROVIDER).
 * Only "access_token" is required of an oauth2 import. "expires_at" null or
 * absent means the token does not expire; a date-time may carry any
 * offset. "scopes" is an array or one space-separated string. "metadata"
 * takes only the names the app keeps (token_response_metadata,
 * callback_metadata, after_connect's), "connection" the app's
 * connection_fields, checked as refold_oauth_begin checks them; the
 * api_base_url is built from them. When "metadata" lacks a name the app's
 * after_connect lookup fills and the access token has not expired, the
 * lookup runs with that token, as a connect's does (its errors:
 * REFOLD_EPROVIDER and the network's); with an expired token the import
 * is REFOLD_EINVALID, naming the missing metadata.
 * Key-based "fields" are checked, and verified with the provider, as
 * refold_connect does. An oauth2 access token already expired is accepted
 * only with a refresh token still valid (the first read refreshes it; a
 * client-credentials one is always accepted, as a new one can be had), and a
 * refresh token only with a client (its own "client", or config
 * oauth_clients.<app>): nothing is stored that could never be used.
 * Errors name the member, never a value.
 *
 * The connection is sealed and saved as a connect saves one, and from then
 * on read, refreshed and revoked like any other: "connection.created" for
 * a new one, "connection.reauthenticated" when it replaces one (its
 * creation time kept). Returns once the change is durably committed; on
 * any error nothing is stored or changed.
 * Errors: REFOLD_EINVALID, REFOLD_ENOTFOUND (unknown app), and for a
 * key-based import with verification or a client-credentials import
 * without a token REFOLD_EAUTH, REFOLD_ENETWORK, REFOLD_ETIMEOUT,
 * REFOLD_EPROVIDER; REFOLD_ESTORE, REFOLD_ECRYPTO.
 * Thread-safe.
 */
REFOLD_EXTERN int refold_import_connection(refold_client *client, const char *account,
                                           const char *app, const char *credentials_json);

/*
 * Remove every connection of `app` for `account` and wipe its secrets.
 * The rows are deleted (durably) first; then, for an OAuth connection whose
 * app declares a revocation endpoint, the refresh token and then the access
 * token are revoked there (RFC 7009, with token_type_hint), or the app's
 * declared revocation request is sent (docs/catalog.md), best effort,
 * each bounded by 5 seconds (or http.timeout_ms if shorter). Whatever the
 * provider answers, nothing stays stored. Disconnecting what is not
 * connected succeeds and emits nothing; an app unknown to the catalog with
 * nothing stored is REFOLD_ENOTFOUND. Emits "connection.deleted" (reason
 * "disconnected", and "revoked" as described above) per removed connection.
 * Errors: REFOLD_EINVALID, REFOLD_ENOTFOUND, REFOLD_ESTORE. Thread-safe.
 */
REFOLD_EXTERN int refold_disconnect(refold_client *client, const char *account,
                                    const char *app);

/*
 * Remove every connection of `account` and wipe their secrets, revoking
 * OAuth tokens as refold_disconnect does. An account with no connections
 * succeeds and emits nothing. Emits
 * "connection.deleted" (reason "account_deleted") per removed connection.
 * Errors: REFOLD_EINVALID, REFOLD_ESTORE. Thread-safe.
 */
REFOLD_EXTERN int refold_delete_account(refold_client *client, const char *account);

/*
 * The credentials of `account`'s connection to `app`, as JSON in *json_out:
 *   {"auth_type":"keybased","fields":{...}}
 *   {"auth_type":"oauth2","access_token":"...","token_type":"Bearer",
 *    "expires_at":"<RFC 3339>" or null,"scopes":[...],
 *    "refresh_token_expires_at":"<RFC 3339>",
 *    "connection":{...},"metadata":{...},"api_base_url":"https://...",
 *    "user":{"access_token","token_type","expires_at","scopes","id"}}
 * "user" is a second token of the same grant, for an app that keeps one
 * (Slack's user token beside its bot token; docs/catalog.md, "Two
 * tokens"). "refresh_token_expires_at" appears when the provider (or the app's
 * default) gave the refresh token a lifetime; once it has passed, the next
 * refresh marks the connection reauth_required (reason "expired") without
 * asking the provider.
 * "connection" (the inputs the connection was made with, such as a
 * tenant's subdomain), "metadata" (strings kept from the provider's token response and
 * authorization callback, such as Salesforce's instance_url or QuickBooks'
 * realmId, or looked up after connecting, such as Jira's cloudId) and
 * "api_base_url" (where to call the provider's API for this connection)
 * appear when the app declares them (docs/catalog.md).
 * The refresh token is never returned. When an account has both auth types
 * of an app connected, the most recently updated one is returned.
 * Release *json_out with refold_free().
 *
 * An OAuth token is returned as stored while it is valid. Once it is
 * inside the refresh-ahead window (config refresh_ahead_ms) the call still
 * returns it at once and makes sure one refresh is under way in the
 * background (stale-while-revalidate); later calls get the new token when
 * it is saved. An expired token is never returned (the "user" token aside:
 * it is refreshed with the main one, and kept as it was when its refresh
 * fails for a passing reason): callers wait for the
 * one refresh in flight, whether this process or another one sharing the
 * store sends it (a lease on the row), and that refresh starts at once,
 * ahead of background work.
 * A rotated refresh token is durably stored before the new access token is
 * returned. When the refresh fails for a passing reason (5xx, 429, timeout,
 * network, malformed answer) the still-valid token is returned, the next
 * attempt backs off (honouring Retry-After) and "connection.refresh_failed"
 * is emitted; with the token expired the call fails with that failure's
 * code until the back-off ends, sending nothing. When the provider refuses
 * the refresh token (invalid_grant), or a token without a refresh token
 * expires, the connection becomes reauth_required ("connection.expired"
 * once) and from then on this call fails at once with REFOLD_EREAUTH,
 * without touching the network, until the user connects again.
 *
 * Errors: REFOLD_EINVALID, REFOLD_ENOTFOUND (no such connection),
 * REFOLD_EREAUTH (the user must connect again; refold_last_error says
 * why), REFOLD_EAUTH (the provider refused the app's OAuth client:
 * a config problem; tokens are kept), REFOLD_ENETWORK, REFOLD_ETIMEOUT,
 * REFOLD_EPROVIDER (a refresh of an expired token failed),
 * REFOLD_ECRYPTO (the stored record failed authentication: tampered or
 * moved; other connections are unaffected), REFOLD_ESTORE. Thread-safe.
 */
REFOLD_EXTERN int refold_get_credentials(refold_client *client, const char *account,
                                         const char *app, char **json_out);

/*
 * The catalog as a JSON array of Application objects, with `account`'s
 * connection state: slug, name, description, icon, category, docs_url,
 * tags, auth_types, auth_type_options ({"keybased":[input fields],
 * "oauth2":[its connection inputs], "oauth2_cc":[its connection inputs]:
 * a client-credentials connect also takes client_id and client_secret}),
 * connection_fields (the inputs refold_oauth_begin, or an oauth2_cc
 * connect, takes in "connection"; [] for most apps), connected,
 * reauth_required, connected_accounts[{auth_type, connected_at, status}].
 * With a NULL account, no app is connected. Release with refold_free().
 * Errors: REFOLD_EINVALID, REFOLD_ESTORE. Thread-safe.
 */
REFOLD_EXTERN int refold_list_apps(refold_client *client, const char *account,
                                   char **json_out);

/*
 * `account`'s connections (all accounts when NULL) as a JSON array of
 * {account, app, auth_type, status, reason, created_at, updated_at,
 * expires_at, next_refresh_at, refresh_failures[, connection, metadata,
 * api_base_url, refresh_token_expires_at]}: status "active" or
 * "reauth_required"; reason says why re-auth is required, or, for an
 * active connection, why its last refresh failed; times are RFC 3339 or
 * null.
 * Never contains a secret. Release with refold_free().
 * Errors: REFOLD_EINVALID, REFOLD_ESTORE. Thread-safe.
 */
REFOLD_EXTERN int refold_list_connections(refold_client *client, const char *account,
                                          char **json_out);

/*
 * One page of connections, filtered: for a store too large to list at
 * once (finding the connections that need re-auth among a million).
 *
 * `query_json` may be NULL, "{}" or an object with any of:
 *   "account"  only this account's connections
 *   "app"      only connections to this app (a slug)
 *   "status"   only "active" or only "reauth_required" connections
 *   "limit"    at most this many per page, 1 to 1000 (default 100)
 *   "cursor"   the next_cursor of the previous page of the same query
 * Sets *json_out to {"connections": [...], "next_cursor": "..."}: the
 * connections as refold_list_connections describes them, ordered by
 * account, app, auth type; next_cursor is null on the last page (a page
 * may be full and still the last). Release with refold_free().
 *
 * Paging is by key, not offset: a cursor continues after the last row it
 * was given, so connections added or removed between pages never make a
 * page repeat or skip another connection; one added behind the cursor is
 * not listed, one added ahead is. A cursor is opaque; it works with any
 * client of the same store (in any process) and only with the same
 * account, app and status filters (the limit may change). It is
 * authenticated, not encrypted: it holds the account and app of the last
 * connection listed.
 *
 * Errors: REFOLD_EINVALID for a query that is not a JSON object, an
 * unknown key, a value of the wrong type, a limit outside 1 to 1000, a
 * status other than the two above, an invalid account or app slug, or a
 * cursor this store did not make for this query (the message names the
 * key, never quotes a value); REFOLD_ESTORE. Thread-safe.
 */
REFOLD_EXTERN int refold_list_connections_page(refold_client *client, const char *query_json,
                                               char **json_out);

/*
 * Copy every connection of `from`'s store into `to`'s: how a SQLite store
 * moves into PostgreSQL (docs/deployment.md; `refold store copy`). Records
 * are sealed with their store's id, so each is opened with `from`'s keys
 * and sealed again with `to`'s (the two stores may have different master
 * keys). What is copied: the secrets, the non-secret config (connection
 * inputs, metadata, API base), the expiry and refresh schedule, and the
 * status: a connection that needs re-auth still does, with its reason.
 * In `to` each is a new connection (created now, no failure count), with
 * "connection.created" (and "connection.expired") events in `to`'s handler
 * and log; one that `to` already has is replaced. Pending OAuth flows and
 * the event log are not copied. Each connection is copied on its own (one
 * that needs re-auth is marked so right after, in a second transaction):
 * on an error the call stops, naming the connection, and what it copied
 * stays; running it again copies everything again. Connections changed in `from`
 * while it runs may be copied as they were before: stop the writers first
 * for an exact move.
 *
 * On success *report_json (release with refold_free) holds {"copied": n,
 * "reauth_required": m}. Errors: REFOLD_EINVALID (NULL arguments, or both
 * clients on the same store), REFOLD_ECRYPTO (a record `from` cannot open),
 * REFOLD_ESTORE. Thread-safe; blocks for as long as the copy takes.
 */
REFOLD_EXTERN int refold_copy_connections(refold_client *from, refold_client *to, char **report_json);

/* ---- The durable event log ------------------------------------------------ */

/*
 * Every event the handler gets (refold_set_event_handler) is also written to
 * the store, in the same transaction as the change it reports, by whichever
 * client or process made the change. A named consumer reads them all, at
 * least once and in the order the changes committed, whatever crashes in
 * between: it reads, handles, then acknowledges; what it has not
 * acknowledged it reads again, from any client of the store (its cursor is
 * kept in the store). This is how a host relays re-auth notices to its
 * users without dropping one when an instance dies between its commit and
 * its handler.
 *
 * Up to `max` (1 to 10000) events after `consumer`'s cursor go to *json_out
 * (release with refold_free) as {"events": [...], "missed": false}. Each
 * event is the handler's object (without "revoked", which is known only
 * after the commit) plus "seq", its position in the log. An empty array
 * means the consumer is up to date. A consumer never seen before (any
 * non-empty UTF-8 name of at most 256 bytes) starts at the oldest event
 * kept. Events are kept for event_retention (config, default "7d") and then
 * removed whether read or not; "missed" is true when some that the
 * consumer had not acknowledged were removed so. Reading changes nothing.
 * Errors: REFOLD_EINVALID (consumer, max), REFOLD_ESTORE. Thread-safe.
 */
REFOLD_EXTERN int refold_read_events(refold_client *client, const char *consumer, size_t max,
                                     char **json_out);

/*
 * Acknowledge `consumer`'s events up to and including `seq` (the "seq" of
 * the last event it handled): refold_read_events returns what comes after.
 * A cursor never moves back: acknowledging an older seq changes nothing.
 * Durable when it returns.
 * Errors: REFOLD_EINVALID (consumer; seq below 1 or past the last event
 * written), REFOLD_ESTORE. Thread-safe.
 */
REFOLD_EXTERN int refold_ack_events(refold_client *client, const char *consumer, int64_t seq);

/* ---- OAuth 2.0: two steps, for hosts that own their redirect URI -------- */

/*
 * Start connecting `app` (an "oauth2" app with an oauth_clients.<app>
 * registration in config, or the customer's own client in the options)
 * for `account`. Records a pending flow in the
 * store (so refold_oauth_complete may run in another process sharing it)
 * with a single-use state of 256 random bits, a PKCE S256 verifier (unless
 * the app turns PKCE off) and a 10-minute lifetime, and returns in
 * *authorize_url_out the provider URL to send the user to (release with
 * refold_free). It holds no secret.
 *
 * `options_json` may be NULL or an object with "redirect_uri" (default: the
 * registration's), "scopes" (array; default: the registration's, else the
 * app's), "params" (extra authorize parameters, only those the app
 * lists in extra_authorize_params) and "connection" (an object of the
 * inputs the app declares in connection_fields, such as {"subdomain":
 * "acme"}, checked like key-based fields; a value that goes into a host
 * name must be one DNS label, or for a host input (a field with
 * host_suffixes) a host name within those domains). The inputs stay with the connection and
 * fill the app's URLs for its code exchange, refreshes and revocation; a
 * host they choose is reached only at public addresses (docs/catalog.md).
 * "client": {"client_id", "client_secret"} is the customer's own OAuth
 * client (their own Slack app, their Salesforce connected app) for this
 * connection: the authorization, the code exchange, and then every refresh
 * and the revocation use it, never the host's registration (whose
 * redirect_uri and scopes still serve as defaults). Its secret is kept
 * sealed in the pending flow and then with the connection, and never
 * handed out; the credentials carry its "client_id".
 * Errors: REFOLD_EINVALID, REFOLD_ENOTFOUND, REFOLD_ESTORE. Thread-safe.
 */
REFOLD_EXTERN int refold_oauth_begin(refold_client *client, const char *account, const char *app,
                                     const char *options_json, char **authorize_url_out);

/*
 * Finish a flow with the full callback URL the browser reached. Checks the
 * state (unknown, reused or expired: REFOLD_ESTATE), the issuer where the
 * provider sends one (RFC 9207; a mismatch or a missing iss the provider
 * promises: REFOLD_ESTATE), refuses repeated parameters (REFOLD_EINVALID),
 * maps error=access_denied to REFOLD_ECANCELLED and other authorization
 * errors to REFOLD_EPROVIDER; in all these cases no token request is sent.
 * Then exchanges the code with the same redirect_uri, stores the tokens
 * encrypted, emits "connection.created" or "connection.reauthenticated", and
 * returns {"account","app","auth_type":"oauth2","status":"active"} in
 * *result_json_out (may be NULL; else release with refold_free).
 * A state is consumed by its first use, whatever the outcome.
 * Errors: also REFOLD_EAUTH (code or client rejected), REFOLD_ENETWORK,
 * REFOLD_ETIMEOUT, REFOLD_ESTORE. Thread-safe.
 */
REFOLD_EXTERN int refold_oauth_complete(refold_client *client, const char *callback_url,
                                        char **result_json_out);

/*
 * Replace how the interactive flow opens the authorization URL (default:
 * xdg-open / open). A NULL `cb` restores the default. free_payload, if not
 * NULL, is called with `payload` when the registration ends (replacement,
 * removal, refold_client_free). Errors: REFOLD_EINVALID. Thread-safe.
 */
REFOLD_EXTERN int refold_set_url_opener(refold_client *client, refold_open_url_cb cb,
                                        void *payload, void (*free_payload)(void *));

/* ---- Events ------------------------------------------------------------ */

/*
 * Register the client's event handler, replacing any previous one (whose
 * free_payload then runs once no call to it is in flight). A NULL `cb`
 * removes the handler. `free_payload`, if not NULL, is called with
 * `payload` when the registration ends: on replacement, removal or
 * refold_client_free(). Errors: REFOLD_EINVALID (NULL client). Thread-safe.
 */
REFOLD_EXTERN int refold_set_event_handler(refold_client *client, refold_event_cb cb,
                                           void *payload,
                                           void (*free_payload)(void *));

/* ---- Token lifecycle --------------------------------------------------- */

/*
 * Tell the client that an API call made with `account`'s current
 * credentials for `app` got HTTP 401. For an OAuth connection holding a
 * refresh token, the token is refreshed once (shared with any refresh
 * already running) and 0 is returned: read the credentials again and
 * retry. If the token the host used was already replaced (another thread
 * or process refreshed it), nothing is sent and 0 is returned. If the
 * provider refuses the refresh, or the token being reported came from such
 * a forced refresh (a second 401 in a row), or there is nothing to refresh
 * with (a key-based connection, no refresh token), the connection becomes
 * reauth_required (reason "unauthorized", or "invalid_grant"),
 * "connection.expired" is emitted and REFOLD_EREAUTH is returned.
 * Which token the host used is told by the calling thread: the client
 * remembers which version of the credentials it last returned to each
 * thread, for the 16 connections the thread read most recently. Report
 * from the thread that read the credentials. A report from a thread that
 * did not read them (or read 16 other connections since), within 10
 * seconds (client clock) of a refresh forced by an earlier report, is
 * taken for a late report about the token before it and returns 0 without
 * effect; after that it is final. If a refresh failed since the forced one,
 * the report's time says nothing and the token is refreshed once more
 * (which, while that failure backs off, returns its error).
 * Handlers of the events this emits run on the calling thread before it
 * returns. A connection already reauth_required gives REFOLD_EREAUTH.
 * Known limit: a host that overlaps requests on one thread (an event loop)
 * and re-reads the credentials before a late 401 on the old token arrives
 * can get that late 401 taken for a rejection of the refreshed token; a
 * host whose requests move between threads (goroutines, async code) cannot
 * report by thread at all. Such hosts use refold_report_unauthorized_token.
 * Errors: REFOLD_EINVALID, REFOLD_ENOTFOUND, REFOLD_EREAUTH, and the
 * refresh errors of refold_get_credentials. Thread-safe.
 */
REFOLD_EXTERN int refold_report_unauthorized(refold_client *client, const char *account,
                                             const char *app);

/*
 * refold_report_unauthorized, with the host saying which token got the
 * 401 instead of the calling thread: `access_token` is the "access_token"
 * value of the credentials the rejected request used, exactly as returned
 * (the bare token, not an Authorization header with "Bearer "). It is
 * borrowed for the call, compared in constant time (for a token of the
 * stored length) and never copied into errors, events or logs. If it is not
 * the connection's token (already replaced, or not a token this client
 * handed out), nothing is done and 0 is returned. If it is, the connection
 * is treated as refold_report_unauthorized treats a report from the thread
 * that read the current token: refreshed once and 0 returned, or, when
 * that token came from a refresh forced by an earlier 401, made
 * reauth_required with REFOLD_EREAUTH. Works from any thread at any time,
 * so it suits event loops, goroutines and async code. A key-based
 * connection has no token to compare: the report is told by thread, as
 * refold_report_unauthorized does. A connection already reauth_required
 * gives REFOLD_EREAUTH whatever the token. Handlers of the events this
 * emits run on the calling thread before it returns.
 * Errors: REFOLD_EINVALID (NULL or empty access_token, or over 64 KiB),
 * REFOLD_ENOTFOUND, REFOLD_EREAUTH, and the refresh errors of
 * refold_get_credentials. Thread-safe.
 */
REFOLD_EXTERN int refold_report_unauthorized_token(refold_client *client, const char *account,
                                                   const char *app, const char *access_token);

/*
 * Mark `account`'s connection to `app` (every auth type of it) as needing
 * re-authentication, for a host that learned from the provider (a webhook)
 * that the app was uninstalled, access revoked or the app deleted.
 * `reason` is a short word such as "uninstalled", "revoked" or "deleted"
 * (1 to 64 characters of A-Z a-z 0-9 _ . : -; NULL means "revoked"). Emits
 * "connection.expired" with that reason for each connection it changes;
 * marking one already reauth_required succeeds and changes nothing. Reads
 * then fail with REFOLD_EREAUTH until the user connects again. Takes
 * effect in other processes sharing the store within 100 ms.
 * Errors: REFOLD_EINVALID (bad reason), REFOLD_ENOTFOUND (no connection),
 * REFOLD_ESTORE. Thread-safe.
 */
REFOLD_EXTERN int refold_mark_reauth(refold_client *client, const char *account, const char *app,
                                     const char *reason);

/*
 * Replace the clock the client uses (for tests and simulations; see
 * refold_clock_cb). A NULL `cb` restores the system clock. free_payload,
 * if not NULL, is called with `payload` when the registration ends
 * (replacement, removal, refold_client_free). A value that is not a finite
 * number between 0 and 1e15 is ignored in favour of the system clock.
 * Errors: REFOLD_EINVALID (NULL client). Thread-safe.
 */
REFOLD_EXTERN int refold_set_clock(refold_client *client, refold_clock_cb cb, void *payload,
                                   void (*free_payload)(void *));

/* ---- Keys -------------------------------------------------------------- */

/*
 * Replace the master key with `new_key` (32 bytes, base64 or hex): every
 * data key is re-wrapped in one transaction, after which the store opens
 * only with the new key. If the client's key came from a key file, the file
 * is replaced with the new key (atomically; a crash mid-way leaves a key
 * that opens the store). Otherwise the host must supply the new key from
 * now on. Errors: REFOLD_EINVALID (malformed key), REFOLD_ESTORE,
 * REFOLD_ECRYPTO. Thread-safe.
 */
REFOLD_EXTERN int refold_rotate_master_key(refold_client *client, const char *new_key);

/*
 * Replace the data key (after it may have leaked, or by policy): a new
 * data key becomes current for every write at once, in this process and
 * in every other process on the store; each record sealed under an older
 * key is then re-encrypted under the new one, in batches of a few hundred,
 * each its own short transaction, so reads, refreshes and connects go on
 * meanwhile; last, the older keys are deleted from the store, and the
 * write-ahead log that held their old pages is checkpointed and emptied
 * when no other connection is reading at that moment (else when the WAL
 * is next reset, at the latest when the last client closes). Returns when
 * every record is under the new key. Other processes load the new key
 * when they first meet a record sealed under it, or before a refresh or a
 * code exchange; a process keeps the keys it has loaded in locked memory
 * until its client is freed. Every process on the store must run a refold
 * with this function before the first rotation.
 *
 * Resumable: if a rotation stopped part-way (a crash, a kill, an error),
 * the next call finishes it (without adding yet another key); until then
 * every record stays readable. Progress: refold_data_key_status().
 * Errors: REFOLD_EINVALID (NULL client), REFOLD_ESTORE, REFOLD_ECRYPTO (a
 * record fails authentication, which leaves it under its old key; or the
 * master key was rotated by another process and this client cannot read
 * the new one from its key file). Thread-safe; blocks for as long as the
 * re-encryption takes (bench/RESULTS.md has figures), so call it from a
 * thread of its own in a server.
 */
REFOLD_EXTERN int refold_rotate_data_key(refold_client *client);

/*
 * The store's data keys as JSON, for watching a rotation:
 * {"current_key": 2, "rotating": true, "records_to_reseal": 1234,
 *  "keys": [{"id": 1, "created_at": "...", "state": "retiring",
 *            "connections": 1200, "pending_flows": 34},
 *           {"id": 2, "created_at": "...", "state": "current", ...}]}
 * "rotating" is true while a retiring key remains; "records_to_reseal"
 * counts the records still under retiring keys. Never contains key
 * material. Release with refold_free(). Errors: REFOLD_EINVALID (NULL
 * client or json_out), REFOLD_ESTORE. Thread-safe.
 */
REFOLD_EXTERN int refold_data_key_status(refold_client *client, char **json_out);

#ifdef __cplusplus
}
#endif

#endif /* REFOLD_H */
