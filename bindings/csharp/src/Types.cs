// Typed results: the JSON the library returns, read into classes.
using System;
using System.Collections.Generic;
using System.Linq;

namespace Refold
{
    /// <summary>The credentials of one connection. Key-based: <see cref="Fields"/>.
    /// OAuth 2.0 (<see cref="OAuth2"/>, or <see cref="OAuth2CC"/> for a
    /// client-credentials app): <see cref="AccessToken"/>, <see cref="TokenType"/>,
    /// <see cref="ExpiresAt"/>, <see cref="Scopes"/>, <see cref="ClientId"/>,
    /// <see cref="User"/>, and <see cref="Connection"/>, <see cref="Metadata"/> and
    /// <see cref="ApiBaseUrl"/> when the app declares them. The refresh token never
    /// leaves the library, nor does a customer's client secret. ToString shows no
    /// secret.</summary>
    public sealed class Credentials
    {
        public const string OAuth2 = "oauth2";
        public const string KeyBased = "keybased";

        /// <summary>An app of the client-credentials grant (docs/catalog.md): its
        /// token comes from the customer's client id and secret, not from a
        /// user.</summary>
        public const string OAuth2CC = "oauth2_cc";

        /// <summary>"keybased", "oauth2" or "oauth2_cc".</summary>
        public string AuthType { get; private set; }

        /// <summary>Key-based fields by name: string, long, double or bool values.</summary>
        public IReadOnlyDictionary<string, object> Fields { get; private set; }

        public string AccessToken { get; private set; }
        public string TokenType { get; private set; }

        /// <summary>Null when the provider gave no expiry.</summary>
        public DateTimeOffset? ExpiresAt { get; private set; }

        public IReadOnlyList<string> Scopes { get; private set; }

        /// <summary>The customer's own client the connection was made with
        /// (<see cref="OAuthOptions.Client"/>, or the client_id a
        /// client-credentials app was connected with); null for the host's
        /// registration.</summary>
        public string ClientId { get; private set; }

        /// <summary>A second token of the same grant (Slack's user token), when the
        /// app keeps one; null otherwise.</summary>
        public UserToken User { get; private set; }

        /// <summary>The connection inputs it was made with (the app's
        /// connection_fields, such as a tenant's subdomain), by name; empty when the
        /// app has none.</summary>
        public IReadOnlyDictionary<string, string> Connection { get; private set; }

        /// <summary>Values kept from the provider's answers (the app's
        /// token_response_metadata, callback_metadata and after_connect, such as
        /// Salesforce's instance_url), by name; empty when the app keeps
        /// none.</summary>
        public IReadOnlyDictionary<string, string> Metadata { get; private set; }

        /// <summary>Where to call the provider's API for this connection (the app's
        /// api_base_url, filled in); null when the app declares none.</summary>
        public string ApiBaseUrl { get; private set; }

        internal static Credentials Parse(string json)
        {
            var o = Json.Object(Json.Parse(json));
            var c = new Credentials
            {
                AuthType = Json.Str(o, "auth_type"),
                Fields = new Dictionary<string, object>(),
                Scopes = Json.Strings(o, "scopes"),
                Connection = new Dictionary<string, string>(),
                Metadata = new Dictionary<string, string>(),
            };
            if (c.AuthType == KeyBased)
            {
                object fields;
                o.TryGetValue("fields", out fields);
                c.Fields = Json.Object(fields);
            }
            else if (c.AuthType == OAuth2 || c.AuthType == OAuth2CC)
            {
                c.AccessToken = Json.Str(o, "access_token");
                c.TokenType = Json.Str(o, "token_type");
                c.ExpiresAt = Json.OptTime(o, "expires_at");
                c.ClientId = Json.OptStr(o, "client_id");
                c.Connection = Json.StringMap(o, "connection");
                c.Metadata = Json.StringMap(o, "metadata");
                c.ApiBaseUrl = Json.OptStr(o, "api_base_url");
                object user;
                if (o.TryGetValue("user", out user) && user != null) c.User = UserToken.Parse(Json.Object(user));
            }
            else throw Json.Unexpected("auth_type");
            return c;
        }

        public override string ToString()
        {
            if (AuthType == KeyBased)
                return "keybased credentials (fields " + string.Join(", ", Fields.Keys.OrderBy(k => k, StringComparer.Ordinal)) + ")";
            string client = ClientId != null ? ", client " + ClientId : "";
            // Not secret: the inputs, the metadata and the API base are shown.
            string extra = (Connection.Count > 0 ? ", connection " + Pairs(Connection) : "") +
                           (Metadata.Count > 0 ? ", metadata " + Pairs(Metadata) : "") +
                           (ApiBaseUrl != null ? ", api base " + ApiBaseUrl : "");
            string user = User != null ? "; " + User : "";
            return AuthType + " credentials (" + TokenType + " token, " + Expiry(ExpiresAt) + ", scopes " + string.Join(" ", Scopes) + client + extra + user + ")";
        }

        static string Pairs(IReadOnlyDictionary<string, string> map) =>
            "{" + string.Join(" ", map.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => p.Key + "=" + p.Value)) + "}";

        internal static string Expiry(DateTimeOffset? at) => at.HasValue ? "expires " + at.Value.ToString("u") : "no expiry";
    }

    /// <summary>The second token an OAuth grant may carry beside the connection's
    /// own (Slack's user token beside its bot token). ToString shows no
    /// token.</summary>
    public sealed class UserToken
    {
        public string AccessToken { get; private set; }
        public string TokenType { get; private set; }

        /// <summary>Null when the provider gave no expiry.</summary>
        public DateTimeOffset? ExpiresAt { get; private set; }

        public IReadOnlyList<string> Scopes { get; private set; }

        /// <summary>The user the token acts for, when the provider names them;
        /// null otherwise.</summary>
        public string Id { get; private set; }

        internal static UserToken Parse(Dictionary<string, object> o)
        {
            return new UserToken
            {
                AccessToken = Json.Str(o, "access_token"),
                TokenType = Json.Str(o, "token_type"),
                ExpiresAt = Json.OptTime(o, "expires_at"),
                Scopes = Json.Strings(o, "scopes"),
                Id = Json.OptStr(o, "id"),
            };
        }

        public override string ToString()
        {
            string name = Id != null ? "user token of " + Id : "user token";
            return name + " (" + TokenType + ", " + Credentials.Expiry(ExpiresAt) + ", scopes " + string.Join(" ", Scopes) + ")";
        }
    }

    /// <summary>An app of the catalog with an account's connection state, in the
    /// shape a connection UI needs.</summary>
    public sealed class App
    {
        public string Slug { get; private set; }
        public string Name { get; private set; }
        public string Description { get; private set; }
        public string Icon { get; private set; }

        /// <summary>crm, support, ... (docs/catalog.md); "" when the app has none.</summary>
        public string Category { get; private set; }

        /// <summary>The provider's API documentation; "" when not given.</summary>
        public string DocsUrl { get; private set; }

        public IReadOnlyList<string> Tags { get; private set; }

        /// <summary>"oauth2", "keybased" or both.</summary>
        public IReadOnlyList<string> AuthTypes { get; private set; }

        /// <summary>The fields key-based auth asks for (empty without it).</summary>
        public IReadOnlyList<InputField> KeyBasedFields { get; private set; }

        /// <summary>The inputs an OAuth connection is made with (a tenant's
        /// subdomain), given to OAuthBegin's options as "connection"; empty for
        /// most apps.</summary>
        public IReadOnlyList<InputField> ConnectionFields { get; private set; }

        public bool Connected { get; private set; }
        public bool ReauthRequired { get; private set; }
        public IReadOnlyList<ConnectedAccount> ConnectedAccounts { get; private set; }

        internal static List<App> ParseList(string json)
        {
            return Json.Array(Json.Parse(json)).Select(item =>
            {
                var o = Json.Object(item);
                object options;
                var fields = o.TryGetValue("auth_type_options", out options)
                    ? Json.OptArray(Json.Object(options), "keybased") : new List<object>();
                return new App
                {
                    Slug = Json.Str(o, "slug"),
                    Name = Json.Str(o, "name"),
                    Description = Json.OptStr(o, "description") ?? "",
                    Icon = Json.OptStr(o, "icon") ?? "",
                    Category = Json.OptStr(o, "category") ?? "",
                    DocsUrl = Json.OptStr(o, "docs_url") ?? "",
                    Tags = Json.Strings(o, "tags"),
                    AuthTypes = Json.Strings(o, "auth_types"),
                    KeyBasedFields = fields.Select(f => InputField.Parse(Json.Object(f))).ToList(),
                    ConnectionFields = Json.OptArray(o, "connection_fields")
                        .Select(f => InputField.Parse(Json.Object(f))).ToList(),
                    Connected = Json.Bool(o, "connected"),
                    ReauthRequired = Json.Bool(o, "reauth_required"),
                    ConnectedAccounts = Json.OptArray(o, "connected_accounts")
                        .Select(a => ConnectedAccount.Parse(Json.Object(a))).ToList(),
                };
            }).ToList();
        }
    }

    /// <summary>A field a key-based app asks for.</summary>
    public sealed class InputField
    {
        public string Name { get; private set; }
        public string Label { get; private set; }

        /// <summary>"text", "number", "boolean" or "select".</summary>
        public string Type { get; private set; }

        public bool Required { get; private set; }
        public bool Secret { get; private set; }
        public string Placeholder { get; private set; }
        public string HelpText { get; private set; }
        public string Pattern { get; private set; }
        public long? MinLength { get; private set; }
        public long? MaxLength { get; private set; }
        public double? Minimum { get; private set; }
        public double? Maximum { get; private set; }

        /// <summary>The choices of a select field: label (Key) and value.</summary>
        public IReadOnlyList<KeyValuePair<string, string>> Options { get; private set; }

        /// <summary>A host input's domains: the value is a whole host name equal to
        /// one of them or ending in "." and one; empty for other fields.</summary>
        public IReadOnlyList<string> HostSuffixes { get; private set; }

        internal static InputField Parse(Dictionary<string, object> o)
        {
            return new InputField
            {
                Name = Json.Str(o, "name"),
                Label = Json.OptStr(o, "label") ?? "",
                Type = Json.Str(o, "type"),
                Required = Json.Bool(o, "required"),
                Secret = Json.Bool(o, "secret"),
                Placeholder = Json.OptStr(o, "placeholder") ?? "",
                HelpText = Json.OptStr(o, "help_text") ?? "",
                Pattern = Json.OptStr(o, "pattern"),
                MinLength = Json.OptLong(o, "min_length"),
                MaxLength = Json.OptLong(o, "max_length"),
                Minimum = Json.OptDouble(o, "minimum"),
                Maximum = Json.OptDouble(o, "maximum"),
                Options = Json.OptArray(o, "options").Select(x =>
                {
                    var opt = Json.Object(x);
                    return new KeyValuePair<string, string>(Json.Str(opt, "name"), Json.Str(opt, "value"));
                }).ToList(),
                HostSuffixes = Json.Strings(o, "host_suffixes"),
            };
        }
    }

    /// <summary>One connection of an app, in a listing of apps.</summary>
    public sealed class ConnectedAccount
    {
        public string AuthType { get; private set; }
        public DateTimeOffset ConnectedAt { get; private set; }

        /// <summary>"active" or "expired".</summary>
        public string Status { get; private set; }

        public string Reason { get; private set; }

        internal static ConnectedAccount Parse(Dictionary<string, object> o)
        {
            return new ConnectedAccount
            {
                AuthType = Json.Str(o, "auth_type"),
                ConnectedAt = Json.Time(o, "connected_at"),
                Status = Json.Str(o, "status"),
                Reason = Json.OptStr(o, "reason"),
            };
        }
    }

    /// <summary>One (account, app, auth type) connection. It holds no secret.</summary>
    public sealed class Connection
    {
        public string Account { get; private set; }
        public string App { get; private set; }
        public string AuthType { get; private set; }

        /// <summary>"active" or "reauth_required".</summary>
        public string Status { get; private set; }

        /// <summary>Why re-auth is required, or for an active connection why its
        /// last refresh failed; null when none.</summary>
        public string Reason { get; private set; }

        public DateTimeOffset CreatedAt { get; private set; }
        public DateTimeOffset UpdatedAt { get; private set; }

        /// <summary>The OAuth token's expiry, if any.</summary>
        public DateTimeOffset? ExpiresAt { get; private set; }

        /// <summary>When a refresh is due, if any.</summary>
        public DateTimeOffset? NextRefreshAt { get; private set; }

        public long RefreshFailures { get; private set; }

        /// <summary>When the refresh token lapses, when the provider said so; null
        /// otherwise. After it the connection is reauth_required (reason
        /// "expired").</summary>
        public DateTimeOffset? RefreshTokenExpiresAt { get; private set; }

        /// <summary>The connection inputs it was made with, as in
        /// <see cref="Credentials.Connection"/>; empty when the app has none.</summary>
        public IReadOnlyDictionary<string, string> ConnectionInputs { get; private set; }

        /// <summary>Values kept from the provider's answers, as in
        /// <see cref="Credentials.Metadata"/>; empty when the app keeps none.</summary>
        public IReadOnlyDictionary<string, string> Metadata { get; private set; }

        /// <summary>Where to call the provider's API for this connection; null
        /// when the app declares none.</summary>
        public string ApiBaseUrl { get; private set; }

        internal static Connection FromJson(object item)
        {
            var o = Json.Object(item);
            return new Connection
            {
                Account = Json.Str(o, "account"),
                App = Json.Str(o, "app"),
                AuthType = Json.Str(o, "auth_type"),
                Status = Json.Str(o, "status"),
                Reason = Json.OptStr(o, "reason"),
                CreatedAt = Json.Time(o, "created_at"),
                UpdatedAt = Json.Time(o, "updated_at"),
                ExpiresAt = Json.OptTime(o, "expires_at"),
                NextRefreshAt = Json.OptTime(o, "next_refresh_at"),
                RefreshFailures = Json.OptLong(o, "refresh_failures") ?? 0,
                RefreshTokenExpiresAt = Json.OptTime(o, "refresh_token_expires_at"),
                ConnectionInputs = Json.StringMap(o, "connection"),
                Metadata = Json.StringMap(o, "metadata"),
                ApiBaseUrl = Json.OptStr(o, "api_base_url"),
            };
        }

        internal static List<Connection> ParseList(string json)
        {
            return Json.Array(Json.Parse(json)).Select(FromJson).ToList();
        }
    }

    /// <summary>Which connections <see cref="RefoldClient.ListConnectionsPage"/>
    /// lists; each null selects everything.</summary>
    public sealed class ConnectionQuery
    {
        /// <summary>One account's connections.</summary>
        public string Account { get; set; }

        /// <summary>Connections to one app (a slug).</summary>
        public string App { get; set; }

        /// <summary>"active" or "reauth_required".</summary>
        public string Status { get; set; }

        /// <summary>At most this many per page, 1 to 1000 (null: 100).</summary>
        public int? Limit { get; set; }

        /// <summary>The previous page's NextCursor; null: the first page.</summary>
        public string Cursor { get; set; }

        internal string ToJson()
        {
            var o = new Dictionary<string, object>();
            if (Account != null) o["account"] = Account;
            if (App != null) o["app"] = App;
            if (Status != null) o["status"] = Status;
            if (Limit.HasValue) o["limit"] = Limit.Value;
            if (Cursor != null) o["cursor"] = Cursor;
            return Json.Serialize(o);
        }
    }

    /// <summary>One page of <see cref="RefoldClient.ListConnectionsPage"/>.</summary>
    public sealed class ConnectionPage
    {
        /// <summary>In (account, app, auth type) order.</summary>
        public IReadOnlyList<Connection> Connections { get; private set; }

        /// <summary>The cursor of the next page of the same query (opaque;
        /// good for any client of the same store); null on the last page.</summary>
        public string NextCursor { get; private set; }

        internal static ConnectionPage Parse(string json)
        {
            var o = Json.Object(Json.Parse(json));
            object list;
            if (!o.TryGetValue("connections", out list)) throw Json.Unexpected("connections");
            return new ConnectionPage
            {
                Connections = Json.Array(list).Select(Connection.FromJson).ToList(),
                NextCursor = Json.OptStr(o, "next_cursor"),
            };
        }
    }

    /// <summary>The store's data keys (see RefoldClient.RotateDataKey).</summary>
    public sealed class DataKeyStatus
    {
        /// <summary>The key every write seals under.</summary>
        public long CurrentKey { get; private set; }

        /// <summary>True while a retiring key remains: a rotation is under way,
        /// or stopped part-way (RotateDataKey finishes it).</summary>
        public bool Rotating { get; private set; }

        /// <summary>Records still under retiring keys.</summary>
        public long RecordsToReseal { get; private set; }

        /// <summary>Oldest first.</summary>
        public IReadOnlyList<DataKey> Keys { get; private set; }

        internal static DataKeyStatus Parse(string json)
        {
            var o = Json.Object(Json.Parse(json));
            return new DataKeyStatus
            {
                CurrentKey = Json.OptLong(o, "current_key") ?? 0,
                Rotating = Json.Bool(o, "rotating"),
                RecordsToReseal = Json.OptLong(o, "records_to_reseal") ?? 0,
                Keys = (Json.OptArray(o, "keys") ?? new List<object>()).Select(item =>
                {
                    var k = Json.Object(item);
                    return new DataKey
                    {
                        Id = Json.OptLong(k, "id") ?? 0,
                        CreatedAt = Json.Time(k, "created_at"),
                        State = Json.Str(k, "state"),
                        Connections = Json.OptLong(k, "connections") ?? 0,
                        PendingFlows = Json.OptLong(k, "pending_flows") ?? 0,
                    };
                }).ToList(),
            };
        }
    }

    /// <summary>What <see cref="RefoldClient.CopyConnectionsTo"/> copied.</summary>
    public sealed class CopyReport
    {
        /// <summary>Connections copied.</summary>
        public long Copied { get; private set; }

        /// <summary>Of those, the ones that still need re-authentication.</summary>
        public long ReauthRequired { get; private set; }

        internal static CopyReport Parse(string json)
        {
            var o = Json.Object(Json.Parse(json));
            long? copied = Json.OptLong(o, "copied"), reauth = Json.OptLong(o, "reauth_required");
            if (copied == null) throw Json.Unexpected("copied");
            if (reauth == null) throw Json.Unexpected("reauth_required");
            return new CopyReport { Copied = copied.Value, ReauthRequired = reauth.Value };
        }

        public override string ToString() => Copied + " copied, " + ReauthRequired + " need re-auth";
    }

    /// <summary>One data key of the store, with the records it seals.</summary>
    public sealed class DataKey
    {
        public long Id { get; internal set; }
        public DateTimeOffset CreatedAt { get; internal set; }

        /// <summary>"current" or "retiring".</summary>
        public string State { get; internal set; }

        public long Connections { get; internal set; }
        public long PendingFlows { get; internal set; }
    }

    /// <summary>What happened to a connection.</summary>
    public sealed class ConnectionEventArgs : EventArgs
    {
        public const string CreatedType = "connection.created";
        public const string ReauthenticatedType = "connection.reauthenticated";
        public const string RefreshedType = "connection.refreshed";
        public const string RefreshFailedType = "connection.refresh_failed";
        public const string ExpiredType = "connection.expired";
        public const string DeletedType = "connection.deleted";

        /// <summary>"connection.created", "connection.expired", ...</summary>
        public string Type { get; private set; }

        public string Account { get; private set; }
        public string App { get; private set; }
        public string AuthType { get; private set; }
        public DateTimeOffset At { get; private set; }
        public string Reason { get; private set; }

        /// <summary>connection.refresh_failed: when the refresh is retried.</summary>
        public DateTimeOffset? RetryAt { get; private set; }

        /// <summary>connection.deleted of an OAuth connection whose app can revoke
        /// tokens: whether the provider confirmed revoking them.</summary>
        public bool? Revoked { get; private set; }

        internal static ConnectionEventArgs Parse(string json)
        {
            return FromJson(Json.Object(Json.Parse(json)));
        }

        internal static ConnectionEventArgs FromJson(Dictionary<string, object> o)
        {
            return new ConnectionEventArgs
            {
                Type = Json.Str(o, "type"),
                Account = Json.Str(o, "account"),
                App = Json.Str(o, "app"),
                AuthType = Json.Str(o, "auth_type"),
                At = Json.Time(o, "at"),
                Reason = Json.OptStr(o, "reason"),
                RetryAt = Json.OptTime(o, "retry_at"),
                Revoked = Json.OptBool(o, "revoked"),
            };
        }

        public override string ToString() => Type + " " + Account + "/" + App + (Reason != null ? " (" + Reason + ")" : "");
    }

    /// <summary>An event as the durable event log keeps it
    /// (<see cref="RefoldClient.ReadEvents"/>), with its position in the log.</summary>
    public sealed class LoggedEvent
    {
        /// <summary>The event's position in the log; pass the last one handled
        /// to <see cref="RefoldClient.AckEvents"/>.</summary>
        public long Seq { get; private set; }

        /// <summary>The event, as the handlers get it; its Revoked is always
        /// null: that is known only after the commit that writes the event.</summary>
        public ConnectionEventArgs Event { get; private set; }

        internal static LoggedEvent FromJson(object item)
        {
            var o = Json.Object(item);
            var seq = Json.OptLong(o, "seq");
            if (seq == null) throw Json.Unexpected("seq");
            return new LoggedEvent { Seq = seq.Value, Event = ConnectionEventArgs.FromJson(o) };
        }

        public override string ToString() => Seq + " " + Event;
    }

    /// <summary>What <see cref="RefoldClient.ReadEvents"/> returns: the
    /// consumer's next events, in the order their changes committed.</summary>
    public sealed class EventPage
    {
        /// <summary>Empty when the consumer is up to date.</summary>
        public IReadOnlyList<LoggedEvent> Events { get; private set; }

        /// <summary>True when events the consumer had not acknowledged were
        /// removed (they outlived the store's event_retention) before it read
        /// them.</summary>
        public bool Missed { get; private set; }

        internal static EventPage Parse(string json)
        {
            var o = Json.Object(Json.Parse(json));
            object list;
            if (!o.TryGetValue("events", out list)) throw Json.Unexpected("events");
            return new EventPage
            {
                Events = Json.Array(list).Select(LoggedEvent.FromJson).ToList(),
                Missed = Json.Bool(o, "missed"),
            };
        }
    }

    /// <summary>Options of <see cref="RefoldClient.BeginOAuth"/> and
    /// <see cref="RefoldClient.ConnectOAuth(string, string, OAuthOptions)"/>;
    /// unset ones keep the registration's.</summary>
    public sealed class OAuthOptions
    {
        public string RedirectUri { get; set; }
        public IList<string> Scopes { get; set; }

        /// <summary>Extra authorize parameters the app allows.</summary>
        public IDictionary<string, string> Params { get; set; }

        /// <summary>The app's connection inputs (its connection_fields), such
        /// as a tenant's subdomain: strings, numbers or booleans.</summary>
        public IDictionary<string, object> Connection { get; set; }

        /// <summary>The customer's own OAuth client for this one connection;
        /// null: the host's registration in the config's oauth_clients.</summary>
        public OAuthClient Client { get; set; }

        internal string ToJson()
        {
            var o = new Dictionary<string, object>();
            if (RedirectUri != null) o["redirect_uri"] = RedirectUri;
            if (Scopes != null) o["scopes"] = Scopes;
            if (Params != null) o["params"] = Params.ToDictionary(kv => kv.Key, kv => (object)kv.Value);
            if (Connection != null) o["connection"] = new Dictionary<string, object>(Connection);
            if (Client != null)
                o["client"] = new Dictionary<string, object> { ["client_id"] = Client.ClientId, ["client_secret"] = Client.ClientSecret };
            return Json.Serialize(o);
        }
    }

    /// <summary>A customer's own OAuth client (their own Slack app, their
    /// Salesforce connected app), given for one connection in
    /// <see cref="OAuthOptions.Client"/>. It authorizes, exchanges the code and
    /// from then on refreshes and revokes that connection instead of the host's
    /// registration, whose redirect URI and scopes still serve as defaults. The
    /// library seals the secret with the connection and never returns it: the
    /// credentials show only <see cref="Credentials.ClientId"/>. ToString shows
    /// no secret.</summary>
    public sealed class OAuthClient
    {
        public string ClientId { get; set; }
        public string ClientSecret { get; set; }

        public override string ToString() => "OAuthClient " + ClientId + " (secret redacted)";
    }

    /// <summary>What <see cref="RefoldClient.CompleteOAuth"/> connected.</summary>
    public sealed class OAuthResult
    {
        public string Account { get; private set; }
        public string App { get; private set; }
        public string AuthType { get; private set; }
        public string Status { get; private set; }

        internal static OAuthResult Parse(string json)
        {
            var o = Json.Object(Json.Parse(json));
            return new OAuthResult
            {
                Account = Json.Str(o, "account"),
                App = Json.Str(o, "app"),
                AuthType = Json.Str(o, "auth_type"),
                Status = Json.Str(o, "status"),
            };
        }
    }
}
