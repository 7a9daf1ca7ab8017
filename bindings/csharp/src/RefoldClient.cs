using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("RefoldTests")]

namespace Refold
{
    /// <summary>
    /// An open refold store with its catalog and master key: connect apps,
    /// read credentials, list connections, and hear about changes through
    /// .NET events. Safe to use from many threads at once. Dispose it when
    /// done; the runtime releases an undisposed client when it is collected.
    /// </summary>
    public sealed class RefoldClient : IDisposable
    {
        private readonly ClientHandle handle;
        private readonly Dispatcher dispatcher;

        /// <summary>The version of the loaded library, "MAJOR.MINOR.PATCH".</summary>
        public static string Version => Native.ReadUtf8(Native.refold_version());

        /// <summary>Opens a client. <paramref name="configJson"/> is the
        /// configuration object of refold_client_open (store, master_key,
        /// key_file, passphrase, catalog, oauth_clients, http, oauth, ...); null
        /// means every default.</summary>
        public RefoldClient(string configJson = null)
        {
            var config = Native.Utf8(configJson, "configJson");
            ClientHandle h = null;
            try { Run(() => Native.refold_client_open(out h, config)); }
            finally { Native.Wipe(config); }
            handle = h;
            dispatcher = new Dispatcher(this);
            Register(payload => Native.refold_set_event_handler(handle, Callbacks.Event, payload, Callbacks.Free));
        }

        /// <summary>Opens a client with a configuration object (dictionaries,
        /// lists, strings, numbers and booleans), written out as JSON.</summary>
        public RefoldClient(IDictionary<string, object> config) : this(Json.Serialize(config)) { }

        /// <summary>Closes the client after the calls in progress on it return;
        /// later calls throw ObjectDisposedException.</summary>
        public void Dispose() => handle.Dispose();

        // ---- Events ---------------------------------------------------------
        // Raised on the thread whose call caused the change, after it is
        // committed (for the background refresher's refreshes, on its thread).
        // A handler may call the client again. An exception thrown by a handler
        // comes out of the call that caused the event.

        /// <summary>Every event.</summary>
        public event EventHandler<ConnectionEventArgs> ConnectionChanged
        {
            add { lock (dispatcher) dispatcher.Changed += value; }
            remove { lock (dispatcher) dispatcher.Changed -= value; }
        }

        /// <summary>A new connection was saved.</summary>
        public event EventHandler<ConnectionEventArgs> ConnectionCreated
        {
            add { lock (dispatcher) dispatcher.Created += value; }
            remove { lock (dispatcher) dispatcher.Created -= value; }
        }

        /// <summary>An existing connection was connected again.</summary>
        public event EventHandler<ConnectionEventArgs> ConnectionReauthenticated
        {
            add { lock (dispatcher) dispatcher.Reauthenticated += value; }
            remove { lock (dispatcher) dispatcher.Reauthenticated -= value; }
        }

        /// <summary>An OAuth token was refreshed.</summary>
        public event EventHandler<ConnectionEventArgs> ConnectionRefreshed
        {
            add { lock (dispatcher) dispatcher.Refreshed += value; }
            remove { lock (dispatcher) dispatcher.Refreshed -= value; }
        }

        /// <summary>A refresh failed and will be retried (Reason, RetryAt).</summary>
        public event EventHandler<ConnectionEventArgs> ConnectionRefreshFailed
        {
            add { lock (dispatcher) dispatcher.RefreshFailed += value; }
            remove { lock (dispatcher) dispatcher.RefreshFailed -= value; }
        }

        /// <summary>The connection needs its user to connect again; Reason says why.</summary>
        public event EventHandler<ConnectionEventArgs> ConnectionExpired
        {
            add { lock (dispatcher) dispatcher.Expired += value; }
            remove { lock (dispatcher) dispatcher.Expired -= value; }
        }

        /// <summary>The connection was removed.</summary>
        public event EventHandler<ConnectionEventArgs> ConnectionDeleted
        {
            add { lock (dispatcher) dispatcher.Deleted += value; }
            remove { lock (dispatcher) dispatcher.Deleted -= value; }
        }

        // ---- Calls ----------------------------------------------------------

        /// <summary>The one place a native call's result is checked: the error
        /// detail is read at once on the calling thread, and an exception a
        /// handler threw during the call is thrown again here.</summary>
        private void Run(Func<int> call)
        {
            int rc;
            string detail = null;
            Callbacks.Enter();
            try
            {
                rc = call();
                if (rc != 0) detail = Native.ReadUtf8(Native.refold_last_error());
            }
            catch
            {
                Callbacks.Discard();
                throw;
            }
            Callbacks.Leave();
            GC.KeepAlive(this); // the dispatcher stays reachable through the call
            if (rc != 0) throw RefoldException.FromCode(rc, detail);
        }

        private string RunText(Func<Tuple<int, IntPtr>> call)
        {
            IntPtr text = IntPtr.Zero;
            Run(() =>
            {
                var r = call();
                text = r.Item2;
                return r.Item1;
            });
            return Native.Take(text);
        }

        private void Register(Func<IntPtr, int> set)
        {
            IntPtr payload = Callbacks.NewPayload(dispatcher);
            try { Run(() => set(payload)); }
            catch
            {
                Callbacks.FreePayload(payload); // the library did not take it
                throw;
            }
        }

        /// <summary>Connects <paramref name="app"/>'s key-based auth for
        /// <paramref name="account"/> with <paramref name="fields"/> (the app's
        /// input fields by name: strings, numbers or booleans). Connecting
        /// again replaces them. Errors name the wrong field, never its value. A
        /// client-credentials app (<see cref="Credentials.OAuth2CC"/>) is connected
        /// the same way, with its "client_id", "client_secret" and "connection" as
        /// fields; its credentials then hold the token fetched with that
        /// client.</summary>
        public void ConnectKeyBased(string account, string app, IDictionary<string, object> fields)
        {
            var a = Native.Utf8(account, nameof(account));
            var p = Native.Utf8(app, nameof(app));
            var payload = Native.Utf8(Json.Serialize(fields ?? new Dictionary<string, object>()), nameof(fields));
            try { Run(() => Native.refold_connect(handle, a, p, payload)); }
            finally { Native.Wipe(payload); }
        }

        /// <summary>Connects <paramref name="app"/>'s OAuth 2.0 auth for
        /// <paramref name="account"/> interactively: opens the authorization
        /// page through <see cref="UrlOpener"/> (default: the system browser),
        /// waits for the redirect to a loopback listener and saves the tokens.
        /// Blocks until then or the interactive timeout
        /// (<see cref="ErrorCode.Timeout"/>).</summary>
        public void ConnectOAuth(string account, string app)
        {
            var a = Native.Utf8(account, nameof(account));
            var p = Native.Utf8(app, nameof(app));
            Run(() => Native.refold_connect(handle, a, p, null));
        }

        /// <summary><see cref="ConnectOAuth(string, string)"/> with the options
        /// <see cref="BeginOAuth"/> takes: scopes, extra parameters, connection
        /// inputs (an app that requires inputs is connected this way) and the
        /// customer's own client. A <see cref="OAuthOptions.RedirectUri"/> is
        /// <see cref="ErrorCode.Invalid"/>: the flow redirects to its own
        /// listener. Inputs are checked before a browser opens; errors name the
        /// input, never its value.</summary>
        public void ConnectOAuth(string account, string app, OAuthOptions options)
        {
            var a = Native.Utf8(account, nameof(account));
            var p = Native.Utf8(app, nameof(app));
            var o = options == null ? null : Native.Utf8(options.ToJson(), nameof(options));
            try { Run(() => Native.refold_connect_oauth(handle, a, p, o)); }
            finally { Native.Wipe(o); } // it may hold a customer's client secret
        }

        /// <summary>Saves a connection made elsewhere (another system's tokens
        /// or keys) for <paramref name="account"/> and <paramref name="app"/>,
        /// without the user, as refold.h refold_import_connection describes:
        /// <paramref name="credentials"/> holds "auth_type" ("oauth2" or
        /// "keybased"), "access_token", "refresh_token", "token_type",
        /// "expires_at" (RFC 3339, or null for never),
        /// "refresh_token_expires_at", "scopes", "metadata" and "connection",
        /// or "fields" for a key-based app. It is checked as a connect is,
        /// then kept fresh like any connection. Errors name the member that is
        /// wrong, never its value; on error nothing is stored.</summary>
        public void ImportConnection(string account, string app, IDictionary<string, object> credentials)
        {
            if (credentials == null) throw new ArgumentNullException(nameof(credentials));
            var a = Native.Utf8(account, nameof(account));
            var p = Native.Utf8(app, nameof(app));
            var payload = Native.Utf8(Json.Serialize(credentials), nameof(credentials));
            try { Run(() => Native.refold_import_connection(handle, a, p, payload)); }
            finally { Native.Wipe(payload); }
        }

        /// <summary>Removes every connection of <paramref name="app"/> for
        /// <paramref name="account"/> and wipes its secrets (revoking OAuth
        /// tokens where the app can). Disconnecting what is not connected
        /// succeeds.</summary>
        public void Disconnect(string account, string app)
        {
            var a = Native.Utf8(account, nameof(account));
            var p = Native.Utf8(app, nameof(app));
            Run(() => Native.refold_disconnect(handle, a, p));
        }

        /// <summary>Removes every connection of <paramref name="account"/>.</summary>
        public void DeleteAccount(string account)
        {
            var a = Native.Utf8(account, nameof(account));
            Run(() => Native.refold_delete_account(handle, a));
        }

        /// <summary>The account's credentials for the app. Throws
        /// <see cref="ReauthRequiredException"/> when its user must connect
        /// again, RefoldException with <see cref="ErrorCode.NotFound"/> when
        /// it is not connected.</summary>
        public Credentials GetCredentials(string account, string app)
        {
            var a = Native.Utf8(account, nameof(account));
            var p = Native.Utf8(app, nameof(app));
            return Credentials.Parse(RunText(() =>
            {
                IntPtr json;
                int rc = Native.refold_get_credentials(handle, a, p, out json);
                return Tuple.Create(rc, json);
            }));
        }

        /// <summary>The catalog with <paramref name="account"/>'s connection
        /// state (null: no account).</summary>
        public IReadOnlyList<App> ListApps(string account = null)
        {
            var a = Native.Utf8(account, nameof(account));
            return App.ParseList(RunText(() =>
            {
                IntPtr json;
                int rc = Native.refold_list_apps(handle, a, out json);
                return Tuple.Create(rc, json);
            }));
        }

        /// <summary>The account's connections (null: every account's). No secrets.</summary>
        public IReadOnlyList<Connection> ListConnections(string account = null)
        {
            var a = Native.Utf8(account, nameof(account));
            return Connection.ParseList(RunText(() =>
            {
                IntPtr json;
                int rc = Native.refold_list_connections(handle, a, out json);
                return Tuple.Create(rc, json);
            }));
        }

        /// <summary>One page of the connections <paramref name="query"/> selects,
        /// in (account, app, auth type) order. Set the page's NextCursor as
        /// the query's Cursor (with the same Account, App and Status) for the
        /// next page, until it is null. Pages are by key: connections added or
        /// removed between pages never make another one repeat or go missing.
        /// A RefoldException with ErrorCode.Invalid names the query's key that
        /// is wrong (a Limit outside 1 to 1000, an unknown Status, a cursor of
        /// another query or store).</summary>
        public ConnectionPage ListConnectionsPage(ConnectionQuery query)
        {
            if (query == null) throw new ArgumentNullException(nameof(query));
            var q = Native.Utf8(query.ToJson(), nameof(query));
            return ConnectionPage.Parse(RunText(() =>
            {
                IntPtr json;
                int rc = Native.refold_list_connections_page(handle, q, out json);
                return Tuple.Create(rc, json);
            }));
        }

        /// <summary>Copies every connection of this client's store into
        /// <paramref name="to"/>'s, as refold.h refold_copy_connections
        /// describes: how a SQLite store moves into PostgreSQL. Each record is
        /// opened with this client's keys and sealed again with
        /// <paramref name="to"/>'s (the stores may have different master keys),
        /// with its non-secret config, expiry and refresh schedule and status
        /// (one that needs re-auth still does). In <paramref name="to"/> each
        /// is a new connection, raising <see cref="ConnectionCreated"/> (and
        /// <see cref="ConnectionExpired"/>) on <paramref name="to"/> and
        /// written to its event log; one that <paramref name="to"/> already has
        /// is replaced. Pending OAuth flows and the event log are not copied.
        /// Each connection is its own transaction: on an error the copy stops,
        /// naming the connection, and what it copied stays; copying again
        /// copies everything again. Stop the writers of this store first for an
        /// exact move. Blocks for as long as the copy takes; neither client is
        /// released meanwhile (Dispose waits). A RefoldException with
        /// <see cref="ErrorCode.Invalid"/> when <paramref name="to"/> is this
        /// client or a client of the same store, <see cref="ErrorCode.Crypto"/>
        /// for a record this client cannot open, <see cref="ErrorCode.Store"/>;
        /// ObjectDisposedException when either client is disposed.</summary>
        public CopyReport CopyConnectionsTo(RefoldClient to)
        {
            if (to == null) throw new ArgumentNullException(nameof(to));
            try
            {
                return CopyReport.Parse(RunText(() =>
                {
                    IntPtr json;
                    int rc = Native.refold_copy_connections(handle, to.handle, out json);
                    return Tuple.Create(rc, json);
                }));
            }
            finally { GC.KeepAlive(to); } // to's dispatcher raises its events through the call
        }

        /// <summary>Up to <paramref name="max"/> (1 to 10000) events of the
        /// durable event log after <paramref name="consumer"/>'s cursor, oldest
        /// first: every event the handlers get, kept in the store with the
        /// change it reports, whichever client or process made it. A consumer
        /// (a name of your choosing, kept in the store) reads, handles, then
        /// acknowledges with <see cref="AckEvents"/>; what it has not
        /// acknowledged it reads again, from any client of the store, so no
        /// event is lost when a process dies between a change and its
        /// handler. A consumer never seen before starts at the oldest event
        /// kept. Reading changes nothing. Empty Events mean the consumer is up
        /// to date; Missed, that events it had not acknowledged outlived the
        /// event_retention and were removed. A RefoldException with
        /// <see cref="ErrorCode.Invalid"/> names the argument that is wrong
        /// (consumer, max).</summary>
        public EventPage ReadEvents(string consumer, int max)
        {
            var c = Native.Utf8(consumer, nameof(consumer));
            var n = new UIntPtr(max < 0 ? 0u : (uint)max); // out of range: the library names it
            return EventPage.Parse(RunText(() =>
            {
                IntPtr json;
                int rc = Native.refold_read_events(handle, c, n, out json);
                return Tuple.Create(rc, json);
            }));
        }

        /// <summary>Acknowledges <paramref name="consumer"/>'s events up to and
        /// including <paramref name="seq"/> (the Seq of the last event it
        /// handled): <see cref="ReadEvents"/> then returns what comes after. A
        /// cursor never moves back: acknowledging an older seq changes nothing.
        /// Durable when it returns. A RefoldException with
        /// <see cref="ErrorCode.Invalid"/> for a bad consumer, or a seq below 1
        /// or past the last event written.</summary>
        public void AckEvents(string consumer, long seq)
        {
            var c = Native.Utf8(consumer, nameof(consumer));
            Run(() => Native.refold_ack_events(handle, c, seq));
        }

        /// <summary>Starts connecting an OAuth app, for a host that owns its
        /// redirect URI: returns the authorization URL to send the user to (it
        /// holds no secret).</summary>
        public string BeginOAuth(string account, string app, OAuthOptions options = null)
        {
            var a = Native.Utf8(account, nameof(account));
            var p = Native.Utf8(app, nameof(app));
            var o = options == null ? null : Native.Utf8(options.ToJson(), nameof(options));
            try
            {
                return RunText(() =>
                {
                    IntPtr url;
                    int rc = Native.refold_oauth_begin(handle, a, p, o, out url);
                    return Tuple.Create(rc, url);
                });
            }
            finally { Native.Wipe(o); } // it may hold a customer's client secret
        }

        /// <summary>Finishes a flow with the full callback URL the browser
        /// reached. <see cref="ErrorCode.State"/> for an unknown, reused or
        /// expired state; <see cref="ErrorCode.Cancelled"/> when the user
        /// denied access.</summary>
        public OAuthResult CompleteOAuth(string callbackUrl)
        {
            var u = Native.Utf8(callbackUrl, nameof(callbackUrl));
            try
            {
                return OAuthResult.Parse(RunText(() =>
                {
                    IntPtr json;
                    int rc = Native.refold_oauth_complete(handle, u, out json);
                    return Tuple.Create(rc, json);
                }));
            }
            finally { Native.Wipe(u); }
        }

        /// <summary>How <see cref="ConnectOAuth"/> opens the authorization URL;
        /// null (the default) is the system browser. It runs on the thread
        /// calling ConnectOAuth before the library waits for the browser's
        /// redirect, so it must hand the URL off (to a browser, a task) and
        /// return. An exception thrown by it cancels the flow and comes out of
        /// ConnectOAuth.</summary>
        public Action<string> UrlOpener
        {
            get { return dispatcher.UrlOpener; }
            set
            {
                lock (dispatcher)
                {
                    dispatcher.UrlOpener = value;
                    if (value == null) Run(() => Native.refold_set_url_opener(handle, null, IntPtr.Zero, null));
                    else Register(payload => Native.refold_set_url_opener(handle, Callbacks.OpenUrl, payload, Callbacks.Free));
                }
            }
        }

        /// <summary>The clock the client uses for token expiry, refresh
        /// scheduling and timestamps, for tests and simulations; null (the
        /// default) is the system clock. It may run on any thread, including
        /// the background refresher's; it must be fast and must not call the
        /// client. When it throws, the system clock is used for that
        /// reading.</summary>
        public Func<DateTimeOffset> Clock
        {
            get { return dispatcher.Clock; }
            set
            {
                lock (dispatcher)
                {
                    dispatcher.Clock = value;
                    if (value == null) Run(() => Native.refold_set_clock(handle, null, IntPtr.Zero, null));
                    else Register(payload => Native.refold_set_clock(handle, Callbacks.Clock, payload, Callbacks.Free));
                }
            }
        }

        /// <summary>Marks the account's connection to the app as needing
        /// re-authentication, for a host that learned from the provider (a
        /// webhook) that access ended. <paramref name="reason"/> is a short word
        /// such as "uninstalled", "revoked" or "deleted" (null: "revoked").
        /// Raises <see cref="ConnectionExpired"/> for each connection it
        /// changes; reads then throw <see cref="ReauthRequiredException"/>
        /// until the user connects again.</summary>
        public void MarkReauth(string account, string app, string reason = null)
        {
            var a = Native.Utf8(account, nameof(account));
            var p = Native.Utf8(app, nameof(app));
            var r = Native.Utf8(reason, nameof(reason));
            Run(() => Native.refold_mark_reauth(handle, a, p, r));
        }

        /// <summary>Tells the client that an API call made with the account's
        /// current credentials for the app got HTTP 401. Returns when the OAuth
        /// token could be refreshed: read the credentials again and retry.
        /// Throws <see cref="ReauthRequiredException"/> (and raises
        /// <see cref="ConnectionExpired"/>) when the user must connect again.
        /// The library tells which token the 401 was about by the thread that
        /// read it: after an <c>await</c> the thread may differ, so async code
        /// uses the overload that names the token.</summary>
        public void ReportUnauthorized(string account, string app)
        {
            var a = Native.Utf8(account, nameof(account));
            var p = Native.Utf8(app, nameof(app));
            Run(() => Native.refold_report_unauthorized(handle, a, p));
        }

        /// <summary>Tells the client that an API call made with
        /// <paramref name="accessToken"/> (the AccessToken of the account's
        /// credentials for the app, the bare token, not the "Bearer ..."
        /// header) got HTTP 401; works from any thread,
        /// before or after an <c>await</c>. If that token was already
        /// replaced, nothing happens: read the credentials again and retry.
        /// Otherwise as <see cref="ReportUnauthorized(string, string)"/> for the
        /// current token. For a key-based connection the token is not
        /// compared: the report is told by thread. A null or empty token throws
        /// <see cref="RefoldException"/> with <see cref="ErrorCode.Invalid"/>.</summary>
        public void ReportUnauthorized(string account, string app, string accessToken)
        {
            var a = Native.Utf8(account, nameof(account));
            var p = Native.Utf8(app, nameof(app));
            var t = Native.Utf8(accessToken, nameof(accessToken));
            try { Run(() => Native.refold_report_unauthorized_token(handle, a, p, t)); }
            finally { Native.Wipe(t); }
        }

        /// <summary>Replaces the master key with <paramref name="newKey"/> (32
        /// bytes, base64 or hex); the store then opens only with the new key.</summary>
        public void RotateMasterKey(string newKey)
        {
            var k = Native.Utf8(newKey, nameof(newKey));
            try { Run(() => Native.refold_rotate_master_key(handle, k)); }
            finally { Native.Wipe(k); }
        }

        /// <summary>Replaces the store's data key: a new key becomes current for
        /// every write, every record is re-encrypted under it in short batches
        /// (reads and refreshes go on meanwhile, in every process), then the
        /// older keys are deleted. Finishes a rotation that stopped part-way
        /// instead of starting another. Blocks until done: run it on a thread
        /// of its own; <see cref="GetDataKeyStatus"/> shows its progress.</summary>
        public void RotateDataKey()
        {
            Run(() => Native.refold_rotate_data_key(handle));
        }

        /// <summary>The store's data keys and how many records each seals
        /// (never key material).</summary>
        public DataKeyStatus GetDataKeyStatus()
        {
            return DataKeyStatus.Parse(RunText(() =>
            {
                IntPtr json;
                int rc = Native.refold_data_key_status(handle, out json);
                return Tuple.Create(rc, json);
            }));
        }
    }
}
