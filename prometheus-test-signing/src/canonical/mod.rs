//! `json.dumps(payload, sort_keys=True)` as a `serde::Serializer`.
//!
//! The text this writes is byte-identical to Python's default `json.dumps`
//! with `sort_keys=True`: `", "` and `": "` separators, ASCII-only output,
//! keys sorted at every level (struct fields too), integers of any size in
//! full and floats as Python's `repr`.
//!
//! One file per mechanism:
//!
//! - [`value`] and [`seq`]: the serializer for values and lists;
//! - [`map`]: maps and structs, collected and written sorted;
//! - [`key`]: map keys with Python's types and order; [`key_serializer`] builds them;
//! - [`number`]: `serde_json`'s `arbitrary_precision` numbers, read as Python reads them;
//! - [`float`]: Python's float `repr`;
//! - [`string`]: `ensure_ascii` string escaping.

mod float;
mod key;
mod key_serializer;
mod map;
mod number;
mod seq;
mod string;
mod value;

use std::fmt;

use serde::Serialize;
use serde::ser;

use value::ValueSerializer;

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
/// let err = prometheus_test_signing::canonical_json(&payload).unwrap_err();
/// assert!(err.to_string().contains("map key"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalJsonError {
    message: String,
}

impl CanonicalJsonError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
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
///     prometheus_test_signing::canonical_json(&payload).unwrap(),
///     r#"{"action": "audit", "ratio": 1e+16, "roundNumber": 1}"#,
/// );
/// ```
pub fn canonical_json<T: Serialize + ?Sized>(value: &T) -> Result<String, CanonicalJsonError> {
    let mut out = String::with_capacity(256);
    value.serialize(ValueSerializer { out: &mut out })?;
    Ok(out)
}
