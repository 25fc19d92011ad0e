//! Whole runs in this process through [`run_with`](super::run_with): real
//! config.yaml, workers.json and state file in a temporary directory, steps
//! defined here, the libtest output captured and compared whole (times
//! normalised). Signals and leftover processes are covered by the
//! process-level contract tests (`tests/cli_contract.rs`).

use std::cell::RefCell;
use std::ffi::OsString;
use std::path::Path;
use std::rc::Rc;

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

/// One whole run of `steps` in this process: `args` after the program name,
/// exactly the variables of `env`; the exit code and the libtest output.
pub(crate) fn run_in_process(
    options: &MainOptions,
    steps: &[&'static StepDef],
    args: &[&str],
    env: &ProcessEnv,
) -> (u8, String) {
    let sink = Sink::default();
    let args = std::iter::once("suite")
        .chain(args.iter().copied())
        .map(OsString::from);
    let code = super::run_with(options, steps, args, env, Box::new(sink.clone()));
    (code, sink.text())
}

/// A temporary suite folder: config.yaml with `task_id`, `max_rounds: 2` and
/// `fail_in_round`, and workers.json with one external worker.
pub(crate) fn two_round_suite_dir(task_id: &str, fail_in_round: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.yaml"),
        format!("task_id: {task_id}\nmax_rounds: 2\nfail_in_round: {fail_in_round}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("workers.json"),
        r#"{"worker1": {"url": "http://127.0.0.1:9"}}"#,
    )
    .unwrap();
    dir
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
    retry_delay: std::time::Duration::ZERO,
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
    retry_delay: std::time::Duration::ZERO,
    timeout: None,
    run: check,
};

/// Stores that it ran against its worker; fails on a worker whose
/// workers.json entry says `"fail": true`.
fn visit<'a>(runner: &'a Runner, worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        let fail: bool = worker.get("fail").unwrap_or(false);
        anyhow::ensure!(!fail, "asked to fail on {}", worker.name());
        runner.set(&format!("visited_{}", worker.name()), &true)
    })
}

static VISIT_ALL: StepDef = StepDef {
    name: "visit",
    fn_name: "visit",
    description: "Visits every worker.",
    module: "suite::steps",
    workers: StepWorkers::All,
    order: 3,
    file: "tests/suite.rs",
    line: 30,
    retries: 0,
    retry_delay: std::time::Duration::ZERO,
    timeout: None,
    run: visit,
};

static VISIT_LISTED: StepDef = StepDef {
    name: "visit_listed",
    fn_name: "visit_listed",
    description: "",
    module: "suite::steps",
    workers: StepWorkers::Listed(&["worker2", "worker1"]),
    order: 0,
    file: "tests/suite.rs",
    line: 5,
    retries: 0,
    retry_delay: std::time::Duration::ZERO,
    timeout: None,
    run: visit,
};

const OPTIONS: MainOptions = MainOptions {
    source_file: "tests/suite.rs",
    manifest_dir: "/nonexistent",
    config: None,
    post_load: None,
};

/// A suite in a temporary directory: two rounds, one external worker (or
/// the workers of [`Suite::with_workers`]).
struct Suite {
    dir: tempfile::TempDir,
    steps: Vec<&'static StepDef>,
}

impl Suite {
    /// `work`, `check` and the multi-worker steps against `workers_json`.
    fn with_workers(workers_json: &str) -> Self {
        let suite = Self::new(0);
        std::fs::write(suite.path().join("workers.json"), workers_json).unwrap();
        Self {
            steps: vec![&VISIT_LISTED, &WORK, &CHECK, &VISIT_ALL],
            ..suite
        }
    }

    fn new(fail_in_round: u32) -> Self {
        Self {
            dir: two_round_suite_dir("in-process", fail_in_round),
            steps: vec![&WORK, &CHECK],
        }
    }

    /// Runs the steps with `args`; the exit code and the whole output.
    fn run(&self, args: &[&str]) -> (u8, String) {
        let env = ProcessEnv::from_pairs([(
            "PROMETHEUS_TEST_CONFIG",
            self.dir.path().join("config.yaml"),
        )]);
        let (code, out) = run_in_process(&OPTIONS, &self.steps, args, &env);
        let dir = self.dir.path().display().to_string();
        (code, normalise_times(&out).replace(&dir, "DIR"))
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
             \nreport: DIR/data/report.html\n"
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
fn help_prints_the_usage_and_a_bad_flag_stops_before_anything_is_touched() {
    let suite = Suite::new(0);
    let (code, out) = suite.run(&["--help"]);
    assert_eq!((code, out.as_str()), (0, super::args::USAGE));
    assert_eq!(
        suite.run(&["--shuffle"]),
        (2, String::new()),
        "the error goes to stderr and nothing runs"
    );
    assert_eq!(
        suite.run(&["--format", "xml"]).0,
        2,
        "a bad value of a known flag is an error too"
    );
    assert!(
        !suite.path().join("data").exists(),
        "neither run touched the data folder"
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
             \nreport: DIR/data/report.html\n"
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
             \nreport: DIR/data/report.html\n"
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
    assert_eq!(suite.run(&[]), (2, String::new()));
    assert!(
        !suite.path().join("data").exists(),
        "nothing is written before the checks pass"
    );
}

#[test]
fn a_bad_http_ca_file_stops_the_run_before_anything_is_touched() {
    let suite = Suite::new(0);
    let config = suite.path().join("config.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}http_ca_file: missing.pem\n")).unwrap();
    assert_eq!(suite.run(&[]), (2, String::new()));
    assert!(!suite.path().join("data").exists());
}

const TWO_WORKERS: &str =
    r#"{"worker1": {"url": "http://127.0.0.1:9"}, "worker2": {"url": "http://127.0.0.1:9"}}"#;

#[test]
fn a_multi_worker_step_plays_one_instance_per_worker_in_order() {
    let suite = Suite::with_workers(TWO_WORKERS);
    let (code, out) = suite.run(&["-q"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        suite.run(&["--list"]).1,
        "steps::visit_listed[worker2]: test\nsteps::visit_listed[worker1]: test\n\
         steps::work: test\nsteps::check: test\n\
         steps::visit[worker1]: test\nsteps::visit[worker2]: test\n\n6 tests, 0 benchmarks\n"
    );
    let state = suite.state();
    assert_eq!(state["last_completed_step"], "visit[worker2]");
    assert_eq!(
        state["rounds"]["2"],
        serde_json::json!({"visited_worker1": true, "visited_worker2": true, "worked_in": 2})
    );
}

#[test]
fn an_instance_that_fails_is_resumed_by_its_own_name() {
    let suite = Suite::with_workers(
        r#"{"worker1": {"url": "http://127.0.0.1:9"}, "worker2": {"url": "http://127.0.0.1:9", "fail": true}}"#,
    );
    let (code, out) = suite.run(&[]);
    assert_eq!(code, 101, "{out}");
    assert!(
        out.contains("test [round 1] steps::visit_listed[worker2] ... FAILED\n"),
        "{out}"
    );
    assert!(
        out.contains("Error: step `visit_listed[worker2]` on worker2 at tests/suite.rs:5 failed: asked to fail on worker2\n"),
        "{out}"
    );
    std::fs::write(suite.path().join("workers.json"), TWO_WORKERS).unwrap();
    // Run until the first instance of `visit`: the state names the instance.
    let (code, out) = suite.run(&["steps::visit[worker1]", "--exact"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out,
        "\nrunning 5 tests\n\
         test [round 1] steps::visit_listed[worker2] ... ok (T.TTs)\n\
         test [round 1] steps::visit_listed[worker1] ... ok (T.TTs)\n\
         test [round 1] steps::work ... ok (T.TTs)\n\
         test [round 1] steps::check ... ok (T.TTs)\n\
         test [round 1] steps::visit[worker1] ... ok (T.TTs)\n\
         \n\
         test result: ok. 5 passed; 0 failed; 0 ignored; 0 measured; 1 filtered out; finished in T.TTs\n\
         \nreport: DIR/data/report.html\n"
    );
    assert_eq!(suite.state()["last_completed_step"], "visit[worker1]");
    let (code, out) = suite.run(&["-q"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("\nrunning 7 tests\n"),
        "resumes at `visit[worker2]`: {out}"
    );
}

#[test]
fn an_exact_function_path_runs_every_instance() {
    let suite = Suite::with_workers(TWO_WORKERS);
    let (code, out) = suite.run(&["steps::visit_listed", "--exact"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out,
        "\nrunning 2 tests\n\
         test [round 1] steps::visit_listed[worker2] ... ok (T.TTs)\n\
         test [round 1] steps::visit_listed[worker1] ... ok (T.TTs)\n\
         \n\
         test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 4 filtered out; finished in T.TTs\n\
         \nreport: DIR/data/report.html\n"
    );
    assert_eq!(
        suite.state()["last_completed_step"],
        "visit_listed[worker1]"
    );
}

#[test]
fn list_falls_back_to_the_function_path_without_workers_json() {
    let suite = Suite::with_workers("{ not json");
    assert_eq!(
        suite.run(&["--list", "visit"]).1,
        "steps::visit_listed[worker2]: test\nsteps::visit_listed[worker1]: test\n\
         steps::visit: test\n\n3 tests, 0 benchmarks\n"
    );
    assert!(!suite.path().join("data").exists());
    assert_eq!(suite.run(&[]), (2, String::new()), "a run reports the file");
}

#[test]
fn a_run_button_after_a_completed_run_starts_a_fresh_run() {
    let suite = Suite::new(0);
    assert_eq!(suite.run(&["-q"]).0, 0);
    assert_eq!(suite.state()["current_round"], 2);
    let (code, out) = suite.run(&["steps::work", "--exact"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("test [round 1] steps::work ... ok"), "{out}");
    assert_eq!(
        suite.state(),
        serde_json::json!({
            "rounds": {"1": {"worked_in": 1}},
            "global": {},
            "current_round": 1,
            "last_completed_step": "work",
        })
    );
}
