//! config.yaml's `recording` section: whether the workers' calls to the
//! outside world go through the recording proxy, and how they are taped and
//! matched.
//!
//! ```yaml
//! recording:
//!   mode: replay              # replay | record | all | off (the default)
//!   cassettes: cassettes      # beside config.yaml (the default)
//!   pace: instant             # or `recorded`: streams replayed at their pace
//!   match_headers: [x-model]  # headers a request must repeat to match
//!   ignore:                   # left out when requests are compared
//!     body: [/metadata/request_id]
//!     headers: [anthropic-version]
//!   upstreams:                # where a host's requests really go
//!     api.anthropic.com: 127.0.0.1:8443
//! ```
//!
//! The run's `secret_headers` (top level) are never taped either.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;

use super::reader::Reader;
use super::typed::{Kind, found};

/// The folder of the data folder where the recording proxy keeps the
/// suite's CA and the workers' CA bundle.
pub(crate) const PROXY_DIR: &str = ".proxy";

/// The keys of the `recording` section.
const KEYS: &[&str] = &[
    "mode",
    "cassettes",
    "pace",
    "match_headers",
    "ignore",
    "upstreams",
];

/// The keys of `recording.ignore`.
const IGNORE_KEYS: &[&str] = &["body", "headers"];

/// What the recording proxy does with a worker's call to the outside world.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum RecordMode {
    /// No proxy: the workers reach the outside world themselves.
    #[default]
    Off,
    /// Only from the cassettes: nothing leaves the machine, and a call not
    /// on tape fails its step.
    Replay,
    /// From the cassettes what is on them; the rest forwarded and taped.
    Record,
    /// Everything forwarded and taped again.
    All,
}

impl RecordMode {
    /// The words config.yaml, `--record` and `PROMETHEUS_TEST_RECORD` take.
    pub(crate) const NAMES: &'static str = "`replay`, `record`, `all` or `off`";

    /// The mode `name` stands for.
    pub(crate) fn named(name: &str) -> Option<Self> {
        match name {
            "off" => Some(Self::Off),
            "replay" => Some(Self::Replay),
            "record" => Some(Self::Record),
            "all" => Some(Self::All),
            _ => None,
        }
    }

    /// Its name in config.yaml.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Replay => "replay",
            Self::Record => "record",
            Self::All => "all",
        }
    }
}

/// How a replayed stream is sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Pace {
    /// Every piece at once.
    #[default]
    Instant,
    /// Each piece after the delay it came with when it was taped.
    Recorded,
}

/// The `recording` section as the run uses it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RecordingSettings {
    pub(crate) mode: RecordMode,
    /// The folder of the cassettes (absolute).
    pub(crate) cassettes: PathBuf,
    pub(crate) pace: Pace,
    /// Headers (lower-case) a request must repeat to match a taped one.
    pub(crate) match_headers: Vec<String>,
    /// JSON pointers into request bodies left out when requests are compared.
    pub(crate) ignore_body: Vec<String>,
    /// Headers (lower-case) left out when requests are compared.
    pub(crate) ignore_headers: Vec<String>,
    /// Where a host's requests go instead of its own address: (host, address).
    pub(crate) upstreams: Vec<(String, SocketAddr)>,
}

impl RecordingSettings {
    /// Whether the workers' calls go through the proxy.
    pub(crate) fn enabled(&self) -> bool {
        self.mode != RecordMode::Off
    }
}

/// A mode's name.
const MODE: Kind<RecordMode> = Kind {
    expected: RecordMode::NAMES,
    read: |v| v.as_str().and_then(RecordMode::named),
};

/// A pace's name.
const PACE: Kind<Pace> = Kind {
    expected: "`instant` or `recorded`",
    read: |v| match v.as_str()? {
        "instant" => Some(Pace::Instant),
        "recorded" => Some(Pace::Recorded),
        _ => None,
    },
};

/// config.yaml's `recording` value, the cassettes' folder relative to
/// `tests_dir`; problems go to `reader`.
pub(super) fn recording_settings(reader: &mut Reader<'_>, tests_dir: &Path) -> RecordingSettings {
    let defaults = RecordingSettings {
        cassettes: tests_dir.join("cassettes"),
        ..RecordingSettings::default()
    };
    if reader.value(&["recording"]).is_none() {
        return defaults;
    }
    if reader.section(&["recording"], KEYS).is_none() {
        return defaults;
    }
    let cassettes = reader
        .read(
            &["recording", "cassettes"],
            &super::typed::string("a folder (a string)"),
        )
        .map_or(defaults.cassettes, |folder| tests_dir.join(folder));
    let mut ignore_body = Vec::new();
    let mut ignore_headers = Vec::new();
    if reader
        .section(&["recording", "ignore"], IGNORE_KEYS)
        .is_some()
    {
        ignore_body = names(reader, &["recording", "ignore", "body"], Name::Pointer);
        ignore_headers = names(reader, &["recording", "ignore", "headers"], Name::Header);
    }
    RecordingSettings {
        mode: reader
            .read(&["recording", "mode"], &MODE)
            .unwrap_or_default(),
        cassettes,
        pace: reader
            .read(&["recording", "pace"], &PACE)
            .unwrap_or_default(),
        match_headers: names(reader, &["recording", "match_headers"], Name::Header),
        ignore_body,
        ignore_headers,
        upstreams: upstreams(reader),
    }
}

/// What the items of a list name.
#[derive(Clone, Copy)]
enum Name {
    /// A header (kept lower-case).
    Header,
    /// A JSON pointer (`/messages/0/id`).
    Pointer,
}

/// The list at `path`, each item a `name`.
fn names(reader: &mut Reader<'_>, path: &[&str], name: Name) -> Vec<String> {
    let Some(value) = reader.value(path) else {
        return Vec::new();
    };
    let expected = match name {
        Name::Header => "a list of header names",
        Name::Pointer => "a list of JSON pointers (each starting with `/`)",
    };
    let Value::Sequence(items) = value else {
        let found = found(value);
        reader.problem(
            path,
            format_args!("`{}` must be {expected}, found {found}", path.join(".")),
        );
        return Vec::new();
    };
    let mut names = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let text = item.as_str().unwrap_or_default();
        let valid = match name {
            Name::Header => !text.is_empty() && text.bytes().all(is_header_char),
            Name::Pointer => text.starts_with('/'),
        };
        if valid {
            names.push(match name {
                Name::Header => text.to_ascii_lowercase(),
                Name::Pointer => text.to_owned(),
            });
        } else {
            let what = match name {
                Name::Header => "a header name",
                Name::Pointer => "a JSON pointer starting with `/`",
            };
            reader.problem(
                path,
                format_args!(
                    "`{}[{index}]` must be {what}, found {}",
                    path.join("."),
                    found(item)
                ),
            );
        }
    }
    names
}

/// Whether `byte` may stand in a header name (RFC 9110 `tchar`).
fn is_header_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// `recording.upstreams`: host name to `address:port`.
fn upstreams(reader: &mut Reader<'_>) -> Vec<(String, SocketAddr)> {
    let path = ["recording", "upstreams"];
    let Some(mapping) = reader.mapping(&path, "a mapping of host names to `address:port`") else {
        return Vec::new();
    };
    let mut upstreams = Vec::new();
    for (host, address) in mapping {
        let host = host.as_str().unwrap_or_default().to_owned();
        let parsed = address.as_str().and_then(|a| a.parse::<SocketAddr>().ok());
        match parsed {
            Some(address) if !host.is_empty() => upstreams.push((host, address)),
            _ => reader.problem(
                &path,
                format_args!(
                    "`recording.upstreams.{host}` must be an address and port such as \
                     `127.0.0.1:8443`, found {}",
                    found(address)
                ),
            ),
        }
    }
    upstreams
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn parse(text: &str) -> anyhow::Result<RecordingSettings> {
        let text = format!("task_id: t\nmax_rounds: 1\n{text}");
        Config::parse(Path::new("/s/tests/config.yaml"), &text).map(|c| c.recording)
    }

    #[test]
    fn recording_is_off_unless_the_suite_says_otherwise() {
        let none = parse("").unwrap();
        assert_eq!(none.mode, RecordMode::Off);
        assert!(!none.enabled());
        assert_eq!(none.cassettes, PathBuf::from("/s/tests/cassettes"));
    }

    #[test]
    fn every_key_is_read() {
        let settings = parse(
            "recording:\n  mode: replay\n  cassettes: tapes/llm\n  pace: recorded\n  \
             match_headers: [X-Model]\n  ignore:\n    body: [/metadata/id]\n    headers: [Anthropic-Version]\n  \
             upstreams:\n    api.anthropic.com: 127.0.0.1:8443\n",
        )
        .unwrap();
        assert_eq!(
            settings,
            RecordingSettings {
                mode: RecordMode::Replay,
                cassettes: PathBuf::from("/s/tests/tapes/llm"),
                pace: Pace::Recorded,
                match_headers: vec!["x-model".to_owned()],
                ignore_body: vec!["/metadata/id".to_owned()],
                ignore_headers: vec!["anthropic-version".to_owned()],
                upstreams: vec![(
                    "api.anthropic.com".to_owned(),
                    "127.0.0.1:8443".parse().unwrap()
                )],
            }
        );
        assert!(settings.enabled());
    }

    #[test]
    fn every_bad_value_is_named_with_its_line() {
        let err = parse(
            "recording:\n  mode: replaying\n  pace: fast\n  match_headers: [\"a b\"]\n  \
             ignore:\n    body: [metadata]\n    header: [x]\n  upstreams:\n    api.example.test: somewhere\n  \
             casettes: x\n",
        )
        .unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "7 problems:\n  \
             - /s/tests/config.yaml: line 12: `recording.casettes` is unknown: `recording` takes `mode`, `cassettes`, `pace`, `match_headers`, `ignore` and `upstreams`; did you mean `cassettes`?\n  \
             - /s/tests/config.yaml: line 9: `recording.ignore.header` is unknown: `recording.ignore` takes `body` and `headers`; did you mean `headers`?\n  \
             - /s/tests/config.yaml: line 8: `recording.ignore.body[0]` must be a JSON pointer starting with `/`, found \"metadata\"\n  \
             - /s/tests/config.yaml: line 4: `recording.mode` must be `replay`, `record`, `all` or `off`, found \"replaying\"\n  \
             - /s/tests/config.yaml: line 5: `recording.pace` must be `instant` or `recorded`, found \"fast\"\n  \
             - /s/tests/config.yaml: line 6: `recording.match_headers[0]` must be a header name, found \"a b\"\n  \
             - /s/tests/config.yaml: line 10: `recording.upstreams.api.example.test` must be an address and port such as `127.0.0.1:8443`, found \"somewhere\""
        );
    }
}
