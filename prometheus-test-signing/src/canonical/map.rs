//! Maps and structs: entries collected, then written sorted by key.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::ops::Range;

use serde::ser::{self, Serialize};

use super::CanonicalJsonError;
use super::key::{MapKey, compare_numbers};
use super::key_serializer::KeySerializer;
use super::number::{number_token_text, write_number_text};
use super::value::ValueSerializer;

/// Collects the entries of a map or struct, then writes them sorted.
///
/// Values are written into `scratch` as they come; `end` sorts the keys and
/// copies each value's text into the output in key order.
pub(super) struct MapWriter<'a> {
    out: &'a mut String,
    scratch: String,
    entries: Vec<(MapKey, Range<usize>)>,
    pending_key: Option<MapKey>,
    close_variant: bool,
}

impl<'a> MapWriter<'a> {
    pub(super) fn new(out: &'a mut String, len: usize, close_variant: bool) -> Self {
        Self {
            out,
            scratch: String::new(),
            entries: Vec::with_capacity(len),
            pending_key: None,
            close_variant,
        }
    }

    pub(super) fn entry<T: Serialize + ?Sized>(
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

    pub(super) fn finish(mut self) -> Result<(), CanonicalJsonError> {
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
pub(super) enum StructWriter<'a> {
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
