//! Where and how config.yaml or workers.json writes a key: the line it is
//! on, for messages about its value, and the text of a scalar value as
//! written.
//!
//! The parsed tree keeps neither, so the text is read again by the parser
//! itself: to find a line, the walk fails on purpose at the wanted key and
//! the parser's error carries its position.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

/// What the walk "expected" at the wanted key: the mark of a deliberate stop.
const STOP: &str = "the key looked for";

/// The language a file is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Syntax {
    Yaml,
    Json,
}

impl Syntax {
    /// The 1-based line of the key at `path` (`["mongodb", "database"]`) in
    /// `text`, if it is written there (a value set by an override is not).
    pub(super) fn line_of(self, text: &str, path: &[&str]) -> Option<usize> {
        if path.is_empty() {
            return None;
        }
        let want = Want::Line;
        let (message, line) = self.walk(text, Seek { path, want }).err()?;
        message.contains(STOP).then_some(line).flatten()
    }

    /// The scalar value at `path` in `text` as written (`1.10` for
    /// `task_id: 1.10`, which reads as the number 1.1), if it is written
    /// there as text the parser gives as a string.
    pub(super) fn written_scalar(self, text: &str, path: &[&str]) -> Option<String> {
        let want = Want::Text;
        self.walk(text, Seek { path, want }).ok().flatten()
    }

    /// Walks `text` with `seek`; an error comes with its line, if it has one.
    fn walk(self, text: &str, seek: Seek<'_>) -> Result<Option<String>, (String, Option<usize>)> {
        match self {
            Self::Yaml => seek
                .deserialize(serde_yaml_ng::Deserializer::from_str(text))
                .map_err(|e| (e.to_string(), e.location().map(|at| at.line()))),
            Self::Json => seek
                .deserialize(&mut serde_json::Deserializer::from_str(text))
                .map_err(|e| (e.to_string(), Some(e.line()).filter(|line| *line > 0))),
        }
    }
}

/// What a walk is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    /// The line of the key: stop there.
    Line,
    /// The text of its value.
    Text,
}

/// Walks down to the key at the end of its path.
struct Seek<'p> {
    path: &'p [&'p str],
    want: Want,
}

impl<'de> DeserializeSeed<'de> for Seek<'_> {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Seek<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let Some((wanted, rest)) = self.path.split_first() else {
            return Ok(None);
        };
        let last = rest.is_empty();
        let stop = last && self.want == Want::Line;
        let mut found = None;
        while let Some(matched) = map.next_key_seed(Key { wanted, stop })? {
            if !matched {
                map.next_value::<IgnoredAny>()?;
            } else if last {
                found = Some(map.next_value::<String>()?);
            } else {
                found = map.next_value_seed(Seek {
                    path: rest,
                    want: self.want,
                })?;
            }
        }
        Ok(found)
    }
}

/// One key of a mapping: whether it is the wanted one; with `stop`, the
/// wanted key stops the walk with an error that carries its position.
struct Key<'w> {
    wanted: &'w str,
    stop: bool,
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Visitor<'_> for Key<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        match key == self.wanted {
            true if self.stop => Err(E::custom(STOP)),
            matched => Ok(matched),
        }
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
# the suite
task_id: t
mongodb:
  database: db

  collections:
    todos:
      required_count: 2
\"quoted\": 1
poll: {deadline: 5}
2024: x
";

    #[test]
    fn keys_are_found_at_any_depth_and_in_any_style() {
        let line = |path: &[&str]| Syntax::Yaml.line_of(TEXT, path);
        assert_eq!(line(&["task_id"]), Some(2));
        assert_eq!(line(&["mongodb"]), Some(3));
        assert_eq!(line(&["mongodb", "database"]), Some(4));
        assert_eq!(line(&["mongodb", "collections"]), Some(6));
        assert_eq!(
            line(&["mongodb", "collections", "todos", "required_count"]),
            Some(8)
        );
        assert_eq!(line(&["quoted"]), Some(9));
        assert_eq!(line(&["poll", "deadline"]), Some(10));
    }

    #[test]
    fn json_keys_are_found_at_any_depth() {
        let text = "{\n  \"a\": {\n    \"port\": 1,\n    \"env_vars\": {\"X\": \"Y\"}\n  },\n  \
                    \"b\": {}, \"c\": [{\"d\": 1}],\n  \"e\": 2\n}\n";
        let line = |path: &[&str]| Syntax::Json.line_of(text, path);
        assert_eq!(line(&["a"]), Some(2));
        assert_eq!(line(&["a", "port"]), Some(3));
        assert_eq!(line(&["a", "env_vars", "X"]), Some(4));
        assert_eq!(line(&["b"]), Some(6));
        assert_eq!(line(&["c"]), Some(6));
        assert_eq!(line(&["e"]), Some(7));
        assert_eq!(line(&["a", "x"]), None);
        assert_eq!(line(&["e", "x"]), None);
        assert_eq!(line(&["c", "d"]), None);
        assert_eq!(Syntax::Json.line_of("[1]", &["a"]), None);
        assert_eq!(Syntax::Json.line_of("{", &["a"]), None);
    }

    #[test]
    fn scalars_are_read_as_written() {
        let text = "task_id: 1.10\nother: 0x1F\npoll:\n  deadline: 5\nlist: [1]\n";
        let written = |path: &[&str]| Syntax::Yaml.written_scalar(text, path);
        assert_eq!(written(&["task_id"]).as_deref(), Some("1.10"));
        assert_eq!(written(&["other"]).as_deref(), Some("0x1F"));
        assert_eq!(written(&["poll", "deadline"]).as_deref(), Some("5"));
        assert_eq!(written(&["list"]), None);
        assert_eq!(written(&["poll"]), None);
        assert_eq!(written(&["missing"]), None);
    }

    #[test]
    fn keys_that_are_not_written_have_no_line() {
        let line = |path: &[&str]| Syntax::Yaml.line_of(TEXT, path);
        assert_eq!(line(&["base_port"]), None);
        assert_eq!(line(&["mongodb", "task_id"]), None);
        assert_eq!(line(&["task_id", "x"]), None);
        assert_eq!(line(&[]), None);
        assert_eq!(Syntax::Yaml.line_of("- a\n- b\n", &["a"]), None);
        assert_eq!(Syntax::Yaml.line_of("", &["a"]), None);
    }
}
