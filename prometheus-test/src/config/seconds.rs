//! The one rule for durations given in seconds (`start_timeout`,
//! `step_timeout`, `poll.*`), wherever they are set.

use std::fmt::Display;
use std::time::Duration;

use anyhow::bail;

/// `secs` as a duration when it is a positive, finite number that a
/// `Duration` can hold.
pub(super) fn duration_of(secs: f64) -> Option<Duration> {
    if secs > 0.0 {
        Duration::try_from_secs_f64(secs).ok()
    } else {
        None
    }
}

/// `secs` as a duration (see [`duration_of`]); else the error every such
/// field reports: ``` `field` must be a positive number of seconds, found … ```.
pub(super) fn positive_seconds(
    field: &str,
    secs: Option<f64>,
    found: &dyn Display,
) -> anyhow::Result<Duration> {
    match secs.and_then(duration_of) {
        Some(duration) => Ok(duration),
        None => bail!("`{field}` must be a positive number of seconds, found {found}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_positive_finite_numbers_are_durations() {
        assert_eq!(
            positive_seconds("t", Some(1.5), &1.5).unwrap(),
            Duration::from_millis(1500)
        );
        for bad in [0.0, -1.0, f64::INFINITY, f64::NAN, 1e300] {
            let err = positive_seconds("t", Some(bad), &bad).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("`t` must be a positive number of seconds, found {bad}")
            );
        }
        let err = positive_seconds("t", None, &"\"soon\"").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`t` must be a positive number of seconds, found \"soon\""
        );
    }
}
