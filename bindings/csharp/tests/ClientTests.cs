// The binding against the real library and the sandbox provider.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Refold.Tests
{
    internal static class ClientTests
    {
        private static Dictionary<string, object> Key(string key) =>
            new Dictionary<string, object> { ["api_key"] = key };

        /// <summary>Records every event of a client.</summary>
        private sealed class Recorder
        {
            private readonly List<ConnectionEventArgs> list = new List<ConnectionEventArgs>();

            public Recorder(RefoldClient client)
            {
                client.ConnectionChanged += (sender, e) => { lock (list) list.Add(e); };
            }

            public List<ConnectionEventArgs> All { get { lock (list) return list.ToList(); } }
            public string Types => string.Join(" ", All.Select(e => e.Type));
        }

        [Test]
        public static void VersionAndErrors()
        {
            Assert.Equal(3, RefoldClient.Version.Split('.').Length, "version parts");
            var e = Assert.Throws<RefoldException>(() => new RefoldClient("{\"no_such_key\": 1}"), "unknown config key");
            Assert.Equal(ErrorCode.Invalid, e.Code, "code");
            Assert.True(e.Detail.Contains("no_such_key") && e.Message.Contains("no_such_key"), "the message names the key");
            Assert.True(!e.IsReauthRequired, "not re-auth");
            Assert.True(RefoldException.Describe(ErrorCode.ReauthRequired) != RefoldException.Describe((ErrorCode)(-99)), "strerror");
            Assert.Throws<ArgumentException>(() => new RefoldClient("{\"store\": \"a\0b\"}"), "a NUL character");
        }

        [Test]
        public static void KeyBasedBadAndGoodPayloads()
        {
            using (var sandbox = new Sandbox())
            using (var client = sandbox.Open())
            {
                var events = new Recorder(client);
                const string tooShort = "sk_sandbox_short";
                const string rejected = "sk_live_0123456789abcdefghijklmnop";
                var cases = new[]
                {
                    Tuple.Create("acct", "sandbox-keys", new Dictionary<string, object>(), ErrorCode.Invalid, "api_key"),
                    Tuple.Create("acct", "sandbox-keys", new Dictionary<string, object> { ["api_key"] = Sandbox.GoodKey, ["extra"] = 1 }, ErrorCode.Invalid, "extra"),
                    Tuple.Create("acct", "sandbox-keys", Key(tooShort), ErrorCode.Invalid, "api_key"),
                    Tuple.Create("acct", "sandbox-keys", Key(rejected), ErrorCode.Auth, ""),
                    Tuple.Create("acct", "no-such-app", Key(Sandbox.GoodKey), ErrorCode.NotFound, "no-such-app"),
                    Tuple.Create("", "sandbox-keys", Key(Sandbox.GoodKey), ErrorCode.Invalid, "account"),
                };
                foreach (var c in cases)
                {
                    var e = Assert.Throws<RefoldException>(() => client.ConnectKeyBased(c.Item1, c.Item2, c.Item3), c.Item2);
                    Assert.Equal(c.Item4, e.Code, "code for " + c.Item5);
                    Assert.True(e.Message.Contains(c.Item5), "the message names " + c.Item5);
                    Assert.True(!e.Message.Contains(tooShort) && !e.Message.Contains(rejected) && !e.Message.Contains(Sandbox.GoodKey),
                        "no key in the message");
                }
                Assert.Equal(0, events.All.Count, "failed connects emit nothing");

                client.ConnectKeyBased("acct", "sandbox-keys", Key(Sandbox.GoodKey));
                var creds = client.GetCredentials("acct", "sandbox-keys");
                Assert.Equal(Credentials.KeyBased, creds.AuthType, "auth type");
                Assert.True((string)creds.Fields["api_key"] == Sandbox.GoodKey, "the key reads back");
                Assert.True(!creds.ToString().Contains(Sandbox.GoodKey), "ToString shows no key");

                var conns = client.ListConnections("acct");
                Assert.Equal(1, conns.Count, "connections");
                Assert.Equal("sandbox-keys", conns[0].App, "app");
                Assert.Equal("active", conns[0].Status, "status");
                Assert.True(conns[0].Reason == null, "no reason");
                Assert.True((DateTimeOffset.UtcNow - conns[0].CreatedAt).Duration() < TimeSpan.FromMinutes(1), "created now");

                var apps = client.ListApps("acct");
                var app = apps.Single(a => a.Slug == "sandbox-keys");
                Assert.True(app.Connected && !app.ReauthRequired, "connected");
                Assert.Equal("active", app.ConnectedAccounts.Single().Status, "account status");
                var field = app.KeyBasedFields.Single();
                Assert.True(field.Name == "api_key" && field.Secret && field.MinLength == 24 && field.Type == "text", "the field");
                Assert.True(!apps.Single(a => a.Slug == "sandbox").Connected, "sandbox not connected");
                Assert.True(client.ListApps().All(a => !a.Connected), "no account: nothing connected");
                var hubspot = apps.Single(a => a.Slug == "hubspot");
                Assert.True(hubspot.Category == "crm" && hubspot.DocsUrl.StartsWith("https://") &&
                            hubspot.ConnectionFields.Count == 0, "hubspot's category, docs and inputs");
                Assert.Equal("subdomain", apps.Single(a => a.Slug == "zendesk").ConnectionFields[0].Name, "zendesk's input");
                var oktaDomain = apps.Single(a => a.Slug == "okta").KeyBasedFields[0];
                Assert.Equal("domain", oktaDomain.Name, "okta's key-based domain");
                Assert.Equal("okta.com oktapreview.com okta-emea.com", string.Join(" ", oktaDomain.HostSuffixes),
                             "a host input within Okta's domains");

                client.Disconnect("acct", "sandbox-keys");
                var notFound = Assert.Throws<RefoldException>(() => client.GetCredentials("acct", "sandbox-keys"), "after disconnect");
                Assert.Equal(ErrorCode.NotFound, notFound.Code, "not found");
                Assert.Equal("connection.created connection.deleted", events.Types, "events");
                Assert.Equal("disconnected", events.All[1].Reason, "reason");
            }
        }

        [Test]
        public static void OAuthThroughTheUrlOpener()
        {
            using (var sandbox = new Sandbox())
            using (var client = sandbox.Open())
            {
                var events = new Recorder(client);
                var browser = new Sandbox.FakeBrowser();
                client.UrlOpener = browser.Open;
                client.ConnectOAuth("acct", "sandbox");
                browser.Check();

                var creds = client.GetCredentials("acct", "sandbox");
                Assert.Equal(Credentials.OAuth2, creds.AuthType, "auth type");
                Assert.Equal("Bearer", creds.TokenType, "token type");
                Assert.True(creds.ExpiresAt > DateTimeOffset.UtcNow.AddMinutes(30), "expires in about an hour");
                Assert.Equal("profile read", string.Join(" ", creds.Scopes), "scopes");
                Assert.True(!creds.ToString().Contains(creds.AccessToken), "ToString shows no token");
                Assert.Equal(200, sandbox.ApiMe(creds.AccessToken), "the token works");
                Assert.Equal("connection.created", events.Types, "events");
                Assert.Equal("oauth2", events.All[0].AuthType, "event auth type");

                // An opener that throws cancels the flow; its exception comes out.
                client.UrlOpener = url => { throw new ApplicationException("no browser here"); };
                var e = Assert.Throws<ApplicationException>(() => client.ConnectOAuth("other", "sandbox"), "a throwing opener");
                Assert.Equal("no browser here", e.Message, "the opener's exception");

                // With options: the scopes asked for; a redirect URI is refused.
                var again = new Sandbox.FakeBrowser();
                client.UrlOpener = again.Open;
                Assert.Equal(ErrorCode.Invalid, Assert.Throws<RefoldException>(() => client.ConnectOAuth("third", "sandbox",
                    new OAuthOptions { RedirectUri = "http://127.0.0.1:9/cb" }), "redirect").Code, "a redirect URI is refused");
                client.ConnectOAuth("third", "sandbox", new OAuthOptions { Scopes = new List<string> { "read" } });
                again.Check();
                Assert.Equal("read", string.Join(" ", client.GetCredentials("third", "sandbox").Scopes), "the scopes asked for");
                client.UrlOpener = null;

                client.Disconnect("acct", "sandbox");
                Assert.Equal(401, sandbox.ApiMe(creds.AccessToken), "disconnect revoked the token");
                var deleted = events.All.Last();
                Assert.True(deleted.Type == ConnectionEventArgs.DeletedType && deleted.Revoked == true, "the deletion says revoked");
            }
        }

        /// <summary>A customer's own OAuth client in the options makes the
        /// connection instead of the config's registration: the sandbox's grants
        /// are that client's, the credentials name it, and its secret shows in no
        /// URL, credentials or ToString.</summary>
        [Test]
        public static void OAuthWithTheCustomersOwnClient()
        {
            using (var sandbox = new Sandbox())
            using (var client = sandbox.Open())
            {
                var own = new OAuthClient { ClientId = Sandbox.OwnClientId, ClientSecret = Sandbox.OwnClientSecret };
                Assert.True(own.ToString().Contains(Sandbox.OwnClientId) && !own.ToString().Contains(Sandbox.OwnClientSecret),
                    "ToString names the client without its secret");

                string url = client.BeginOAuth("acct", "sandbox",
                    new OAuthOptions { RedirectUri = "http://127.0.0.1:9/callback", Client = own });
                var query = new Uri(url).Query.TrimStart('?').Split('&');
                Assert.True(query.Contains("client_id=" + Sandbox.OwnClientId), "the authorization URL is the customer client's");
                Assert.True(!url.Contains(Sandbox.OwnClientSecret), "no secret in the URL");
                string callback;
                using (var response = Sandbox.NoRedirect.GetAsync(url).Result)
                {
                    Assert.Equal(302, (int)response.StatusCode, "the sandbox redirects");
                    callback = response.Headers.Location.OriginalString;
                }
                client.CompleteOAuth(callback);
                var creds = client.GetCredentials("acct", "sandbox");
                Assert.Equal(Sandbox.OwnClientId, creds.ClientId, "the credentials name the client");
                Assert.True(!creds.ToString().Contains(Sandbox.OwnClientSecret) && creds.AccessToken != Sandbox.OwnClientSecret,
                    "no secret in the credentials");
                Assert.Equal(200, sandbox.ApiMe(creds.AccessToken), "the token works");
                // The code went to the sandbox as the customer's client: its grant.
                Assert.Equal(Sandbox.OwnClientId + " False", string.Join(", ", sandbox.Grants()), "grants");

                // The interactive flow takes the client too.
                var browser = new Sandbox.FakeBrowser();
                client.UrlOpener = browser.Open;
                client.ConnectOAuth("other", "sandbox", new OAuthOptions { Client = own });
                browser.Check();
                Assert.Equal(Sandbox.OwnClientId, client.GetCredentials("other", "sandbox").ClientId, "the interactive connection's client");
                // A connection through the host's registration names no client.
                Sandbox.ConnectSandbox(client, "host");
                Assert.True(client.GetCredentials("host", "sandbox").ClientId == null, "the host's registration names no client");

                // A client without its secret is refused by name, before a browser opens.
                var e = Assert.Throws<RefoldException>(() => client.ConnectOAuth("fourth", "sandbox",
                    new OAuthOptions { Client = new OAuthClient { ClientId = Sandbox.OwnClientId } }), "a client without a secret");
                Assert.True(e.Code == ErrorCode.Invalid && e.Message.Contains("client_secret"), "refused by name: " + e.Message);

                // Disconnecting revokes through the customer's client.
                client.Disconnect("acct", "sandbox");
                client.Disconnect("other", "sandbox");
                Assert.Equal(Sandbox.OwnClientId + " True, " + Sandbox.OwnClientId + " True, " + Sandbox.ClientId + " False",
                    string.Join(", ", sandbox.Grants().OrderBy(g => g, StringComparer.Ordinal)), "revoked grants");
            }
        }

        /// <summary>A client-credentials app (oauth2_cc) is connected with the
        /// customer's client id and secret, with no user: its credentials carry the
        /// token and the client, say so in AuthType, and never hold the
        /// secret.</summary>
        [Test]
        public static void ClientCredentials()
        {
            using (var sandbox = new Sandbox())
            using (var client = sandbox.Open())
            {
                var events = new Recorder(client);
                client.ConnectKeyBased("acct", "sandbox-cc", new Dictionary<string, object>
                {
                    ["client_id"] = Sandbox.ClientId, ["client_secret"] = Sandbox.ClientSecret,
                });
                var creds = client.GetCredentials("acct", "sandbox-cc");
                Assert.Equal(Credentials.OAuth2CC, creds.AuthType, "auth type");
                Assert.Equal("Bearer", creds.TokenType, "token type");
                Assert.True(creds.ExpiresAt > DateTimeOffset.UtcNow, "an expiry ahead");
                Assert.Equal("read", string.Join(" ", creds.Scopes), "scopes");
                Assert.Equal(Sandbox.ClientId, creds.ClientId, "the credentials name the client");
                Assert.True(creds.User == null, "no user token");
                string text = creds.ToString();
                Assert.True(text.StartsWith("oauth2_cc credentials") && !text.Contains(creds.AccessToken) &&
                            !text.Contains(Sandbox.ClientSecret), "ToString names the auth type, and no secret");
                Assert.Equal(200, sandbox.ApiMe(creds.AccessToken), "the token works");
                Assert.Equal("connection.created", events.Types, "events");
                Assert.Equal(Credentials.OAuth2CC, events.All[0].AuthType, "event auth type");

                client.Disconnect("acct", "sandbox-cc");
                Assert.Equal(401, sandbox.ApiMe(creds.AccessToken), "disconnect revoked the token");
            }
        }

        /// <summary>An app that keeps instance_url from the token response (as
        /// Salesforce does) gets it in the credentials' metadata after a connect,
        /// with the API base built from it, and the connection input it was made
        /// with.</summary>
        [Test]
        public static void ConnectionMetadataAndApiBase()
        {
            using (var sandbox = new Sandbox())
            {
                sandbox.SetConfig(new Dictionary<string, object>
                {
                    ["token_response_extra"] = new Dictionary<string, object> { ["instance_url"] = "https://na1.example" },
                    ["refresh_token_ttl"] = 86400,
                });
                using (var client = sandbox.Open())
                {
                    var browser = new Sandbox.FakeBrowser();
                    client.UrlOpener = browser.Open;
                    var before = DateTimeOffset.UtcNow;
                    client.ConnectOAuth("acct", "sandbox-meta",
                        new OAuthOptions { Connection = new Dictionary<string, object> { ["team"] = "acme" } });
                    browser.Check();

                    var creds = client.GetCredentials("acct", "sandbox-meta");
                    Assert.Equal(1, creds.Metadata.Count, "one metadata value");
                    Assert.Equal("https://na1.example", creds.Metadata["instance_url"], "instance_url");
                    Assert.Equal("https://na1.example/services", creds.ApiBaseUrl, "the API base");
                    Assert.Equal(1, creds.Connection.Count, "one connection input");
                    Assert.Equal("acme", creds.Connection["team"], "the team input");
                    Assert.Equal(200, sandbox.ApiMe(creds.AccessToken), "the token works");

                    // The sandbox app keeps none of them.
                    Sandbox.ConnectSandbox(client, "acct");
                    var plain = client.GetCredentials("acct", "sandbox");
                    Assert.True(plain.Metadata.Count == 0 && plain.Connection.Count == 0 && plain.ApiBaseUrl == null,
                        "an app without metadata");

                    // The listing shows the same, and when the refresh token lapses.
                    var listed = client.ListConnections("acct").ToDictionary(c => c.App);
                    Assert.Equal(2, listed.Count, "two connections listed");
                    var meta = listed["sandbox-meta"];
                    Assert.Equal(1, meta.Metadata.Count, "one listed metadata value");
                    Assert.Equal("https://na1.example", meta.Metadata["instance_url"], "listed instance_url");
                    Assert.Equal(1, meta.ConnectionInputs.Count, "one listed connection input");
                    Assert.Equal("acme", meta.ConnectionInputs["team"], "the listed team input");
                    Assert.Equal("https://na1.example/services", meta.ApiBaseUrl, "the listed API base");
                    Assert.True(meta.RefreshTokenExpiresAt.HasValue, "the refresh token's lapse is listed");
                    var lapse = meta.RefreshTokenExpiresAt.Value;
                    Assert.True(lapse >= before.AddSeconds(86400 - 60) && lapse <= DateTimeOffset.UtcNow.AddSeconds(86400 + 60),
                        "the refresh token lapses in a day");
                    var listedPlain = listed["sandbox"];
                    Assert.True(listedPlain.Metadata.Count == 0 && listedPlain.ConnectionInputs.Count == 0 &&
                        listedPlain.ApiBaseUrl == null, "the sandbox app is listed without them");
                }
            }
        }

        [Test]
        public static void OAuthBeginAndComplete()
        {
            using (var sandbox = new Sandbox())
            using (var client = sandbox.Open())
            {
                string url = client.BeginOAuth("acct", "sandbox", new OAuthOptions { RedirectUri = "http://127.0.0.1:9/callback" });
                Assert.True(url.StartsWith(sandbox.BaseUrl + "/oauth/authorize?", StringComparison.Ordinal), "the sandbox's authorize URL");
                Assert.True(!url.Contains(Sandbox.ClientSecret), "no secret in the URL");
                string callback;
                using (var response = Sandbox.NoRedirect.GetAsync(url).Result)
                {
                    Assert.Equal(302, (int)response.StatusCode, "the sandbox redirects");
                    callback = response.Headers.Location.OriginalString;
                }
                Assert.True(callback.StartsWith("http://127.0.0.1:9/callback?", StringComparison.Ordinal), "to the redirect URI");
                var result = client.CompleteOAuth(callback);
                Assert.Equal("acct sandbox oauth2 active", string.Join(" ", result.Account, result.App, result.AuthType, result.Status), "result");
                Assert.Equal(ErrorCode.State, Assert.Throws<RefoldException>(() => client.CompleteOAuth(callback), "replayed").Code, "a replayed state");
                Assert.Equal(ErrorCode.Invalid, Assert.Throws<RefoldException>(() => client.BeginOAuth("acct", "sandbox-keys"), "key-based").Code, "begin on a key-based app");
            }
        }

        [Test]
        public static void ImportConnection()
        {
            using (var sandbox = new Sandbox())
            using (var client = sandbox.Open())
            {
                var events = new Recorder(client);
                const string access = "imported-access-token-1234", refresh = "imported-refresh-token-5678";
                var e = Assert.Throws<RefoldException>(() => client.ImportConnection("acct", "sandbox",
                    new Dictionary<string, object> { ["refresh_token"] = refresh }), "no access token");
                Assert.True(e.Code == ErrorCode.Invalid && e.Message.Contains("access_token") && !e.Message.Contains(refresh),
                    "a bad import names the member, not a value");
                Assert.Equal(ErrorCode.NotFound, Assert.Throws<RefoldException>(() => client.GetCredentials("acct", "sandbox"),
                    "nothing stored").Code, "a failed import stores nothing");

                client.ImportConnection("acct", "sandbox", new Dictionary<string, object>
                {
                    ["access_token"] = access,
                    ["refresh_token"] = refresh,
                    ["expires_at"] = "2999-01-01T00:00:00Z",
                    ["scopes"] = new List<object> { "read" },
                });
                var creds = client.GetCredentials("acct", "sandbox");
                Assert.True(creds.AccessToken == access, "the imported access token is read back");
                Assert.Equal(new DateTimeOffset(2999, 1, 1, 0, 0, 0, TimeSpan.Zero), creds.ExpiresAt.Value, "its expiry");
                Assert.Equal("read", string.Join(" ", creds.Scopes), "its scopes");
                Assert.Equal("connection.created", events.Types, "events");
            }
        }

        [Test]
        public static void AReauthEventReachesTheHandler()
        {
            using (var sandbox = new Sandbox())
            using (var client = sandbox.Open())
            {
                var events = new Recorder(client);
                ConnectionEventArgs expired = null;
                client.ConnectionExpired += (sender, e) =>
                {
                    Assert.True(ReferenceEquals(sender, client), "the sender is the client");
                    expired = e;
                };
                Sandbox.ConnectSandbox(client, "acct");

                // The provider told the host (a webhook) that the app was uninstalled.
                client.MarkReauth("acct", "sandbox", "uninstalled");
                Assert.True(expired != null, "ConnectionExpired was raised");
                Assert.Equal("acct/sandbox/uninstalled/oauth2", expired.Account + "/" + expired.App + "/" + expired.Reason + "/" + expired.AuthType, "the event");
                var e1 = Assert.Throws<ReauthRequiredException>(() => client.GetCredentials("acct", "sandbox"), "reading");
                Assert.True(e1.IsReauthRequired && e1.Code == ErrorCode.ReauthRequired, "re-auth code");
                try { client.GetCredentials("acct", "sandbox"); }
                catch (RefoldException e) when (e.Code == ErrorCode.ReauthRequired) { }

                var conn = client.ListConnections("acct").Single();
                Assert.Equal("reauth_required/uninstalled", conn.Status + "/" + conn.Reason, "listing");
                var app = client.ListApps("acct").Single(a => a.Slug == "sandbox");
                Assert.True(app.ReauthRequired && app.ConnectedAccounts[0].Status == "expired", "app listing");

                client.MarkReauth("acct", "sandbox"); // already marked: nothing changes
                Assert.Equal(ErrorCode.Invalid, Assert.Throws<RefoldException>(() => client.MarkReauth("acct", "sandbox", "not a word!"), "bad reason").Code, "bad reason");
                Assert.Equal(ErrorCode.NotFound, Assert.Throws<RefoldException>(() => client.MarkReauth("nobody", "sandbox"), "nobody").Code, "no connection");

                Sandbox.ConnectSandbox(client, "acct");
                client.GetCredentials("acct", "sandbox");
                Assert.Equal("connection.created connection.expired connection.reauthenticated", events.Types, "events");
            }
        }

        [Test]
        public static void ReportUnauthorized()
        {
            using (var sandbox = new Sandbox())
            using (var client = sandbox.Open())
            {
                var events = new Recorder(client);
                Sandbox.ConnectSandbox(client, "acct");
                string before = client.GetCredentials("acct", "sandbox").AccessToken;
                client.ReportUnauthorized("acct", "sandbox");
                string after = client.GetCredentials("acct", "sandbox").AccessToken;
                Assert.True(after != before, "a new token");
                Assert.Equal(200, sandbox.ApiMe(after), "the new token works");

                client.ConnectKeyBased("acct", "sandbox-keys", Key(Sandbox.GoodKey));
                Assert.Throws<ReauthRequiredException>(() => client.ReportUnauthorized("acct", "sandbox-keys"), "a key-based 401");
                Assert.Equal("connection.created connection.refreshed connection.created connection.expired", events.Types, "events");
            }
        }

        [Test]
        public static void ReportUnauthorizedNamingTheToken()
        {
            using (var sandbox = new Sandbox())
            using (var client = sandbox.Open())
            {
                Sandbox.ConnectSandbox(client, "acct");
                string first = client.GetCredentials("acct", "sandbox").AccessToken;
                client.ReportUnauthorized("acct", "sandbox", first);
                string second = client.GetCredentials("acct", "sandbox").AccessToken;
                Assert.True(second != first, "a new token");
                // Late reports about the first token, from other threads: no effect.
                int failed = 0;
                var threads = Enumerable.Range(0, 4)
                    .Select(_ => new Thread(() =>
                    {
                        try { client.ReportUnauthorized("acct", "sandbox", first); }
                        catch (RefoldException) { Interlocked.Increment(ref failed); }
                    }))
                    .ToList();
                threads.ForEach(t => t.Start());
                threads.ForEach(t => t.Join());
                Assert.Equal(0, failed, "late reports that failed");
                Assert.True(second == client.GetCredentials("acct", "sandbox").AccessToken, "the refreshed token stays");
                // A 401 on the token of that forced refresh is final.
                Assert.Throws<ReauthRequiredException>(() => client.ReportUnauthorized("acct", "sandbox", second), "a second 401");
                var e = Assert.Throws<RefoldException>(() => client.ReportUnauthorized("acct", "sandbox", ""), "an empty token");
                Assert.True(e.Code == ErrorCode.Invalid, "empty is invalid");
            }
        }

        [Test]
        public static void AThrowingHandlerNeverCrossesIntoC()
        {
            using (var sandbox = new Sandbox())
            using (var client = sandbox.Open())
            {
                client.ConnectionCreated += (sender, e) => { throw new InvalidOperationException("handler boom"); };
                // The exception comes out of the call that caused the event,
                // after its change is committed.
                var e1 = Assert.Throws<InvalidOperationException>(() => client.ConnectKeyBased("acct", "sandbox-keys", Key(Sandbox.GoodKey)), "throwing handler");
                Assert.Equal("handler boom", e1.Message, "the handler's exception");
                Assert.True(e1.StackTrace.Contains("AThrowingHandlerNeverCrossesIntoC"), "its stack trace starts in the handler");
                client.GetCredentials("acct", "sandbox-keys");
                client.Disconnect("acct", "sandbox-keys");
                var e2 = Assert.Throws<RefoldException>(() => client.ConnectKeyBased("acct", "no-such-app", Key("x")), "after");
                Assert.True(e2.Code == ErrorCode.NotFound && e2.Detail.Contains("no-such-app"), "the error detail is still right");

                client.UrlOpener = url => { throw new ApplicationException("opener boom"); };
                Assert.Throws<ApplicationException>(() => client.ConnectOAuth("acct", "sandbox"), "throwing opener");
                Assert.Equal(0, client.ListConnections().Count, "nothing connected");
            }
        }

        [Test]
        public static void CallsFromManyThreads()
        {
            using (var sandbox = new Sandbox())
            using (var client = sandbox.Open())
            {
                int created = 0;
                client.ConnectionCreated += (sender, e) => Interlocked.Increment(ref created);
                const int workers = 8;
                var failures = new List<string>();
                var threads = Enumerable.Range(0, workers).Select(w => new Thread(() =>
                {
                    try
                    {
                        string account = "acct-" + w;
                        client.ConnectKeyBased(account, "sandbox-keys", Key(Sandbox.GoodKey));
                        for (int i = 0; i < 25; i++)
                        {
                            // Each thread's error detail is its own failure's.
                            string app = "missing-" + w + "-" + i;
                            var e = Assert.Throws<RefoldException>(() => client.ConnectKeyBased(account, app, Key(Sandbox.GoodKey)), app);
                            Assert.True(e.Code == ErrorCode.NotFound && e.Detail.Contains(app), "worker " + w + ": the detail of its own failure");
                            Assert.True((string)client.GetCredentials(account, "sandbox-keys").Fields["api_key"] == Sandbox.GoodKey, "credentials");
                            client.ListConnections(account);
                        }
                    }
                    catch (Exception e) { lock (failures) failures.Add(e.Message); }
                })).ToList();
                threads.ForEach(t => t.Start());
                threads.ForEach(t => t.Join());
                Assert.Equal("", string.Join("; ", failures), "failures");
                Assert.Equal(workers, created, "created events");
                Assert.Equal(workers, client.ListConnections().Count, "connections");
            }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Subscribe(RefoldClient client, StrongBox<int> calls)
        {
            // The handler is reachable only through the client.
            client.ConnectionCreated += (sender, e) => Interlocked.Increment(ref calls.Value);
        }

        private static void CollectGarbage()
        {
            for (int i = 0; i < 3; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }

        [Test]
        public static void HandlersSurviveGarbageCollection()
        {
            using (var sandbox = new Sandbox())
            using (var client = sandbox.Open())
            {
                var calls = new StrongBox<int>(0);
                Subscribe(client, calls);
                client.UrlOpener = new Sandbox.FakeBrowser().Open; // also reachable only through the client
                CollectGarbage();
                client.ConnectKeyBased("acct", "sandbox-keys", Key(Sandbox.GoodKey));
                Assert.Equal(1, calls.Value, "the handler ran after collections");
                // The opener too: the flow completes through it.
                var browser = new Sandbox.FakeBrowser();
                client.UrlOpener = browser.Open;
                CollectGarbage();
                client.ConnectOAuth("acct", "sandbox");
                browser.Check();
                Assert.Equal(2, calls.Value, "and again");
            }
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Abandon(Sandbox sandbox)
        {
            var client = sandbox.Open();
            client.ConnectionChanged += (sender, e) => client.ListApps(); // refers to its own client
            client.UrlOpener = url => { };
        }

        [Test]
        public static void DisposeAndTheFinalizerReleaseTheClient()
        {
            using (var sandbox = new Sandbox())
            {
                long before = Callbacks.LiveHandles;
                var client = sandbox.Open();
                client.UrlOpener = url => { };
                client.UrlOpener = url => { }; // replacing releases the old registration
                client.Clock = () => DateTimeOffset.UtcNow;
                Assert.Equal(3L, Callbacks.LiveHandles - before, "event handler, opener and clock held");
                client.Dispose();
                Assert.Equal(0L, Callbacks.LiveHandles - before, "released by Dispose");
                client.Dispose();
                Assert.Throws<ObjectDisposedException>(() => client.ListApps(), "a call after Dispose");

                // A client nobody disposes is released when it is collected, even
                // with a handler that refers to it.
                Abandon(sandbox);
                for (int i = 0; i < 50 && Callbacks.LiveHandles != before; i++)
                {
                    CollectGarbage();
                    Thread.Sleep(20);
                }
                Assert.Equal(0L, Callbacks.LiveHandles - before, "released by the finalizer");
            }
        }

        [Test]
        public static void AHandlerMayCallTheClient()
        {
            using (var sandbox = new Sandbox())
            using (var client = sandbox.Open())
            {
                var seen = new List<string>();
                client.ConnectionChanged += (sender, e) =>
                {
                    int n = client.ListConnections(e.Account).Count;
                    // A failing call inside the handler does not disturb the outer call.
                    try { client.Disconnect(e.Account, "no-such-app"); } catch (RefoldException) { }
                    seen.Add(e.Type + ":" + n);
                };
                client.ConnectKeyBased("acct", "sandbox-keys", Key(Sandbox.GoodKey));
                client.DeleteAccount("acct");
                Assert.Equal("connection.created:1 connection.deleted:0", string.Join(" ", seen), "what the handler saw");
            }
        }

        [Test]
        public static void AReplacedClock()
        {
            using (var sandbox = new Sandbox())
            using (var client = sandbox.Open())
            {
                Sandbox.ConnectSandbox(client, "acct");
                string first = client.GetCredentials("acct", "sandbox").AccessToken;
                int readings = 0;
                var later = DateTimeOffset.UtcNow.AddHours(2); // past the one-hour tokens
                client.Clock = () => { Interlocked.Increment(ref readings); return later; };
                var second = client.GetCredentials("acct", "sandbox");
                Assert.True(readings > 0, "the clock was read");
                Assert.True(second.AccessToken != first && second.ExpiresAt > later, "refreshed at the replaced time");

                // A throwing clock: the system clock for that reading; the
                // exception comes out of the call.
                client.Clock = () => { throw new TimeZoneNotFoundException("clock boom"); };
                Assert.Throws<TimeZoneNotFoundException>(() => client.GetCredentials("acct", "sandbox"), "throwing clock");
                client.Clock = null;
                client.GetCredentials("acct", "sandbox");
            }
        }

        [Test]
        public static void RotateDataKey()
        {
            using (var sandbox = new Sandbox())
            using (var client = new RefoldClient(sandbox.Config("datakey.db", Sandbox.RandomKey())))
            {
                foreach (var acct in new[] { "a1", "a2", "a3" })
                    client.ConnectKeyBased(acct, "sandbox-keys", Key(Sandbox.GoodKey));
                var before = client.GetDataKeyStatus();
                Assert.True(!before.Rotating, "not rotating before");
                Assert.Equal(1, before.Keys.Count, "one key before");
                Assert.Equal(3L, before.Keys[0].Connections, "three records before");
                Assert.Equal("current", before.Keys[0].State, "the key is current");
                client.RotateDataKey();
                var after = client.GetDataKeyStatus();
                Assert.True(after.CurrentKey != before.CurrentKey, "a new key is current");
                Assert.True(!after.Rotating, "not rotating after");
                Assert.Equal(0L, after.RecordsToReseal, "nothing left to re-seal");
                Assert.Equal(1, after.Keys.Count, "the old key is gone");
                Assert.Equal(after.CurrentKey, after.Keys[0].Id, "the one key is the current one");
                Assert.Equal(3L, after.Keys[0].Connections, "three records after");
                foreach (var acct in new[] { "a1", "a2", "a3" })
                    Assert.True((string)client.GetCredentials(acct, "sandbox-keys").Fields["api_key"] == Sandbox.GoodKey, "the key reads back after rotation");
            }
        }

        [Test]
        public static void ListConnectionsPage()
        {
            using (var sandbox = new Sandbox())
            using (var client = new RefoldClient(sandbox.Config("paging.db", Sandbox.RandomKey())))
            {
                foreach (var acct in new[] { "e", "c", "a", "d", "b" })
                    client.ConnectKeyBased(acct, "sandbox-keys", Key(Sandbox.GoodKey));
                client.MarkReauth("b", "sandbox-keys", "revoked");
                client.MarkReauth("d", "sandbox-keys", "revoked");

                // Pages of two: each connection once, in order.
                var seen = new List<string>();
                var query = new ConnectionQuery { Limit = 2 };
                int pages = 0;
                for (;;)
                {
                    var page = client.ListConnectionsPage(query);
                    Assert.True(page.Connections.Count <= 2 && ++pages <= 3, "pages of at most two");
                    seen.AddRange(page.Connections.Select(c => c.Account));
                    if (page.NextCursor == null) break;
                    query.Cursor = page.NextCursor;
                }
                Assert.Equal("a,b,c,d,e", string.Join(",", seen), "every connection once, in order");

                var reauth = client.ListConnectionsPage(new ConnectionQuery { Status = "reauth_required", App = "sandbox-keys" });
                Assert.Equal("b,d", string.Join(",", reauth.Connections.Select(c => c.Account)), "the ones that need re-auth");
                Assert.Equal("revoked", reauth.Connections[0].Reason, "with their reason");
                Assert.True(reauth.NextCursor == null, "on one page");
                Assert.Equal(5, client.ListConnectionsPage(new ConnectionQuery()).Connections.Count, "no filter");

                string cursor = client.ListConnectionsPage(new ConnectionQuery { Limit = 1 }).NextCursor;
                Assert.True(cursor != null, "a first page of one has a cursor");
                var chars = cursor.ToCharArray();
                chars[chars.Length / 2] = chars[chars.Length / 2] == 'A' ? 'B' : 'A';
                var bad = new[]
                {
                    Tuple.Create("limit", new ConnectionQuery { Limit = 1001 }),
                    Tuple.Create("status", new ConnectionQuery { Status = "expired" }),
                    Tuple.Create("app", new ConnectionQuery { App = "Not A Slug" }),
                    Tuple.Create("cursor", new ConnectionQuery { Cursor = new string(chars) }),
                    Tuple.Create("cursor", new ConnectionQuery { Cursor = cursor, Status = "active" }),
                };
                foreach (var b in bad)
                {
                    var e = Assert.Throws<RefoldException>(() => client.ListConnectionsPage(b.Item2), b.Item1);
                    Assert.Equal(ErrorCode.Invalid, e.Code, b.Item1 + ": the code");
                    Assert.True(e.Message.Contains("'" + b.Item1 + "'"), b.Item1 + ": the message names the key");
                }
            }
        }

        [Test]
        public static void ReadAndAckEvents()
        {
            using (var sandbox = new Sandbox())
            using (var client = sandbox.Open())
            {
                var fields = new Dictionary<string, object>
                {
                    ["sid"] = "AC0123456789abcdef0123456789ABCDEF",
                    ["auth_token"] = "twilio-auth-token-0123456789abcdef",
                };
                client.ConnectKeyBased("acct", "twilio", fields);
                client.ConnectKeyBased("acct", "twilio", fields);

                var page = client.ReadEvents("relay", 100);
                Assert.True(!page.Missed, "nothing missed");
                Assert.Equal("connection.created connection.reauthenticated",
                    string.Join(" ", page.Events.Select(e => e.Event.Type)), "both events, in order");
                LoggedEvent first = page.Events[0], second = page.Events[1];
                Assert.True(first.Seq >= 1 && second.Seq > first.Seq, "increasing seqs: " + first.Seq + ", " + second.Seq);
                var ev = first.Event;
                Assert.Equal("acct/twilio/keybased", ev.Account + "/" + ev.App + "/" + ev.AuthType, "the event");
                Assert.True(ev.Reason == null && ev.RetryAt == null && ev.Revoked == null, "no reason, retry or revocation");
                Assert.True((DateTimeOffset.UtcNow - ev.At).Duration() < TimeSpan.FromMinutes(5), "its time");
                // Reading changes nothing; at most max events.
                var again = client.ReadEvents("relay", 1);
                Assert.True(again.Events.Count == 1 && again.Events[0].Seq == first.Seq, "read again, one at most");

                client.AckEvents("relay", first.Seq);
                page = client.ReadEvents("relay", 100);
                Assert.Equal(1, page.Events.Count, "one event after the ack");
                Assert.Equal(second.Seq, page.Events[0].Seq, "the second");
                Assert.Equal(ConnectionEventArgs.ReauthenticatedType, page.Events[0].Event.Type, "its type");
                Assert.Equal(2, client.ReadEvents("audit", 100).Events.Count, "another consumer has its own cursor");

                Assert.Equal(ErrorCode.Invalid, Assert.Throws<RefoldException>(() => client.AckEvents("relay", 0), "ack 0").Code, "acknowledging seq 0");
                var bad = new[]
                {
                    Tuple.Create("consumer", (Action)(() => client.ReadEvents("", 100))),
                    Tuple.Create("max", (Action)(() => client.ReadEvents("relay", 0))),
                    Tuple.Create("max", (Action)(() => client.ReadEvents("relay", -1))),
                };
                foreach (var b in bad)
                {
                    var e = Assert.Throws<RefoldException>(b.Item2, "a bad " + b.Item1);
                    Assert.True(e.Code == ErrorCode.Invalid && e.Message.Contains(b.Item1), "a bad " + b.Item1 + ": " + e.Message);
                }
            }
        }

        [Test]
        public static void CopyConnectionsTo()
        {
            using (var sandbox = new Sandbox())
            {
                string fromKey = Sandbox.RandomKey();
                const string token = "twilio-auth-token-0123456789abcdef";
                using (var from = new RefoldClient(sandbox.Config("copy-from.db", fromKey)))
                using (var to = new RefoldClient(sandbox.Config("copy-to.db", Sandbox.RandomKey())))
                {
                    foreach (var account in new[] { "acct-1", "acct-2" })
                        from.ConnectKeyBased(account, "twilio", new Dictionary<string, object>
                        {
                            ["sid"] = "AC0123456789abcdef0123456789ABCDEF",
                            ["auth_token"] = token + "-" + account,
                        });
                    var events = new Recorder(to);

                    var report = from.CopyConnectionsTo(to);
                    Assert.Equal(2L, report.Copied, "copied");
                    Assert.Equal(0L, report.ReauthRequired, "reauth_required");
                    var creds = to.GetCredentials("acct-2", "twilio");
                    Assert.Equal(Credentials.KeyBased, creds.AuthType, "the copy's auth type");
                    Assert.True((string)creds.Fields["auth_token"] == token + "-acct-2", "the copy holds the same auth_token");
                    Assert.Equal(2, to.ListConnections().Count, "the copy's connections");
                    Assert.Equal("connection.created connection.created", events.Types, "events in the copy");

                    // Not onto the same client, nor another client of the same store.
                    var e = Assert.Throws<RefoldException>(() => from.CopyConnectionsTo(from), "onto itself");
                    Assert.Equal(ErrorCode.Invalid, e.Code, "copying onto itself");
                    using (var same = new RefoldClient(sandbox.Config("copy-from.db", fromKey)))
                    {
                        e = Assert.Throws<RefoldException>(() => from.CopyConnectionsTo(same), "onto the same store");
                        Assert.Equal(ErrorCode.Invalid, e.Code, "copying onto another client of the same store");
                    }
                    Assert.Throws<ArgumentNullException>(() => from.CopyConnectionsTo(null), "to null");
                    var disposed = sandbox.Open();
                    disposed.Dispose();
                    Assert.Throws<ObjectDisposedException>(() => from.CopyConnectionsTo(disposed), "to a disposed client");
                }
            }
        }

        [Test]
        public static void RotateMasterKey()
        {
            using (var sandbox = new Sandbox())
            {
                string oldKey = Sandbox.RandomKey(), newKey = Sandbox.RandomKey();
                using (var client = new RefoldClient(sandbox.Config("rotate.db", oldKey)))
                {
                    client.ConnectKeyBased("acct", "sandbox-keys", Key(Sandbox.GoodKey));
                    Assert.Equal(ErrorCode.Invalid, Assert.Throws<RefoldException>(() => client.RotateMasterKey("not a key"), "malformed").Code, "a malformed key");
                    client.RotateMasterKey(newKey);
                }
                var e = Assert.Throws<RefoldException>(() => new RefoldClient(sandbox.Config("rotate.db", oldKey)), "old key");
                Assert.Equal(ErrorCode.Crypto, e.Code, "the old key no longer opens the store");
                using (var client = new RefoldClient(sandbox.Config("rotate.db", newKey)))
                    client.GetCredentials("acct", "sandbox-keys");
            }
        }

        [Test]
        public static void EventsFromTheBackgroundRefresher()
        {
            using (var sandbox = new Sandbox())
            {
                var config = sandbox.Config("background-" + Guid.NewGuid().ToString("N") + ".db", Sandbox.RandomKey());
                config["background_refresh"] = true;
                using (var client = new RefoldClient(config))
                {
                    Sandbox.ConnectSandbox(client, "acct");
                    string first = client.GetCredentials("acct", "sandbox").AccessToken;
                    // The clock reads a time the test sets: two minutes before the
                    // sandbox's one-hour token expires, so the refresher finds it due.
                    long due = DateTimeOffset.UtcNow.AddSeconds(3600 - 120).ToUnixTimeMilliseconds();
                    long now = due;
                    client.Clock = () => DateTimeOffset.FromUnixTimeMilliseconds(Interlocked.Read(ref now));

                    // The library's own thread raises the event; an exception there has
                    // no call to come out of, so it is reported and dropped.
                    int seen = 0, testThread = Thread.CurrentThread.ManagedThreadId, eventThread = 0;
                    var second = new ManualResetEventSlim();
                    client.ConnectionRefreshed += (sender, e) =>
                    {
                        if (Interlocked.Increment(ref seen) == 1) throw new InvalidOperationException("a handler bug on the refresher's thread");
                        eventThread = Thread.CurrentThread.ManagedThreadId;
                        second.Set();
                    };
                    for (int i = 0; i < 750 && Volatile.Read(ref seen) == 0; i++) Thread.Sleep(20);
                    Assert.Equal(1, Volatile.Read(ref seen), "a refresh event from the background refresher");
                    Assert.True(client.GetCredentials("acct", "sandbox").AccessToken != first, "refreshed");

                    // The new token was issued at the clock's time: move to just before its expiry.
                    Interlocked.Exchange(ref now, due + (3600 - 120) * 1000L);
                    Assert.True(second.Wait(TimeSpan.FromSeconds(15)), "a second refresh event");
                    Assert.True(eventThread != testThread, "raised on the refresher's thread");
                }
            }
        }
    }
}
