//! Headers as a cassette writes them: one field per name in the order first
//! seen, a list when a name came more than once.

use serde::de::Error as _;
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Header (name, value) pairs, names lower-case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Headers(pub(crate) Vec<(String, String)>);

impl Headers {
    /// The values of `name`, in order.
    pub(crate) fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, value)| value.as_str())
    }

    /// The names, each once, in the order first seen.
    fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for (name, _) in &self.0 {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
        names
    }
}

impl Serialize for Headers {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let names = self.names();
        let mut map = serializer.serialize_map(Some(names.len()))?;
        for name in names {
            let values: Vec<&str> = self.values(name).collect();
            match values.as_slice() {
                [one] => map.serialize_entry(name, one)?,
                many => map.serialize_entry(name, many)?,
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Headers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::deserialize(deserializer)?;
        let mut pairs = Vec::new();
        for (name, value) in map {
            match value {
                serde_json::Value::String(value) => pairs.push((name, value)),
                serde_json::Value::Array(values) => {
                    for value in values {
                        let serde_json::Value::String(value) = value else {
                            return Err(D::Error::custom(format!(
                                "header `{name}`: a value is a string"
                            )));
                        };
                        pairs.push((name.clone(), value));
                    }
                }
                _ => {
                    return Err(D::Error::custom(format!(
                        "header `{name}`: a string or a list of strings"
                    )));
                }
            }
        }
        Ok(Self(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_name_is_a_list_and_reads_back_grouped() {
        let headers = Headers(vec![
            ("content-type".into(), "application/json".into()),
            ("vary".into(), "accept".into()),
            ("vary".into(), "origin".into()),
        ]);
        let text = serde_json::to_string(&headers).unwrap();
        assert_eq!(
            (
                text.as_str(),
                serde_json::from_str::<Headers>(&text).unwrap()
            ),
            (
                r#"{"content-type":"application/json","vary":["accept","origin"]}"#,
                headers
            )
        );
    }
}
