//! How a recording runs: its mode, and what the suite tells it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::secrets::Redact;
use crate::config::Pace;

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
