// A tour of refold from C#: open a client, list apps, connect a key-based
// app and an OAuth app against the local sandbox, read a token, handle a
// re-auth event, disconnect.
//
//   refold-devserver --port 8765 --auto-approve &     # the sandbox provider
//   mcs -out:Sample.exe -r:Refold.dll -r:System.Net.Http.dll Program.cs
//   LD_LIBRARY_PATH=../../build/default mono Sample.exe
//
// With no arguments the built-in catalog's sandbox apps (port 8765) and a
// temporary store are used; "Sample.exe CATALOG STORE" takes a catalog file
// and a store path instead (ctest runs it so, against a sandbox on a free
// port). Secrets are never printed.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Threading.Tasks;
using Refold;

internal static class Program
{
    private static readonly HttpClient Http = new HttpClient(new HttpClientHandler { UseProxy = false });

    private static int Main(string[] args)
    {
        string temp = Path.Combine(Path.GetTempPath(), "refold-sample-" + Guid.NewGuid().ToString("N"));
        var config = new Dictionary<string, object>
        {
            // refold-devserver's default OAuth client.
            ["oauth_clients"] = new Dictionary<string, object>
            {
                ["sandbox"] = new Dictionary<string, object> { ["client_id"] = "sandbox-client", ["client_secret"] = "sandbox-secret" },
            },
        };
        if (args.Length == 2)
        {
            config["catalog"] = args[0];
            config["store"] = args[1];
        }
        else config["store"] = Path.Combine(temp, "refold.db"); // a key file is created beside it

        Console.WriteLine("refold " + RefoldClient.Version + " from C#");
        const string account = "customer-42";
        using (var client = new RefoldClient(config))
        {
            // Events arrive on the thread whose call caused them.
            client.ConnectionChanged += (sender, e) => Console.WriteLine("  event " + e);
            client.ConnectionExpired += (sender, e) => Console.WriteLine("  -> ask " + e.Account + " to connect " + e.App + " again");

            Console.WriteLine("1. Apps:");
            foreach (var app in client.ListApps(account))
                Console.WriteLine("  {0,-14} {1}", app.Slug, string.Join(", ", app.AuthTypes));

            Console.WriteLine("2. A key the provider rejects, then a good one:");
            try
            {
                client.ConnectKeyBased(account, "sandbox-keys", new Dictionary<string, object> { ["api_key"] = "sk_live_0123456789abcdefghij" });
            }
            catch (RefoldException e) when (e.Code == ErrorCode.Auth)
            {
                Console.WriteLine("  rejected: " + e.Message);
            }
            client.ConnectKeyBased(account, "sandbox-keys", new Dictionary<string, object> { ["api_key"] = "sk_sandbox_0123456789abcdefghij" });

            Console.WriteLine("3. OAuth: the opener plays the browser (the sandbox approves at once):");
            Task<HttpResponseMessage> visit = null;
            client.UrlOpener = url => visit = Task.Run(() => Http.GetAsync(url)); // hand off and return
            client.ConnectOAuth(account, "sandbox");
            visit.Result.Dispose();

            Console.WriteLine("4. Reading the token:");
            var creds = client.GetCredentials(account, "sandbox");
            Console.WriteLine("  " + creds); // shows no secret
            Console.WriteLine("  access token of " + creds.AccessToken.Length + " characters");

            Console.WriteLine("5. The provider revoked access (say, a webhook told us):");
            client.MarkReauth(account, "sandbox", "revoked");
            try { client.GetCredentials(account, "sandbox"); }
            catch (ReauthRequiredException) { Console.WriteLine("  reading again needs re-auth: True"); }

            Console.WriteLine("6. Disconnecting:");
            client.Disconnect(account, "sandbox");
            client.Disconnect(account, "sandbox-keys");
            Console.WriteLine("  connections left: " + client.ListConnections(account).Count());
        }
        if (Directory.Exists(temp)) Directory.Delete(temp, true);
        return 0;
    }
}
