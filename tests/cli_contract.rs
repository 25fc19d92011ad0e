//! The harness as users, IDEs and CI drive it: the `contract-suite` binary
//! (`tests/contract_suite`, two real python workers, four steps, two rounds)
//! run with the argument vectors cargo and IDEs send, plus real signals.
//! After every run, no process of the run may be left.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

/// One copy of the suite's configuration in a temporary directory, with its
/// own ports, state, step log and process marker.
struct Suite {
    dir: tempfile::TempDir,
    marker: String,
}

/// The caller's variables a run of the suite sees. Everything else — a
/// developer's `PROMETHEUS_TEST_RESET`, `PROMETHEUS_TEST_CONFIG`,
/// `RUST_TEST_NOCAPTURE`, `MONGO_URI`, … — is cleared, so a test depends only
/// on what it sets. `PROMETHEUS_TEST_MONGOD` only says where the mongod binary is.
const INHERITED: &[&str] = &["PATH", "HOME", "TMPDIR", "PROMETHEUS_TEST_MONGOD"];

impl Suite {
    fn new() -> Self {
        Self::with_workers(&format!(
            r#"{{"worker1": {{"port": {}}}, "worker2": {{"port": {}, "role": "auditor"}}}}"#,
            common::free_port(),
            common::free_port()
        ))
    }

    fn with_workers(workers_json: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let server = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("prometheus-test/tests/fixtures/servers/good_server.py");
        std::fs::write(
            dir.path().join("config.yaml"),
            format!(
                "task_id: contract\nmax_rounds: 2\nhealth_path: /health\nserver_entrypoint: {}\n",
                server.display()
            ),
        )
        .unwrap();
        std::fs::write(dir.path().join("workers.json"), workers_json).unwrap();
        let marker = format!("contract-{}-{}", std::process::id(), dir.path().display());
        Self { dir, marker }
    }

    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        self.command_of(env!("CARGO_BIN_EXE_contract-suite"), args, env)
    }

    /// `binary` with `args` in a cleared environment: the allow-listed
    /// variables of the caller, the suite's own, then `env`.
    fn command_of(&self, binary: &str, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd =
            common::suite_command(binary, INHERITED, &self.dir.path().join("config.yaml"));
        cmd.args(args)
            .env("CONTRACT_LOG", self.dir.path().join("steps.log"))
            .env("PT_CONTRACT_MARKER", &self.marker)
            .envs(env.iter().copied());
        cmd
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.run_command(self.command(args, env))
    }

    fn run_command(&self, mut command: Command) -> Output {
        let child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = common::wait(child, Duration::from_secs(60));
        self.assert_no_leftovers();
        output
    }

    fn spawn(&self, args: &[&str], env: &[(&str, &str)]) -> Child {
        self.command(args, env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// `round:step` lines, in the order the steps ran; cleared after reading.
    fn take_log(&self) -> Vec<String> {
        let path = self.dir.path().join("steps.log");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let _ = std::fs::remove_file(path);
        text.lines().map(str::to_owned).collect()
    }

    fn state_path(&self) -> PathBuf {
        self.dir.path().join("data/test_state.json")
    }

    /// The saved state as the next run reads it (the journal applied).
    fn state(&self) -> Value {
        common::saved_state(&self.dir.path().join("data")).unwrap()
    }

    /// Waits until the step log shows `line` (a step that hangs logs first).
    fn wait_for_log_line(&self, line: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let path = self.dir.path().join("steps.log");
        while !std::fs::read_to_string(&path)
            .unwrap_or_default()
            .lines()
            .any(|l| l == line)
        {
            assert!(
                Instant::now() < deadline,
                "the step log never showed {line}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn leftovers(&self) -> Vec<u32> {
        common::marked_processes(&self.marker)
    }

    /// Every process of the run is gone (the reaper may take a moment after a SIGKILL).
    fn assert_no_leftovers(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = self.leftovers();
            if left.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "processes of the run are still alive: {left:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const ALL_STEPS: [&str; 4] = ["ping", "work", "audit", "optional"];

fn rounds(rounds: &[u32]) -> Vec<String> {
    rounds
        .iter()
        .flat_map(|r| ALL_STEPS.iter().map(move |s| format!("{r}:{s}")))
        .collect()
}

#[test]
fn list_prints_every_step_once_and_touches_nothing() {
    let suite = Suite::new();
    let out = suite.run(&["--list", "--format", "terse"], &[]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout),
        "steps::task::ping: test\nsteps::task::work: test\nsteps::audit::audit: test\nsteps::audit::optional: test\n"
    );
    let ignored = suite.run(&["--list", "--format", "terse", "--ignored"], &[]);
    assert_eq!(text(&ignored.stdout), "");
    let pretty = suite.run(&["--list"], &[]);
    assert!(text(&pretty.stdout).ends_with("\n4 tests, 0 benchmarks\n"));
    assert!(
        !suite.dir.path().join("data").exists(),
        "--list must not create the data directory"
    );
    assert!(suite.take_log().is_empty());
}

#[test]
fn a_plain_run_plays_every_round_and_reports_the_skip() {
    let suite = Suite::new();
    let out = suite.run(&[], &[]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert_eq!(suite.take_log(), rounds(&[1, 2]));
    assert!(stdout.contains("running 8 tests"), "{stdout}");
    assert!(
        stdout.contains(
            "test [round 2] steps::audit::optional ... ignored, nothing to check in even round 2"
        ),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("test result: ok. 7 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out"),
        "{stdout}"
    );
    let state = suite.state();
    assert_eq!(
        (
            state["current_round"].as_u64(),
            state["last_completed_step"].as_str()
        ),
        (Some(2), Some("optional"))
    );
    assert_eq!(state["rounds"]["1"]["work"]["by"], "worker2");

    // A completed run is followed by a fresh one, not by a run of nothing.
    let again = suite.run(&["-q"], &[]);
    assert!(again.status.success());
    assert_eq!(suite.take_log(), rounds(&[1, 2]));
    assert!(
        suite.dir.path().join("data/test_state.prev.json").exists(),
        "the old state is kept"
    );
}

#[test]
fn the_ide_command_runs_until_the_step_and_the_next_run_continues() {
    let suite = Suite::new();
    let ide = [
        "steps::task::work",
        "--exact",
        "--nocapture",
        "--include-ignored",
    ];
    let out = suite.run(&ide, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(suite.take_log(), ["1:ping", "1:work"]);
    assert!(
        text(&out.stdout).contains("2 passed; 0 failed; 0 ignored; 0 measured; 2 filtered out"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(suite.state()["last_completed_step"], "work");

    // The same button again: `work` is done this round, so it runs alone.
    let again = suite.run(&ide, &[]);
    assert!(again.status.success());
    assert_eq!(suite.take_log(), ["1:work"]);
    assert_eq!(
        suite.state()["last_completed_step"],
        "work",
        "a replay does not move the resume point"
    );

    let rest = suite.run(&[], &[]);
    assert!(rest.status.success(), "{}", text(&rest.stderr));
    let mut expected = vec!["1:audit".to_owned(), "1:optional".to_owned()];
    expected.extend(rounds(&[2]));
    assert_eq!(suite.take_log(), expected);
}

#[test]
fn a_failed_step_stops_the_run_and_runs_again_on_resume() {
    let suite = Suite::new();
    let out = suite.run(&[], &[("CONTRACT_FAIL", "audit:2")]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(101), "{stdout}");
    assert!(
        stdout.contains("test [round 2] steps::audit::audit ... FAILED"),
        "{stdout}"
    );
    assert!(stdout.contains("asked to fail in audit"), "{stdout}");
    assert!(
        stdout.contains("---- steps::audit::audit [round 2] ----"),
        "{stdout}"
    );
    assert!(
        stdout.contains("test result: FAILED. 6 passed; 1 failed; 0 ignored"),
        "{stdout}"
    );
    assert_eq!(
        suite.take_log(),
        [
            rounds(&[1]),
            vec!["2:ping".into(), "2:work".into(), "2:audit".into()]
        ]
        .concat()
    );
    assert_eq!(suite.state()["last_completed_step"], "work");

    let resumed = suite.run(&[], &[]);
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    assert_eq!(suite.take_log(), ["2:audit", "2:optional"]);
    assert!(text(&resumed.stderr).contains("resuming round 2 after step `work`"));
}

#[test]
fn a_panicking_step_fails_like_any_other() {
    let suite = Suite::new();
    let out = suite.run(&[], &[("CONTRACT_PANIC", "work:1")]);
    assert_eq!(out.status.code(), Some(101));
    assert!(
        text(&out.stdout).contains("the step panicked: asked to panic in work"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(suite.state()["last_completed_step"], "ping");
}

#[test]
fn a_runner_killed_inside_a_step_resumes_at_that_step_and_leaves_no_process() {
    let suite = Suite::new();
    let child = suite.spawn(&[], &[("CONTRACT_HANG", "audit:1")]);
    suite.wait_for_log_line("1:audit");
    assert!(
        !suite.leftovers().is_empty(),
        "the workers run while the step hangs"
    );
    kill(
        Pid::from_raw(i32::try_from(child.id()).unwrap()),
        Signal::SIGKILL,
    )
    .unwrap();
    let output = common::wait(child, Duration::from_secs(10));
    assert_eq!(output.status.code(), None, "killed by a signal");
    suite.assert_no_leftovers();
    assert_eq!(
        suite.state()["last_completed_step"],
        "work",
        "the state file is valid and at the last completed step"
    );
    suite.take_log();

    let resumed = suite.run(&[], &[]);
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    assert_eq!(
        suite.take_log(),
        [
            vec!["1:audit".to_owned(), "1:optional".to_owned()],
            rounds(&[2])
        ]
        .concat()
    );
}

#[test]
fn a_run_resumed_after_a_kill_holds_the_worker_an_earlier_step_paused() {
    let suite = Suite::new();
    let child = suite.spawn(
        &[],
        &[("CONTRACT_PAUSE", "work:1"), ("CONTRACT_HANG", "audit:1")],
    );
    suite.wait_for_log_line("1:audit");
    kill(
        Pid::from_raw(i32::try_from(child.id()).unwrap()),
        Signal::SIGKILL,
    )
    .unwrap();
    common::wait(child, Duration::from_secs(10));
    suite.assert_no_leftovers();
    assert_eq!(
        suite.state()["held_workers"],
        serde_json::json!({"worker1": "paused"})
    );
    suite.take_log();

    // `optional` resumes worker1, which fails unless the run holds it paused.
    let resumed = suite.run(&[], &[("CONTRACT_RESUME", "optional:1")]);
    let notes = text(&resumed.stderr);
    assert!(resumed.status.success(), "{notes}");
    assert!(
        notes.lines().any(|line| line
            == "prometheus-test: held worker1 paused as the steps before the resume point left it"),
        "{notes}"
    );
    assert_eq!(
        suite.take_log(),
        [
            vec!["1:audit".to_owned(), "1:optional".to_owned()],
            rounds(&[2])
        ]
        .concat()
    );
    assert_eq!(
        suite.state().get("held_workers"),
        None,
        "worker1 runs again"
    );
}

#[test]
fn sigterm_and_sigint_stop_the_run_cleanly() {
    for (signal, code) in [(Signal::SIGTERM, 143), (Signal::SIGINT, 130)] {
        let suite = Suite::new();
        let child = suite.spawn(&[], &[("CONTRACT_HANG", "work:1")]);
        suite.wait_for_log_line("1:work");
        kill(Pid::from_raw(i32::try_from(child.id()).unwrap()), signal).unwrap();
        let output = common::wait(child, Duration::from_secs(20));
        assert_eq!(
            output.status.code(),
            Some(code),
            "{signal}: {}",
            text(&output.stderr)
        );
        assert!(
            text(&output.stdout).contains(&format!("interrupted by {}", signal.as_str())),
            "{}",
            text(&output.stdout)
        );
        suite.assert_no_leftovers();
        assert_eq!(suite.state()["last_completed_step"], "ping");
    }
}

#[test]
fn a_worker_that_dies_fails_the_running_step_with_its_status() {
    let suite = Suite::new();
    let out = suite.run(&[], &[("CONTRACT_CRASH", "work:1")]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(101), "{stdout}");
    assert!(stdout.contains("worker2 exited"), "{stdout}");
    assert!(stdout.contains("status 3"), "{stdout}");
    assert!(
        stdout.contains("crash requested"),
        "the worker's last output is shown: {stdout}"
    );
}

#[test]
fn invalid_configuration_is_reported_whole_and_touches_nothing() {
    let suite = Suite::with_workers(
        r#"{"worker1": {"port": "high"}, "worker2": {"env_vars": {"TOKEN": "CONTRACT_UNSET_VAR"}}}"#,
    );
    let out = suite.run(&[], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "the suite cannot start: {stderr}"
    );
    assert!(
        stderr.contains(
            "workers.json: line 1: worker `worker1`: `port` must be an integer from 1 to 65535"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("worker `worker2`: `env_vars`") && stderr.contains("CONTRACT_UNSET_VAR"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        !suite.dir.path().join("data").exists(),
        "nothing is written for an invalid configuration"
    );
    assert!(suite.take_log().is_empty());
}

#[test]
fn reset_starts_over_and_json_output_is_libtest_json() {
    let suite = Suite::new();
    assert!(
        suite
            .run(&["steps::task::work", "--exact"], &[])
            .status
            .success()
    );
    suite.take_log();
    let databases = ["data/database_worker1.db", "data/notes.db"].map(|f| suite.dir.path().join(f));
    for db in &databases {
        std::fs::write(db, "sqlite").unwrap();
    }
    let kept = suite.dir.path().join("data/notes.txt");
    std::fs::write(&kept, "kept").unwrap();
    let out = suite.run(
        &[
            "--reset",
            "--format=json",
            "-Z",
            "unstable-options",
            "steps::task::ping",
            "--exact",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(suite.take_log(), ["1:ping"]);
    let events: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events[0]["type"], "suite");
    assert_eq!(events[0]["test_count"], 1);
    // The step's request through `runner.http()`, then its result.
    assert_eq!(events[2]["type"], "http");
    assert_eq!(events[2]["status"], 200);
    assert_eq!(events[3]["name"], "steps::task::ping");
    assert_eq!(events[3]["event"], "ok");
    assert_eq!(events.last().unwrap()["filtered_out"], 3);
    assert!(
        databases.iter().all(|db| !db.exists()),
        "a reset deletes every *.db in data_dir"
    );
    assert!(kept.exists(), "other files stay");
}

/// The suite with MongoDB fixtures and rounds counted from them (two todos:
/// three rounds), on the private `mongod` the runner starts for it.
fn mongo_suite(todos: &str) -> Suite {
    let suite = Suite::new();
    let config = suite.dir.path().join("config.yaml");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("max_rounds: 2\n", "");
    let mongodb = "rounds_collection: todos\nmongodb:\n  database: contract\n  collections:\n    todos:\n      data_file: todos.json\n      required_count: 2\n";
    std::fs::write(&config, format!("{text}{mongodb}")).unwrap();
    std::fs::create_dir_all(suite.dir.path().join("data")).unwrap();
    std::fs::write(suite.dir.path().join("data/todos.json"), todos).unwrap();
    suite
}

const TWO_TODOS: &str = r#"[{"_id": {"$oid": "65a000000000000000000001"}, "title": "a"}, {"title": "b", "due": {"$date": "2026-01-01T00:00:00Z"}}]"#;

#[test]
fn rounds_come_from_the_fixtures_and_a_resumed_run_finds_its_data() {
    let suite = mongo_suite(TWO_TODOS);
    let failed = suite.run(&[], &[("CONTRACT_FAIL", "audit:2"), ("MONGO_URI", "")]);
    let stderr = text(&failed.stderr);
    assert_eq!(failed.status.code(), Some(101), "{stderr}");
    assert!(
        stderr.contains("3 rounds from the `todos` collection"),
        "{stderr}"
    );
    assert!(stderr.contains("imported 2 documents"), "{stderr}");
    suite.take_log();

    let resumed = suite.run(&[], &[("MONGO_URI", "")]);
    let stderr = text(&resumed.stderr);
    assert!(resumed.status.success(), "{stderr}");
    assert!(
        stderr.contains("resuming round 2 after step `work`"),
        "{stderr}"
    );
    assert_eq!(
        suite.take_log(),
        [
            vec!["2:audit".to_owned(), "2:optional".to_owned()],
            rounds(&[3])
        ]
        .concat()
    );
}

#[test]
fn an_invalid_fixture_stops_a_reset_before_anything_is_touched() {
    let suite = mongo_suite(TWO_TODOS);
    assert!(
        suite
            .run(&["steps::task::work", "--exact"], &[("MONGO_URI", "")])
            .status
            .success()
    );
    suite.take_log();
    let state_before = std::fs::read(suite.state_path()).unwrap();
    std::fs::write(
        suite.dir.path().join("data/todos.json"),
        "[\n  {\"title\": \"a\"},\n  {\"title\": }\n]",
    )
    .unwrap();

    let out = suite.run(&["--reset"], &[("MONGO_URI", "")]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("data/todos.json:3:13: invalid JSON"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(suite.state_path()).unwrap(),
        state_before,
        "the state file is untouched"
    );
    assert!(suite.take_log().is_empty());

    // The database still holds the first run's documents: the run resumes.
    std::fs::write(suite.dir.path().join("data/todos.json"), TWO_TODOS).unwrap();
    let resumed = suite.run(&[], &[("MONGO_URI", "")]);
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    assert_eq!(suite.take_log()[0], "1:audit");
}

#[test]
fn a_failed_post_load_hook_fails_the_run_and_the_next_run_sets_up_again() {
    let suite = mongo_suite(TWO_TODOS);
    let hook_suite = env!("CARGO_BIN_EXE_contract-suite-hook");
    let no_uri = [("MONGO_URI", ""), ("CONTRACT_HOOK_FAIL", "1")];
    let out = suite.run_command(suite.command_of(hook_suite, &[], &no_uri));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("the post_load hook failed: asked to fail in the hook"),
        "{stderr}"
    );
    assert_eq!(
        suite.take_log(),
        ["hook"],
        "no step runs after a failed hook"
    );

    let again = suite.run_command(suite.command_of(hook_suite, &[], &[("MONGO_URI", "")]));
    let stderr = text(&again.stderr);
    assert!(again.status.success(), "{stderr}");
    assert!(
        stderr.contains("stopped during its setup: starting fresh"),
        "{stderr}"
    );
    assert_eq!(
        suite.take_log(),
        [vec!["hook".to_owned()], rounds(&[1, 2, 3])].concat()
    );
}

#[test]
fn skip_leaves_a_step_out_of_every_round() {
    let suite = Suite::new();
    let out = suite.run(&["--skip", "optional"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let expected: Vec<String> = rounds(&[1, 2])
        .into_iter()
        .filter(|l| !l.ends_with(":optional"))
        .collect();
    assert_eq!(suite.take_log(), expected);
    assert!(
        text(&out.stdout).contains("6 passed; 0 failed; 0 ignored; 0 measured; 1 filtered out"),
        "{}",
        text(&out.stdout)
    );
    let listed = suite.run(&["--list", "--format", "terse", "audit"], &[]);
    assert_eq!(
        text(&listed.stdout),
        "steps::audit::audit: test\nsteps::audit::optional: test\n"
    );
}

#[test]
fn secrets_appear_in_no_output_and_no_state() {
    const TOKEN: &str = "tok-3f9a1c7e5b2d4f60";
    let seed: [u8; 32] = std::array::from_fn(|i| u8::try_from(i * 7 + 3).unwrap());
    let keypair = prometheus_test::Keypair::from_seed(seed);
    let suite = Suite::with_workers(&format!(
        r#"{{"worker1": {{"port": {}, "keypairs": {{"staking": "CONTRACT_STAKING"}}, "env_vars": {{"API_TOKEN": "CONTRACT_TOKEN"}}}}, "worker2": {{"port": {}}}}}"#,
        common::free_port(),
        common::free_port()
    ));
    let key_file = suite.dir.path().join("staking.json");
    std::fs::write(&key_file, keypair.to_keypair_file_json()).unwrap();
    let env = [
        ("CONTRACT_STAKING", key_file.to_str().unwrap()),
        ("CONTRACT_TOKEN", TOKEN),
        ("CONTRACT_DEBUG", "1"),
        ("CONTRACT_FAIL", "audit:2"),
    ];
    let mut outputs = String::new();
    for args in [
        &["--nocapture"][..],
        &["--format=json", "-Z", "unstable-options"][..],
    ] {
        let out = suite.run(args, &env);
        outputs.push_str(&text(&out.stdout));
        outputs.push_str(&text(&out.stderr));
        let _ = std::fs::remove_file(suite.state_path());
    }
    assert!(
        outputs.contains("Worker {"),
        "the steps print Debug of the runner and workers: {outputs}"
    );
    assert!(
        outputs.contains(keypair.public_key()),
        "public keys may show"
    );
    let _ = suite.run(&["steps::task::work", "--exact"], &env);
    // The state file and its journal (what a killed run leaves unfolded).
    let state = std::fs::read_to_string(suite.state_path()).unwrap()
        + &std::fs::read_to_string(suite.dir.path().join("data/test_state.journal"))
            .unwrap_or_default();
    let decimal = format!("{seed:?}");
    let hex = seed.iter().fold(String::new(), |mut hex, b| {
        use std::fmt::Write as _;
        let _ = write!(hex, "{b:02x}");
        hex
    });
    let compact: String = seed.iter().map(u8::to_string).collect::<Vec<_>>().join(",");
    for (what, haystack) in [("output", &outputs), ("state", &state)] {
        assert!(
            !haystack.contains(TOKEN),
            "the mapped env value leaked into the {what}"
        );
        assert!(
            !haystack.contains(&hex),
            "the seed (hex) leaked into the {what}"
        );
        assert!(
            !haystack.contains(&decimal[1..decimal.len() - 1]),
            "the seed (decimal) leaked into the {what}"
        );
        assert!(
            !haystack.contains(&compact),
            "the seed (keypair file) leaked into the {what}"
        );
    }
}

/// Adds `line` to the suite's config.yaml.
fn configure(suite: &Suite, line: &str) {
    let config = suite.dir.path().join("config.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}{line}\n")).unwrap();
}

#[test]
fn a_step_that_blocks_its_thread_is_stopped_at_its_timeout_and_resumes() {
    let suite = Suite::new();
    configure(&suite, "step_timeout: 1");
    let started = Instant::now();
    let out = suite.run(&[], &[("CONTRACT_BLOCK", "work:1")]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(101), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "stopped by the watchdog, not by the step's end"
    );
    assert!(
        stdout.contains(
            "\n---- steps::task::work [round 1] ----\nError: step `work` on worker2 blocked its thread: it ran \
             past its 1s limit (config.yaml `step_timeout`) and did not yield within 2s after it."
        ),
        "the step is reported as failed: {stdout}"
    );
    assert!(
        stdout.contains("\ntest result: FAILED. 1 passed; 1 failed; 0 ignored;"),
        "the summary is printed: {stdout}"
    );
    assert!(
        suite.dir.path().join("data/report.html").is_file(),
        "the HTML report is written"
    );
    assert!(
        stderr.contains("prometheus-test: the next run resumes at round 1 `steps::task::work`"),
        "{stderr}"
    );
    assert_eq!(suite.state()["last_completed_step"], "ping");
    assert_eq!(suite.take_log(), ["1:ping", "1:work"]);

    let resumed = suite.run(&[], &[]);
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    assert_eq!(suite.take_log()[0], "1:work", "the blocked step runs again");
}

#[test]
fn sigterm_and_sigint_stop_a_step_that_blocks_its_thread() {
    for (signal, code) in [(Signal::SIGTERM, 143), (Signal::SIGINT, 130)] {
        let suite = Suite::new();
        let child = suite.spawn(&[], &[("CONTRACT_BLOCK", "work:1")]);
        suite.wait_for_log_line("1:work");
        kill(Pid::from_raw(i32::try_from(child.id()).unwrap()), signal).unwrap();
        let output = common::wait(child, Duration::from_secs(20));
        let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
        assert_eq!(output.status.code(), Some(code), "{signal}: {stderr}");
        assert!(
            stdout.contains(&format!(
                "Error: step `work` on worker2 blocked its thread: {} arrived",
                signal.as_str()
            )),
            "{stdout}"
        );
        suite.assert_no_leftovers();
        assert_eq!(suite.state()["last_completed_step"], "ping");
    }
}

#[test]
fn a_second_run_fails_at_once_naming_the_running_one_and_changes_nothing() {
    let suite = Suite::new();
    let first = suite.spawn(&[], &[("CONTRACT_HANG", "work:1")]);
    suite.wait_for_log_line("1:work");
    let state = std::fs::read(suite.state_path()).unwrap();
    let started = Instant::now();
    let second = suite.command(&["--reset"], &[]).output().unwrap();
    let stderr = text(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the second run does not wait"
    );
    assert!(
        stderr.contains(&format!(
            "another run of this suite is going (PID {}",
            first.id()
        )),
        "{stderr}"
    );
    assert_eq!(std::fs::read(suite.state_path()).unwrap(), state);
    let listed = suite.command(&["--list"], &[]).output().unwrap();
    assert!(listed.status.success(), "--list needs no lock");

    kill(
        Pid::from_raw(i32::try_from(first.id()).unwrap()),
        Signal::SIGKILL,
    )
    .unwrap();
    let _ = common::wait(first, Duration::from_secs(10));
    suite.assert_no_leftovers();
    suite.take_log();
    let resumed = suite.run(&[], &[]);
    assert!(
        resumed.status.success(),
        "the lock of a killed run is free: {}",
        text(&resumed.stderr)
    );
}

#[test]
fn stale_temp_files_of_killed_runs_are_removed() {
    let suite = Suite::new();
    std::fs::create_dir_all(suite.dir.path().join("data")).unwrap();
    let mut gone = Command::new("true").spawn().unwrap();
    let gone_pid = gone.id();
    gone.wait().unwrap();
    let stale = suite
        .dir
        .path()
        .join(format!("data/.test_state.json.{gone_pid}.tmp"));
    std::fs::write(&stale, "{\"rounds\": {").unwrap();
    let out = suite.run(&["--reset", "steps::task::ping", "--exact"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!stale.exists(), "the dead run's temp file is removed");
}

#[test]
fn config_overrides_are_announced_first_and_applied() {
    let suite = Suite::new();
    let out = suite.run(&[], &[("PROMETHEUS_TEST_SET_MAX_ROUNDS", "1")]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stderr.lines().next(),
        Some("prometheus-test: config overrides: max_rounds=1 (PROMETHEUS_TEST_SET_MAX_ROUNDS)"),
        "{stderr}"
    );
    assert_eq!(suite.take_log(), rounds(&[1]));
}

#[test]
fn a_worker_that_cannot_start_stops_the_suite_with_its_command_line() {
    let suite = Suite::with_workers(&format!(
        r#"{{"worker1": {{"port": {}, "command": ["sh", "-c", "echo no server; exit 3"]}}, "worker2": {{"port": {}}}}}"#,
        common::free_port(),
        common::free_port()
    ));
    let out = suite.run(&[], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("worker1 was started with: sh -c 'echo no server; exit 3'"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("worker2 was started with"),
        "only the worker the error names: {stderr}"
    );
    assert!(suite.take_log().is_empty());
}
