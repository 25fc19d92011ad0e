//! A small JSON parser for the signature tests.
//!
//! Unlike `serde_json::Value` (without `arbitrary_precision`), it keeps every
//! number as written, so `2^70` stays an integer, and it keeps object keys in
//! their order. It also reads `NaN`, `Infinity` and `-Infinity`, which
//! Python's `json` module writes and reads. Its `Serialize` impl sends
//! integers as `i128`/`u128` (or, past 128 bits, as `serde_json`'s
//! arbitrary-precision number token) and floats as `f64`.

use serde::ser::{SerializeMap as _, SerializeSeq as _, SerializeStruct as _};

/// A parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    /// An integer, as written.
    Int(String),
    /// A number with a fraction or exponent (or `NaN`/`Infinity`), as written.
    Float(String),
    Str(String),
    Array(Vec<Json>),
    /// Entries in document order.
    Object(Vec<(String, Json)>),
}

/// Parses one JSON document.
pub(crate) fn parse(text: &str) -> Result<Json, String> {
    let mut parser = Parser {
        text: text.as_bytes(),
        pos: 0,
    };
    parser.skip_ws();
    let value = parser.value(0)?;
    parser.skip_ws();
    if parser.pos != parser.text.len() {
        return Err(parser.error("trailing characters"));
    }
    Ok(value)
}

struct Parser<'t> {
    text: &'t [u8],
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> String {
        format!("{what} at byte {}", self.pos)
    }

    fn skip_ws(&mut self) {
        while matches!(self.text.get(self.pos), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, literal: &str) -> bool {
        if self.text[self.pos..].starts_with(literal.as_bytes()) {
            self.pos += literal.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, String> {
        if depth > 200 {
            return Err(self.error("nested too deeply"));
        }
        match self.text.get(self.pos) {
            None => Err(self.error("unexpected end")),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string().map(Json::Str),
            _ if self.eat("null") => Ok(Json::Null),
            _ if self.eat("true") => Ok(Json::Bool(true)),
            _ if self.eat("false") => Ok(Json::Bool(false)),
            _ if self.eat("NaN") => Ok(Json::Float("NaN".into())),
            _ if self.eat("Infinity") => Ok(Json::Float("Infinity".into())),
            _ if self.eat("-Infinity") => Ok(Json::Float("-Infinity".into())),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("unexpected character")),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, String> {
        self.pos += 1;
        let mut entries = Vec::new();
        self.skip_ws();
        if self.eat("}") {
            return Ok(Json::Object(entries));
        }
        loop {
            self.skip_ws();
            if self.text.get(self.pos) != Some(&b'"') {
                return Err(self.error("expected a key"));
            }
            let key = self.string()?;
            self.skip_ws();
            if !self.eat(":") {
                return Err(self.error("expected ':'"));
            }
            self.skip_ws();
            let value = self.value(depth + 1)?;
            entries.push((key, value));
            self.skip_ws();
            if self.eat("}") {
                return Ok(Json::Object(entries));
            }
            if !self.eat(",") {
                return Err(self.error("expected ',' or '}'"));
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, String> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.eat("]") {
            return Ok(Json::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            if self.eat("]") {
                return Ok(Json::Array(items));
            }
            if !self.eat(",") {
                return Err(self.error("expected ',' or ']'"));
            }
        }
    }

    fn number(&mut self) -> Result<Json, String> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let from = p.pos;
            while matches!(p.text.get(p.pos), Some(b'0'..=b'9')) {
                p.pos += 1;
            }
            p.pos - from
        };
        self.eat("-");
        if digits(self) == 0 {
            return Err(self.error("expected digits"));
        }
        let mut is_float = false;
        if self.eat(".") {
            is_float = true;
            if digits(self) == 0 {
                return Err(self.error("expected fraction digits"));
            }
        }
        if self.eat("e") || self.eat("E") {
            is_float = true;
            let _ = self.eat("+") || self.eat("-");
            if digits(self) == 0 {
                return Err(self.error("expected exponent digits"));
            }
        }
        let text = std::str::from_utf8(&self.text[start..self.pos])
            .map_err(|_| self.error("bad number"))?
            .to_owned();
        Ok(if is_float {
            Json::Float(text)
        } else {
            Json::Int(text)
        })
    }

    fn hex4(&mut self) -> Result<u16, String> {
        let hex = self
            .text
            .get(self.pos..self.pos + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u16::from_str_radix(h, 16).ok())
            .ok_or_else(|| self.error("bad \\u escape"))?;
        self.pos += 4;
        Ok(hex)
    }

    fn string(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut units: Vec<u16> = Vec::new();
        let mut out = String::new();
        loop {
            let Some(&b) = self.text.get(self.pos) else {
                return Err(self.error("unterminated string"));
            };
            if b != b'\\' || !self.text[self.pos..].starts_with(b"\\u") {
                // Flush pending UTF-16 escapes.
                if !units.is_empty() {
                    out.push_str(
                        &String::from_utf16(&units).map_err(|_| self.error("lone surrogate"))?,
                    );
                    units.clear();
                }
            }
            match b {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.pos += 1;
                    let escape = self.text.get(self.pos).copied();
                    self.pos += 1;
                    match escape {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'u') => units.push(self.hex4()?),
                        _ => return Err(self.error("bad escape")),
                    }
                }
                0..0x20 => return Err(self.error("raw control character in string")),
                _ => {
                    let rest = std::str::from_utf8(&self.text[self.pos..])
                        .map_err(|_| self.error("not UTF-8"))?;
                    let c = rest.chars().next().unwrap_or_default();
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }
}

impl serde::Serialize for Json {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(b) => serializer.serialize_bool(*b),
            Json::Int(text) => {
                if let Ok(v) = text.parse::<i128>() {
                    serializer.serialize_i128(v)
                } else if let Ok(v) = text.parse::<u128>() {
                    serializer.serialize_u128(v)
                } else {
                    // Past 128 bits: serde_json's arbitrary-precision number token.
                    let mut s = serializer.serialize_struct("$serde_json::private::Number", 1)?;
                    s.serialize_field("$serde_json::private::Number", text)?;
                    s.end()
                }
            }
            Json::Float(text) => serializer.serialize_f64(match text.as_str() {
                "NaN" => f64::NAN,
                "Infinity" => f64::INFINITY,
                "-Infinity" => f64::NEG_INFINITY,
                other => other
                    .parse()
                    .map_err(|_| serde::ser::Error::custom("bad float"))?,
            }),
            Json::Str(s) => serializer.serialize_str(s),
            Json::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

#[test]
fn parser_keeps_big_integers_order_and_escapes() {
    let parsed =
        parse(r#"{"b": 1180591620717411303424, "a": [1.50, -0, "\ud83d\ude00\n"], "c": NaN}"#)
            .unwrap();
    assert_eq!(
        parsed,
        Json::Object(vec![
            ("b".into(), Json::Int("1180591620717411303424".into())),
            (
                "a".into(),
                Json::Array(vec![
                    Json::Float("1.50".into()),
                    Json::Int("-0".into()),
                    Json::Str("😀\n".into()),
                ])
            ),
            ("c".into(), Json::Float("NaN".into())),
        ])
    );
    for bad in [
        "",
        "[1,]",
        "{\"a\" 1}",
        "01x",
        "\"\\ud800\"",
        "[1] 2",
        "\"a\u{1}\"",
    ] {
        assert!(parse(bad).is_err(), "{bad:?} should not parse");
    }
}
