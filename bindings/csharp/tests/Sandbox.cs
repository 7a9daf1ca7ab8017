// Test support: the sandbox provider (refold-devserver) on a free port, a
// fresh store, and an HTTP client that plays the user's browser.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Threading.Tasks;

namespace Refold.Tests
{
    internal sealed class Sandbox : IDisposable
    {
        public const string ClientId = "csharp-test-client";
        public const string ClientSecret = "csharp-test-secret-7a8b9c0d";
        /// <summary>A second client the sandbox knows and the config does not: a
        /// customer's own, given in OAuthOptions.Client.</summary>
        public const string OwnClientId = "csharp-customer-client";
        public const string OwnClientSecret = "csharp-customer-secret-8b9c0d1e";
        /// <summary>A key the sandbox accepts (sk_sandbox_ and 24+ characters).</summary>
        public const string GoodKey = "sk_sandbox_0123456789abcdefghij";

        /// <summary>Follows redirects (the browser); no proxy for loopback.</summary>
        public static readonly HttpClient Browser = new HttpClient(new HttpClientHandler { UseProxy = false, AllowAutoRedirect = true })
        { Timeout = TimeSpan.FromSeconds(20) };

        /// <summary>Does not follow redirects.</summary>
        public static readonly HttpClient NoRedirect = new HttpClient(new HttpClientHandler { UseProxy = false, AllowAutoRedirect = false })
        { Timeout = TimeSpan.FromSeconds(20) };

        private readonly Process process;
        public readonly string BaseUrl;
        public readonly string Dir;

        public Sandbox()
        {
            string path = Environment.GetEnvironmentVariable("REFOLD_DEVSERVER");
            if (string.IsNullOrEmpty(path))
            {
                string build = Environment.GetEnvironmentVariable("REFOLD_BUILD_DIR");
                if (string.IsNullOrEmpty(build)) throw new InvalidOperationException("set REFOLD_BUILD_DIR to find refold-devserver");
                path = Path.Combine(build, "src", "devserver", "refold-devserver");
            }
            var start = new ProcessStartInfo(path, "--port 0 --auto-approve --client " + ClientId + ":" + ClientSecret +
                                                   " --client " + OwnClientId + ":" + OwnClientSecret)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
            };
            process = Process.Start(start);
            var hello = (Dictionary<string, object>)Json.Parse(process.StandardOutput.ReadLine());
            BaseUrl = (string)hello["base_url"];
            Dir = Path.Combine(Path.GetTempPath(), "refold-cs-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Dir);
        }

        public void Dispose()
        {
            try { process.Kill(); process.WaitForExit(); } catch (InvalidOperationException) { }
            process.Dispose();
            try { Directory.Delete(Dir, true); } catch (IOException) { }
        }

        public static string RandomKey()
        {
            var bytes = new byte[32];
            using (var rng = RandomNumberGenerator.Create()) rng.GetBytes(bytes);
            return BitConverter.ToString(bytes).Replace("-", "").ToLowerInvariant();
        }

        /// <summary>The sandbox's apps: "sandbox" (OAuth 2.0), "sandbox-keys"
        /// (key-based, verified at /keys/verify), "sandbox-cc" (client
        /// credentials, connected with a client the sandbox knows) and
        /// "sandbox-meta" (OAuth 2.0 with a connection input, keeping instance_url
        /// from the token response for its api_base_url, as Salesforce does; the
        /// sandbox sends it once told to with SetConfig).</summary>
        public List<object> Apps()
        {
            return new List<object>
            {
                new Dictionary<string, object>
                {
                    ["slug"] = "sandbox", ["name"] = "Sandbox", ["auth_types"] = new[] { "oauth2" },
                    ["oauth2"] = new Dictionary<string, object>
                    {
                        ["authorization_endpoint"] = BaseUrl + "/oauth/authorize",
                        ["token_endpoint"] = BaseUrl + "/oauth/token",
                        ["revocation_endpoint"] = BaseUrl + "/oauth/revoke",
                        ["scopes"] = new[] { "profile", "read" },
                        ["issuer"] = BaseUrl,
                        ["authorization_response_iss_parameter_supported"] = true,
                    },
                },
                new Dictionary<string, object>
                {
                    ["slug"] = "sandbox-keys", ["name"] = "Sandbox keys", ["auth_types"] = new[] { "keybased" },
                    ["keybased"] = new Dictionary<string, object>
                    {
                        ["fields"] = new List<object>
                        {
                            new Dictionary<string, object>
                            {
                                ["name"] = "api_key", ["label"] = "API key", ["type"] = "text",
                                ["secret"] = true, ["min_length"] = 24,
                            },
                        },
                        ["verify"] = new Dictionary<string, object>
                        {
                            ["url"] = BaseUrl + "/keys/verify",
                            ["headers"] = new Dictionary<string, object> { ["Authorization"] = "Bearer {api_key}" },
                        },
                    },
                },
                new Dictionary<string, object>
                {
                    ["slug"] = "sandbox-cc", ["name"] = "Sandbox machine to machine", ["auth_types"] = new[] { Credentials.OAuth2CC },
                    ["oauth2_cc"] = new Dictionary<string, object>
                    {
                        ["token_endpoint"] = BaseUrl + "/oauth/token",
                        ["revocation_endpoint"] = BaseUrl + "/oauth/revoke",
                        ["scopes"] = new[] { "read" },
                    },
                },
                new Dictionary<string, object>
                {
                    ["slug"] = "sandbox-meta", ["name"] = "Sandbox with metadata", ["auth_types"] = new[] { Credentials.OAuth2 },
                    ["connection_fields"] = new List<object>
                    {
                        new Dictionary<string, object> { ["name"] = "team", ["label"] = "Team", ["type"] = "text" },
                    },
                    ["oauth2"] = new Dictionary<string, object>
                    {
                        ["authorization_endpoint"] = BaseUrl + "/oauth/authorize",
                        ["token_endpoint"] = BaseUrl + "/oauth/token",
                        ["revocation_endpoint"] = BaseUrl + "/oauth/revoke",
                        ["scopes"] = new[] { "read" },
                        ["token_response_metadata"] = new[] { "instance_url" },
                    },
                    ["api_base_url"] = "{metadata.instance_url}/services",
                },
            };
        }

        public Dictionary<string, object> Config(string store, string key)
        {
            return new Dictionary<string, object>
            {
                ["store"] = Path.Combine(Dir, store),
                ["master_key"] = key,
                ["catalog"] = Apps(),
                ["oauth_clients"] = new Dictionary<string, object>
                {
                    ["sandbox"] = new Dictionary<string, object> { ["client_id"] = ClientId, ["client_secret"] = ClientSecret },
                    ["sandbox-meta"] = new Dictionary<string, object> { ["client_id"] = ClientId, ["client_secret"] = ClientSecret },
                },
                ["oauth"] = new Dictionary<string, object> { ["interactive_timeout_ms"] = 20000 },
            };
        }

        public RefoldClient Open()
        {
            return new RefoldClient(Config("refold-" + Guid.NewGuid().ToString("N") + ".db", RandomKey()));
        }

        /// <summary>GET /api/me with a token: its status.</summary>
        public int ApiMe(string token)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, BaseUrl + "/api/me");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using (var response = NoRedirect.SendAsync(request).Result) return (int)response.StatusCode;
        }

        /// <summary>Changes how the sandbox answers from now on (POST /admin/config,
        /// docs/devserver.md), such as {"token_response_extra": {...}}.</summary>
        public void SetConfig(Dictionary<string, object> config)
        {
            var body = new StringContent(Json.Serialize(config), System.Text.Encoding.UTF8, "application/json");
            using (var response = NoRedirect.PostAsync(BaseUrl + "/admin/config", body).Result)
                Assert.Equal(200, (int)response.StatusCode, "POST /admin/config");
        }

        /// <summary>The sandbox's grants (GET /admin/grants), as "client_id
        /// revoked" lines in order, e.g. "csharp-test-client False".</summary>
        public List<string> Grants()
        {
            using (var response = NoRedirect.GetAsync(BaseUrl + "/admin/grants").Result)
            {
                Assert.Equal(200, (int)response.StatusCode, "GET /admin/grants");
                var body = (Dictionary<string, object>)Json.Parse(response.Content.ReadAsStringAsync().Result);
                var grants = new List<string>();
                foreach (Dictionary<string, object> g in (List<object>)body["grants"])
                    grants.Add(g["client_id"] + " " + g["revoked"]);
                return grants;
            }
        }

        /// <summary>An opener that plays the browser on a task: it follows the
        /// authorization URL (the sandbox approves and redirects to refold's
        /// loopback listener). Visit holds the listener's answer.</summary>
        public sealed class FakeBrowser
        {
            public Task<HttpResponseMessage> Visit;

            public void Open(string url)
            {
                Visit = Task.Run(() => Browser.GetAsync(url));
            }

            public void Check()
            {
                Assert.True(Visit != null, "the opener was called");
                using (var response = Visit.Result)
                    Assert.Equal(200, (int)response.StatusCode, "the loopback listener's page");
            }
        }

        /// <summary>Connects "sandbox" for the account through a fake browser.</summary>
        public static void ConnectSandbox(RefoldClient client, string account)
        {
            var browser = new FakeBrowser();
            client.UrlOpener = browser.Open;
            client.ConnectOAuth(account, "sandbox");
            browser.Check();
        }
    }
}
