//! Whole runs in this process through [`run_with`](super::run_with): real
//! config.yaml, workers.json and state file in a temporary directory, steps
//! defined here, the libtest output captured and compared whole (times
//! normalised). Signals and leftover processes are covered by the
//! process-level contract tests (`tests/cli_contract.rs`).

use std::cell::RefCell;
use std::ffi::OsString;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use super::MainOptions;
use super::cli::ProcessEnv;
use crate::step::{StepDef, StepFuture, StepWorkers};
use crate::{Runner, Skip, Worker};

/// An output that tests read back.
#[derive(Clone, Default)]
pub(crate) struct Sink(Rc<RefCell<Vec<u8>>>);

impl Sink {
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.borrow().clone()).expect("the output is UTF-8")
    }
}

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Replaces measured times, which differ from run to run: `1.23s` becomes
/// `T.TTs` and a JSON `"exec_time":0.0012` becomes `"exec_time":0`.
pub(crate) fn normalise_times(text: &str) -> String {
    const EXEC_TIME: &str = "\"exec_time\":";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix(EXEC_TIME) {
            let number = after
                .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+')))
                .unwrap_or(after.len());
            out.push_str(EXEC_TIME);
            out.push('0');
            rest = &after[number..];
            continue;
        }
        if c.is_ascii_digit() && !out.ends_with(|p: char| p.is_ascii_alphanumeric() || p == '.') {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            let (int, after) = rest.split_at(digits);
            if let Some(frac) = after.strip_prefix('.') {
                let frac_len = frac
                    .find(|c: char| !c.is_ascii_digit())
                    .unwrap_or(frac.len());
                if frac_len > 0 && frac[frac_len..].starts_with('s') {
                    out.push_str("T.TTs");
                    rest = &frac[frac_len + 1..];
                    continue;
                }
            }
            out.push_str(int);
            rest = after;
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[test]
fn normalise_times_replaces_times_only() {
    assert_eq!(
        normalise_times("ok (0.01s) round 2 in 12.50s; v1.2 3.4x\n{\"exec_time\":1.5e-3,\"n\":2}"),
        "ok (T.TTs) round 2 in T.TTs; v1.2 3.4x\n{\"exec_time\":0,\"n\":2}"
    );
}

/// Stores the round it ran in.
fn work<'a>(runner: &'a Runner, _worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move { runner.set("worked_in", &runner.current_round()) })
}

/// Checks what `work` stored; skips round 2; fails in config.yaml's `fail_in_round`.
fn check<'a>(runner: &'a Runner, _worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        let round = runner.current_round();
        let worked_in: u32 = runner.get("worked_in")?;
        anyhow::ensure!(worked_in == round, "work ran in round {worked_in}");
        let fail_in: u32 = runner.config_value("fail_in_round")?;
        anyhow::ensure!(fail_in != round, "asked to fail in round {round}");
        if round == 2 {
            return Err(Skip::new("nothing to check in round 2").into());
        }
        Ok(())
    })
}

static WORK: StepDef = StepDef {
    name: "work",
    fn_name: "work",
    description: "Stores the round it ran in.",
    module: "suite::steps",
    workers: StepWorkers::One("worker1"),
    order: 1,
    file: "tests/suite.rs",
    line: 10,
    retries: 0,
    retry_delay: Duration::ZERO,
    timeout: None,
    run: work,
};

static CHECK: StepDef = StepDef {
    name: "check",
    fn_name: "check",
    description: "Checks what `work` stored.",
    module: "suite::steps",
    workers: StepWorkers::One("worker1"),
    order: 2,
    file: "tests/suite.rs",
    line: 20,
    retries: 0,
    retry_delay: Duration::ZERO,
    timeout: None,
    run: check,
};

const OPTIONS: MainOptions = MainOptions {
    source_file: "tests/suite.rs",
    manifest_dir: "/nonexistent",
    config: None,
    post_load: None,
};

/// A suite in a temporary directory: two rounds, one external worker.
struct Suite {
    dir: tempfile::TempDir,
}

impl Suite {
    fn new(fail_in_round: u32) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.yaml"),
            format!("task_id: in-process\nmax_rounds: 2\nfail_in_round: {fail_in_round}\n"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("workers.json"),
            r#"{"worker1": {"url": "http://127.0.0.1:9"}}"#,
        )
        .unwrap();
        Self { dir }
    }

    /// Runs the two steps with `args`; the exit code and the whole output.
    fn run(&self, args: &[&str]) -> (u8, String) {
        let sink = Sink::default();
        let env = ProcessEnv::from_pairs([(
            "PROMETHEUS_TEST_CONFIG",
            self.dir.path().join("config.yaml"),
        )]);
        let args = std::iter::once("suite")
            .chain(args.iter().copied())
            .map(OsString::from);
        let code = super::run_with(
            &OPTIONS,
            &[&WORK, &CHECK],
            args,
            &env,
            Box::new(sink.clone()),
        );
        (code, normalise_times(&sink.text()))
    }

    fn state(&self) -> serde_json::Value {
        let path = self.dir.path().join("data/test_state.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

#[test]
fn a_plain_run_plays_every_round_and_says_so() {
    let suite = Suite::new(0);
    assert_eq!(
        suite.run(&[]),
        (
            0,
            "\nrunning 4 tests\n\
             test [round 1] steps::work ... ok (T.TTs)\n\
             test [round 1] steps::check ... ok (T.TTs)\n\
             test [round 2] steps::work ... ok (T.TTs)\n\
             test [round 2] steps::check ... ignored, nothing to check in round 2\n\
             \n\
             test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in T.TTs\n\
             \n"
            .to_owned()
        )
    );
    assert_eq!(
        suite.state(),
        serde_json::json!({
            "rounds": {"1": {"worked_in": 1}, "2": {"worked_in": 2}},
            "global": {},
            "current_round": 2,
            "last_completed_step": "check",
        })
    );
    assert!(
        suite.path().join("data/keys").is_dir(),
        "a worker without keypairs gets generated ones"
    );
}

#[test]
fn a_failed_step_stops_the_run_and_the_next_run_resumes_at_it() {
    let suite = Suite::new(1);
    assert_eq!(
        suite.run(&[]),
        (
            101,
            "\nrunning 4 tests\n\
             test [round 1] steps::work ... ok (T.TTs)\n\
             test [round 1] steps::check ... FAILED\n\
             \n\
             failures:\n\
             \n\
             ---- steps::check [round 1] ----\n\
             Error: step `check` (Checks what `work` stored.) on worker1 at tests/suite.rs:20 failed: asked to fail in round 1\n\
             \n\
             \n\
             failures:\n    steps::check\n\
             \n\
             test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in T.TTs\n\
             \n"
            .to_owned()
        )
    );
    assert_eq!(suite.state()["last_completed_step"], "work");
    std::fs::write(
        suite.path().join("config.yaml"),
        "task_id: in-process\nmax_rounds: 2\nfail_in_round: 0\n",
    )
    .unwrap();
    assert_eq!(
        suite.run(&["--format=json", "-Z", "unstable-options"]),
        (
            0,
            concat!(
                r#"{"type":"suite","event":"started","test_count":3}"#,
                "\n",
                r#"{"type":"test","event":"started","name":"steps::check"}"#,
                "\n",
                r#"{"type":"test","name":"steps::check","event":"ok","exec_time":0}"#,
                "\n",
                r#"{"type":"test","event":"started","name":"steps::work"}"#,
                "\n",
                r#"{"type":"test","name":"steps::work","event":"ok","exec_time":0}"#,
                "\n",
                r#"{"type":"test","event":"started","name":"steps::check"}"#,
                "\n",
                r#"{"type":"test","name":"steps::check","event":"ignored","message":"nothing to check in round 2"}"#,
                "\n",
                r#"{"type":"suite","event":"ok","passed":2,"failed":0,"ignored":1,"measured":0,"filtered_out":0,"exec_time":0}"#,
                "\n",
            )
            .to_owned()
        )
    );
}

#[test]
fn an_exact_filter_runs_one_step_and_counts_the_other_as_filtered_out() {
    let suite = Suite::new(0);
    assert_eq!(
        suite.run(&["steps::work", "--exact", "-q"]),
        (
            0,
            "\nrunning 1 test\n.\n\
             \n\
             test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 1 filtered out; finished in T.TTs\n\
             \n"
            .to_owned()
        )
    );
    assert_eq!(suite.state()["last_completed_step"], "work");
}

#[test]
fn list_prints_the_steps_and_reads_no_file() {
    let suite = Suite::new(0);
    std::fs::remove_file(suite.path().join("config.yaml")).unwrap();
    assert_eq!(
        suite.run(&["--list"]),
        (
            0,
            "steps::work: test\nsteps::check: test\n\n2 tests, 0 benchmarks\n".to_owned()
        )
    );
    assert!(!suite.path().join("data").exists());
}

#[test]
fn a_configuration_error_prints_no_libtest_output() {
    let suite = Suite::new(0);
    std::fs::write(suite.path().join("workers.json"), "{}").unwrap();
    assert_eq!(suite.run(&[]), (101, String::new()));
    assert!(
        !suite.path().join("data").exists(),
        "nothing is written before the checks pass"
    );
}
