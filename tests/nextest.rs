//! cargo-nextest driving suites as users run it: one process per step
//! instance, one play of the suite per nextest run.
//!
//! - The example (`examples/todo-task`) passes with one test per step
//!   instance, each reporting its rounds as the plain run did, and leaves the
//!   state file and the `JUnit` report of a plain run.
//! - The `nextest-suite` binary (`tests/nextest_suite`: the contract suite's
//!   four steps and two rounds) with a step failing in round 2 fails exactly
//!   that test and the later ones of the round, each with its own output, in
//!   nextest's `JUnit` report too, and leaves the state of a plain run.
//! - A filtered run (`-E 'test(work)'`, a substring) plays what `cargo test`
//!   of the same selection plays, up to the last selected step in
//!   its round, and stops there as a completed partial run: no failed step,
//!   the state of that plain run, and the next plain run resumes after it.
//! - SIGKILL of nextest mid-run leaves no process of the run after
//!   [`GONE_WITHIN`], a second run started meanwhile fails at once naming
//!   the first, and the next run resumes where the killed one stopped.
//!
//! The tests build with the cargo and the target directory of the `cargo
//! test` that runs them, one test at a time (they share nextest's `JUnit`
//! file). Without cargo-nextest they fail under CI and report themselves
//! ignored elsewhere.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

/// How long one cargo command may take, its build included.
const LIMIT: Duration = Duration::from_secs(900);

/// How long the processes of a nextest run may outlive a SIGKILL of nextest:
/// the coordinator notices within 0.2 s and stops the run as on SIGTERM
/// (a step that blocks its thread has the watchdog's 2 s, the workers 2 s
/// before SIGKILL, MongoDB its shutdown).
const GONE_WITHIN: Duration = Duration::from_secs(10);

/// nextest's `ci` profile: no fail-fast, a `JUnit` report with every test's output.
const NEXTEST_CONFIG: &str = "[profile.ci]\nfail-fast = false\n\n[profile.ci.junit]\n\
                              path = \"junit.xml\"\nstore-success-output = true\n";

/// One test at a time: they share nextest's `JUnit` file and the machine.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Whether `cargo nextest` runs here; if not, the test fails under CI and
/// says why it is ignored elsewhere ([`common::unavailable`]).
fn nextest_installed(test: &str) -> bool {
    let found = common::cargo()
        .args(["nextest", "--version"])
        .output()
        .is_ok_and(|out| out.status.success());
    if !found {
        common::unavailable(
            test,
            "cargo-nextest is not installed",
            "scripts/test.sh installs it (cargo install --locked cargo-nextest)",
        );
    }
    found
}

/// A suite's configuration, state and output in a temporary directory, with
/// its own ports and process marker.
struct Project {
    dir: tempfile::TempDir,
    marker: String,
    /// The suite's variables for every command.
    env: Vec<(String, String)>,
}

impl Project {
    fn new(env: Vec<(String, String)>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("nextest.toml"), NEXTEST_CONFIG).unwrap();
        let marker = format!("nextest-{}-{}", std::process::id(), dir.path().display());
        Self { dir, marker, env }
    }

    /// The example, its data folder and ports moved into the project.
    fn example() -> Self {
        let project = Self::new(Vec::new());
        Self {
            env: common::example_env(project.dir.path()),
            ..project
        }
    }

    /// The contract suite's steps, with a config of its own.
    fn contract() -> Self {
        let project = Self::new(Vec::new());
        let dir = project.dir.path();
        let server = common::repo().join("prometheus-test/tests/fixtures/servers/good_server.py");
        std::fs::write(
            dir.join("config.yaml"),
            format!(
                "task_id: contract\nmax_rounds: 2\nhealth_path: /health\nserver_entrypoint: {}\n",
                server.display()
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("workers.json"),
            format!(
                r#"{{"worker1": {{"port": {}}}, "worker2": {{"port": {}, "role": "auditor"}}}}"#,
                common::free_port(),
                common::free_port()
            ),
        )
        .unwrap();
        let config = dir.join("config.yaml").display().to_string();
        let log = dir.join("steps.log").display().to_string();
        Self {
            env: vec![
                ("PT_NEXTEST_SUITE_CONFIG".to_owned(), config),
                ("CONTRACT_LOG".to_owned(), log),
            ],
            ..project
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `command` with the marker, the suite's variables and `env`.
    fn with_env(&self, mut command: Command, env: &[(&str, &str)]) -> Command {
        command
            .env(common::MARKER_VAR, &self.marker)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .envs(env.iter().copied());
        command
    }

    /// `cargo nextest run` with nextest's `ci` profile and `args`.
    fn nextest(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut command = common::cargo();
        command
            .args(["nextest", "run", "--profile", "ci", "--config-file"])
            .arg(self.dir.path().join("nextest.toml"))
            .args(args);
        self.with_env(command, env)
    }

    fn state(&self) -> Value {
        let text = std::fs::read_to_string(self.data().join("test_state.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// `round:step` lines of the contract steps, in the order they ran;
    /// cleared after reading.
    fn take_log(&self) -> Vec<String> {
        let path = self.dir.path().join("steps.log");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let _ = std::fs::remove_file(path);
        text.lines().map(str::to_owned).collect()
    }

    /// The contract steps' log so far, kept.
    fn log_so_far(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("steps.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Every process of the runs is gone within `limit`; how long that took.
    fn assert_no_leftovers(&self, limit: Duration) -> Duration {
        let start = Instant::now();
        loop {
            let left = common::marked_processes(&self.marker);
            if left.is_empty() {
                return start.elapsed();
            }
            assert!(
                start.elapsed() < limit,
                "processes of the run are still alive after {limit:?}: {}",
                describe(&left)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// `pid (command line)` of each process, for a failure message.
fn describe(pids: &[u32]) -> String {
    pids.iter()
        .map(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            format!("{pid} ({})", cmdline.trim())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `command` to its end (killed after [`LIMIT`]), reading its output as it comes.
fn run(command: Command) -> Output {
    common::run_to_end(command, LIMIT)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One `<testcase>` of a `JUnit` report.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Case {
    failed: bool,
    /// `<system-out>`, times shown as `(T)`.
    out: String,
    /// `<system-err>`, PIDs shown as `PID N`.
    err: String,
    /// A retry's `<system-out>` and `<system-err>` (`--retries`).
    retried: Option<(String, String)>,
}

/// The test cases of the `JUnit` report of the last nextest run with the
/// `ci` profile, by name.
fn junit() -> BTreeMap<String, Case> {
    let xml = std::fs::read_to_string(common::target_dir().join("nextest/ci/junit.xml")).unwrap();
    cases(&xml)
}

/// The test cases of nextest's `JUnit` report, by name.
fn cases(xml: &str) -> BTreeMap<String, Case> {
    let output = |part: &str| {
        let text = |tag: &str| {
            let found = between(part, &format!("<{tag}>"), &format!("</{tag}>")).unwrap_or("");
            normalize(&unescape(found))
        };
        (text("system-out"), text("system-err"))
    };
    xml.split("<testcase ")
        .skip(1)
        .map(|case| {
            let name = between(case, "name=\"", "\"").expect("a test case has a name");
            let (retry, main) = match case.split_once("</rerunFailure>") {
                Some((retry, main)) => (Some(retry), main),
                None => (None, case),
            };
            let (out, err) = output(main);
            let case = Case {
                failed: case.contains("<failure"),
                out,
                err,
                retried: retry.map(output),
            };
            (unescape(name), case)
        })
        .collect()
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Shows every `(1.23s)` as `(T)` and every `PID 123` as `PID N`.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(['(', 'P']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("PID ") {
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 {
                out.push_str("PID N");
                rest = &after[digits..];
                continue;
            }
        }
        if let Some(inner) = rest.strip_prefix('(')
            && let Some(close) = inner.find("s)")
            && !inner[..close].is_empty()
            && inner[..close]
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'.')
        {
            out.push_str("(T)");
            rest = &inner[close + 2..];
            continue;
        }
        out.push_str(&rest[..1]);
        rest = &rest[1..];
    }
    out.push_str(rest);
    out
}

/// `round R: …` lines per test, from a plain run's pretty output.
fn rounds_of_plain_run(stdout: &str) -> BTreeMap<String, String> {
    let mut rounds: BTreeMap<String, String> = BTreeMap::new();
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("test [round ") else {
            continue;
        };
        let (round, rest) = rest
            .split_once("] ")
            .expect("test [round N] name ... result");
        let (name, result) = rest
            .split_once(" ... ")
            .expect("test [round N] name ... result");
        let shown = match result.strip_prefix("ignored, ") {
            Some(reason) => format!("skipped, {reason}"),
            None => normalize(result),
        };
        let lines = rounds.entry(name.to_owned()).or_default();
        let _ = writeln!(lines, "round {round}: {shown}");
    }
    rounds
}

/// What each test of a run prints on stderr: where the suite played.
fn played_in(project_data: &Path, run_id: &str) -> String {
    format!(
        "prometheus-test: the suite plays once per nextest run, in its coordinator (PID N); its log: {}\n",
        project_data
            .join(".nextest")
            .join(format!("{run_id}.log"))
            .display()
    )
}

/// The run ID nextest prints (`Nextest run ID <uuid> with nextest profile: …`).
fn run_id(output: &Output) -> String {
    let stderr = text(&output.stderr);
    between(&stderr, "Nextest run ID ", " ")
        .unwrap_or_else(|| panic!("no run ID in:\n{stderr}"))
        .to_owned()
}

#[test]
fn the_example_passes_with_one_test_per_step_and_leaves_what_a_plain_run_leaves() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    if !nextest_installed("the example under nextest") {
        return;
    }
    let project = Project::example();
    let plain_junit = project.dir.path().join("plain.xml");
    let mut plain = common::cargo();
    plain.args(["test", "-p", "todo-task", "--test", "e2e", "--", "--reset"]);
    let plain = run(project.with_env(
        plain,
        &[("PROMETHEUS_TEST_JUNIT", plain_junit.to_str().unwrap())],
    ));
    let plain_out = text(&plain.stdout);
    assert!(
        plain.status.success(),
        "{plain_out}\n{}",
        text(&plain.stderr)
    );
    let plain_state = project.state();
    project.assert_no_leftovers(GONE_WITHIN);

    let mut list = common::cargo();
    list.args([
        "test",
        "-p",
        "todo-task",
        "--test",
        "e2e",
        "--",
        "--list",
        "--format",
        "terse",
    ]);
    let listed = run(project.with_env(list, &[]));
    let names: Vec<String> = text(&listed.stdout)
        .lines()
        .filter_map(|line| line.strip_suffix(": test"))
        .map(str::to_owned)
        .collect();
    assert_eq!(names.len(), 17, "{}", text(&listed.stdout));

    let nextest_junit = project.dir.path().join("nextest.xml");
    let out = run(project.nextest(
        &["-p", "todo-task", "--test", "e2e"],
        &[
            ("PROMETHEUS_TEST_RESET", "1"),
            ("PROMETHEUS_TEST_JUNIT", nextest_junit.to_str().unwrap()),
        ],
    ));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let where_ = played_in(&project.data(), &run_id(&out));
    let expected: BTreeMap<String, Case> = rounds_of_plain_run(&plain_out)
        .into_iter()
        .map(|(name, rounds)| {
            let case = Case {
                failed: false,
                out: rounds,
                err: where_.clone(),
                retried: None,
            };
            (name, case)
        })
        .collect();
    assert_eq!(
        expected.keys().collect::<Vec<_>>(),
        {
            let mut sorted: Vec<&String> = names.iter().collect();
            sorted.sort();
            sorted
        },
        "the plain run played every listed step"
    );
    assert_eq!(junit(), expected);
    assert_eq!(
        project.state(),
        plain_state,
        "the state file of the plain run"
    );
    // The same test cases, in order, with the same outcomes (their
    // excerpts hold measured times).
    let reports = |path: &Path| {
        let xml = std::fs::read_to_string(path).unwrap();
        let xml = strip_attribute(&strip_attribute(&xml, "time"), "timestamp");
        strip_between(&xml, "<system-out>", "</system-out>")
    };
    assert_eq!(
        reports(&nextest_junit),
        reports(&plain_junit),
        "the coordinator's JUnit report is the plain run's"
    );
    assert!(project.data().join("report.html").is_file());
    project.assert_no_leftovers(GONE_WITHIN);
}

/// `xml` without the values of attribute `name`.
fn strip_attribute(xml: &str, name: &str) -> String {
    let needle = format!(" {name}=\"");
    let mut out = String::new();
    let mut rest = xml;
    while let Some(at) = rest.find(&needle) {
        out.push_str(&rest[..at + needle.len()]);
        rest = &rest[at + needle.len()..];
        let end = rest.find('"').unwrap_or(rest.len());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// `text` without what lies between each `start` and its `end`.
fn strip_between(text: &str, start: &str, end: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(start) {
        out.push_str(&rest[..at + start.len()]);
        rest = &rest[at + start.len()..];
        rest = &rest[rest.find(end).unwrap_or(rest.len())..];
    }
    out.push_str(rest);
    out
}

#[test]
fn a_step_failing_in_round_2_fails_exactly_its_test_and_the_later_ones_of_that_round() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    if !nextest_installed("a failing step under nextest") {
        return;
    }
    let project = Project::contract();
    let fail = [("CONTRACT_FAIL", "work:2")];
    let mut plain = common::cleared(env!("CARGO_BIN_EXE_nextest-suite"));
    plain.arg("--reset");
    let plain = run(project.with_env(plain, &fail));
    assert_eq!(plain.status.code(), Some(101), "{}", text(&plain.stderr));
    let plain_state = project.state();
    let plain_log = project.take_log();
    assert_eq!(
        plain_log,
        [
            "1:ping",
            "1:work",
            "1:audit",
            "1:optional",
            "2:ping",
            "2:work"
        ]
    );

    let out = run(project.nextest(
        &[
            "-p",
            "prometheus-test-workspace",
            "--bin",
            "nextest-suite",
            "--retries",
            "1",
        ],
        &[fail[0], ("PROMETHEUS_TEST_RESET", "1")],
    ));
    assert_eq!(out.status.code(), Some(100), "{}", text(&out.stderr));
    assert_eq!(
        project.take_log(),
        plain_log,
        "the steps played once, in order"
    );
    assert_eq!(
        project.state(),
        plain_state,
        "the state file of the plain run"
    );
    let err = played_in(&project.data(), &run_id(&out));
    let not_run = "round 1: ok (T)\nround 2: not run: steps::task::work failed in round 2\n";
    let retry = "prometheus-test: attempt 2: the step is not played again in the same nextest run; \
                 this is the outcome recorded when it played\n";
    let case = |failed: bool, out: &str| Case {
        failed,
        out: out.to_owned(),
        err: err.clone(),
        retried: failed.then(|| (out.to_owned(), format!("{err}{retry}"))),
    };
    assert_eq!(
        junit(),
        BTreeMap::from([
            (
                "steps::task::ping".to_owned(),
                case(false, "round 1: ok (T)\nround 2: ok (T)\n")
            ),
            (
                "steps::task::work".to_owned(),
                case(
                    true,
                    "round 1: ok (T)\nround 2: FAILED (T)\nError: step `work` (Worker 2 does the round's \
                     work and records it.) on worker2 at tests/nextest_suite/../contract_suite/steps/task.rs:22 \
                     failed: asked to fail in work\n\n"
                )
            ),
            ("steps::audit::audit".to_owned(), case(true, not_run)),
            ("steps::audit::optional".to_owned(), case(true, not_run)),
        ])
    );
    project.assert_no_leftovers(GONE_WITHIN);
}

/// The resume note a plain run of the suite prints on stderr.
fn resume_note(stderr: &[u8]) -> String {
    let stderr = text(stderr);
    stderr
        .lines()
        .find(|line| line.contains("resuming"))
        .unwrap_or_else(|| panic!("no resume note in:\n{stderr}"))
        .to_owned()
}

/// A filtered run: what nextest plays with `filter` (fresh) against a plain
/// run of the same selection (`plain`, fresh): the steps played
/// (`played`), the state, each selected test's output (`cases`: name and
/// stdout), and where the next plain run resumes (its note, `resumed`) and
/// what it plays (`rest`).
struct Filtered<'a> {
    filter: &'a [&'a str],
    plain: &'a [&'a str],
    played: &'a [&'a str],
    cases: &'a [(&'a str, &'a str)],
    resumed: &'a str,
    rest: &'a [&'a str],
}

impl Filtered<'_> {
    fn check(&self) {
        let project = Project::contract();
        let plain_run = |args: &[&str]| {
            let mut plain = common::cleared(env!("CARGO_BIN_EXE_nextest-suite"));
            plain.args(args);
            run(project.with_env(plain, &[]))
        };
        let plain = plain_run(&[&["--reset"], self.plain].concat());
        assert!(plain.status.success(), "{}", text(&plain.stderr));
        let plain_state = project.state();
        assert_eq!(project.take_log(), self.played);

        let suite = ["-p", "prometheus-test-workspace", "--bin", "nextest-suite"];
        let out = run(project.nextest(
            &[&suite[..], self.filter].concat(),
            &[("PROMETHEUS_TEST_RESET", "1")],
        ));
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(
            project.take_log(),
            self.played,
            "the steps up to the last selected one, in its round"
        );
        assert_eq!(
            project.state(),
            plain_state,
            "the state file of the plain run of the same selection"
        );
        let err = played_in(&project.data(), &run_id(&out));
        let expected: BTreeMap<String, Case> = self
            .cases
            .iter()
            .map(|(name, out)| {
                let case = Case {
                    failed: false,
                    out: (*out).to_owned(),
                    err: err.clone(),
                    retried: None,
                };
                ((*name).to_owned(), case)
            })
            .collect();
        assert_eq!(junit(), expected);
        project.assert_no_leftovers(GONE_WITHIN);

        let next = plain_run(&[]);
        assert!(next.status.success(), "{}", text(&next.stderr));
        assert_eq!(resume_note(&next.stderr), self.resumed);
        assert_eq!(project.take_log(), self.rest);
        project.assert_no_leftovers(GONE_WITHIN);
    }
}

#[test]
fn an_expression_filter_stops_after_its_step_as_a_completed_partial_run() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    if !nextest_installed("an expression filter under nextest") {
        return;
    }
    Filtered {
        filter: &["-E", "test(work)"],
        plain: &["steps::task::work", "--exact"],
        played: &["1:ping", "1:work"],
        cases: &[("steps::task::work", "round 1: ok (T)\n")],
        resumed: "prometheus-test: resuming round 1 after step `work`",
        rest: &[
            "1:audit",
            "1:optional",
            "2:ping",
            "2:work",
            "2:audit",
            "2:optional",
        ],
    }
    .check();
}

#[test]
fn a_positional_filter_stops_after_its_last_step_as_a_completed_partial_run() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    if !nextest_installed("a positional filter under nextest") {
        return;
    }
    Filtered {
        filter: &["audit"],
        plain: &["audit"],
        played: &["1:ping", "1:work", "1:audit", "1:optional"],
        cases: &[
            ("steps::audit::audit", "round 1: ok (T)\n"),
            ("steps::audit::optional", "round 1: ok (T)\n"),
        ],
        resumed: "prometheus-test: resuming at round 2 (round 1 is done)",
        rest: &["2:ping", "2:work", "2:audit", "2:optional"],
    }
    .check();
}

#[test]
fn sigkill_of_nextest_leaves_no_process_blocks_no_later_run_and_the_next_run_resumes() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    if !nextest_installed("SIGKILL of nextest") {
        return;
    }
    let project = Project::contract();
    let suite = ["-p", "prometheus-test-workspace", "--bin", "nextest-suite"];
    let mut first = common::cargo();
    first.args(["nextest", "run", "--no-fail-fast"]).args(suite);
    let mut first = project
        .with_env(first, &[("CONTRACT_HANG", "audit:2")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + LIMIT;
    while !project.log_so_far().iter().any(|line| line == "2:audit") {
        assert!(
            Instant::now() < deadline && first.try_wait().unwrap().is_none(),
            "the run ended or stalled before round 2's audit; steps played: {:?}",
            project.log_so_far()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let start_lock = std::fs::read_to_string(project.data().join(".nextest/start.lock")).unwrap();
    let first_run = start_lock.lines().next().unwrap().to_owned();

    let second = run(project.nextest(&suite, &[]));
    assert_eq!(second.status.code(), Some(100), "{}", text(&second.stderr));
    let busy = Case {
        failed: true,
        out: String::new(),
        err: format!(
            "prometheus-test: error: another nextest run of this suite is going (run {first_run}, \
             coordinator PID N, its log: {}): wait for it to finish or stop it; two runs would share \
             one state file, database and ports\n",
            project
                .data()
                .join(format!(".nextest/{first_run}.log"))
                .display()
        ),
        retried: None,
    };
    let refused = junit();
    assert_eq!(refused.len(), 4);
    for (name, case) in refused {
        assert_eq!(case, busy, "{name}");
    }

    kill(
        Pid::from_raw(i32::try_from(first.id()).unwrap()),
        Signal::SIGKILL,
    )
    .unwrap();
    let killed = common::wait(first, Duration::from_secs(5));
    assert!(!killed.status.success());
    let took = project.assert_no_leftovers(GONE_WITHIN);
    eprintln!("every process of the killed run was gone {took:?} after nextest");
    assert_eq!(
        project.take_log(),
        [
            "1:ping",
            "1:work",
            "1:audit",
            "1:optional",
            "2:ping",
            "2:work",
            "2:audit"
        ]
    );

    let third = run(project.nextest(&suite, &[]));
    assert!(third.status.success(), "{}", text(&third.stderr));
    assert_eq!(
        project.take_log(),
        ["2:audit", "2:optional"],
        "resumed at round 2's audit"
    );
    let resumed = "this run resumed in round 2 at steps::audit::audit; what came before was played by an earlier run\n";
    let err = played_in(&project.data(), &run_id(&third));
    let case = |out: String| Case {
        failed: false,
        out,
        err: err.clone(),
        retried: None,
    };
    assert_eq!(
        junit(),
        BTreeMap::from([
            ("steps::task::ping".to_owned(), case(resumed.to_owned())),
            ("steps::task::work".to_owned(), case(resumed.to_owned())),
            (
                "steps::audit::audit".to_owned(),
                case(format!("{resumed}round 2: ok (T)\n"))
            ),
            (
                "steps::audit::optional".to_owned(),
                case(format!(
                    "{resumed}round 2: skipped, nothing to check in even round 2\n"
                ))
            ),
        ])
    );
    project.assert_no_leftovers(GONE_WITHIN);
}

#[test]
fn times_and_pids_are_normalized() {
    assert_eq!(
        normalize("round 1: ok (0.12s) (PID 4321) (x) (1.5s) PID x (s)"),
        "round 1: ok (T) (PID N) (x) (T) PID x (s)"
    );
}
