//! Lists, tuples and the lists inside tuple variants.

use serde::ser::{self, Serialize};

use super::CanonicalJsonError;
use super::value::ValueSerializer;

/// Writes the elements of a list (and closes a `{"Variant": [...]}` wrapper).
pub(super) struct SeqWriter<'a> {
    pub(super) out: &'a mut String,
    pub(super) first: bool,
    pub(super) close_variant: bool,
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
