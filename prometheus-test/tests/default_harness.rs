//! A suite built with the default test harness must fail, not report its
//! steps `ok` without running them.
//!
//! Each test builds a throwaway crate from `fixtures/default_harness/` (one
//! step that always fails) and runs `cargo test --test e2e` in it, as a user
//! would.

mod throwaway;

use throwaway::{Crate, Run};

/// The message of the tests `#[step]` and `main!()` emit for the IDE.
const NEEDS_HARNESS_FALSE: &str = "prometheus-test steps run only in a `harness = false` \
     [[test]] target, and this one uses the default test harness, so no step ran: \
     add `harness = false` to its [[test]] entry in Cargo.toml";

/// What the fixture's step fails with when it really runs.
const STEP_FAILURE: &str = "this step must fail";

#[test]
fn default_harness_fails_with_the_fix_in_the_message() {
    let run = run_suite(Harness::Default);
    assert!(!run.success, "the suite passed:\n{}", run.output);
    for expected in [
        NEEDS_HARNESS_FALSE,
        "test always_fails ... FAILED",
        "test prometheus_test_needs_harness_false ... FAILED",
        "test result: FAILED. 0 passed; 2 failed",
    ] {
        assert!(
            run.output.contains(expected),
            "missing {expected:?} in:\n{}",
            run.output
        );
    }
    assert!(
        !run.output.contains(STEP_FAILURE),
        "the step ran under the default harness:\n{}",
        run.output
    );
}

#[test]
fn harness_false_runs_the_step() {
    let run = run_suite(Harness::False);
    assert!(!run.success, "the failing step passed:\n{}", run.output);
    assert!(
        run.output.contains(STEP_FAILURE),
        "the step did not run:\n{}",
        run.output
    );
    assert!(
        !run.output.contains(NEEDS_HARNESS_FALSE),
        "a marker test ran under `harness = false`:\n{}",
        run.output
    );
}

#[derive(Clone, Copy)]
enum Harness {
    Default,
    False,
}

/// Builds the throwaway crate with `harness` and runs its suite.
fn run_suite(harness: Harness) -> Run {
    let harness_line = match harness {
        Harness::Default => "",
        Harness::False => "harness = false\n",
    };
    let project = Crate::new("{runtime}\nanyhow = \"1\"", harness_line);
    for file in ["e2e.rs", "config.yaml", "workers.json"] {
        project.copy_fixture("default_harness", file, &format!("tests/{file}"));
    }
    project.cargo(&["test", "--test", "e2e"])
}
