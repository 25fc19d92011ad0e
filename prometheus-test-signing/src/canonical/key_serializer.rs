//! The serializer that turns a map key into a [`MapKey`].

use std::borrow::Cow;
use std::fmt;

use serde::ser::{self, Impossible, Serialize};

use super::CanonicalJsonError;
use super::float::f32_as_python_float;
use super::key::MapKey;
use super::number::{NUMBER_TOKEN, ParsedNumber, number_token_text, parse_number_text};

/// Turns a map key into the value Python would hold as the dict key.
pub(super) struct KeySerializer;

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
pub(super) struct NumberKey {
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
