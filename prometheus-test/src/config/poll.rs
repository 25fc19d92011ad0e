//! config.yaml's `poll` section: the pauses and deadline of `Runner::poll`
//! when a step does not set its own.

use std::time::Duration;

use super::reader::Reader;
use super::typed::SECONDS;

/// The keys of the `poll` section.
const KEYS: &[&str] = &["interval", "max_interval", "deadline"];

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

/// config.yaml's `poll` section: each key in seconds, falling back to its
/// default; problems go to `reader`.
pub(super) fn poll_settings(reader: &mut Reader<'_>) -> PollSettings {
    reader.section(&["poll"], KEYS);
    let interval = reader.read(&["poll", "interval"], &SECONDS);
    let max_interval = reader.read(&["poll", "max_interval"], &SECONDS);
    let deadline = reader.read(&["poll", "deadline"], &SECONDS);
    resolve(interval, max_interval, deadline).unwrap_or_else(|conflict| {
        reader.problem(&["poll", "max_interval"], conflict);
        PollSettings::default()
    })
}

/// The settings from the keys given. A key left to its default gives way to
/// the other, as `every` and `max_every` do; two keys that are given must agree.
fn resolve(
    interval: Option<Duration>,
    max_interval: Option<Duration>,
    deadline: Option<Duration>,
) -> Result<PollSettings, String> {
    let defaults = PollSettings::default();
    let settings = PollSettings {
        interval: interval.unwrap_or(defaults.interval.min(max_interval.unwrap_or(Duration::MAX))),
        max_interval: max_interval
            .unwrap_or(defaults.max_interval.max(interval.unwrap_or_default())),
        deadline: deadline.unwrap_or(defaults.deadline),
    };
    if settings.max_interval < settings.interval {
        return Err(format!(
            "`poll.max_interval` ({:?}) must not be shorter than `poll.interval` ({:?})",
            settings.max_interval, settings.interval
        ));
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Option<Duration> = |ms| Some(Duration::from_millis(ms));

    #[test]
    fn keys_fall_back_to_defaults_that_give_way_and_given_keys_must_agree() {
        assert_eq!(resolve(None, None, None), Ok(PollSettings::default()));
        assert_eq!(
            resolve(None, None, MS(5_000)).unwrap(),
            PollSettings {
                deadline: Duration::from_secs(5),
                ..PollSettings::default()
            }
        );
        assert_eq!(
            resolve(None, MS(5), None).unwrap().interval,
            Duration::from_millis(5),
            "a default shortest pause gives way to a shorter longest pause"
        );
        assert_eq!(
            resolve(MS(2_000), None, None).unwrap().max_interval,
            Duration::from_secs(2),
            "a default longest pause gives way to a longer shortest pause"
        );
        assert_eq!(
            resolve(MS(2_000), MS(1_000), None),
            Err(
                "`poll.max_interval` (1s) must not be shorter than `poll.interval` (2s)".to_owned()
            )
        );
    }
}
