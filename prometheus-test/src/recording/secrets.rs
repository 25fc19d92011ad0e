//! Keeping secrets off tape: the headers never recorded, and the check that
//! refuses a cassette still holding a secret the run knows.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::headers::Headers;
use crate::record::redact::ALWAYS_SECRET_HEADERS;

/// The run's secrets as a function: `text` with every secret it knows
/// replaced (the run's [`Redactor`](crate::record::redact::Redactor) behind
/// its lock, which learns secrets while the run goes on). Text that comes
/// back changed holds a secret.
pub(crate) type Redact = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// The names of the headers whose values are never written nor compared.
#[derive(Debug, Clone)]
pub(crate) struct Unrecorded(BTreeSet<String>);

impl Unrecorded {
    /// The always-secret headers and `also` (any case).
    pub(crate) fn new(also: &[String]) -> Self {
        let names = ALWAYS_SECRET_HEADERS
            .iter()
            .map(|name| (*name).to_owned())
            .chain(also.iter().map(|name| name.to_ascii_lowercase()))
            .collect();
        Self(names)
    }

    /// Whether header `name` (lower-case) is never recorded.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    /// `headers` with the values of unrecorded ones replaced by a marker.
    pub(crate) fn mask(&self, headers: &[(String, String)]) -> Headers {
        Headers(
            headers
                .iter()
                .map(|(name, value)| {
                    let value = if self.contains(name) {
                        marker(name)
                    } else {
                        value.clone()
                    };
                    (name.clone(), value)
                })
                .collect(),
        )
    }
}

/// What a cassette holds in place of an unrecorded header's value.
pub(crate) fn marker(name: &str) -> String {
    format!("[not recorded: {name}]")
}
