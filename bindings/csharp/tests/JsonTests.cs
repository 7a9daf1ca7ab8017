// The binding's own JSON reader and writer, and the results read with it.
using System;
using System.Collections.Generic;

namespace Refold.Tests
{
    internal static class JsonTests
    {
        [Test]
        public static void ReadsEveryKindOfValue()
        {
            var o = (Dictionary<string, object>)Json.Parse(" {\"a\": [1, -2.5e3, true, false, null, 9007199254740993], \"b\": {\"c\": \"d\"}, \"e\": \"\"} ");
            var a = (List<object>)o["a"];
            Assert.Equal(1L, (long)a[0], "integer");
            Assert.Equal(-2500.0, (double)a[1], "float");
            Assert.True((bool)a[2] && !(bool)a[3] && a[4] == null, "literals");
            Assert.Equal(9007199254740993L, (long)a[5], "a large integer stays exact");
            Assert.Equal("d", (string)((Dictionary<string, object>)o["b"])["c"], "nested");
            Assert.Equal("", (string)o["e"], "empty string");
            Assert.Equal("a\"b\\c/d\n\t\u00e9\U0001F600", (string)Json.Parse("\"a\\\"b\\\\c\\/d\\n\\t\\u00e9\\ud83d\\ude00\""), "escapes");
        }

        [Test]
        public static void RejectsWhatIsNotJson()
        {
            foreach (var bad in new[] { "", "{", "[1,]", "{\"a\"}", "{\"a\":1,}", "01", "1.", "-", "1e", "tru", "\"abc", "\"\\x\"", "\"a\nb\"", "[1] 2", "{a:1}" })
                Assert.Throws<FormatException>(() => Json.Parse(bad), "parsing " + bad);
            Assert.Throws<FormatException>(() => Json.Parse(new string('[', 200) + new string(']', 200)), "deep nesting");
        }

        [Test]
        public static void WritesWhatItReads()
        {
            var v = new Dictionary<string, object>
            {
                ["s"] = "q\"\\\n\u0001é", ["n"] = 42, ["l"] = 15551234567L, ["f"] = 0.5, ["b"] = true,
                ["a"] = new[] { "x", "y" }, ["o"] = new Dictionary<string, object>(), ["z"] = null,
            };
            string text = Json.Serialize(v);
            Assert.Equal("{\"s\":\"q\\\"\\\\\\n\\u0001é\",\"n\":42,\"l\":15551234567,\"f\":0.5,\"b\":true,\"a\":[\"x\",\"y\"],\"o\":{},\"z\":null}", text, "written");
            Assert.Equal(text, Json.Serialize(Json.Parse(text)), "round trip");
            Assert.Throws<ArgumentException>(() => Json.Serialize(double.NaN), "NaN");
        }

        [Test]
        public static void WritesOAuthOptions()
        {
            Assert.Equal("{}", new OAuthOptions().ToJson(), "no options");
            var options = new OAuthOptions
            {
                Scopes = new List<string> { "read" },
                Client = new OAuthClient { ClientId = "own", ClientSecret = "s\"3" },
            };
            Assert.Equal("{\"scopes\":[\"read\"],\"client\":{\"client_id\":\"own\",\"client_secret\":\"s\\\"3\"}}", options.ToJson(), "a customer's client");
            Assert.True(!options.Client.ToString().Contains("s\"3"), "ToString shows no secret");
        }

        [Test]
        public static void ReadsCredentialsWithAndWithoutAUserToken()
        {
            var bot = Credentials.Parse("{\"auth_type\":\"oauth2\",\"access_token\":\"xoxb-bot\",\"token_type\":\"Bearer\"," +
                                        "\"expires_at\":null,\"scopes\":[\"chat:write\"]}");
            Assert.True(bot.User == null, "no user token");
            Assert.Equal("xoxb-bot", bot.AccessToken, "the bot token");

            var both = Credentials.Parse("{\"auth_type\":\"oauth2\",\"access_token\":\"xoxb-bot\",\"token_type\":\"Bearer\"," +
                                         "\"expires_at\":\"2030-01-02T03:04:05.000Z\",\"scopes\":[\"chat:write\"]," +
                                         "\"user\":{\"access_token\":\"xoxp-user\",\"token_type\":\"Bearer\"," +
                                         "\"expires_at\":\"2030-01-02T04:04:05.000Z\",\"scopes\":[\"search:read\",\"users:read\"],\"id\":\"U024BE7LH\"}}");
            var user = both.User;
            Assert.True(user != null, "the user token is read");
            Assert.Equal("xoxp-user", user.AccessToken, "user access token");
            Assert.Equal("Bearer", user.TokenType, "user token type");
            Assert.Equal(new DateTimeOffset(2030, 1, 2, 4, 4, 5, TimeSpan.Zero), user.ExpiresAt.Value, "user expiry");
            Assert.Equal("search:read users:read", string.Join(" ", user.Scopes), "user scopes");
            Assert.Equal("U024BE7LH", user.Id, "user id");
            string text = both + " " + user;
            Assert.True(!text.Contains("xoxb-bot") && !text.Contains("xoxp-user") && text.Contains("U024BE7LH"),
                "ToString shows no token, and the user: " + text);

            // Without an expiry or an id; a null member is no user token.
            var bare = Credentials.Parse("{\"auth_type\":\"oauth2\",\"access_token\":\"a\",\"token_type\":\"Bearer\",\"expires_at\":null," +
                                         "\"scopes\":[],\"user\":{\"access_token\":\"b\",\"token_type\":\"Bearer\",\"expires_at\":null,\"scopes\":[]}}");
            Assert.True(bare.User.ExpiresAt == null && bare.User.Id == null, "no expiry, no id");
            Assert.True(Credentials.Parse("{\"auth_type\":\"oauth2\",\"access_token\":\"a\",\"token_type\":\"Bearer\"," +
                                          "\"expires_at\":null,\"scopes\":[],\"user\":null}").User == null, "a null user");
            Assert.Throws<RefoldException>(() => Credentials.Parse("{\"auth_type\":\"oauth2\",\"access_token\":\"a\"," +
                "\"token_type\":\"Bearer\",\"expires_at\":null,\"scopes\":[],\"user\":{\"token_type\":\"Bearer\"}}"), "a user token without its token");
        }

        [Test]
        public static void ReadsConnectionInputsMetadataAndTheApiBase()
        {
            var plain = Credentials.Parse("{\"auth_type\":\"oauth2\",\"access_token\":\"at-plain\",\"token_type\":\"Bearer\"," +
                                          "\"expires_at\":null,\"scopes\":[\"read\"]}");
            Assert.True(plain.Connection.Count == 0 && plain.Metadata.Count == 0 && plain.ApiBaseUrl == null, "without them");

            var all = Credentials.Parse("{\"auth_type\":\"oauth2\",\"access_token\":\"at-sf\",\"token_type\":\"Bearer\"," +
                                        "\"expires_at\":null,\"scopes\":[\"api\"],\"connection\":{\"subdomain\":\"acme\"}," +
                                        "\"metadata\":{\"instance_url\":\"https://na1.example\",\"realmId\":\"9130\"}," +
                                        "\"api_base_url\":\"https://na1.example/services\"}");
            Assert.Equal(1, all.Connection.Count, "connection inputs");
            Assert.Equal("acme", all.Connection["subdomain"], "the subdomain");
            Assert.Equal(2, all.Metadata.Count, "metadata");
            Assert.Equal("https://na1.example", all.Metadata["instance_url"], "instance_url");
            Assert.Equal("9130", all.Metadata["realmId"], "realmId");
            Assert.Equal("https://na1.example/services", all.ApiBaseUrl, "the API base");
            string text = all.ToString();
            Assert.True(!text.Contains("at-sf") && text.Contains("https://na1.example/services") && text.Contains("realmId=9130") &&
                        text.Contains("subdomain=acme"), "ToString shows no token, and the metadata: " + text);

            var cc = Credentials.Parse("{\"auth_type\":\"oauth2_cc\",\"access_token\":\"a\",\"token_type\":\"Bearer\"," +
                                       "\"expires_at\":null,\"scopes\":[],\"metadata\":{\"tenant\":\"t1\"},\"api_base_url\":\"https://t1.example\"}");
            Assert.Equal("t1", cc.Metadata["tenant"], "client-credentials metadata");
            Assert.Equal("https://t1.example", cc.ApiBaseUrl, "client-credentials API base");
            var keys = Credentials.Parse("{\"auth_type\":\"keybased\",\"fields\":{\"api_key\":\"k\"}}");
            Assert.True(keys.Metadata.Count == 0 && keys.Connection.Count == 0 && keys.ApiBaseUrl == null, "key-based");
            Assert.Throws<RefoldException>(() => Credentials.Parse("{\"auth_type\":\"oauth2\",\"access_token\":\"a\"," +
                "\"token_type\":\"Bearer\",\"expires_at\":null,\"scopes\":[],\"metadata\":{\"hub_id\":42}}"), "metadata that is not strings");
        }

        [Test]
        public static void ReadsClientCredentials()
        {
            var cc = Credentials.Parse("{\"auth_type\":\"oauth2_cc\",\"access_token\":\"at_cc\",\"token_type\":\"Bearer\"," +
                                       "\"expires_at\":\"2030-01-01T00:00:00.000Z\",\"scopes\":[\"read\"],\"client_id\":\"own\"}");
            Assert.Equal(Credentials.OAuth2CC, cc.AuthType, "auth type");
            Assert.Equal("at_cc", cc.AccessToken, "token");
            Assert.Equal("own", cc.ClientId, "client");
            Assert.True(cc.ToString().StartsWith("oauth2_cc credentials") && !cc.ToString().Contains("at_cc"), "ToString");
            Assert.Throws<RefoldException>(() => Credentials.Parse("{\"auth_type\":\"other\"}"), "an unknown auth type");
        }
    }
}
