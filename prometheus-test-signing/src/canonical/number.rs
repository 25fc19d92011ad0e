//! Numbers as text: `serde_json`'s `arbitrary_precision` token, read as
//! Python's `json.loads` reads a number.

use std::borrow::Cow;

use serde::Serialize;

use super::CanonicalJsonError;
use super::float::write_python_float;
use super::key::MapKey;
use super::key_serializer::KeySerializer;

/// The struct name `serde_json` gives a number under its `arbitrary_precision` feature.
pub(super) const NUMBER_TOKEN: &str = "$serde_json::private::Number";
/// The struct name `serde_json` gives a `RawValue` under its `raw_value` feature.
pub(super) const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// The digits inside `serde_json`'s arbitrary-precision number struct.
pub(super) fn number_token_text<T: Serialize + ?Sized>(
    key: &str,
    value: &T,
) -> Result<String, CanonicalJsonError> {
    if key != NUMBER_TOKEN {
        return Err(CanonicalJsonError::new(format!(
            "serde_json arbitrary-precision number has an unexpected field {key:?}"
        )));
    }
    match value.serialize(KeySerializer)? {
        MapKey::Str(text) => Ok(text.into_owned()),
        _ => Err(CanonicalJsonError::new(
            "serde_json arbitrary-precision number does not hold its digits as a string",
        )),
    }
}

/// What a JSON number text means to Python's `json.loads`.
pub(super) enum ParsedNumber<'t> {
    /// An int, as normalised decimal digits (with a `-` when negative).
    Int(Cow<'t, str>),
    Float(f64),
}

/// Reads a JSON number as Python would: an int when it has no `.`, `e` or `E`, else a float.
pub(super) fn parse_number_text(text: &str) -> Result<ParsedNumber<'_>, CanonicalJsonError> {
    let invalid = || CanonicalJsonError::new(format!("{text:?} is not a JSON number"));
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let int_len = unsigned.bytes().take_while(u8::is_ascii_digit).count();
    if int_len == 0 {
        return Err(invalid());
    }
    let rest = &unsigned[int_len..];
    if rest.is_empty() {
        let digits = unsigned.trim_start_matches('0');
        let normalised = if digits.is_empty() {
            Cow::Borrowed("0")
        } else if digits.len() == unsigned.len() {
            Cow::Borrowed(text)
        } else if text.starts_with('-') {
            Cow::Owned(format!("-{digits}"))
        } else {
            Cow::Borrowed(digits)
        };
        return Ok(ParsedNumber::Int(normalised));
    }
    let mut tail = rest;
    if let Some(fraction) = tail.strip_prefix('.') {
        let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return Err(invalid());
        }
        tail = &fraction[n..];
    }
    if let Some(exponent) = tail.strip_prefix(['e', 'E']) {
        let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        if exponent.is_empty() || !exponent.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        tail = "";
    }
    if !tail.is_empty() {
        return Err(invalid());
    }
    text.parse::<f64>()
        .map(ParsedNumber::Float)
        .map_err(|_| invalid())
}

pub(super) fn write_number_text(out: &mut String, text: &str) -> Result<(), CanonicalJsonError> {
    match parse_number_text(text)? {
        ParsedNumber::Int(digits) => out.push_str(&digits),
        ParsedNumber::Float(v) => write_python_float(out, v),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float(v: f64) -> String {
        let mut s = String::new();
        write_python_float(&mut s, v);
        s
    }

    #[test]
    fn number_text_is_read_as_python_reads_it() {
        let parse = |t: &str| match parse_number_text(t) {
            Ok(ParsedNumber::Int(d)) => format!("int {d}"),
            Ok(ParsedNumber::Float(f)) => format!("float {}", float(f)),
            Err(e) => format!("error {e}"),
        };
        assert_eq!(
            parse("1180591620717411303424"),
            "int 1180591620717411303424"
        );
        assert_eq!(parse("-0"), "int 0");
        assert_eq!(parse("-12"), "int -12");
        assert_eq!(parse("1.50"), "float 1.5");
        assert_eq!(parse("1E5"), "float 100000.0");
        assert_eq!(parse("1e400"), "float Infinity");
        assert!(parse("inf").starts_with("error"));
        assert!(parse("1.").starts_with("error"));
        assert!(parse("1e").starts_with("error"));
        assert!(parse("").starts_with("error"));
        assert!(parse("0x10").starts_with("error"));
    }
}
