// The binding's own JSON reader and writer.
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
    }
}
