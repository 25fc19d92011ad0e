//! `json.dumps(payload, sort_keys=True)` as a `serde::Serializer`.
//!
//! The text this writes is byte-identical to Python's default `json.dumps`
//! with `sort_keys=True`: `", "` and `": "` separators, ASCII-only output,
//! keys sorted at every level (struct fields too), integers of any size in
//! full and floats as Python's `repr`.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::ops::Range;

use serde::ser::{self, Impossible, Serialize};

/// The struct name `serde_json` gives a number under its `arbitrary_precision` feature.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";
/// The struct name `serde_json` gives a `RawValue` under its `raw_value` feature.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// Why a payload could not be written as canonical JSON.
///
/// Python's `json.dumps` raises `TypeError` in the same situations: a map key
/// that is not a string, number, bool or null, map keys of types that cannot
/// be compared with each other, or a `Serialize` impl that fails.
///
/// ```
/// use std::collections::BTreeMap;
///
/// let mut payload = BTreeMap::new();
/// payload.insert(vec![1, 2], "a list cannot be a JSON key");
/// let err = prometheus_test::canonical_json(&payload).unwrap_err();
/// assert!(err.to_string().contains("map key"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalJsonError {
    message: String,
}

impl CanonicalJsonError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for CanonicalJsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "payload cannot be written as canonical JSON: {}",
            self.message
        )
    }
}

impl std::error::Error for CanonicalJsonError {}

impl ser::Error for CanonicalJsonError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self::new(msg.to_string())
    }
}

/// Serialises `value` exactly as Python's `json.dumps(value, sort_keys=True)` would.
///
/// Struct fields and map entries are sorted by the code points of their keys
/// at every level, whatever order the value holds them in. Integer map keys
/// are sorted by value (`2` before `10`), as Python does before it turns them
/// into strings; keys of types Python cannot compare (a string and a number)
/// are an error, as they are in Python. Equal keys, which a Python dict
/// cannot hold but a serde map can, are all written, in input order.
///
/// `f32` values are written as the Python float of their shortest decimal
/// (`0.1_f32` as `0.1`); bytes as a list of integers, enums as `serde_json`
/// writes them; `serde_json`'s `arbitrary_precision` numbers keep every digit.
///
/// ```
/// let payload = serde_json::json!({"roundNumber": 1, "action": "audit", "ratio": 1e16});
/// assert_eq!(
///     prometheus_test::canonical_json(&payload).unwrap(),
///     r#"{"action": "audit", "ratio": 1e+16, "roundNumber": 1}"#,
/// );
/// ```
pub fn canonical_json<T: Serialize + ?Sized>(value: &T) -> Result<String, CanonicalJsonError> {
    let mut out = String::with_capacity(256);
    value.serialize(ValueSerializer { out: &mut out })?;
    Ok(out)
}

/// Writes one JSON value into `out`.
struct ValueSerializer<'a> {
    out: &'a mut String,
}

impl<'a> ser::Serializer for ValueSerializer<'a> {
    type Ok = ();
    type Error = CanonicalJsonError;
    type SerializeSeq = SeqWriter<'a>;
    type SerializeTuple = SeqWriter<'a>;
    type SerializeTupleStruct = SeqWriter<'a>;
    type SerializeTupleVariant = SeqWriter<'a>;
    type SerializeMap = MapWriter<'a>;
    type SerializeStruct = StructWriter<'a>;
    type SerializeStructVariant = MapWriter<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), CanonicalJsonError> {
        self.out.push_str(if v { "true" } else { "false" });
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<(), CanonicalJsonError> {
        self.serialize_i128(v.into())
    }

    fn serialize_i16(self, v: i16) -> Result<(), CanonicalJsonError> {
        self.serialize_i128(v.into())
    }

    fn serialize_i32(self, v: i32) -> Result<(), CanonicalJsonError> {
        self.serialize_i128(v.into())
    }

    fn serialize_i64(self, v: i64) -> Result<(), CanonicalJsonError> {
        self.serialize_i128(v.into())
    }

    fn serialize_i128(self, v: i128) -> Result<(), CanonicalJsonError> {
        push_display(self.out, v);
        Ok(())
    }

    fn serialize_u8(self, v: u8) -> Result<(), CanonicalJsonError> {
        self.serialize_u128(v.into())
    }

    fn serialize_u16(self, v: u16) -> Result<(), CanonicalJsonError> {
        self.serialize_u128(v.into())
    }

    fn serialize_u32(self, v: u32) -> Result<(), CanonicalJsonError> {
        self.serialize_u128(v.into())
    }

    fn serialize_u64(self, v: u64) -> Result<(), CanonicalJsonError> {
        self.serialize_u128(v.into())
    }

    fn serialize_u128(self, v: u128) -> Result<(), CanonicalJsonError> {
        push_display(self.out, v);
        Ok(())
    }

    fn serialize_f32(self, v: f32) -> Result<(), CanonicalJsonError> {
        self.serialize_f64(f32_as_python_float(v))
    }

    fn serialize_f64(self, v: f64) -> Result<(), CanonicalJsonError> {
        write_python_float(self.out, v);
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), CanonicalJsonError> {
        write_json_string(self.out, v.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), CanonicalJsonError> {
        write_json_string(self.out, v);
        Ok(())
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), CanonicalJsonError> {
        // Python cannot serialise `bytes`; `serde_json` writes them as a list of
        // integers, which is what `json.dumps(list(b))` gives.
        let mut seq = self.serialize_seq(Some(v.len()))?;
        for byte in v {
            ser::SerializeSeq::serialize_element(&mut seq, byte)?;
        }
        ser::SerializeSeq::end(seq)
    }

    fn serialize_none(self) -> Result<(), CanonicalJsonError> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), CanonicalJsonError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), CanonicalJsonError> {
        self.out.push_str("null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), CanonicalJsonError> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        variant: &'static str,
    ) -> Result<(), CanonicalJsonError> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), CanonicalJsonError> {
        if name == RAW_VALUE_TOKEN {
            return Err(raw_value_error());
        }
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _variant_index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), CanonicalJsonError> {
        // `{"Variant": value}`: one key, so nothing to sort.
        self.out.push('{');
        write_json_string(self.out, variant);
        self.out.push_str(": ");
        value.serialize(ValueSerializer { out: self.out })?;
        self.out.push('}');
        Ok(())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<SeqWriter<'a>, CanonicalJsonError> {
        self.out.push('[');
        Ok(SeqWriter {
            out: self.out,
            first: true,
            close_variant: false,
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<SeqWriter<'a>, CanonicalJsonError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqWriter<'a>, CanonicalJsonError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<SeqWriter<'a>, CanonicalJsonError> {
        self.out.push('{');
        write_json_string(self.out, variant);
        self.out.push_str(": [");
        Ok(SeqWriter {
            out: self.out,
            first: true,
            close_variant: true,
        })
    }

    fn serialize_map(self, len: Option<usize>) -> Result<MapWriter<'a>, CanonicalJsonError> {
        Ok(MapWriter::new(self.out, len.unwrap_or(0), false))
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<StructWriter<'a>, CanonicalJsonError> {
        match name {
            NUMBER_TOKEN => Ok(StructWriter::Number {
                out: self.out,
                written: false,
            }),
            RAW_VALUE_TOKEN => Err(raw_value_error()),
            _ => Ok(StructWriter::Fields(MapWriter::new(self.out, len, false))),
        }
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<MapWriter<'a>, CanonicalJsonError> {
        self.out.push('{');
        write_json_string(self.out, variant);
        self.out.push_str(": ");
        Ok(MapWriter::new(self.out, len, true))
    }

    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<(), CanonicalJsonError> {
        self.serialize_str(&value.to_string())
    }
}

fn raw_value_error() -> CanonicalJsonError {
    CanonicalJsonError::new(
        "serde_json::value::RawValue is not supported: its keys could not be sorted; \
         parse it into a serde_json::Value first",
    )
}

fn push_display(out: &mut String, value: impl fmt::Display) {
    use fmt::Write as _;
    // Writing into a String cannot fail.
    let _ = write!(out, "{value}");
}

/// Writes the elements of a list (and closes a `{"Variant": [...]}` wrapper).
struct SeqWriter<'a> {
    out: &'a mut String,
    first: bool,
    close_variant: bool,
}

impl SeqWriter<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), CanonicalJsonError> {
        if !self.first {
            self.out.push_str(", ");
        }
        self.first = false;
        value.serialize(ValueSerializer { out: self.out })
    }

    fn finish(self) {
        self.out.push(']');
        if self.close_variant {
            self.out.push('}');
        }
    }
}

impl ser::SerializeSeq for SeqWriter<'_> {
    type Ok = ();
    type Error = CanonicalJsonError;

    fn serialize_element<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<(), CanonicalJsonError> {
        self.element(value)
    }

    fn end(self) -> Result<(), CanonicalJsonError> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeTuple for SeqWriter<'_> {
    type Ok = ();
    type Error = CanonicalJsonError;

    fn serialize_element<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<(), CanonicalJsonError> {
        self.element(value)
    }

    fn end(self) -> Result<(), CanonicalJsonError> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeTupleStruct for SeqWriter<'_> {
    type Ok = ();
    type Error = CanonicalJsonError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<(), CanonicalJsonError> {
        self.element(value)
    }

    fn end(self) -> Result<(), CanonicalJsonError> {
        self.finish();
        Ok(())
    }
}

impl ser::SerializeTupleVariant for SeqWriter<'_> {
    type Ok = ();
    type Error = CanonicalJsonError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<(), CanonicalJsonError> {
        self.element(value)
    }

    fn end(self) -> Result<(), CanonicalJsonError> {
        self.finish();
        Ok(())
    }
}

/// A map key as Python would hold it in a dict: sorting depends on its type.
#[derive(Debug, Clone, PartialEq)]
enum MapKey {
    Str(Cow<'static, str>),
    Int { negative: bool, magnitude: u128 },
    Float(f64),
    Bool(bool),
    Null,
}

impl MapKey {
    fn from_i128(v: i128) -> Self {
        Self::Int {
            negative: v < 0,
            magnitude: v.unsigned_abs(),
        }
    }

    fn from_u128(v: u128) -> Self {
        Self::Int {
            negative: false,
            magnitude: v,
        }
    }

    /// Python's type name, for error messages.
    fn python_type(&self) -> &'static str {
        match self {
            Self::Str(_) => "str",
            Self::Int { .. } => "int",
            Self::Float(_) => "float",
            Self::Bool(_) => "bool",
            Self::Null => "NoneType",
        }
    }

    fn is_number(&self) -> bool {
        matches!(self, Self::Int { .. } | Self::Float(_) | Self::Bool(_))
    }

    /// Writes the key as the quoted string `json.dumps` turns it into.
    fn write(&self, out: &mut String) {
        match self {
            Self::Str(s) => write_json_string(out, s),
            Self::Int {
                negative,
                magnitude,
            } => {
                out.push('"');
                if *negative {
                    out.push('-');
                }
                push_display(out, magnitude);
                out.push('"');
            }
            Self::Float(v) => {
                out.push('"');
                write_python_float(out, *v);
                out.push('"');
            }
            Self::Bool(v) => out.push_str(if *v { "\"true\"" } else { "\"false\"" }),
            Self::Null => out.push_str("\"null\""),
        }
    }
}

/// Compares two numeric keys (int, float or bool) by value, as Python does.
fn compare_numbers(a: &MapKey, b: &MapKey) -> Ordering {
    match (as_number(a), as_number(b)) {
        (Number::Int(ia), Number::Int(ib)) => compare_ints(ia, ib),
        (Number::Float(fa), Number::Float(fb)) => fa.partial_cmp(&fb).unwrap_or(Ordering::Equal),
        (Number::Int(i), Number::Float(f)) => compare_int_float(i, f),
        (Number::Float(f), Number::Int(i)) => compare_int_float(i, f).reverse(),
    }
}

enum Number {
    /// (negative, magnitude)
    Int((bool, u128)),
    Float(f64),
}

fn as_number(key: &MapKey) -> Number {
    match key {
        MapKey::Int {
            negative,
            magnitude,
        } => Number::Int((*negative, *magnitude)),
        MapKey::Bool(b) => Number::Int((false, u128::from(*b))),
        MapKey::Float(f) => Number::Float(*f),
        MapKey::Str(_) | MapKey::Null => unreachable!("only numeric keys are compared as numbers"),
    }
}

fn compare_ints(a: (bool, u128), b: (bool, u128)) -> Ordering {
    let (a_neg, a_mag) = if a.1 == 0 { (false, 0) } else { a };
    let (b_neg, b_mag) = if b.1 == 0 { (false, 0) } else { b };
    match (a_neg, b_neg) {
        (false, false) => a_mag.cmp(&b_mag),
        (true, true) => b_mag.cmp(&a_mag),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
    }
}

/// Exact comparison of an integer with a (non-NaN) float, as Python does it.
fn compare_int_float((negative, magnitude): (bool, u128), f: f64) -> Ordering {
    if magnitude == 0 {
        return 0.0_f64.partial_cmp(&f).unwrap_or(Ordering::Equal);
    }
    if negative != (f < 0.0) || f == 0.0 {
        // Different signs (a zero float sits between them).
        return if negative {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    let by_magnitude = compare_magnitude(magnitude, f.abs());
    if negative {
        by_magnitude.reverse()
    } else {
        by_magnitude
    }
}

/// Compares `magnitude` with the non-negative float `f`, exactly.
fn compare_magnitude(magnitude: u128, f: f64) -> Ordering {
    // 2^128 is the first float no u128 reaches.
    const TWO_POW_128: f64 = 340_282_366_920_938_463_463_374_607_431_768_211_456.0;
    if f >= TWO_POW_128 {
        return Ordering::Less;
    }
    let whole = f.trunc();
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "`whole` is a non-negative integer below 2^128, so the cast is exact"
    )]
    let whole_int = whole as u128;
    match magnitude.cmp(&whole_int) {
        Ordering::Equal if f > whole => Ordering::Less,
        other => other,
    }
}

/// Collects the entries of a map or struct, then writes them sorted.
///
/// Values are written into `scratch` as they come; `end` sorts the keys and
/// copies each value's text into the output in key order.
struct MapWriter<'a> {
    out: &'a mut String,
    scratch: String,
    entries: Vec<(MapKey, Range<usize>)>,
    pending_key: Option<MapKey>,
    close_variant: bool,
}

impl<'a> MapWriter<'a> {
    fn new(out: &'a mut String, len: usize, close_variant: bool) -> Self {
        Self {
            out,
            scratch: String::new(),
            entries: Vec::with_capacity(len),
            pending_key: None,
            close_variant,
        }
    }

    fn entry<T: Serialize + ?Sized>(
        &mut self,
        key: MapKey,
        value: &T,
    ) -> Result<(), CanonicalJsonError> {
        let start = self.scratch.len();
        value.serialize(ValueSerializer {
            out: &mut self.scratch,
        })?;
        self.entries.push((key, start..self.scratch.len()));
        Ok(())
    }

    fn finish(mut self) -> Result<(), CanonicalJsonError> {
        sort_keys(&mut self.entries)?;
        self.out
            .reserve(self.scratch.len() + self.entries.len() * 8 + 2);
        self.out.push('{');
        for (i, (key, range)) in self.entries.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            key.write(self.out);
            self.out.push_str(": ");
            self.out.push_str(&self.scratch[range.clone()]);
        }
        self.out.push('}');
        if self.close_variant {
            self.out.push('}');
        }
        Ok(())
    }
}

/// Sorts entries as Python's `sorted(dct.items())` orders the keys.
///
/// Strings sort by code point (UTF-8 byte order is code-point order);
/// ints, floats and bools sort together by value. Python raises `TypeError`
/// for keys it cannot compare (a str with an int, `None` with anything, a
/// NaN whose position Python leaves to its sort algorithm), and so do we.
/// Equal keys, which a Python dict cannot hold but a serde map can, keep
/// their input order and are all written.
fn sort_keys(entries: &mut [(MapKey, Range<usize>)]) -> Result<(), CanonicalJsonError> {
    if entries.len() < 2 {
        return Ok(());
    }
    if entries.iter().all(|(k, _)| matches!(k, MapKey::Str(_))) {
        entries.sort_by(|(a, _), (b, _)| match (a, b) {
            (MapKey::Str(a), MapKey::Str(b)) => a.cmp(b),
            _ => Ordering::Equal,
        });
        return Ok(());
    }
    if entries.iter().all(|(k, _)| k.is_number()) {
        if entries
            .iter()
            .any(|(k, _)| matches!(k, MapKey::Float(f) if f.is_nan()))
        {
            return Err(CanonicalJsonError::new(
                "a NaN map key cannot be sorted: Python's order for it depends on its sort algorithm",
            ));
        }
        entries.sort_by(|(a, _), (b, _)| compare_numbers(a, b));
        return Ok(());
    }
    let first = entries[0].0.python_type();
    let other = entries
        .iter()
        .map(|(k, _)| k.python_type())
        .find(|t| *t != first && !(is_numeric_type(t) && is_numeric_type(first)))
        .unwrap_or(first);
    Err(CanonicalJsonError::new(format!(
        "map keys of types {first} and {other} cannot be sorted \
         (Python's json.dumps(sort_keys=True) raises TypeError here)"
    )))
}

fn is_numeric_type(python_type: &str) -> bool {
    matches!(python_type, "int" | "float" | "bool")
}

impl ser::SerializeMap for MapWriter<'_> {
    type Ok = ();
    type Error = CanonicalJsonError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), CanonicalJsonError> {
        self.pending_key = Some(key.serialize(KeySerializer)?);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<(), CanonicalJsonError> {
        let key = self
            .pending_key
            .take()
            .ok_or_else(|| CanonicalJsonError::new("a map value was serialised before its key"))?;
        self.entry(key, value)
    }

    fn end(self) -> Result<(), CanonicalJsonError> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for MapWriter<'_> {
    type Ok = ();
    type Error = CanonicalJsonError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), CanonicalJsonError> {
        self.entry(MapKey::Str(Cow::Borrowed(key)), value)
    }

    fn end(self) -> Result<(), CanonicalJsonError> {
        self.finish()
    }
}

/// A struct: its fields, sorted, or `serde_json`'s arbitrary-precision number.
enum StructWriter<'a> {
    Fields(MapWriter<'a>),
    Number { out: &'a mut String, written: bool },
}

impl ser::SerializeStruct for StructWriter<'_> {
    type Ok = ();
    type Error = CanonicalJsonError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), CanonicalJsonError> {
        match self {
            Self::Fields(map) => map.entry(MapKey::Str(Cow::Borrowed(key)), value),
            Self::Number { out, written } => {
                let text = number_token_text(key, value)?;
                write_number_text(out, &text)?;
                *written = true;
                Ok(())
            }
        }
    }

    fn end(self) -> Result<(), CanonicalJsonError> {
        match self {
            Self::Fields(map) => map.finish(),
            Self::Number { written: true, .. } => Ok(()),
            Self::Number { written: false, .. } => Err(CanonicalJsonError::new(
                "serde_json arbitrary-precision number without its digits",
            )),
        }
    }
}

/// The digits inside `serde_json`'s arbitrary-precision number struct.
fn number_token_text<T: Serialize + ?Sized>(
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
enum ParsedNumber<'t> {
    /// An int, as normalised decimal digits (with a `-` when negative).
    Int(Cow<'t, str>),
    Float(f64),
}

/// Reads a JSON number as Python would: an int when it has no `.`, `e` or `E`, else a float.
fn parse_number_text(text: &str) -> Result<ParsedNumber<'_>, CanonicalJsonError> {
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

fn write_number_text(out: &mut String, text: &str) -> Result<(), CanonicalJsonError> {
    match parse_number_text(text)? {
        ParsedNumber::Int(digits) => out.push_str(&digits),
        ParsedNumber::Float(v) => write_python_float(out, v),
    }
    Ok(())
}

/// Turns a map key into the value Python would hold as the dict key.
struct KeySerializer;

fn key_error(what: &str) -> CanonicalJsonError {
    CanonicalJsonError::new(format!(
        "a {what} cannot be a map key (Python: keys must be str, int, float, bool or None)"
    ))
}

impl ser::Serializer for KeySerializer {
    type Ok = MapKey;
    type Error = CanonicalJsonError;
    type SerializeSeq = Impossible<MapKey, CanonicalJsonError>;
    type SerializeTuple = Impossible<MapKey, CanonicalJsonError>;
    type SerializeTupleStruct = Impossible<MapKey, CanonicalJsonError>;
    type SerializeTupleVariant = Impossible<MapKey, CanonicalJsonError>;
    type SerializeMap = Impossible<MapKey, CanonicalJsonError>;
    type SerializeStruct = NumberKey;
    type SerializeStructVariant = Impossible<MapKey, CanonicalJsonError>;

    fn serialize_bool(self, v: bool) -> Result<MapKey, CanonicalJsonError> {
        Ok(MapKey::Bool(v))
    }

    fn serialize_i8(self, v: i8) -> Result<MapKey, CanonicalJsonError> {
        Ok(MapKey::from_i128(v.into()))
    }

    fn serialize_i16(self, v: i16) -> Result<MapKey, CanonicalJsonError> {
        Ok(MapKey::from_i128(v.into()))
    }

    fn serialize_i32(self, v: i32) -> Result<MapKey, CanonicalJsonError> {
        Ok(MapKey::from_i128(v.into()))
    }

    fn serialize_i64(self, v: i64) -> Result<MapKey, CanonicalJsonError> {
        Ok(MapKey::from_i128(v.into()))
    }

    fn serialize_i128(self, v: i128) -> Result<MapKey, CanonicalJsonError> {
        Ok(MapKey::from_i128(v))
    }

    fn serialize_u8(self, v: u8) -> Result<MapKey, CanonicalJsonError> {
        Ok(MapKey::from_u128(v.into()))
    }

    fn serialize_u16(self, v: u16) -> Result<MapKey, CanonicalJsonError> {
        Ok(MapKey::from_u128(v.into()))
    }

    fn serialize_u32(self, v: u32) -> Result<MapKey, CanonicalJsonError> {
        Ok(MapKey::from_u128(v.into()))
    }

    fn serialize_u64(self, v: u64) -> Result<MapKey, CanonicalJsonError> {
        Ok(MapKey::from_u128(v.into()))
    }

    fn serialize_u128(self, v: u128) -> Result<MapKey, CanonicalJsonError> {
        Ok(MapKey::from_u128(v))
    }

    fn serialize_f32(self, v: f32) -> Result<MapKey, CanonicalJsonError> {
        Ok(MapKey::Float(f32_as_python_float(v)))
    }

    fn serialize_f64(self, v: f64) -> Result<MapKey, CanonicalJsonError> {
        Ok(MapKey::Float(v))
    }

    fn serialize_char(self, v: char) -> Result<MapKey, CanonicalJsonError> {
        Ok(MapKey::Str(Cow::Owned(v.to_string())))
    }

    fn serialize_str(self, v: &str) -> Result<MapKey, CanonicalJsonError> {
        Ok(MapKey::Str(Cow::Owned(v.to_owned())))
    }

    fn serialize_bytes(self, _v: &[u8]) -> Result<MapKey, CanonicalJsonError> {
        Err(key_error("byte string"))
    }

    fn serialize_none(self) -> Result<MapKey, CanonicalJsonError> {
        Ok(MapKey::Null)
    }

    fn serialize_some<T: Serialize + ?Sized>(
        self,
        value: &T,
    ) -> Result<MapKey, CanonicalJsonError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<MapKey, CanonicalJsonError> {
        Ok(MapKey::Null)
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<MapKey, CanonicalJsonError> {
        Ok(MapKey::Null)
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        variant: &'static str,
    ) -> Result<MapKey, CanonicalJsonError> {
        Ok(MapKey::Str(Cow::Borrowed(variant)))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<MapKey, CanonicalJsonError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _variant_index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<MapKey, CanonicalJsonError> {
        Err(key_error("enum variant with data"))
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, CanonicalJsonError> {
        Err(key_error("list"))
    }

    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, CanonicalJsonError> {
        Err(key_error("tuple"))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, CanonicalJsonError> {
        Err(key_error("tuple struct"))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, CanonicalJsonError> {
        Err(key_error("enum variant with data"))
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, CanonicalJsonError> {
        Err(key_error("map"))
    }

    fn serialize_struct(
        self,
        name: &'static str,
        _len: usize,
    ) -> Result<NumberKey, CanonicalJsonError> {
        if name == NUMBER_TOKEN {
            Ok(NumberKey { key: None })
        } else {
            Err(key_error("struct"))
        }
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _variant_index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, CanonicalJsonError> {
        Err(key_error("enum variant with data"))
    }

    fn collect_str<T: fmt::Display + ?Sized>(
        self,
        value: &T,
    ) -> Result<MapKey, CanonicalJsonError> {
        Ok(MapKey::Str(Cow::Owned(value.to_string())))
    }
}

/// `serde_json`'s arbitrary-precision number used as a map key.
struct NumberKey {
    key: Option<MapKey>,
}

impl ser::SerializeStruct for NumberKey {
    type Ok = MapKey;
    type Error = CanonicalJsonError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), CanonicalJsonError> {
        let text = number_token_text(key, value)?;
        self.key = Some(match parse_number_text(&text)? {
            ParsedNumber::Float(v) => MapKey::Float(v),
            ParsedNumber::Int(digits) => {
                let too_big = || {
                    CanonicalJsonError::new(format!(
                        "integer map key {digits} is outside the 128-bit range this crate sorts"
                    ))
                };
                match digits.strip_prefix('-') {
                    Some(magnitude) => MapKey::Int {
                        negative: true,
                        magnitude: magnitude.parse().map_err(|_| too_big())?,
                    },
                    None => MapKey::from_u128(digits.parse().map_err(|_| too_big())?),
                }
            }
        });
        Ok(())
    }

    fn end(self) -> Result<MapKey, CanonicalJsonError> {
        self.key.ok_or_else(|| {
            CanonicalJsonError::new("serde_json arbitrary-precision number without its digits")
        })
    }
}

/// The `f64` Python would hold for an `f32`: the double nearest to the
/// shortest decimal that round-trips the `f32` (`0.1_f32` becomes `0.1`).
///
/// This is the value a Python program gets when it reads the `f32` from
/// JSON written by `serde_json`.
fn f32_as_python_float(v: f32) -> f64 {
    if v.is_finite() {
        v.to_string().parse().unwrap_or_else(|_| f64::from(v))
    } else {
        f64::from(v)
    }
}

/// Writes `v` as Python's `json.dumps` does: `repr(v)`, with `NaN`,
/// `Infinity` and `-Infinity` for the non-finite values.
///
/// `repr` uses the shortest digits that round-trip (see [`python_digits`]),
/// in positional form when the decimal exponent `e` satisfies
/// `-4 <= e < 16`, else in exponent form with a sign and at least two
/// exponent digits (`1e+16`, `1e-05`).
pub(crate) fn write_python_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    if v.is_sign_negative() {
        out.push('-');
    }
    let (digits, exponent) = python_digits(v.abs());
    if (-4..16).contains(&exponent) {
        // Positional: the point goes after `exponent + 1` digits.
        let point = exponent + 1;
        if point <= 0 {
            out.push_str("0.");
            for _ in 0..-point {
                out.push('0');
            }
            out.push_str(&digits);
        } else {
            let point = usize::try_from(point).unwrap_or(0);
            if point >= digits.len() {
                out.push_str(&digits);
                for _ in digits.len()..point {
                    out.push('0');
                }
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exponent < 0 { '-' } else { '+' });
        let magnitude = exponent.unsigned_abs();
        if magnitude < 10 {
            out.push('0');
        }
        push_display(out, magnitude);
    }
}

/// The digits and decimal exponent of `{:e}` output: `"1.25e-3"` is `("125", -3)`.
fn split_scientific(text: &str) -> (String, i32) {
    let (mantissa, exponent) = text.split_once('e').unwrap_or((text, "0"));
    (
        mantissa.replace('.', ""),
        exponent.parse().unwrap_or_default(),
    )
}

/// The digits Python's `repr` picks for the finite, non-negative `x`, and
/// the decimal exponent of the first one.
///
/// Both Rust's `{:e}` and Python give the shortest digit string that reads
/// back as `x` and, among those, the one nearest to `x`. They differ only
/// when `x` lies exactly halfway between the two nearest candidates (for
/// example `624377879635592.25`, between `...592.2` and `...592.3`): Rust
/// rounds the last digit up, Python (David Gay's `dtoa`) to even.
fn python_digits(x: f64) -> (String, i32) {
    let shortest = split_scientific(&format!("{x:e}"));
    let (digits, exponent) = &shortest;
    let len = digits.len();
    if x == 0.0 {
        return shortest;
    }
    // A tie needs `x` to be exactly `digits[..len]` followed by a 5: check the
    // correctly rounded `len + 1` digits first, then the exact expansion
    // (a double has at most 767 significant digits).
    let (rounded, rounded_exponent) = split_scientific(&format!("{x:.len$e}"));
    if rounded_exponent != *exponent || !rounded.ends_with('5') {
        return shortest;
    }
    let (exact, exact_exponent) = split_scientific(&format!("{x:.767e}"));
    if exact_exponent != *exponent
        || exact[..=len] != rounded
        || exact[len + 1..].bytes().any(|b| b != b'0')
    {
        return shortest;
    }
    let below = &rounded[..len];
    let (even, even_exponent) = if below.ends_with(['0', '2', '4', '6', '8']) {
        (below.to_owned(), *exponent)
    } else {
        increment_digits(below, *exponent)
    };
    let even = even.trim_end_matches('0');
    let reads_back = format!("{}.{}e{even_exponent}", &even[..1], &even[1..])
        .parse::<f64>()
        .is_ok_and(|back| back.to_bits() == x.to_bits());
    if reads_back && even.len() <= len {
        (even.to_owned(), even_exponent)
    } else {
        shortest
    }
}

/// Adds one to the last digit of `digits`, carrying (`"199"` becomes `"200"`,
/// `"99"` becomes `"10"` with the exponent one higher).
fn increment_digits(digits: &str, exponent: i32) -> (String, i32) {
    let mut bytes = digits.as_bytes().to_vec();
    for byte in bytes.iter_mut().rev() {
        if *byte == b'9' {
            *byte = b'0';
        } else {
            *byte += 1;
            return (String::from_utf8(bytes).unwrap_or_default(), exponent);
        }
    }
    bytes.insert(0, b'1');
    bytes.pop();
    (String::from_utf8(bytes).unwrap_or_default(), exponent + 1)
}

/// Writes `s` as a JSON string the way `json.dumps(ensure_ascii=True)` does.
pub(crate) fn write_json_string(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut plain_from = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            i += 1;
            continue;
        }
        out.push_str(&s[plain_from..i]);
        if b < 0x80 {
            match b {
                b'"' => out.push_str("\\\""),
                b'\\' => out.push_str("\\\\"),
                b'\n' => out.push_str("\\n"),
                b'\r' => out.push_str("\\r"),
                b'\t' => out.push_str("\\t"),
                0x08 => out.push_str("\\b"),
                0x0c => out.push_str("\\f"),
                _ => push_unicode_escape(out, u16::from(b)),
            }
            i += 1;
        } else {
            // `i` is at the start of a multi-byte character.
            let c = s[i..].chars().next().unwrap_or('\u{fffd}');
            let mut units = [0_u16; 2];
            for unit in c.encode_utf16(&mut units) {
                push_unicode_escape(out, *unit);
            }
            i += c.len_utf8();
        }
        plain_from = i;
    }
    out.push_str(&s[plain_from..]);
    out.push('"');
}

fn push_unicode_escape(out: &mut String, unit: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push_str("\\u");
    for shift in [12, 8, 4, 0] {
        out.push(char::from(HEX[usize::from((unit >> shift) & 0xf)]));
    }
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
    fn float_repr_matches_python_at_the_format_boundaries() {
        assert_eq!(float(1e16), "1e+16");
        assert_eq!(float(9_999_999_999_999_998.0), "9999999999999998.0");
        assert_eq!(float(1e15), "1000000000000000.0");
        assert_eq!(float(0.0001), "0.0001");
        assert_eq!(float(0.00001), "1e-05");
        assert_eq!(float(1.5e-7), "1.5e-07");
        assert_eq!(float(1.234_567_890_123_456_8e17), "1.2345678901234568e+17");
        assert_eq!(float(-2.5e-300), "-2.5e-300");
        assert_eq!(float(0.0), "0.0");
        assert_eq!(float(-0.0), "-0.0");
        assert_eq!(float(123.456), "123.456");
        assert_eq!(float(f64::NAN), "NaN");
        assert_eq!(float(-f64::NAN), "NaN");
    }

    #[test]
    fn exact_ties_round_the_last_digit_to_even_as_python_does() {
        // Exactly 624377879635592.25: Rust's `{}` says ...592.3, Python ...592.2.
        // (clippy would flag the literal `624_377_879_635_592.25` as imprecise: it checks with `{}`.)
        assert_eq!(
            float(f64::from_bits(0x4301_bef2_6dc5_3442)),
            "624377879635592.2"
        );
        // The smallest subnormal's shortest digit is unique.
        assert_eq!(float(5e-324), "5e-324");
        assert_eq!(increment_digits("199", 3), ("200".to_owned(), 3));
        assert_eq!(increment_digits("99", 3), ("10".to_owned(), 4));
    }

    #[test]
    fn numeric_keys_compare_exactly_across_int_and_float() {
        let int = |v: i128| MapKey::from_i128(v);
        assert_eq!(
            compare_numbers(&int(2), &MapKey::Float(1.5)),
            Ordering::Greater
        );
        assert_eq!(
            compare_numbers(&int(1), &MapKey::Float(1.5)),
            Ordering::Less
        );
        assert_eq!(
            compare_numbers(&int(-1), &MapKey::Float(-0.5)),
            Ordering::Less
        );
        assert_eq!(
            compare_numbers(&int(-1), &MapKey::Float(-1.5)),
            Ordering::Greater
        );
        assert_eq!(
            compare_numbers(&int(0), &MapKey::Float(-0.0)),
            Ordering::Equal
        );
        assert_eq!(
            compare_numbers(&int(3), &MapKey::Float(0.0)),
            Ordering::Greater
        );
        assert_eq!(
            compare_numbers(&int(-3), &MapKey::Float(0.0)),
            Ordering::Less
        );
        assert_eq!(
            compare_numbers(&MapKey::from_u128(u128::MAX), &MapKey::Float(3.5e38)),
            Ordering::Less
        );
        assert_eq!(
            compare_numbers(
                &MapKey::from_u128(1 << 70),
                &MapKey::Float(1_180_591_620_717_411_303_424.0)
            ),
            Ordering::Equal
        );
        assert_eq!(
            compare_numbers(
                &MapKey::from_u128((1 << 70) + 1),
                &MapKey::Float(1_180_591_620_717_411_303_424.0)
            ),
            Ordering::Greater
        );
        assert_eq!(
            compare_numbers(&MapKey::Bool(true), &int(2)),
            Ordering::Less
        );
        assert_eq!(
            compare_numbers(&MapKey::Bool(false), &int(-1)),
            Ordering::Greater
        );
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
