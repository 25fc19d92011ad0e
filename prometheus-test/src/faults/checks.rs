//! Properties a suite states while it runs: `always` must hold every time
//! it is checked, `sometimes` must hold at least once in the run.

use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};

use super::seed::Seed;

/// Whether a property must always hold or hold at least once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Always,
    Sometimes,
}

/// What the run saw of one property.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Tally {
    kind: Kind,
    name: String,
    checked: u64,
    held: u64,
    /// Where an `always` first failed.
    first_failure: Option<String>,
}

/// The properties of a run, in the order first checked.
#[derive(Debug, Default)]
pub(crate) struct Checks {
    tallies: Mutex<Vec<Tally>>,
}

impl Checks {
    /// Checks `always(name)`; `place` (`round 2 steps::audit[worker2]`)
    /// is kept for the first failure. Returns `holds`.
    pub(crate) fn always(&self, name: &str, holds: bool, place: &str) -> bool {
        self.check(Kind::Always, name, holds, place)
    }

    /// Checks `sometimes(name)`. Returns `holds`.
    pub(crate) fn sometimes(&self, name: &str, holds: bool, place: &str) -> bool {
        self.check(Kind::Sometimes, name, holds, place)
    }

    fn check(&self, kind: Kind, name: &str, holds: bool, place: &str) -> bool {
        let mut tallies = self.tallies.lock().unwrap_or_else(PoisonError::into_inner);
        let known = tallies
            .iter()
            .position(|t| t.kind == kind && t.name == name);
        let index = known.unwrap_or_else(|| {
            tallies.push(Tally {
                kind,
                name: name.to_owned(),
                checked: 0,
                held: 0,
                first_failure: None,
            });
            tallies.len() - 1
        });
        let tally = &mut tallies[index];
        tally.checked += 1;
        if holds {
            tally.held += 1;
        } else if kind == Kind::Always && tally.first_failure.is_none() {
            tally.first_failure = Some(place.to_owned());
        }
        holds
    }

    /// Whether an `always` failed: the run then fails.
    pub(crate) fn failed(&self) -> bool {
        self.tallies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|t| t.kind == Kind::Always && t.held < t.checked)
    }

    /// The summary's lines: each `always` that failed (with the seed to
    /// replay it) and each `sometimes` never true; empty when all is well.
    pub(crate) fn summary(&self, seed: Seed) -> String {
        let tallies = self.tallies.lock().unwrap_or_else(PoisonError::into_inner);
        let mut summary = String::new();
        for tally in tallies.iter().filter(|t| t.held < t.checked) {
            let Tally {
                name,
                checked,
                held,
                ..
            } = tally;
            match (tally.kind, &tally.first_failure) {
                (Kind::Always, Some(first)) => {
                    let failed = checked - held;
                    let _ = writeln!(
                        summary,
                        "always `{name}` failed {failed} of {checked} times, first in {first}; {}",
                        seed.rerun_note()
                    );
                }
                (Kind::Sometimes, _) if *held == 0 => {
                    let _ = writeln!(
                        summary,
                        "sometimes `{name}` was never true ({checked} checks)"
                    );
                }
                _ => {}
            }
        }
        summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_failed_always_and_sometimes_never_seen() {
        let checks = Checks::default();
        let r1 = "round 1 steps::submit";
        let r2 = "round 2 steps::audit[worker2]";
        assert!(checks.always("balances stay positive", true, r1));
        assert!(!checks.always("balances stay positive", false, r2));
        checks.always(
            "balances stay positive",
            false,
            "round 3 steps::audit[worker2]",
        );
        checks.always("one leader", true, r1);
        checks.sometimes("a worker restarts", false, r1);
        checks.sometimes("a worker restarts", false, r2);
        checks.sometimes("an audit fails", false, r1);
        checks.sometimes("an audit fails", true, r2);
        assert!(checks.failed());
        assert_eq!(
            checks.summary(Seed(8_841_274)),
            "always `balances stay positive` failed 2 of 3 times, first in round 2 \
             steps::audit[worker2]; rerun with --seed 8841274 (under nextest: \
             PROMETHEUS_TEST_SEED=8841274)\n\
             sometimes `a worker restarts` was never true (2 checks)\n"
        );
    }

    #[test]
    fn a_run_whose_properties_held_has_no_summary() {
        let checks = Checks::default();
        checks.always("x", true, "round 1 s");
        checks.sometimes("x", true, "round 1 s");
        checks.sometimes("x", false, "round 1 s");
        assert!(!checks.failed());
        assert_eq!(checks.summary(Seed(1)), "");
    }
}
