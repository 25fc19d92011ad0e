//! config.yaml's `poll` section: the pauses and deadline of `Runner::poll`
//! when a step does not set its own.

use std::time::Duration;

use anyhow::Context as _;
use serde::Deserialize;

use super::seconds::positive_seconds;

/// The pauses and deadline of a poll: the defaults of every poll, config.yaml's
/// `poll` section, or one call's overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PollSettings {
    /// The shortest pause (the first ones).
    pub(crate) interval: Duration,
    /// The longest pause (the last ones of a long wait).
    pub(crate) max_interval: Duration,
    /// How long the poll waits in all before it fails.
    pub(crate) deadline: Duration,
}

impl Default for PollSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_millis(10),
            max_interval: Duration::from_secs(1),
            deadline: Duration::from_secs(30),
        }
    }
}

/// config.yaml's `poll` section, as written (seconds).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPollSettings {
    interval: Option<f64>,
    max_interval: Option<f64>,
    deadline: Option<f64>,
}

impl RawPollSettings {
    /// The settings, each key falling back to its default; a key that is not
    /// a positive number of seconds is an error naming it.
    fn resolve(&self) -> anyhow::Result<PollSettings> {
        let defaults = PollSettings::default();
        let read = |key: &str, secs: Option<f64>, default: Duration| match secs {
            None => Ok(default),
            Some(secs) => positive_seconds(&format!("poll.{key}"), Some(secs), &secs),
        };
        let interval = read("interval", self.interval, defaults.interval)?;
        let max_interval = read("max_interval", self.max_interval, defaults.max_interval)?;
        // A key left to its default gives way to the other, as `every` and
        // `max_every` do; two keys that are given must agree.
        let settings = PollSettings {
            interval: if self.interval.is_none() {
                interval.min(max_interval)
            } else {
                interval
            },
            max_interval: if self.max_interval.is_none() {
                max_interval.max(interval)
            } else {
                max_interval
            },
            deadline: read("deadline", self.deadline, defaults.deadline)?,
        };
        if settings.max_interval < settings.interval {
            anyhow::bail!(
                "`poll.max_interval` ({:?}) must not be shorter than `poll.interval` ({:?})",
                settings.max_interval,
                settings.interval
            );
        }
        Ok(settings)
    }
}

/// config.yaml's `poll` section (defaults when absent); errors name `at`.
pub(super) fn poll_settings(
    raw: Option<RawPollSettings>,
    at: &str,
) -> anyhow::Result<PollSettings> {
    raw.unwrap_or_default()
        .resolve()
        .with_context(|| at.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_settings_fall_back_to_defaults_and_are_checked() {
        let raw: RawPollSettings = serde_json::from_str(r#"{"deadline": 5}"#).unwrap();
        assert_eq!(
            raw.resolve().unwrap(),
            PollSettings {
                deadline: Duration::from_secs(5),
                ..PollSettings::default()
            }
        );
        let raw: RawPollSettings = serde_json::from_str(r#"{"interval": 0}"#).unwrap();
        assert_eq!(
            raw.resolve().unwrap_err().to_string(),
            "`poll.interval` must be a positive number of seconds, found 0"
        );
        let raw: RawPollSettings =
            serde_json::from_str(r#"{"interval": 2, "max_interval": 1}"#).unwrap();
        assert_eq!(
            raw.resolve().unwrap_err().to_string(),
            "`poll.max_interval` (1s) must not be shorter than `poll.interval` (2s)"
        );
    }
}
