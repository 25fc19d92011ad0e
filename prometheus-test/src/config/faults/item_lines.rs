//! The line of a key inside an item of a list of config.yaml
//! (`faults[2].latency.ms`, `fault_profiles.chaos[0].link`), which the located reader, walking mappings
//! only, cannot give. The same trick: the walk stops on purpose at the
//! wanted key and the parser's error carries its position.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// What the walk "expected" at the wanted key: the mark of a deliberate stop.
const STOP: &str = "the item key looked for";

/// The 1-based line of `path` inside item `index` of the list found down
/// the mapping keys `list` from the top; an empty `path` gives the line of
/// the item's first key.
pub(super) fn line_in_item(
    text: &str,
    list: &[&str],
    index: usize,
    path: &[&str],
) -> Option<usize> {
    let top = Top { list, index, path };
    let err = top
        .deserialize(serde_yaml_ng::Deserializer::from_str(text))
        .err()?;
    let line = err.location().map(|at| at.line());
    err.to_string().contains(STOP).then_some(line).flatten()
}

/// A mapping on the way to the list: down its keys.
struct Top<'p> {
    list: &'p [&'p str],
    index: usize,
    path: &'p [&'p str],
}

impl<'de> DeserializeSeed<'de> for Top<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((wanted, rest)) = self.list.split_first() else {
            return Ok(());
        };
        while let Some(key) = map.next_key_seed(Key { stop: Stop::Never })? {
            if key.as_deref() == Some(*wanted) {
                if !rest.is_empty() {
                    return map.next_value_seed(Top { list: rest, ..self });
                }
                let item = Item {
                    index: self.index,
                    path: self.path,
                };
                return map.next_value_seed(item);
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}

/// The list: to its `index`-th item, then down `path`.
struct Item<'p> {
    index: usize,
    path: &'p [&'p str],
}

impl<'de> DeserializeSeed<'de> for Item<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Item<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        for _ in 0..self.index {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(Down { path: self.path })?;
        Ok(())
    }
}

/// A mapping: down `path`, stopping at its last key (an empty path: at
/// the first key).
struct Down<'p> {
    path: &'p [&'p str],
}

impl<'de> DeserializeSeed<'de> for Down<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Down<'_> {
    /// A value that is no mapping: the end of an empty path (an item that
    /// is a scalar or a list), else nothing to find.
    fn other<E: de::Error>(&self, unexpected: de::Unexpected<'_>) -> Result<(), E> {
        if self.path.is_empty() {
            return Err(E::custom(STOP));
        }
        Err(E::invalid_type(unexpected, self))
    }
}

impl<'de> Visitor<'de> for Down<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((wanted, rest)) = self.path.split_first() else {
            map.next_key_seed(Key {
                stop: Stop::AtAnyKey,
            })?;
            return Ok(());
        };
        let stop = if rest.is_empty() {
            Stop::At(wanted)
        } else {
            Stop::Never
        };
        while let Some(key) = map.next_key_seed(Key { stop })? {
            if key.as_deref() == Some(*wanted) {
                return map.next_value_seed(Down { path: rest });
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        self.other(de::Unexpected::Seq)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<(), E> {
        self.other(de::Unexpected::Str(text))
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<(), E> {
        self.other(de::Unexpected::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<(), E> {
        self.other(de::Unexpected::Signed(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<(), E> {
        self.other(de::Unexpected::Unsigned(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<(), E> {
        self.other(de::Unexpected::Float(value))
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.other(de::Unexpected::Unit)
    }
}

/// Where the walk stops among a mapping's keys.
#[derive(Clone, Copy)]
enum Stop<'w> {
    Never,
    AtAnyKey,
    At(&'w str),
}

/// A key, as text when it is text.
struct Key<'w> {
    stop: Stop<'w>,
}

impl Key<'_> {
    fn seen<E: de::Error>(&self, key: Option<&str>) -> Result<Option<String>, E> {
        match self.stop {
            Stop::AtAnyKey => Err(E::custom(STOP)),
            Stop::At(wanted) if key == Some(wanted) => Err(E::custom(STOP)),
            _ => Ok(key.map(str::to_owned)),
        }
    }
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Visitor<'_> for Key<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        self.seen(Some(key))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        self.seen(None)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        self.seen(None)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        self.seen(None)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        self.seen(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.seen(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
task_id: t
faults:
  - link: a->b.c
    reset: {}

  - {link: 'x->y.z', latency: {ms: 5}}
  - worker: w
    pause:
      ms: 10
  - 7
other: [1]
fault_profiles:
  calm: []
  chaos:
    - link: a->b.c
      reset: {}
";

    #[test]
    fn keys_of_items_are_found_in_any_style() {
        let line = |index, path: &[&str]| line_in_item(TEXT, &["faults"], index, path);
        assert_eq!(line(0, &[]), Some(3));
        assert_eq!(line(0, &["reset"]), Some(4));
        assert_eq!(line(1, &["latency"]), Some(6));
        assert_eq!(line(1, &["latency", "ms"]), Some(6));
        assert_eq!(line(2, &["pause", "ms"]), Some(9));
        assert_eq!(line(2, &["pause"]), Some(8));
        assert_eq!(line(3, &[]), Some(10));
        assert_eq!(line_in_item(TEXT, &["other"], 0, &[]), Some(11));
    }

    #[test]
    fn what_is_not_written_has_no_line() {
        let line = |list, index, path: &[&str]| line_in_item(TEXT, &[list], index, path);
        assert_eq!(line("faults", 4, &[]), None);
        assert_eq!(line("faults", 3, &["reset"]), None);
        assert_eq!(line("faults", 0, &["latency"]), None);
        assert_eq!(line("faults", 2, &["pause", "jitter"]), None);
        assert_eq!(line("other", 0, &["x"]), None);
        assert_eq!(line("missing", 0, &[]), None);
        assert_eq!(line_in_item("- a\n", &["faults"], 0, &[]), None);
        let profile = |name, index| line_in_item(TEXT, &["fault_profiles", name], index, &[]);
        assert_eq!(profile("calm", 0), None);
        assert_eq!(profile("other", 0), None);
    }

    #[test]
    fn items_of_a_nested_list_are_found() {
        let line =
            |index, path: &[&str]| line_in_item(TEXT, &["fault_profiles", "chaos"], index, path);
        assert_eq!(line(0, &[]), Some(15));
        assert_eq!(line(0, &["reset"]), Some(16));
    }
}
