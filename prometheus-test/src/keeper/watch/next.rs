//! What the next play does, worked out from the changes and the last play:
//! a fresh run after a change of the configuration; else the snapshot before
//! the first step of the last play whose file changed, else before the step
//! the command line selects (the last one played), or before the first one
//! played when it selects them all.

use std::collections::BTreeSet;
use std::path::PathBuf;

use super::changes::Change;
use crate::keeper::host::Attachment;
use crate::keeper::protocol::Played;

/// What the next play does first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Next {
    /// The command line as given (the first play).
    AsGiven,
    /// From the snapshot before this point (`--from`).
    From(String),
    /// Without a restore (the suite keeps no snapshots, or the last play
    /// played nothing).
    Again,
    /// A fresh run (`--reset`).
    Reset,
}

/// The changes of one wait, sorted by what they need.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Needs {
    /// The first changed configuration file or fixture: the run starts over.
    pub(super) reset: Option<PathBuf>,
    /// `r`: every process starts again.
    pub(super) restart: bool,
    /// Code cargo builds: the test target is built again.
    pub(super) build: Vec<PathBuf>,
    /// Other files: scripts of kept processes, maybe.
    pub(super) others: Vec<PathBuf>,
}

impl Needs {
    pub(super) fn of(changes: &[Change]) -> Self {
        let mut needs = Self::default();
        for change in changes {
            match change {
                Change::Config(path) => {
                    needs.reset.get_or_insert_with(|| path.clone());
                }
                Change::Code(path) => needs.build.push(path.clone()),
                Change::Other(path) => needs.others.push(path.clone()),
                Change::Restart => needs.restart = true,
            }
        }
        needs
    }
}

/// The next play after `needs`, given the `last` play that played steps
/// and whether the command line selects some (`filtered`).
pub(super) fn next_play(needs: &Needs, last: Option<&Attachment>, filtered: bool) -> Next {
    if needs.reset.is_some() {
        return Next::Reset;
    }
    let Some(last) = last else {
        return Next::AsGiven;
    };
    let Some(report) = last.report.as_ref().filter(|report| report.snapshots) else {
        return Next::Again;
    };
    let changed: BTreeSet<&str> = last
        .steps
        .iter()
        .filter(|step| needs.build.contains(&step.file))
        .map(|step| step.name.as_str())
        .collect();
    rerun_from(&report.played, &changed, filtered).map_or(Next::Again, Next::From)
}

/// The `--from` point of the next play; `None` when nothing was played.
fn rerun_from(played: &[Played], changed: &BTreeSet<&str>, filtered: bool) -> Option<String> {
    let first_changed = played
        .iter()
        .find(|step| changed.contains(step.name.as_str()));
    let point = match first_changed {
        Some(step) => step,
        None if filtered => played.last()?,
        None => played.first()?,
    };
    Some(format!("round {} {}", point.round, point.name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keeper::protocol::{Outcome, Report, StepSource};

    fn played(steps: &[(u32, &str)]) -> Vec<Played> {
        steps
            .iter()
            .map(|&(round, name)| Played {
                round,
                name: name.to_owned(),
                outcome: Outcome::Passed,
            })
            .collect()
    }

    #[test]
    fn the_first_changed_step_else_the_selected_one_else_the_first_played() {
        let last = played(&[(2, "steps::a"), (2, "steps::b"), (2, "steps::c")]);
        let changed: BTreeSet<&str> = ["steps::b", "steps::c"].into();
        let none = BTreeSet::new();
        assert_eq!(
            rerun_from(&last, &changed, true).as_deref(),
            Some("round 2 steps::b")
        );
        assert_eq!(
            rerun_from(&last, &none, true).as_deref(),
            Some("round 2 steps::c")
        );
        assert_eq!(
            rerun_from(&last, &none, false).as_deref(),
            Some("round 2 steps::a")
        );
        assert_eq!(rerun_from(&[], &changed, true), None);
        let rounds = played(&[
            (1, "steps::a"),
            (1, "steps::b"),
            (2, "steps::a"),
            (2, "steps::b"),
        ]);
        let b: BTreeSet<&str> = ["steps::b"].into();
        assert_eq!(
            rerun_from(&rounds, &b, false).as_deref(),
            Some("round 1 steps::b"),
            "its first execution"
        );
    }

    #[test]
    fn a_configuration_change_resets_and_a_suite_without_snapshots_plays_again() {
        let step = |name: &str, file: &str| StepSource {
            name: name.to_owned(),
            file: PathBuf::from(file),
        };
        let mut last = Attachment {
            steps: vec![step("steps::a", "/s/a.rs"), step("steps::b", "/s/b.rs")],
            report: Some(Report {
                played: played(&[(1, "steps::a"), (1, "steps::b")]),
                snapshots: true,
                ..Report::default()
            }),
            ..Attachment::default()
        };
        let edit_a = Needs::of(&[Change::Code(PathBuf::from("/s/a.rs"))]);
        assert_eq!(
            next_play(&edit_a, Some(&last), true),
            Next::From("round 1 steps::a".to_owned())
        );
        let helper = Needs::of(&[Change::Code(PathBuf::from("/s/api.rs"))]);
        assert_eq!(
            next_play(&helper, Some(&last), true),
            Next::From("round 1 steps::b".to_owned()),
            "before the selected step"
        );
        let config = Needs::of(&[
            Change::Code(PathBuf::from("/s/a.rs")),
            Change::Config(PathBuf::from("/s/config.yaml")),
        ]);
        assert_eq!(next_play(&config, Some(&last), true), Next::Reset);
        assert_eq!(next_play(&edit_a, None, true), Next::AsGiven);
        last.report.as_mut().unwrap().snapshots = false;
        assert_eq!(next_play(&edit_a, Some(&last), true), Next::Again);
    }
}
