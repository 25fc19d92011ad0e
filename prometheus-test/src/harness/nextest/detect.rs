//! Which part a process plays under cargo-nextest, told from its
//! environment: nextest sets `NEXTEST_RUN_ID` (the same for every process of
//! one `cargo nextest run`, also while it lists) and
//! `NEXTEST_EXECUTION_MODE=process-per-test` and `NEXTEST_BINARY_ID` for
//! each test it starts; the coordinator is started with [`COORDINATOR_VAR`].

use super::super::cli::ProcessEnv;
use super::coordinator::Coordinator;
use super::start::{COORDINATOR_VAR, WATCH_VAR};
use super::wait::TestProcess;
use super::watch::Watched;

/// What this process does.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Not under nextest, or listing (which stays free of side effects):
    /// a plain run.
    Plain,
    /// One test of a nextest run: it waits for its step's outcome.
    Test(TestProcess),
    /// The process that plays the suite for a nextest run.
    Coordinator(Coordinator),
}

impl Role {
    /// The role `env` gives a process that lists (`listing`) or runs.
    pub(crate) fn of(env: &ProcessEnv, listing: bool) -> Self {
        if listing {
            return Self::Plain;
        }
        let var = |name: &str| {
            env.vars()
                .find(|(key, _)| key == name)
                .and_then(|(_, value)| value.into_string().ok())
                .filter(|value| !value.is_empty())
        };
        if let Some(run) = var(COORDINATOR_VAR) {
            return Self::Coordinator(Coordinator {
                run,
                watch: var(WATCH_VAR).and_then(|text| Watched::parse(&text)),
            });
        }
        match (
            var("NEXTEST_RUN_ID"),
            var("NEXTEST_EXECUTION_MODE").as_deref(),
        ) {
            (Some(id), Some("process-per-test")) => Self::Test(TestProcess {
                run: run_key(&id, var("NEXTEST_STRESS_CURRENT").as_deref()),
                attempt: var("NEXTEST_ATTEMPT")
                    .and_then(|attempt| attempt.parse().ok())
                    .unwrap_or(1),
                binary_id: var("NEXTEST_BINARY_ID"),
            }),
            _ => Self::Plain,
        }
    }
}

/// The run's name in file names: nextest's run ID (a UUID), with the
/// iteration of a stress run (`--stress-count`), where each iteration plays
/// the suite again; any character but ASCII letters, digits and `-` is
/// replaced by `_`.
fn run_key(id: &str, stress: Option<&str>) -> String {
    let mut key: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Some(iteration) = stress.filter(|s| s.parse::<u32>().is_ok()) {
        key.push_str("-stress-");
        key.push_str(iteration);
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN: &str = "1f79aa0d-4ec8-4a5c-aa83-5e8dc2f36573";

    fn role(vars: &[(&str, &str)], listing: bool) -> Role {
        Role::of(&ProcessEnv::from_pairs(vars.iter().copied()), listing)
    }

    #[test]
    fn a_test_of_a_nextest_run_is_told_by_its_run_id_and_execution_mode() {
        let nextest = [
            ("NEXTEST_RUN_ID", RUN),
            ("NEXTEST_EXECUTION_MODE", "process-per-test"),
            ("NEXTEST_ATTEMPT", "2"),
            ("NEXTEST_STRESS_CURRENT", "none"),
            ("NEXTEST_BINARY_ID", "my-crate::e2e"),
        ];
        assert_eq!(
            role(&nextest, false),
            Role::Test(TestProcess {
                run: RUN.to_owned(),
                attempt: 2,
                binary_id: Some("my-crate::e2e".to_owned()),
            })
        );
        assert_eq!(role(&nextest, true), Role::Plain, "listing stays plain");
        assert_eq!(role(&nextest[..1], false), Role::Plain, "no execution mode");
        assert_eq!(
            role(
                &[
                    ("NEXTEST_RUN_ID", RUN),
                    ("NEXTEST_EXECUTION_MODE", "a-future-mode")
                ],
                false
            ),
            Role::Plain
        );
        assert_eq!(role(&[], false), Role::Plain);
    }

    #[test]
    fn the_coordinator_is_told_by_its_variable_before_nextest_s() {
        let vars = [
            ("NEXTEST_RUN_ID", RUN),
            ("NEXTEST_EXECUTION_MODE", "process-per-test"),
            (COORDINATOR_VAR, RUN),
            (WATCH_VAR, "4321:987654"),
        ];
        assert_eq!(
            role(&vars, false),
            Role::Coordinator(Coordinator {
                run: RUN.to_owned(),
                watch: Watched::parse("4321:987654"),
            })
        );
        assert!(Watched::parse("4321:987654").is_some());
    }

    #[test]
    fn the_run_key_is_a_safe_file_name_with_the_stress_iteration() {
        assert_eq!(run_key(RUN, None), RUN);
        assert_eq!(run_key(RUN, Some("none")), RUN);
        assert_eq!(run_key(RUN, Some("3")), format!("{RUN}-stress-3"));
        assert_eq!(run_key("../a b", None), "___a_b");
    }
}
