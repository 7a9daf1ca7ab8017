//! A small JSON reader and writer, enough for what crosses refold's C ABI
//! (the crate has no dependencies, so no serde). Object members keep their
//! order; numbers keep their exact text.
use std::fmt::{self, Write as _};

/// A JSON value.
#[derive(Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// A number, as its JSON text (so 64-bit integers stay exact).
    Number(String),
    String(String),
    Array(Vec<Value>),
    /// Members in document order.
    Object(Vec<(String, Value)>),
}

/// Why a text is not JSON: what was expected, and the byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub offset: usize,
    pub what: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.what, self.offset)
    }
}

impl std::error::Error for ParseError {}

const MAX_DEPTH: usize = 128;

/// Parses one JSON value; only whitespace may follow it.
pub fn parse(text: &str) -> Result<Value, ParseError> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    let v = p.value(0)?;
    p.ws();
    if p.i != p.s.len() {
        return Err(p.err("end of text"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn err(&self, what: &'static str) -> ParseError {
        ParseError {
            offset: self.i,
            what,
        }
    }

    fn ws(&mut self) {
        while matches!(self.s.get(self.i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, lit: &[u8]) -> bool {
        if self.s[self.i..].starts_with(lit) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.err("less nesting"));
        }
        self.ws();
        match self.s.get(self.i) {
            None => Err(self.err("a value")),
            Some(b'n') if self.eat(b"null") => Ok(Value::Null),
            Some(b't') if self.eat(b"true") => Ok(Value::Bool(true)),
            Some(b'f') if self.eat(b"false") => Ok(Value::Bool(false)),
            Some(b'"') => self.string().map(Value::String),
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.eat(b"]") {
                    return Ok(Value::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    if self.eat(b"]") {
                        return Ok(Value::Array(items));
                    }
                    if !self.eat(b",") {
                        return Err(self.err("',' or ']'"));
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut members = Vec::new();
                self.ws();
                if self.eat(b"}") {
                    return Ok(Value::Object(members));
                }
                loop {
                    self.ws();
                    if self.s.get(self.i) != Some(&b'"') {
                        return Err(self.err("a member name"));
                    }
                    let name = self.string()?;
                    self.ws();
                    if !self.eat(b":") {
                        return Err(self.err("':'"));
                    }
                    members.push((name, self.value(depth + 1)?));
                    self.ws();
                    if self.eat(b"}") {
                        return Ok(Value::Object(members));
                    }
                    if !self.eat(b",") {
                        return Err(self.err("',' or '}'"));
                    }
                }
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.err("a value")),
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while matches!(self.s.get(self.i), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.i;
        self.eat(b"-");
        let int_start = self.i;
        let n = self.digits();
        if n == 0 || (n > 1 && self.s[int_start] == b'0') {
            return Err(self.err("a number"));
        }
        if self.eat(b".") && self.digits() == 0 {
            return Err(self.err("digits after '.'"));
        }
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(self.err("an exponent"));
            }
        }
        // The bytes are ASCII digits and signs, so this is valid UTF-8.
        Ok(Value::Number(
            String::from_utf8_lossy(&self.s[start..self.i]).into_owned(),
        ))
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let hex = self
            .s
            .get(self.i..self.i + 4)
            .ok_or_else(|| self.err("four hex digits"))?;
        let text = std::str::from_utf8(hex).map_err(|_| self.err("four hex digits"))?;
        let v = u32::from_str_radix(text, 16).map_err(|_| self.err("four hex digits"))?;
        self.i += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, ParseError> {
        self.i += 1; // the opening quote
        let mut out = Vec::new();
        loop {
            let c = *self
                .s
                .get(self.i)
                .ok_or_else(|| self.err("a closing '\"'"))?;
            self.i += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = *self.s.get(self.i).ok_or_else(|| self.err("an escape"))?;
                    self.i += 1;
                    let ch = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if !self.eat(b"\\u") {
                                    return Err(self.err("a low surrogate"));
                                }
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("a low surrogate"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            char::from_u32(code).ok_or_else(|| self.err("a valid \\u escape"))?
                        }
                        _ => return Err(self.err("a valid escape")),
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                0..=0x1f => return Err(self.err("no control character in a string")),
                _ => out.push(c),
            }
        }
        String::from_utf8(out).map_err(|_| self.err("UTF-8"))
    }
}

impl Value {
    /// An object from (name, value) pairs.
    pub fn object<K: Into<String>, I: IntoIterator<Item = (K, Value)>>(members: I) -> Value {
        Value::Object(members.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// An array of values.
    pub fn array<I: IntoIterator<Item = Value>>(items: I) -> Value {
        Value::Array(items.into_iter().collect())
    }

    /// The member `name` of an object (the first, if repeated).
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(m) => m.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    /// The number as an integer, if it is written as one and fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[(String, Value)]> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// Overwrites every string in place with zero bytes (for values that
    /// held secrets), before they are dropped.
    pub(crate) fn wipe(&mut self) {
        match self {
            Value::String(s) => wipe_string(s),
            Value::Array(a) => a.iter_mut().for_each(Value::wipe),
            Value::Object(m) => m.iter_mut().for_each(|(_, v)| v.wipe()),
            _ => {}
        }
    }
}

/// Overwrites a string's bytes with zeros, in a way the optimiser keeps.
pub(crate) fn wipe_string(s: &mut String) {
    // SAFETY: zero bytes are valid UTF-8, and the writes stay in bounds.
    unsafe {
        for b in s.as_bytes_mut() {
            std::ptr::write_volatile(b, 0);
        }
    }
    s.clear();
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Value {
        Value::Number(n.to_string())
    }
}

impl From<i32> for Value {
    fn from(n: i32) -> Value {
        Value::Number(n.to_string())
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Value {
        Value::Number(n.to_string())
    }
}

/// A finite float; NaN and the infinities, which JSON cannot hold, become null.
impl From<f64> for Value {
    fn from(n: f64) -> Value {
        if n.is_finite() {
            Value::Number(format!("{n:?}"))
        } else {
            Value::Null
        }
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Value {
        Value::Array(items.into_iter().map(Into::into).collect())
    }
}

fn write_string(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

/// Writes an object with these members as compact JSON, without building a
/// Value (so without copies of the values).
pub(crate) fn write_object<K: AsRef<str>>(
    f: &mut impl fmt::Write,
    members: &[(K, Value)],
) -> fmt::Result {
    f.write_char('{')?;
    for (i, (k, v)) in members.iter().enumerate() {
        if i > 0 {
            f.write_char(',')?;
        }
        write_string(f, k.as_ref())?;
        write!(f, ":{v}")?;
    }
    f.write_char('}')
}

/// Compact JSON text.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => f.write_str(n),
            Value::String(s) => write_string(f, s),
            Value::Array(items) => {
                f.write_char('[')?;
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_char(',')?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_char(']')
            }
            Value::Object(members) => write_object(f, members),
        }
    }
}

/// Shows the structure with every string and number replaced by its length,
/// so a value that holds secrets can be logged.
impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => write!(f, "<number of {} characters>", n.len()),
            Value::String(s) => write!(f, "<string of {} bytes>", s.len()),
            Value::Array(items) => f.debug_list().entries(items).finish(),
            Value::Object(members) => {
                let mut m = f.debug_map();
                for (k, v) in members {
                    m.entry(k, v);
                }
                m.finish()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_of_value() {
        let v =
            parse(r#" {"a": [1, -2.5e3, true, false, null], "b": {"c": "d"}, "e": ""} "#).unwrap();
        let a = v.get("a").unwrap().as_array().unwrap();
        assert_eq!(a[0].as_i64(), Some(1));
        assert_eq!(a[1].as_f64(), Some(-2500.0));
        assert_eq!(a[1].as_i64(), None);
        assert_eq!(a[2].as_bool(), Some(true));
        assert_eq!(a[3].as_bool(), Some(false));
        assert!(a[4].is_null());
        assert_eq!(v.get("b").unwrap().get("c").unwrap().as_str(), Some("d"));
        assert_eq!(v.get("e").unwrap().as_str(), Some(""));
        assert!(v.get("missing").is_none());
        assert_eq!(parse("[]").unwrap(), Value::Array(vec![]));
        assert_eq!(parse("{}").unwrap(), Value::Object(vec![]));
    }

    #[test]
    fn keeps_large_integers_exact() {
        let v = parse("[9007199254740993, 15551234567]").unwrap();
        assert_eq!(
            v.as_array().unwrap()[0].as_i64(),
            Some(9_007_199_254_740_993)
        );
        assert_eq!(v.to_string(), "[9007199254740993,15551234567]");
    }

    #[test]
    fn decodes_escapes_and_unicode() {
        let v = parse(r#""a\"b\\c\/d\n\t\u00e9\ud83d\ude00é""#).unwrap();
        assert_eq!(v.as_str(), Some("a\"b\\c/d\n\t\u{e9}\u{1f600}é"));
    }

    #[test]
    fn rejects_what_is_not_json() {
        for bad in [
            "",
            "{",
            "[1,]",
            "{\"a\"}",
            "{\"a\":1,}",
            "01",
            "1.",
            "-",
            "1e",
            "tru",
            "\"abc",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\ud800\\u0041\"",
            "\"a\nb\"",
            "[1] 2",
            "{a:1}",
            "nul",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(parse(&deep).is_err());
        let e = parse("[1,]").unwrap_err();
        assert_eq!(e.offset, 3);
    }

    #[test]
    fn writes_what_it_reads() {
        let v = Value::object([
            ("s", Value::from("q\"\\\n\u{1}é")),
            ("n", Value::from(42i64)),
            ("f", Value::from(0.5)),
            ("nan", Value::from(f64::NAN)),
            ("b", Value::from(true)),
            ("a", Value::from(vec!["x", "y"])),
            ("o", Value::object(Vec::<(String, Value)>::new())),
        ]);
        let text = v.to_string();
        assert_eq!(
            text,
            r#"{"s":"q\"\\\n\u0001é","n":42,"f":0.5,"nan":null,"b":true,"a":["x","y"],"o":{}}"#
        );
        assert_eq!(parse(&text).unwrap(), v);
    }

    #[test]
    fn debug_shows_no_content() {
        let v = parse(r#"{"key": "sk_sandbox_secret_value", "n": 12345}"#).unwrap();
        let shown = format!("{v:?}");
        assert!(!shown.contains("sk_sandbox"), "{shown}");
        assert!(!shown.contains("12345"));
        assert!(shown.contains("key"));
    }

    #[test]
    fn wipe_clears_strings() {
        let mut v = parse(r#"{"a": ["x", {"b": "y"}]}"#).unwrap();
        v.wipe();
        assert_eq!(v.to_string(), r#"{"a":["",{"b":""}]}"#);
    }
}
