//! The kinds of value the keys of config.yaml and workers.json hold, each
//! with the words a message uses for it ("`base_port` must be an integer
//! from 1 to 65535").

use std::time::Duration;

use serde_yaml_ng::Value;

use super::overrides::mask_credentials;
use super::seconds::duration_of;

/// A kind of value: what was expected, in a message's words, and how to
/// read a value of that kind (`None`: the value is of another kind).
pub(super) struct Kind<T> {
    pub(super) expected: &'static str,
    pub(super) read: fn(&Value) -> Option<T>,
}

/// A TCP port.
pub(super) const PORT: Kind<u16> = Kind {
    expected: "an integer from 1 to 65535",
    read: |v| {
        v.as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .filter(|n| *n > 0)
    },
};

/// A number of rounds.
pub(super) const ROUNDS: Kind<u32> = Kind {
    expected: "an integer from 1 to 4294967295",
    read: |v| {
        v.as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n > 0)
    },
};

/// A number of documents.
pub(super) const COUNT: Kind<u64> = Kind {
    expected: "an integer of 0 or more",
    read: Value::as_u64,
};

/// A duration in seconds.
pub(super) const SECONDS: Kind<Duration> = Kind {
    expected: "a positive number of seconds",
    read: |v| v.as_f64().and_then(duration_of),
};

/// A switch.
pub(super) const FLAG: Kind<bool> = Kind {
    expected: "`true` or `false`",
    read: Value::as_bool,
};

/// An id: text, or a number (`task_id: 1111` is the id "1111", as a YAML
/// user expects of an unquoted id; see `Reader::written` for the digits as
/// written).
pub(super) const ID: Kind<String> = Kind {
    expected: "a string or a number",
    read: |v| match v {
        Value::String(text) => Some(text.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    },
};

/// A URL path such as `/health`.
pub(super) const URL_PATH: Kind<String> = Kind {
    expected: "a string starting with `/`",
    read: |v| v.as_str().filter(|p| p.starts_with('/')).map(str::to_owned),
};

/// A program and its arguments.
pub(super) const COMMAND: Kind<Vec<String>> = Kind {
    expected: "a non-empty array of strings",
    read: |v| {
        let parts = v.as_sequence().filter(|parts| !parts.is_empty())?;
        parts
            .iter()
            .map(|p| p.as_str().map(str::to_owned))
            .collect()
    },
};

/// A container image of the local engine.
pub(super) const IMAGE: Kind<String> = Kind {
    expected: "a non-empty string naming a local image",
    read: |v| {
        v.as_str()
            .filter(|image| !image.trim().is_empty())
            .map(str::to_owned)
    },
};

/// Text, described for messages as `expected` (such as "a path (a string)").
pub(super) fn string(expected: &'static str) -> Kind<String> {
    Kind {
        expected,
        read: |v| v.as_str().map(str::to_owned),
    }
}

/// A scalar as the text an environment variable or a build argument holds
/// (`2`, `true`, `debug`); `None` for a list, a mapping or nothing.
pub(super) fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// How a message shows the value that was found instead: scalars as
/// written (strings quoted, credentials in URLs masked), collections by kind.
pub(super) fn found(value: &Value) -> String {
    match value {
        Value::Null => "nothing".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(text) => serde_json::Value::String(mask_credentials(text)).to_string(),
        Value::Sequence(_) => "a list".to_owned(),
        Value::Mapping(_) => "a mapping".to_owned(),
        Value::Tagged(tagged) => format!("a value tagged `{}`", tagged.tag),
    }
}

/// How a message about a JSON file shows the value found instead: in JSON's
/// words, collections by kind (a keypair pasted as an array stays unshown).
pub(super) fn found_json(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Sequence(_) => "an array".to_owned(),
        Value::Mapping(_) => "an object".to_owned(),
        _ => found(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Value {
        serde_yaml_ng::from_str(text).unwrap()
    }

    #[test]
    fn numbers_are_ids_and_other_scalars_are_not() {
        let id = |text: &str| (ID.read)(&yaml(text));
        assert_eq!(id("1111"), Some("1111".to_owned()));
        assert_eq!(id("-7"), Some("-7".to_owned()));
        assert_eq!(id("1.5"), Some("1.5".to_owned()));
        assert_eq!(id("todo-task"), Some("todo-task".to_owned()));
        assert_eq!(id("'0042'"), Some("0042".to_owned()));
        assert_eq!(id("0042"), Some("0042".to_owned()), "YAML keeps it text");
        for not_an_id in ["true", "[1]", "{a: 1}", "~"] {
            assert_eq!(id(not_an_id), None, "{not_an_id}");
        }
    }

    #[test]
    fn ranges_are_checked_and_durations_never_overflow() {
        assert_eq!((PORT.read)(&yaml("65535")), Some(65535));
        for bad in ["0", "65536", "-1", "80.5", "'80'"] {
            assert_eq!((PORT.read)(&yaml(bad)), None, "{bad}");
        }
        assert_eq!((ROUNDS.read)(&yaml("0")), None);
        assert_eq!((ROUNDS.read)(&yaml("4294967296")), None);
        assert_eq!((COUNT.read)(&yaml("0")), Some(0));
        assert_eq!(
            (SECONDS.read)(&yaml("1.5")),
            Some(Duration::from_millis(1500))
        );
        for bad in ["0", "-1", ".inf", ".nan", "1e300", "soon"] {
            assert_eq!((SECONDS.read)(&yaml(bad)), None, "{bad}");
        }
    }

    #[test]
    fn found_values_are_shown_without_credentials_or_contents() {
        let shown: Vec<String> = [
            "~",
            "true",
            "99999",
            "1.5",
            "twenty",
            "'say \"hi\"'",
            "https://u:pw@host/x",
            "[1, 2]",
            "{a: 1}",
            "!secret x",
        ]
        .iter()
        .map(|text| found(&yaml(text)))
        .collect();
        assert_eq!(
            shown,
            [
                "nothing",
                "true",
                "99999",
                "1.5",
                "\"twenty\"",
                r#""say \"hi\"""#,
                "\"https://***@host/x\"",
                "a list",
                "a mapping",
                "a value tagged `!secret`",
            ]
        );
    }

    #[test]
    fn json_values_are_shown_in_json_words_without_contents() {
        let shown: Vec<String> = [
            "null",
            "true",
            "5",
            "1.5",
            r#""https://u:pw@host/x""#,
            "[1, 2]",
            r#"{"a": 1}"#,
        ]
        .iter()
        .map(|text| found_json(&serde_json::from_str(text).unwrap()))
        .collect();
        assert_eq!(
            shown,
            [
                "null",
                "true",
                "5",
                "1.5",
                "\"https://***@host/x\"",
                "an array",
                "an object"
            ]
        );
    }
}
