// A small JSON reader and writer for what crosses refold's C ABI (Mono has
// no System.Text.Json). Objects read as Dictionary<string, object>, arrays
// as List<object>, integers as long, other numbers as double.
using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Refold
{
    internal static class Json
    {
        private const int MaxDepth = 128;

        internal static object Parse(string text)
        {
            int i = 0;
            object v = Value(text, ref i, 0);
            SkipSpace(text, ref i);
            if (i != text.Length) throw Error(i, "end of text");
            return v;
        }

        private static FormatException Error(int at, string expected)
        {
            return new FormatException("JSON: expected " + expected + " at offset " + at);
        }

        private static void SkipSpace(string s, ref int i)
        {
            while (i < s.Length && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
        }

        private static bool Eat(string s, ref int i, string lit)
        {
            if (string.CompareOrdinal(s, i, lit, 0, lit.Length) != 0) return false;
            i += lit.Length;
            return true;
        }

        private static object Value(string s, ref int i, int depth)
        {
            if (depth > MaxDepth) throw Error(i, "less nesting");
            SkipSpace(s, ref i);
            if (i >= s.Length) throw Error(i, "a value");
            char c = s[i];
            if (c == '"') return String(s, ref i);
            if (c == '{')
            {
                i++;
                var obj = new Dictionary<string, object>();
                SkipSpace(s, ref i);
                if (Eat(s, ref i, "}")) return obj;
                while (true)
                {
                    SkipSpace(s, ref i);
                    if (i >= s.Length || s[i] != '"') throw Error(i, "a member name");
                    string name = String(s, ref i);
                    SkipSpace(s, ref i);
                    if (!Eat(s, ref i, ":")) throw Error(i, "':'");
                    obj[name] = Value(s, ref i, depth + 1);
                    SkipSpace(s, ref i);
                    if (Eat(s, ref i, "}")) return obj;
                    if (!Eat(s, ref i, ",")) throw Error(i, "',' or '}'");
                }
            }
            if (c == '[')
            {
                i++;
                var list = new List<object>();
                SkipSpace(s, ref i);
                if (Eat(s, ref i, "]")) return list;
                while (true)
                {
                    list.Add(Value(s, ref i, depth + 1));
                    SkipSpace(s, ref i);
                    if (Eat(s, ref i, "]")) return list;
                    if (!Eat(s, ref i, ",")) throw Error(i, "',' or ']'");
                }
            }
            if (Eat(s, ref i, "true")) return true;
            if (Eat(s, ref i, "false")) return false;
            if (Eat(s, ref i, "null")) return null;
            if (c == '-' || (c >= '0' && c <= '9')) return Number(s, ref i);
            throw Error(i, "a value");
        }

        private static int Digits(string s, ref int i)
        {
            int start = i;
            while (i < s.Length && s[i] >= '0' && s[i] <= '9') i++;
            return i - start;
        }

        private static object Number(string s, ref int i)
        {
            int start = i;
            if (s[i] == '-') i++;
            int intStart = i;
            int n = Digits(s, ref i);
            if (n == 0 || (n > 1 && s[intStart] == '0')) throw Error(i, "a number");
            bool integral = true;
            if (i < s.Length && s[i] == '.')
            {
                i++;
                integral = false;
                if (Digits(s, ref i) == 0) throw Error(i, "digits after '.'");
            }
            if (i < s.Length && (s[i] == 'e' || s[i] == 'E'))
            {
                i++;
                integral = false;
                if (i < s.Length && (s[i] == '+' || s[i] == '-')) i++;
                if (Digits(s, ref i) == 0) throw Error(i, "an exponent");
            }
            string text = s.Substring(start, i - start);
            long l;
            if (integral && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out l)) return l;
            return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        private static string String(string s, ref int i)
        {
            i++; // the opening quote
            var sb = new StringBuilder();
            while (true)
            {
                if (i >= s.Length) throw Error(i, "a closing '\"'");
                char c = s[i++];
                if (c == '"') return sb.ToString();
                if (c < 0x20) throw Error(i - 1, "no control character in a string");
                if (c != '\\')
                {
                    sb.Append(c);
                    continue;
                }
                if (i >= s.Length) throw Error(i, "an escape");
                char e = s[i++];
                switch (e)
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case '/': sb.Append('/'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        int code;
                        if (i + 4 > s.Length || !int.TryParse(s.Substring(i, 4), NumberStyles.AllowHexSpecifier,
                                CultureInfo.InvariantCulture, out code))
                            throw Error(i, "four hex digits");
                        i += 4;
                        sb.Append((char)code); // surrogate pairs arrive as two escapes, as UTF-16 wants
                        break;
                    default: throw Error(i - 1, "a valid escape");
                }
            }
        }

        internal static string Serialize(object value)
        {
            var sb = new StringBuilder();
            Write(sb, value, 0);
            return sb.ToString();
        }

        private static void Write(StringBuilder sb, object v, int depth)
        {
            if (depth > MaxDepth) throw new ArgumentException("JSON: nested too deeply");
            if (v == null) { sb.Append("null"); return; }
            if (v is string) { WriteString(sb, (string)v); return; }
            if (v is bool) { sb.Append((bool)v ? "true" : "false"); return; }
            if (v is int || v is long || v is decimal)
            {
                sb.Append(((IFormattable)v).ToString(null, CultureInfo.InvariantCulture));
                return;
            }
            if (v is double)
            {
                double d = (double)v;
                if (double.IsNaN(d) || double.IsInfinity(d)) throw new ArgumentException("JSON cannot hold " + d);
                sb.Append(d.ToString("R", CultureInfo.InvariantCulture));
                return;
            }
            var obj = v as IDictionary<string, object>;
            if (obj != null)
            {
                sb.Append('{');
                bool first = true;
                foreach (var kv in obj)
                {
                    if (!first) sb.Append(',');
                    first = false;
                    WriteString(sb, kv.Key);
                    sb.Append(':');
                    Write(sb, kv.Value, depth + 1);
                }
                sb.Append('}');
                return;
            }
            var items = v as IEnumerable;
            if (items != null)
            {
                sb.Append('[');
                bool first = true;
                foreach (var item in items)
                {
                    if (!first) sb.Append(',');
                    first = false;
                    Write(sb, item, depth + 1);
                }
                sb.Append(']');
                return;
            }
            throw new ArgumentException("JSON cannot hold a " + v.GetType().Name);
        }

        private static void WriteString(StringBuilder sb, string s)
        {
            sb.Append('"');
            foreach (char c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    default:
                        if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else sb.Append(c);
                        break;
                }
            }
            sb.Append('"');
        }

        // Typed reads of parsed objects; a shape the library never returns
        // is an internal error.
        internal static Dictionary<string, object> Object(object v)
        {
            var d = v as Dictionary<string, object>;
            if (d == null) throw Unexpected("an object");
            return d;
        }

        internal static List<object> Array(object v)
        {
            var l = v as List<object>;
            if (l == null) throw Unexpected("an array");
            return l;
        }

        internal static string Str(Dictionary<string, object> o, string name)
        {
            object v;
            var s = o.TryGetValue(name, out v) ? v as string : null;
            if (s == null) throw Unexpected(name);
            return s;
        }

        internal static string OptStr(Dictionary<string, object> o, string name)
        {
            object v;
            return o.TryGetValue(name, out v) ? v as string : null;
        }

        internal static bool Bool(Dictionary<string, object> o, string name)
        {
            object v;
            return o.TryGetValue(name, out v) && v is bool && (bool)v;
        }

        internal static bool? OptBool(Dictionary<string, object> o, string name)
        {
            object v;
            return o.TryGetValue(name, out v) && v is bool ? (bool?)(bool)v : null;
        }

        internal static long? OptLong(Dictionary<string, object> o, string name)
        {
            object v;
            return o.TryGetValue(name, out v) && v is long ? (long?)(long)v : null;
        }

        internal static double? OptDouble(Dictionary<string, object> o, string name)
        {
            object v;
            if (!o.TryGetValue(name, out v)) return null;
            if (v is long) return (long)v;
            if (v is double) return (double)v;
            return null;
        }

        internal static List<object> OptArray(Dictionary<string, object> o, string name)
        {
            object v;
            return o.TryGetValue(name, out v) && v is List<object> ? (List<object>)v : new List<object>();
        }

        internal static List<string> Strings(Dictionary<string, object> o, string name)
        {
            var list = new List<string>();
            foreach (var item in OptArray(o, name))
            {
                var s = item as string;
                if (s != null) list.Add(s);
            }
            return list;
        }

        /// <summary>An object of strings; absent or null: empty.</summary>
        internal static Dictionary<string, string> StringMap(Dictionary<string, object> o, string name)
        {
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            object v;
            if (!o.TryGetValue(name, out v) || v == null) return map;
            var members = v as Dictionary<string, object>;
            if (members == null) throw Unexpected(name);
            foreach (var member in members)
            {
                var s = member.Value as string;
                if (s == null) throw Unexpected(name);
                map[member.Key] = s;
            }
            return map;
        }

        internal static DateTimeOffset Time(Dictionary<string, object> o, string name)
        {
            var t = OptTime(o, name);
            if (t == null) throw Unexpected(name);
            return t.Value;
        }

        internal static DateTimeOffset? OptTime(Dictionary<string, object> o, string name)
        {
            var s = OptStr(o, name);
            if (s == null) return null;
            return DateTimeOffset.Parse(s, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
        }

        internal static RefoldException Unexpected(string what)
        {
            return new RefoldException(ErrorCode.Internal, "unexpected JSON from the library: " + what);
        }
    }
}
