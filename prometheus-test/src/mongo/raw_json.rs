//! Fixture JSON straight to raw BSON in one pass: no `serde_json::Value` for
//! plain JSON, so a file of small documents parses several times faster than
//! through `Value` and `Document`. Extended JSON objects (`{"$oid": …}`) are
//! converted by `bson` exactly as the `Value` route converts them.
//!
//! The fast route only says yes or no: anything it does not handle the same
//! way (a repeated key, a `$` key after other keys, a key holding NUL, any
//! error) gives `None`, and the caller takes the `Value` route, which also
//! words the errors.

use std::fmt::{self, Write as _};

use mongodb::bson::oid::ObjectId;
use mongodb::bson::{Bson, Document, RawDocumentBuf};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

const DOUBLE: u8 = 0x01;
const STRING: u8 = 0x02;
const DOCUMENT: u8 = 0x03;
const ARRAY: u8 = 0x04;
const OBJECT_ID: u8 = 0x07;
const BOOLEAN: u8 = 0x08;
const NULL: u8 = 0x0A;
const INT32: u8 = 0x10;
const INT64: u8 = 0x12;

/// The documents of one fixture text, as the database will receive them.
#[derive(Debug)]
pub(super) struct Parsed {
    /// One per object, `taskId` set and `_id` first when the file gave none.
    pub(super) documents: Vec<RawDocumentBuf>,
    /// Whether the text is an array (element indices then name documents in errors).
    pub(super) in_array: bool,
    /// Indices of the documents whose `_id` came from the file (the others got a fresh one).
    pub(super) file_ids: Vec<usize>,
}

/// Parses `text` (a JSON array of objects, or one object), setting `taskId` to
/// `task_id` on every document and giving each without `_id` a new `ObjectId`
/// (as the driver would at insert). `None` when the `Value` route must decide.
pub(super) fn parse(text: &str, task_id: &str) -> Option<Parsed> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = Top { task_id }.deserialize(&mut deserializer).ok()?;
    deserializer.end().ok()?;
    Some(parsed)
}

/// `document` with `_id` first when it has none, as raw BSON; `None` when it
/// cannot be stored (a key holding NUL).
pub(super) fn with_id(document: &Document) -> Option<RawDocumentBuf> {
    let raw = RawDocumentBuf::from_document(document).ok()?;
    if document.contains_key("_id") {
        return Some(raw);
    }
    let body = &raw.as_bytes()[4..];
    Some(finish(body.strip_suffix(&[0]).unwrap_or(body), false))
}

/// Reason given to serde when the fast route steps aside (never shown).
const STEP_ASIDE: &str = "not handled by the raw route";

/// Reused buffers: the body of the document being read and the key ranges of
/// the objects open around the current value.
#[derive(Default)]
struct Scratch {
    body: Vec<u8>,
    keys: Vec<(usize, usize)>,
    discarded: Vec<u8>,
}

struct Top<'t> {
    task_id: &'t str,
}

impl<'de> DeserializeSeed<'de> for Top<'_> {
    type Value = Parsed;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Parsed, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = Parsed;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of objects or an object")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Parsed, A::Error> {
        let mut scratch = Scratch::default();
        let mut documents = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        let mut file_ids = Vec::new();
        while let Some((document, had_id)) = seq.next_element_seed(TopDocument {
            task_id: self.task_id,
            scratch: &mut scratch,
        })? {
            if had_id {
                file_ids.push(documents.len());
            }
            documents.push(document);
        }
        Ok(Parsed {
            documents,
            in_array: true,
            file_ids,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Parsed, A::Error> {
        let (document, had_id) = read_top_document(map, self.task_id, &mut Scratch::default())?;
        Ok(Parsed {
            documents: vec![document],
            in_array: false,
            file_ids: if had_id { vec![0] } else { Vec::new() },
        })
    }
}

/// One element of the top-level array; only an object is accepted.
struct TopDocument<'t, 's> {
    task_id: &'t str,
    scratch: &'s mut Scratch,
}

impl<'de> DeserializeSeed<'de> for TopDocument<'_, '_> {
    type Value = (RawDocumentBuf, bool);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopDocument<'_, '_> {
    type Value = (RawDocumentBuf, bool);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        read_top_document(map, self.task_id, self.scratch)
    }
}

/// Reads one top-level object: `taskId` replaced in place or appended, `_id`
/// prepended when missing. Returns the document and whether the file gave its `_id`.
fn read_top_document<'de, A: MapAccess<'de>>(
    mut map: A,
    task_id: &str,
    scratch: &mut Scratch,
) -> Result<(RawDocumentBuf, bool), A::Error> {
    let Scratch {
        body,
        keys,
        discarded,
    } = scratch;
    body.clear();
    keys.clear();
    let (mut had_id, mut had_task_id) = (false, false);
    loop {
        let type_at = body.len();
        body.push(0);
        let Some(key) = map.next_key_seed(Key { out: body })? else {
            body.truncate(type_at);
            break;
        };
        check_key(body, keys, 0, key, false)?;
        keys.push(key);
        match &body[key.0..key.1] {
            b"_id" => had_id = true,
            b"taskId" => {
                // Checked like any value, then replaced, as `Document::insert` keeps the position.
                discarded.clear();
                discarded.push(0);
                map.next_value_seed(Element {
                    out: discarded,
                    type_at: 0,
                    keys: &mut Vec::new(),
                })?;
                body[type_at] = STRING;
                push_string(body, task_id);
                had_task_id = true;
                continue;
            }
            _ => {}
        }
        map.next_value_seed(Element {
            out: body,
            type_at,
            keys,
        })?;
    }
    if !had_task_id {
        body.push(STRING);
        body.extend_from_slice(b"taskId\0");
        push_string(body, task_id);
    }
    Ok((finish(body, had_id), had_id))
}

/// The document of elements `body`, with a new `ObjectId` `_id` first unless `had_id`.
fn finish(body: &[u8], had_id: bool) -> RawDocumentBuf {
    let id_len = if had_id { 0 } else { 1 + 4 + 12 };
    let total = 4 + id_len + body.len() + 1;
    let mut bytes = Vec::with_capacity(total);
    bytes.extend_from_slice(&length(total).to_le_bytes());
    if !had_id {
        bytes.push(OBJECT_ID);
        bytes.extend_from_slice(b"_id\0");
        bytes.extend_from_slice(&ObjectId::new().bytes());
    }
    bytes.extend_from_slice(body);
    bytes.push(0);
    RawDocumentBuf::from_bytes(bytes).expect("a length-prefixed, NUL-terminated document")
}

/// A BSON length; documents over `i32::MAX` bytes cannot come from a `String`
/// that fits in memory next to its parse, and saturate (the server rejects them).
fn length(len: usize) -> i32 {
    i32::try_from(len).unwrap_or(i32::MAX)
}

/// Steps aside for keys the `Value` route treats differently: NUL inside, `$`
/// where Extended JSON cannot start (`dollar_opens` is false), or a repeat of a
/// key of the same object (`Value` keeps the last).
fn check_key<E: de::Error>(
    out: &[u8],
    keys: &[(usize, usize)],
    base: usize,
    key: (usize, usize),
    dollar_opens: bool,
) -> Result<(), E> {
    let name = &out[key.0..key.1];
    let repeated = keys[base..]
        .iter()
        .any(|&(start, end)| &out[start..end] == name);
    if repeated || name.contains(&0) || (name.first() == Some(&b'$') && !dollar_opens) {
        return Err(E::custom(STEP_ASIDE));
    }
    Ok(())
}

fn push_string(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(&length(text.len() + 1).to_le_bytes());
    out.extend_from_slice(text.as_bytes());
    out.push(0);
}

/// Writes a key (and its NUL) to `out`; yields the key's byte range.
struct Key<'o> {
    out: &'o mut Vec<u8>,
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = (usize, usize);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for Key<'_> {
    type Value = (usize, usize);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        let start = self.out.len();
        self.out.extend_from_slice(key.as_bytes());
        let end = self.out.len();
        self.out.push(0);
        Ok((start, end))
    }
}

/// Writes one value after its key in `out`, and its type at `type_at`.
struct Element<'o, 'k> {
    out: &'o mut Vec<u8>,
    type_at: usize,
    /// Key ranges of the open objects, for repeats.
    keys: &'k mut Vec<(usize, usize)>,
}

impl<'de> DeserializeSeed<'de> for Element<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Element<'_, '_> {
    fn set(&mut self, kind: u8) {
        self.out[self.type_at] = kind;
    }

    fn integer(mut self, n: i64) {
        if let Ok(small) = i32::try_from(n) {
            self.set(INT32);
            self.out.extend_from_slice(&small.to_le_bytes());
        } else {
            self.set(INT64);
            self.out.extend_from_slice(&n.to_le_bytes());
        }
    }

    /// Appends `value` as `bson` serialises it.
    fn bson<E: de::Error>(mut self, value: Bson) -> Result<(), E> {
        let mut holder = Document::new();
        holder.insert("", value);
        let bytes = mongodb::bson::to_vec(&holder).map_err(|_| E::custom(STEP_ASIDE))?;
        // Holder layout: length (4), type (1), empty key's NUL (1), value, final NUL.
        self.set(bytes[4]);
        self.out.extend_from_slice(&bytes[6..bytes.len() - 1]);
        Ok(())
    }
}

impl<'de> Visitor<'de> for Element<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(mut self, value: bool) -> Result<(), E> {
        self.set(BOOLEAN);
        self.out.push(u8::from(value));
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<(), E> {
        self.integer(n);
        Ok(())
    }

    #[expect(
        clippy::cast_precision_loss,
        reason = "as `serde_json::Number::as_f64` does for integers beyond i64"
    )]
    fn visit_u64<E: de::Error>(mut self, n: u64) -> Result<(), E> {
        if let Ok(n) = i64::try_from(n) {
            self.integer(n);
        } else {
            self.set(DOUBLE);
            self.out.extend_from_slice(&(n as f64).to_le_bytes());
        }
        Ok(())
    }

    fn visit_f64<E: de::Error>(mut self, n: f64) -> Result<(), E> {
        self.set(DOUBLE);
        self.out.extend_from_slice(&n.to_le_bytes());
        Ok(())
    }

    fn visit_str<E: de::Error>(mut self, text: &str) -> Result<(), E> {
        self.set(STRING);
        push_string(self.out, text);
        Ok(())
    }

    fn visit_unit<E: de::Error>(mut self) -> Result<(), E> {
        self.set(NULL);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        self.set(ARRAY);
        let start = self.out.len();
        self.out.extend_from_slice(&[0; 4]);
        let mut index = 0usize;
        loop {
            let type_at = self.out.len();
            self.out.push(0);
            let _ = write!(Digits(self.out), "{index}");
            self.out.push(0);
            let element = Element {
                out: self.out,
                type_at,
                keys: self.keys,
            };
            if seq.next_element_seed(element)?.is_none() {
                self.out.truncate(type_at);
                break;
            }
            index += 1;
        }
        close(self.out, start);
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let start = self.out.len();
        self.out.extend_from_slice(&[0; 4]);
        let base = self.keys.len();
        loop {
            let type_at = self.out.len();
            self.out.push(0);
            let Some(key) = map.next_key_seed(Key { out: self.out })? else {
                self.out.truncate(type_at);
                break;
            };
            check_key(self.out, self.keys, base, key, key.0 == start + 5)?;
            if self.out[key.0] == b'$' {
                // Extended JSON: the whole object goes through `bson`, as on the `Value` route.
                let first = String::from_utf8_lossy(&self.out[key.0..key.1]).into_owned();
                self.out.truncate(start);
                self.keys.truncate(base);
                let mut object = Map::new();
                object.insert(first, map.next_value::<Value>()?);
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    object.insert(key, value);
                }
                let value = Bson::try_from(object).map_err(|_| de::Error::custom(STEP_ASIDE))?;
                return self.bson(value);
            }
            self.keys.push(key);
            map.next_value_seed(Element {
                out: self.out,
                type_at,
                keys: self.keys,
            })?;
        }
        self.keys.truncate(base);
        self.set(DOCUMENT);
        close(self.out, start);
        Ok(())
    }
}

/// Ends the document or array whose length sits at `start`.
fn close(out: &mut Vec<u8>, start: usize) {
    out.push(0);
    let len = length(out.len() - start);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
}

/// Formats straight into a byte buffer.
struct Digits<'o>(&'o mut Vec<u8>);

impl fmt::Write for Digits<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.0.extend_from_slice(text.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use mongodb::bson::{Bson, Document, RawDocumentBuf, doc};
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    use super::parse;

    const TASK: &str = "task-1";

    /// The documents the `Value` route makes of `text`, each in the byte form
    /// the raw route must produce, given the `_id`s the raw route generated.
    fn through_value(text: &str, raw: &[RawDocumentBuf]) -> Vec<Vec<u8>> {
        let items = match serde_json::from_str::<Value>(text).unwrap() {
            Value::Array(items) => items,
            object => vec![object],
        };
        assert_eq!(items.len(), raw.len());
        items
            .into_iter()
            .zip(raw)
            .map(|(item, raw)| {
                let Value::Object(object) = item else {
                    panic!("not an object: {item}")
                };
                let mut converted = Document::try_from(object).unwrap();
                converted.insert("taskId", TASK);
                let mut document = Document::new();
                if !converted.contains_key("_id") {
                    let generated = raw.get_object_id("_id").expect("a generated ObjectId");
                    document.insert("_id", generated);
                }
                document.extend(converted);
                mongodb::bson::to_vec(&document).unwrap()
            })
            .collect()
    }

    fn assert_same_as_value_route(text: &str) {
        let parsed = parse(text, TASK).unwrap_or_else(|| panic!("raw route declined {text}"));
        let expected = through_value(text, &parsed.documents);
        let actual: Vec<&[u8]> = parsed.documents.iter().map(|d| d.as_bytes()).collect();
        assert_eq!(actual, expected, "for {text}");
    }

    #[test]
    fn plain_nested_and_extended_json_match_the_value_route_byte_for_byte() {
        assert_same_as_value_route(
            r#"[{"a": 1, "b": -2147483649, "b1": 2147483647, "b2": -2147483648, "b3": 2147483648, "b4": 40000, "c": 18446744073709551615, "d": 1.5, "e": -0.0,
                 "f": "é\n\"x\"", "g": null, "h": [true, false, [], {}], "i": {"j": {"k": [1, "2"]}}},
                {"_id": {"$oid": "5f1b2c3d4e5f60718293a4b5"}, "taskId": "replaced", "z": 0},
                {"at": {"$date": "2024-01-02T03:04:05Z"}, "n": {"$numberLong": "7"},
                 "list": [{"$oid": "5f1b2c3d4e5f60718293a4b6"}], "plain$": {"x$": 1}},
                {"notExt": {"$custom": 1, "more": 2}}, {"_id": 3}]"#,
        );
        assert_same_as_value_route(r#"{"single": {"object": []}}"#);
        assert_same_as_value_route("[]");
    }

    #[test]
    fn task_id_keeps_its_place_and_missing_ids_come_first() {
        let parsed = parse(r#"[{"a": 1, "taskId": 5, "b": 2}, {"_id": "x"}]"#, TASK).unwrap();
        let first = Document::try_from(parsed.documents[0].as_ref()).unwrap();
        let keys: Vec<&str> = first.keys().map(String::as_str).collect();
        assert_eq!(keys, ["_id", "a", "taskId", "b"]);
        assert!(matches!(first.get("_id"), Some(Bson::ObjectId(_))));
        assert_eq!(first.get_str("taskId").unwrap(), TASK);
        let second = Document::try_from(parsed.documents[1].as_ref()).unwrap();
        assert_eq!(second, doc! { "_id": "x", "taskId": TASK });
        assert_eq!(parsed.file_ids, [1]);
        assert!(parsed.in_array);
    }

    #[test]
    fn declines_what_the_value_route_treats_differently() {
        for text in [
            r#"[{"a": 1, "a": 2}]"#,
            r#"[{"o": {"k": 1, "k": 2}}]"#,
            r#"[{"o": {"k": 1, "$oid": "5f1b2c3d4e5f60718293a4b5"}}]"#,
            r#"[{"$top": 1}]"#,
            "[{\"nul\\u0000key\": 1}]",
            r#"[{"_id": {"$oid": "not hex"}}]"#,
            r#"[{"a": 1}, 2]"#,
            r#"[{"a": 1}"#,
            "3",
            r#"{"a": 1} {"b": 2}"#,
        ] {
            assert!(parse(text, TASK).is_none(), "{text}");
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            (-100_000i64..100_000).prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |n| n.is_finite())
                .prop_map(Value::from),
            any::<String>().prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((key(), inner), 0..6)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("_id".to_owned()),
            Just("taskId".to_owned()),
            "[a-zé_.$ ]{0,4}".prop_filter("no leading $", |key| !key.starts_with('$')),
        ]
    }

    proptest! {
        #[test]
        fn any_plain_json_documents_match_the_value_route(
            documents in prop::collection::vec(
                prop::collection::vec((key(), json_value()), 0..8),
                0..5,
            ),
            pretty in any::<bool>(),
        ) {
            let array = Value::Array(
                documents
                    .into_iter()
                    .map(|members| Value::Object(members.into_iter().collect::<Map<_, _>>()))
                    .collect(),
            );
            let text = if pretty {
                serde_json::to_string_pretty(&array).unwrap()
            } else {
                array.to_string()
            };
            assert_same_as_value_route(&text);
        }
    }
}
