//! Waiting, retries and per-step timeouts as users see them: the
//! `waiting-suite` binary (`tests/waiting_suite`, one real python worker whose
//! answers arrive after a few calls) run as a process, with real signals.

mod common;

/// How long one run of the suite may take.
const SUITE_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

/// The caller's variables a run sees; everything else is cleared.
const INHERITED: &[&str] = &["PATH", "HOME", "TMPDIR"];

/// One copy of the suite's configuration in a temporary directory.
struct Suite {
    dir: tempfile::TempDir,
}

impl Suite {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let server = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/waiting_suite/server.py");
        std::fs::write(
            dir.path().join("config.yaml"),
            format!(
                "task_id: waiting\nmax_rounds: 1\nhealth_path: /health\nstep_timeout: 60\nserver_entrypoint: {}\n",
                server.display()
            ),
        )
        .unwrap();
        let port = prometheus_test::__bench::free_port().expect("a free port");
        std::fs::write(
            dir.path().join("workers.json"),
            format!(r#"{{"worker1": {{"port": {port}}}}}"#),
        )
        .unwrap();
        Self { dir }
    }

    /// The suite with only `steps` doing their work.
    fn command(&self, steps: &[&str]) -> Command {
        let mut cmd = common::suite_command(
            env!("CARGO_BIN_EXE_waiting-suite"),
            INHERITED,
            &self.dir.path().join("config.yaml"),
        );
        cmd.env("WAITING_LOG", self.dir.path().join("steps.log"))
            .env("WAITING_STEPS", steps.join(","))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    fn run(&self, steps: &[&str]) -> Output {
        common::wait(self.command(steps).spawn().unwrap(), SUITE_LIMIT)
    }

    /// How often `line` is in the step log.
    fn logged(&self, line: &str) -> usize {
        std::fs::read_to_string(self.dir.path().join("steps.log"))
            .unwrap_or_default()
            .lines()
            .filter(|l| *l == line)
            .count()
    }

    fn state(&self) -> Value {
        let path = self.dir.path().join("data/test_state.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }
}

/// stdout and stderr, for assertions and their messages.
fn texts(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_poll_returns_the_answer_once_the_worker_has_it() {
    let suite = Suite::new();
    let out = suite.run(&["ready_after_polls"]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(suite.logged("ready_after_polls:check"), 4);
    assert_eq!(
        suite.state()["rounds"]["1"]["verdict"],
        r#"{"verdict": "pass", "calls": 4}"#
    );
}

#[test]
fn a_terminal_answer_stops_the_poll_at_once() {
    let suite = Suite::new();
    let out = suite.run(&["rejected_stops_at_once"]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(101), "{stdout}\n{stderr}");
    assert_eq!(suite.logged("rejected_stops_at_once:check"), 1);
    assert!(
        stdout.contains(
            "failed: while waiting for worker1's verdict (check 1): 409: submission rejected"
        ),
        "{stdout}"
    );
}

#[test]
fn the_deadline_message_names_the_wait_the_checks_and_the_last_answer() {
    let suite = Suite::new();
    let out = suite.run(&["deadline_passes"]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(101), "{stdout}\n{stderr}");
    let checks = suite.logged("deadline_passes:check");
    assert!(checks >= 2, "{checks} checks");
    let message = stdout
        .lines()
        .find(|l| l.contains("gave up waiting"))
        .unwrap_or_else(|| panic!("no deadline message in {stdout}"));
    assert!(
        message.contains("failed: gave up waiting for worker1's verdict after ")
            && message.contains("ms (its deadline: 300ms) and "),
        "{message}"
    );
    assert!(
        message.ends_with(&format!(" and {checks} checks; last answer: 404: not yet")),
        "{message}"
    );
}

#[test]
fn ctrl_c_during_a_poll_ends_the_run_with_130_and_keeps_the_state() {
    let suite = Suite::new();
    let child = suite
        .command(&["ready_after_polls", "interrupted_while_polling"])
        .spawn()
        .unwrap();
    let pid = Pid::from_raw(i32::try_from(child.id()).unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    while suite.logged("interrupted_while_polling:check") < 2 {
        assert!(Instant::now() < deadline, "the poll never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    kill(pid, Signal::SIGINT).unwrap();
    let out = common::wait(child, SUITE_LIMIT);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(stdout.contains("interrupted by SIGINT"), "{stdout}");
    let state = suite.state();
    assert_eq!(state["last_completed_step"], "ready_after_polls");
    assert_eq!(
        state["rounds"]["1"]["verdict"],
        r#"{"verdict": "pass", "calls": 4}"#
    );
}

#[test]
fn a_step_that_passes_on_its_second_attempt_passes_and_says_so() {
    let suite = Suite::new();
    let out = suite.run(&["passes_on_second_attempt"]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(suite.logged("passes_on_second_attempt"), 2);
    assert!(
        stderr.contains(
            "step `passes_on_second_attempt` attempt 1 of 3 failed: the step panicked: the first attempt panics; retrying in 20ms"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("step `passes_on_second_attempt` passed after 2 attempts"),
        "{stderr}"
    );
    assert!(
        stdout
            .contains("test [round 1] passes_on_second_attempt ... ok, passed after 2 attempts ("),
        "{stdout}"
    );
    let state = suite.state();
    assert_eq!(
        state["rounds"]["1"]["_attempts"],
        serde_json::json!({"passes_on_second_attempt": 2})
    );
    assert_eq!(state["last_completed_step"], "own_timeout");
}

#[test]
fn a_step_that_exhausts_its_retries_fails_with_every_attempts_error() {
    let suite = Suite::new();
    let out = suite.run(&["exhausts_its_retries", "skip_is_not_retried"]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(101), "{stdout}\n{stderr}");
    assert_eq!(suite.logged("exhausts_its_retries"), 3);
    assert!(
        stdout.contains(
            "failed after 3 attempts: failure number 3\n  attempt 1 failed: failure number 1\n  attempt 2 failed: failure number 2\n"
        ),
        "{stdout}"
    );
    assert_eq!(
        suite.logged("skip_is_not_retried"),
        0,
        "the run stops at the failure"
    );
    assert_eq!(
        suite.state()["last_completed_step"],
        "passes_on_second_attempt"
    );
}

#[test]
fn a_skip_is_not_retried() {
    let suite = Suite::new();
    let out = suite.run(&["skip_is_not_retried"]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert_eq!(suite.logged("skip_is_not_retried"), 1);
    assert!(
        stdout.contains("skip_is_not_retried ... ignored, nothing to do"),
        "{stdout}"
    );
}

#[test]
fn a_steps_own_timeout_overrides_step_timeout() {
    let suite = Suite::new();
    let out = suite.run(&["own_timeout"]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(101), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("failed: the step did not finish within 300ms (its `timeout`)"),
        "{stdout}"
    );
}
