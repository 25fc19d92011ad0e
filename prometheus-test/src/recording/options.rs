//! How a recording runs: its mode, and what the suite tells it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::secrets::Redact;

/// What a recording does with the workers' requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Answers from the cassettes only; nothing leaves the machine. A
    /// request no entry matches gets a 599 and fails the step.
    Replay,
    /// Answers what the cassettes hold, forwards and records the rest.
    Record,
    /// Forwards everything and records it anew: each cassette is rewritten.
    All,
    /// Forwards everything, records nothing.
    Off,
}

impl std::str::FromStr for Mode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "replay" => Ok(Self::Replay),
            "record" => Ok(Self::Record),
            "all" => Ok(Self::All),
            "off" => Ok(Self::Off),
            other => Err(format!(
                "unknown recording mode `{other}`; expected `replay`, `record`, `all` or `off`"
            )),
        }
    }
}

/// How replay paces a response's pieces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum Pace {
    /// Each piece after its recorded delay.
    #[default]
    Recorded,
    /// Every piece at once.
    Instant,
}

impl std::str::FromStr for Pace {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "recorded" => Ok(Self::Recorded),
            "instant" => Ok(Self::Instant),
            other => Err(format!(
                "unknown pace `{other}`; expected `recorded` or `instant`"
            )),
        }
    }
}

/// What the suite tells a recording; every list is empty by default.
#[derive(Clone)]
pub(crate) struct Options {
    /// Headers compared when matching (any case); `*` for all of them.
    pub(crate) match_headers: Vec<String>,
    /// Headers never compared, even under `*` (`anthropic-version`, …).
    pub(crate) ignore_headers: Vec<String>,
    /// Query parameters never compared.
    pub(crate) ignore_query: Vec<String>,
    /// JSON pointers into request bodies never compared
    /// (`/metadata/request_id`); a `*` segment stands for every key or index.
    pub(crate) ignore_body: Vec<String>,
    /// Headers never recorded nor compared, besides `authorization`,
    /// `proxy-authorization`, `x-api-key`, `api-key`, `x-auth-token`,
    /// `cookie` and `set-cookie`.
    pub(crate) secret_headers: Vec<String>,
    /// How replayed responses are paced.
    pub(crate) pace: Pace,
    /// The run's secrets: no cassette holding one is written.
    pub(crate) redact: Redact,
    /// How long the end of a step waits for the exchanges the step started
    /// to end before its cassette is written without them.
    pub(crate) settle: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            match_headers: Vec::new(),
            ignore_headers: Vec::new(),
            ignore_query: Vec::new(),
            ignore_body: Vec::new(),
            secret_headers: Vec::new(),
            pace: Pace::default(),
            redact: Arc::new(str::to_owned),
            settle: Duration::from_secs(10),
        }
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("match_headers", &self.match_headers)
            .field("ignore_headers", &self.ignore_headers)
            .field("ignore_query", &self.ignore_query)
            .field("ignore_body", &self.ignore_body)
            .field("secret_headers", &self.secret_headers)
            .field("pace", &self.pace)
            .field("settle", &self.settle)
            .finish_non_exhaustive()
    }
}
