//! Whole in-process runs ([`run_with`](super::run_with)) around what may
//! stop a run before its first step: the run lock, a saved round past the
//! run's rounds, taken ports, config overrides, the environment snapshot and
//! the exit code of a suite that could not start. Blocked steps and signals
//! are covered by the process-level contract tests (`tests/cli_contract.rs`).

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};

use super::MainOptions;
use super::cli::ProcessEnv;
use super::lock::RunLock;
use super::tests::{run_in_process, two_round_suite_dir};
use crate::Runner;
use crate::step::{StepDef, StepFuture};

fn first<'a>(runner: &'a Runner, _worker: &'a crate::Worker) -> StepFuture<'a> {
    Box::pin(async move { runner.set("first_in", &runner.current_round()) })
}

/// Fails in the round config.yaml's `fail_in_round` names; checks that the
/// run's environment holds `PT_GIVEN` and not the process's own `PATH`.
fn second<'a>(runner: &'a Runner, _worker: &'a crate::Worker) -> StepFuture<'a> {
    Box::pin(async move {
        anyhow::ensure!(
            runner.env().get("PT_GIVEN") == Some("given"),
            "the given variable is missing"
        );
        anyhow::ensure!(
            runner.env().get("PATH").is_none(),
            "the process environment leaked into the run"
        );
        let fail_in: u32 = runner.config_value("fail_in_round")?;
        anyhow::ensure!(fail_in != runner.current_round(), "asked to fail");
        Ok(())
    })
}

static FIRST: StepDef = StepDef {
    name: "first",
    fn_name: "first",
    description: "",
    module: "suite::steps",
    workers: crate::step::StepWorkers::One("worker1"),
    order: 1,
    file: "tests/suite.rs",
    line: 1,
    retries: 0,
    retry_delay: std::time::Duration::ZERO,
    timeout: None,
    run: first,
};

static SECOND: StepDef = StepDef {
    name: "second",
    fn_name: "second",
    description: "",
    module: "suite::steps",
    workers: crate::step::StepWorkers::One("worker1"),
    order: 2,
    file: "tests/suite.rs",
    line: 2,
    retries: 0,
    retry_delay: std::time::Duration::ZERO,
    timeout: None,
    run: second,
};

fn hook<'a>(_db: &'a mongodb::Database, _runner: &'a Runner) -> StepFuture<'a> {
    Box::pin(async { Ok(()) })
}

const OPTIONS: MainOptions = MainOptions {
    source_file: "tests/suite.rs",
    manifest_dir: "/nonexistent",
    config: None,
    post_load: None,
};

/// Two steps, `max_rounds: 2`, one external worker, in a temporary directory.
struct Suite {
    dir: tempfile::TempDir,
}

impl Suite {
    fn new(fail_in_round: u32) -> Self {
        Self {
            dir: two_round_suite_dir("reliability", fail_in_round),
        }
    }

    fn run_with(&self, options: &MainOptions, args: &[&str], env: &[(&str, &str)]) -> (u8, String) {
        let config = self.dir.path().join("config.yaml");
        let env = ProcessEnv::from_pairs(
            [
                ("PROMETHEUS_TEST_CONFIG", config.as_os_str()),
                ("PT_GIVEN", "given".as_ref()),
            ]
            .into_iter()
            .chain(env.iter().map(|(k, v)| (*k, v.as_ref()))),
        );
        run_in_process(options, &[&FIRST, &SECOND], args, &env)
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> (u8, String) {
        self.run_with(&OPTIONS, args, env)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn state_text(&self) -> String {
        std::fs::read_to_string(self.data().join("test_state.json")).unwrap()
    }

    fn state(&self) -> serde_json::Value {
        serde_json::from_str(&self.state_text()).unwrap()
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

#[test]
fn a_saved_round_past_max_rounds_is_an_error_not_a_fresh_start() {
    let suite = Suite::new(2);
    assert_eq!(suite.run(&[], &[]).0, 101, "the step fails in round 2");
    let saved = suite.state_text();
    assert_eq!(suite.state()["current_round"], 2);
    assert_eq!(suite.state()["last_completed_step"], "first");

    let (code, out) = suite.run(&[], &[("PROMETHEUS_TEST_SET_MAX_ROUNDS", "1")]);
    assert_eq!((code, out.as_str()), (2, ""), "the suite cannot start");
    assert_eq!(suite.state_text(), saved, "the resumable run is kept");
    assert!(!suite.data().join("test_state.prev.json").exists());

    let mut edited = suite.state();
    edited["current_round"] = 99.into();
    edited["last_completed_step"] = serde_json::Value::Null;
    let edited = edited.to_string();
    std::fs::write(suite.data().join("test_state.json"), &edited).unwrap();
    assert_eq!(suite.run(&[], &[]).0, 2);
    assert_eq!(
        suite.state_text(),
        edited,
        "a hand-edited round is kept too"
    );

    assert_eq!(
        suite
            .run(&["--reset"], &[("PROMETHEUS_TEST_SET_FAIL_IN_ROUND", "0")])
            .0,
        0
    );
    assert_eq!(suite.state()["current_round"], 2);
}

#[test]
fn a_completed_run_past_lowered_rounds_still_starts_fresh() {
    let suite = Suite::new(0);
    assert_eq!(suite.run(&[], &[]).0, 0);
    let (code, out) = suite.run(&[], &[("PROMETHEUS_TEST_SET_MAX_ROUNDS", "1")]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("running 2 tests"), "{out}");
    assert_eq!(suite.state()["current_round"], 1);
}

#[test]
fn a_second_run_fails_at_once_while_the_lock_is_held_and_list_needs_no_lock() {
    let suite = Suite::new(0);
    assert_eq!(suite.run(&["steps::first", "--exact"], &[]).0, 0);
    let saved = suite.state_text();
    let held = RunLock::acquire(&suite.data()).unwrap();
    assert_eq!(suite.run(&["--reset"], &[]), (2, String::new()));
    assert_eq!(
        suite.state_text(),
        saved,
        "the running suite's state is untouched"
    );
    let (code, listed) = suite.run(&["--list"], &[]);
    assert_eq!(code, 0);
    assert!(listed.contains("steps::first: test"), "{listed}");
    drop(held);
    assert_eq!(suite.run(&[], &[]).0, 0, "a released lock is free");
}

#[test]
fn a_taken_port_stops_a_reset_before_anything_is_deleted() {
    let suite = Suite::new(0);
    assert_eq!(suite.run(&["steps::first", "--exact"], &[]).0, 0);
    let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = taken.local_addr().unwrap().port();
    std::fs::write(
        suite.path().join("workers.json"),
        format!(r#"{{"worker1": {{"port": {port}, "command": ["sleep", "30"]}}}}"#),
    )
    .unwrap();
    let db = suite.data().join("database_worker1.db");
    std::fs::write(&db, "kept").unwrap();
    let saved = suite.state_text();
    assert_eq!(suite.run(&["--reset"], &[]), (2, String::new()));
    assert_eq!(suite.state_text(), saved);
    assert!(db.exists(), "no database is deleted");
    assert!(!suite.data().join("test_state.prev.json").exists());
}

#[test]
fn overrides_change_the_run_and_a_bad_one_stops_it() {
    let suite = Suite::new(0);
    let (code, out) = suite.run(&[], &[("PROMETHEUS_TEST_SET_MAX_ROUNDS", "1")]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("running 2 tests"), "{out}");
    assert_eq!(suite.state()["current_round"], 1);
    assert_eq!(
        suite.run(&["--reset"], &[("PROMETHEUS_TEST_SET_MAX_ROUNDS", "[")]),
        (2, String::new())
    );
    assert_eq!(
        suite.run(&["--reset"], &[("PROMETHEUS_TEST_SET_MAX_ROUNDS", "0")]),
        (2, String::new())
    );
}

#[test]
fn a_post_load_hook_without_a_mongodb_section_cannot_start() {
    let suite = Suite::new(0);
    let options = MainOptions {
        post_load: Some(hook),
        ..OPTIONS
    };
    assert_eq!(suite.run_with(&options, &[], &[]), (2, String::new()));
    assert!(!suite.data().exists(), "nothing is written");
}

#[test]
fn a_failing_step_exits_101_and_a_missing_config_2() {
    let suite = Suite::new(1);
    assert_eq!(suite.run(&[], &[]).0, 101);
    std::fs::remove_file(suite.path().join("config.yaml")).unwrap();
    assert_eq!(suite.run(&[], &[]).0, 2);
}
