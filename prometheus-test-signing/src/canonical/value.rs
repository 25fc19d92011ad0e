//! The serializer that writes one JSON value: scalars, strings, lists, and
//! the `{"Variant": ...}` wrappers `serde_json` gives enum variants.

use std::fmt;

use serde::ser::{self, Serialize};

use super::CanonicalJsonError;
use super::float::{f32_as_python_float, write_python_float};
use super::map::{MapWriter, StructWriter};
use super::number::{NUMBER_TOKEN, RAW_VALUE_TOKEN};
use super::seq::SeqWriter;
use super::string::write_json_string;

/// Writes one JSON value into `out`.
pub(super) struct ValueSerializer<'a> {
    pub(super) out: &'a mut String,
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

pub(super) fn push_display(out: &mut String, value: impl fmt::Display) {
    use fmt::Write as _;
    // Writing into a String cannot fail.
    let _ = write!(out, "{value}");
}
