//! The one rule for durations given in seconds (`start_timeout`,
//! `step_timeout`, `poll.*`), wherever they are set.

use std::time::Duration;

/// `secs` as a duration when it is a positive, finite number that a
/// `Duration` can hold.
pub(super) fn duration_of(secs: f64) -> Option<Duration> {
    if secs > 0.0 {
        Duration::try_from_secs_f64(secs).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_positive_finite_numbers_are_durations() {
        assert_eq!(duration_of(1.5), Some(Duration::from_millis(1500)));
        for bad in [0.0, -1.0, f64::INFINITY, f64::NAN, 1e300] {
            assert_eq!(duration_of(bad), None, "{bad}");
        }
    }
}
