//! The state's `rounds`, in file order: the current round's data as values
//! steps read and write, earlier rounds kept as their JSON text. A long
//! run's finished rounds then cost the bytes of their text in memory, not a
//! tree of values, and a fold copies that text as it is.

use std::borrow::Cow;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// Every round's data by round number (as text, the original's keys).
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Rounds(Vec<(String, Round)>);

/// One round's data.
#[derive(Debug, Clone)]
enum Round {
    /// The round steps read and write.
    Value(Value),
    /// A round no step writes any more, as its JSON text.
    Text(Box<RawValue>),
}

impl PartialEq for Round {
    fn eq(&self, other: &Self) -> bool {
        self.value() == other.value()
    }
}

impl Round {
    /// The data, parsed when kept as text. Text this type wrote or read as
    /// JSON always parses; anything else reads as `null`.
    fn value(&self) -> Cow<'_, Value> {
        match self {
            Self::Value(value) => Cow::Borrowed(value),
            Self::Text(text) => Cow::Owned(serde_json::from_str(text.get()).unwrap_or(Value::Null)),
        }
    }
}

impl Rounds {
    fn position(&self, round: u32) -> Option<usize> {
        let key = round.to_string();
        // The current round is nearly always the last one.
        self.0.iter().rposition(|(k, _)| *k == key)
    }

    /// `round`'s data, as values; `None` when it holds none or is kept as
    /// text (call [`thaw`](Self::thaw) first).
    pub(super) fn get(&self, round: u32) -> Option<&Value> {
        match &self.0[self.position(round)?].1 {
            Round::Value(value) => Some(value),
            Round::Text(_) => None,
        }
    }

    /// `round`'s data, parsed from its text when needed.
    pub(super) fn read(&self, round: u32) -> Option<Cow<'_, Value>> {
        Some(self.0[self.position(round)?].1.value())
    }

    /// `round`'s data as an object to write into: created when missing,
    /// parsed when kept as text, replaced when it is not an object.
    pub(super) fn object_mut(&mut self, round: u32) -> &mut Map<String, Value> {
        let index = self.position(round).unwrap_or_else(|| {
            self.0
                .push((round.to_string(), Round::Value(Value::Object(Map::new()))));
            self.0.len() - 1
        });
        let slot = &mut self.0[index].1;
        if let Round::Text(_) = slot {
            *slot = Round::Value(slot.value().into_owned());
        }
        let Round::Value(value) = slot else {
            unreachable!("made a value above")
        };
        if !value.is_object() {
            *value = Value::Object(Map::new());
        }
        value.as_object_mut().expect("just made an object")
    }

    /// Keeps `round`'s data as values, and every other round's as text.
    pub(super) fn thaw(&mut self, round: u32) {
        let key = round.to_string();
        for (k, slot) in &mut self.0 {
            match slot {
                Round::Text(text) if *k == key => {
                    *slot = Round::Value(serde_json::from_str(text.get()).unwrap_or(Value::Null));
                }
                Round::Value(value) if *k != key => {
                    if let Ok(text) = serde_json::value::to_raw_value(value) {
                        *slot = Round::Text(text);
                    }
                }
                _ => {}
            }
        }
    }
}

impl Serialize for Rounds {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, round) in &self.0 {
            match round {
                Round::Value(value) => map.serialize_entry(key, value)?,
                Round::Text(text) => map.serialize_entry(key, text)?,
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Rounds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RoundsVisitor;

        impl<'de> Visitor<'de> for RoundsVisitor {
            type Value = Rounds;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of rounds")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Rounds, A::Error> {
                let mut rounds = Vec::new();
                while let Some((key, text)) = access.next_entry::<String, Box<RawValue>>()? {
                    match rounds.iter().position(|(k, _)| *k == key) {
                        // A repeated key: the last one wins, as for any JSON object here.
                        Some(i) => rounds[i] = (key, Round::Text(text)),
                        None => rounds.push((key, Round::Text(text))),
                    }
                }
                Ok(Rounds(rounds))
            }
        }

        deserializer.deserialize_map(RoundsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rounds_read_as_values_and_write_back_in_file_order() {
        let text = r#"{"2": {"a": 1}, "1": {"b": [2, 3]}, "10": "junk"}"#;
        let mut rounds: Rounds = serde_json::from_str(text).unwrap();
        assert_eq!(rounds.get(2), None, "kept as text until thawed");
        assert_eq!(rounds.read(1).as_deref(), Some(&json!({"b": [2, 3]})));
        rounds.thaw(2);
        assert_eq!(rounds.get(2), Some(&json!({"a": 1})));
        rounds.object_mut(10).insert("c".into(), json!(4));
        rounds.object_mut(3).insert("d".into(), json!(5));
        assert_eq!(
            serde_json::to_value(&rounds).unwrap(),
            json!({"2": {"a": 1}, "1": {"b": [2, 3]}, "10": {"c": 4}, "3": {"d": 5}})
        );
        rounds.thaw(3);
        assert_eq!(rounds.get(10), None, "other rounds go back to text");
        assert_eq!(
            serde_json::to_string(&rounds).unwrap(),
            r#"{"2":{"a":1},"1":{"b": [2, 3]},"10":{"c":4},"3":{"d":5}}"#
        );
    }
}
