//! `--watch`, as a user runs it: `cargo test --test e2e -- --watch STEP` on
//! a small suite copied into a temporary folder (`tests/watch_suite`: two
//! Python workers, MongoDB started by the keeper, one step that checks the
//! world it starts in and prints the PID each worker answers from).
//!
//! - Editing the step's file plays it again from the snapshot before it,
//!   with mongod's and both workers' PIDs unchanged; editing worker2's
//!   script starts worker2 alone again; a build that fails keeps the world;
//!   a plain run started meanwhile (the IDE's button) uses the kept world; a
//!   second keeper of the suite is refused, naming the first; `q` stops
//!   everything.
//! - A keeper killed with SIGKILL leaves no process behind, and one whose
//!   cargo is killed stops its world.
//! - The example (examples/todo-task: a middle server, three `cargo_bin`
//!   workers, worker1's calls through the recording proxy) keeps all four
//!   for a plain run of one of its steps.

mod common;

use std::io::{BufRead as _, BufReader, Write as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long the first play may take, the suite's first build included.
const FIRST_PLAY: Duration = Duration::from_secs(900);
/// How long a play after a change may take (a build of the suite alone).
const NEXT_PLAY: Duration = Duration::from_secs(300);
/// How long processes may outlive the keeper that stopped or died.
const GONE_WITHIN: Duration = Duration::from_secs(15);

/// One test at a time: they build the same suite on a shared machine.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The suite's package in a temporary folder, with its own data folder and ports.
struct Project {
    _dir: tempfile::TempDir,
    package: PathBuf,
}

impl Project {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let package = dir.path().canonicalize().unwrap().join("watch-suite");
        let source = common::repo().join("tests/watch_suite");
        std::fs::create_dir_all(package.join("tests")).unwrap();
        let manifest = std::fs::read_to_string(source.join("Cargo.toml.in"))
            .unwrap()
            .replace(
                "{prometheus_test}",
                &common::repo().join("prometheus-test").display().to_string(),
            );
        std::fs::write(package.join("Cargo.toml"), manifest).unwrap();
        std::fs::copy(
            common::repo().join("Cargo.lock"),
            package.join("Cargo.lock"),
        )
        .unwrap();
        for file in ["tests/e2e.rs", "tests/steps.rs"] {
            std::fs::copy(source.join(file), package.join(file)).unwrap();
        }
        for worker in ["worker1.py", "worker2.py"] {
            std::fs::copy(source.join("worker.py"), package.join(worker)).unwrap();
        }
        std::fs::write(
            package.join("tests/config.yaml"),
            "task_id: watch-suite\nmax_rounds: 2\nhealth_path: /health\ndata_dir: data\n\
             mongodb:\n  database: watch_suite\n  collections:\n    marks: {}\n",
        )
        .unwrap();
        std::fs::write(
            package.join("tests/workers.json"),
            format!(
                r#"{{"worker1": {{"server_entrypoint": "worker1.py", "port": {}}},
                    "worker2": {{"server_entrypoint": "worker2.py", "port": {}}}}}"#,
                common::free_port(),
                common::free_port()
            ),
        )
        .unwrap();
        Self { _dir: dir, package }
    }

    /// `cargo test --test e2e -- ARGS` of the suite.
    fn cargo_test(&self, args: &[&str]) -> Command {
        let mut command = common::cargo();
        command
            .arg("test")
            .arg("--manifest-path")
            .arg(self.package.join("Cargo.toml"))
            .args(["--test", "e2e", "--"])
            .args(args)
            .env("CARGO_NET_OFFLINE", "true");
        command
    }

    /// Replaces `from` with `to` in the package's `file`.
    fn edit(&self, file: &str, from: &str, to: &str) {
        let path = self.package.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} holds `{from}`");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }
}

/// A `--watch` run, its output read as it comes.
struct Watching {
    child: Child,
    stdin: Option<ChildStdin>,
    output: Arc<(Mutex<String>, Condvar)>,
    /// How much of the output the test has read.
    read: usize,
}

impl Watching {
    fn start(project: &Project, args: &[&str]) -> Self {
        Self::spawn(project.cargo_test(args))
    }

    /// `command` (a `--watch` run) in a process group of its own.
    fn spawn(mut command: Command) -> Self {
        let mut child = command
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output: Arc<(Mutex<String>, Condvar)> = Arc::default();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        for pipe in [
            Box::new(stdout) as Box<dyn std::io::Read + Send>,
            Box::new(stderr),
        ] {
            let output = Arc::clone(&output);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { return };
                    let (text, changed) = &*output;
                    let mut text = text.lock().unwrap_or_else(PoisonError::into_inner);
                    text.push_str(&line);
                    text.push('\n');
                    changed.notify_all();
                }
            });
        }
        Self {
            stdin: child.stdin.take(),
            child,
            output,
            read: 0,
        }
    }

    /// The output from where the test last read to the next line holding
    /// `wanted` (included); fails with the whole output after `limit`.
    fn until(&mut self, wanted: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        let (text, changed) = &*self.output;
        let mut text = text.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(at) = text[self.read..].find(wanted) {
                let end =
                    self.read + at + text[self.read + at..].find('\n').unwrap_or(wanted.len()) + 1;
                let part = text[self.read..end.min(text.len())].to_owned();
                self.read = end.min(text.len());
                return part;
            }
            let now = Instant::now();
            assert!(
                now < deadline,
                "no `{wanted}` within {limit:?}; the output:\n{}",
                *text
            );
            text = changed
                .wait_timeout(text, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Until the loop waits for the next change: what the play printed.
    fn next_play(&mut self, limit: Duration) -> String {
        self.until("watch: waiting for changes", limit)
    }

    fn all(&self) -> String {
        self.output
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(format!("{line}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    /// Waits for the run to exit; its exit code.
    fn exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "still running:\n{}", self.all());
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Watching {
    /// A failed test stops the keeper too (cargo's child): SIGTERM to the
    /// process group, so it stops its world; SIGKILL if it is still there.
    fn drop(&mut self) {
        let group = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + GONE_WITHIN;
        let _ = self.child.try_wait();
        while Instant::now() < deadline && nix::sys::signal::killpg(group, None).is_ok() {
            std::thread::sleep(Duration::from_millis(50));
            let _ = self.child.try_wait();
        }
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

/// The PID in `text` after `before` (`started worker1 (PID ` → its PID).
fn pid_after(text: &str, before: &str) -> u32 {
    let at = text
        .find(before)
        .unwrap_or_else(|| panic!("no `{before}` in:\n{text}"))
        + before.len();
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no PID after `{before}` in:\n{text}"))
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            stat.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
}

fn all_gone(pids: &[u32]) {
    let deadline = Instant::now() + GONE_WITHIN;
    while pids.iter().any(|&pid| alive(pid)) {
        assert!(
            Instant::now() < deadline,
            "still running after {GONE_WITHIN:?}: {:?}",
            pids.iter().filter(|&&pid| alive(pid)).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

const STEP: &str = "steps::marks_its_round";

/// The PIDs a play said it kept or started.
#[derive(Debug, Clone, Copy)]
struct Pids {
    keeper: u32,
    mongod: u32,
    worker1: u32,
    worker2: u32,
}

impl Pids {
    /// The line of a play that kept everything.
    fn all_kept(self) -> String {
        format!(
            "kept mongod (PID {}), worker1 (PID {}), worker2 (PID {})",
            self.mongod, self.worker1, self.worker2
        )
    }
}

#[test]
fn an_edit_plays_again_in_the_restored_world_with_the_processes_kept() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let project = Project::new();
    let mut watching = Watching::start(&project, &["--watch", STEP, "--exact", "--nocapture"]);

    let first = watching.next_play(FIRST_PLAY);
    let mut pids = Pids {
        keeper: pid_after(&first, "(keeper PID "),
        mongod: pid_after(&first, "kept mongod (PID "),
        worker1: pid_after(&first, "started worker1 (PID "),
        worker2: pid_after(&first, "started worker2 (PID "),
    };
    assert!(
        first.contains(&format!("worker1 answers from PID {}", pids.worker1)),
        "{first}"
    );
    assert!(
        first.contains("1 step played (1 passed, 0 failed, 0 skipped)"),
        "{first}"
    );

    a_step_edit_keeps_every_process(&project, &mut watching, pids);
    pids.worker2 = a_script_edit_starts_its_process_alone(&project, &mut watching, pids);
    a_plain_run_uses_the_kept_world(&project, &mut watching, pids);
    a_second_keeper_is_refused(&project, pids);
    a_failed_build_keeps_the_world(&project, &mut watching, pids);
    a_renamed_step_is_named_with_the_closest(&project, &mut watching, pids);
    pids = a_config_change_starts_over(&project, &mut watching, pids);

    watching.type_line("q");
    assert_eq!(
        watching.exit(Duration::from_secs(60)),
        Some(0),
        "{}",
        watching.all()
    );
    assert!(
        watching.all().contains("watch: stopping mongod"),
        "{}",
        watching.all()
    );
    all_gone(&[pids.keeper, pids.mongod, pids.worker1, pids.worker2]);
}

/// A line appended to the step's body: it plays again from the snapshot
/// before it (it checks its world), every process kept.
fn a_step_edit_keeps_every_process(project: &Project, watching: &mut Watching, pids: Pids) {
    project.edit(
        "tests/steps.rs",
        "    let round = runner.current_round();\n",
        "    let round = runner.current_round();\n    println!(\"the edited step runs\");\n",
    );
    let edited = watching.next_play(NEXT_PLAY);
    assert!(
        edited.contains("steps.rs changed: building --test e2e"),
        "{edited}"
    );
    assert!(edited.contains("the edited step runs"), "{edited}");
    assert!(edited.contains(&pids.all_kept()), "{edited}");
    assert!(
        edited.contains(&format!("restored the world before round 1 {STEP} (")),
        "{edited}"
    );
    assert!(
        edited.contains(&format!("worker2 answers from PID {}", pids.worker2)),
        "{edited}"
    );
    assert!(
        edited.contains("1 step played (1 passed, 0 failed, 0 skipped) in "),
        "the step found its world restored: {edited}"
    );
    assert!(edited.contains(": rebuild "), "the timing line: {edited}");
}

/// worker2's script changes: worker2 alone starts again; its new PID.
fn a_script_edit_starts_its_process_alone(
    project: &Project,
    watching: &mut Watching,
    pids: Pids,
) -> u32 {
    project.edit("worker2.py", "import os\n", "import os  # edited\n");
    let restarted = watching.next_play(NEXT_PLAY);
    let worker2 = pid_after(&restarted, "started worker2 again (PID ");
    assert_ne!(worker2, pids.worker2);
    assert!(restarted.contains("worker2.py changed"), "{restarted}");
    assert!(
        restarted.contains(&format!(
            "kept mongod (PID {}), worker1 (PID {})\n",
            pids.mongod, pids.worker1
        )),
        "{restarted}"
    );
    assert!(
        restarted.contains(&format!("worker2 answers from PID {worker2}")),
        "{restarted}"
    );
    worker2
}

/// A plain run meanwhile (the IDE's button, in an environment of its own)
/// attaches and gets every process.
fn a_plain_run_uses_the_kept_world(project: &Project, watching: &mut Watching, pids: Pids) {
    let point = format!("round 1 {STEP}");
    // An IDE's environment differs from the terminal's in variables that
    // mean nothing to the workers.
    let mut command = project.cargo_test(&[STEP, "--exact", "--from", &point]);
    command.env("TERM_PROGRAM", "an-ide");
    let plain = common::run_to_end(command, NEXT_PLAY);
    let printed = String::from_utf8_lossy(&plain.stderr);
    assert!(plain.status.success(), "{printed}");
    assert!(
        printed.contains(&format!(
            "keeper: attached to the keeper of this suite (PID {})",
            pids.keeper
        )),
        "{printed}"
    );
    watching.until(
        "used the kept world (2 of 2 processes kept, 1 step played)",
        NEXT_PLAY,
    );
}

/// A second keeper of the suite exits 2, naming the first.
fn a_second_keeper_is_refused(project: &Project, pids: Pids) {
    let second = common::run_to_end(project.cargo_test(&["--watch", STEP]), NEXT_PLAY);
    let refused = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "a setup failure: {refused}");
    assert!(
        refused.contains(&format!(
            "watch: error: another keeper (PID {}) keeps the world of this suite",
            pids.keeper
        )),
        "{refused}"
    );
}

/// The selected step renamed: the run names the closest steps and plays
/// nothing; named back, it plays again.
fn a_renamed_step_is_named_with_the_closest(
    project: &Project,
    watching: &mut Watching,
    pids: Pids,
) {
    project.edit(
        "tests/steps.rs",
        "fn marks_its_round(",
        "fn marks_its_rounds(",
    );
    let renamed = watching.next_play(NEXT_PLAY);
    assert!(
        renamed.contains(&format!(
            "warning: no step is named exactly `{STEP}`, so nothing ran; the closest step \
             names: `steps::marks_its_rounds`"
        )),
        "{renamed}"
    );
    assert!(
        renamed.contains("watch: no step played (the command line selects none"),
        "{renamed}"
    );
    project.edit(
        "tests/steps.rs",
        "fn marks_its_rounds(",
        "fn marks_its_round(",
    );
    let back = watching.next_play(NEXT_PLAY);
    assert!(back.contains(&pids.all_kept()), "{back}");
    assert!(back.contains("1 step played (1 passed"), "{back}");
}

/// config.yaml changes: every worker starts again and the run starts over
/// (`--reset`); mongod is kept. The PIDs after it.
fn a_config_change_starts_over(project: &Project, watching: &mut Watching, pids: Pids) -> Pids {
    project.edit(
        "tests/config.yaml",
        "max_rounds: 2\n",
        "max_rounds: 2  # edited\n",
    );
    let over = watching.next_play(NEXT_PLAY);
    assert!(
        over.contains("watch: config.yaml changed: the run starts over (--reset"),
        "{over}"
    );
    assert!(over.contains("fresh run: starting at round 1"), "{over}");
    assert!(
        over.contains(&format!("kept mongod (PID {})\n", pids.mongod)),
        "{over}"
    );
    let worker1 = pid_after(&over, "started worker1 again (PID ");
    let worker2 = pid_after(&over, "started worker2 again (PID ");
    assert!(over.contains("): config.yaml changed"), "{over}");
    assert!(over.contains("1 step played (1 passed"), "{over}");
    assert!(
        !alive(pids.worker1) && !alive(pids.worker2),
        "the old workers are gone"
    );
    Pids {
        worker1,
        worker2,
        ..pids
    }
}

/// A build that fails shows cargo's message and keeps the world; the fix
/// plays again with every process kept.
fn a_failed_build_keeps_the_world(project: &Project, watching: &mut Watching, pids: Pids) {
    project.edit(
        "tests/steps.rs",
        "    Ok(())\n}",
        "    Ok(())\n}\nfn broken( {\n",
    );
    let failed = watching.until("the build failed", NEXT_PLAY);
    assert!(
        failed.contains("unclosed delimiter"),
        "cargo's message: {failed}"
    );
    let kept = pids.all_kept().replacen("kept ", "the world is kept: ", 1);
    assert!(failed.contains(&kept), "{failed}");
    project.edit("tests/steps.rs", "\nfn broken( {\n", "\n");
    let fixed = watching.next_play(NEXT_PLAY);
    assert!(fixed.contains(&pids.all_kept()), "{fixed}");
}

/// A keeper's first play: the keeper's PID, and mongod's and the workers'.
fn first_play(project: &Project) -> (Watching, u32, [u32; 3]) {
    let mut watching = Watching::start(project, &["--watch", STEP, "--exact"]);
    let first = watching.next_play(FIRST_PLAY);
    let keeper = pid_after(&first, "(keeper PID ");
    let processes = [
        pid_after(&first, "kept mongod (PID "),
        pid_after(&first, "started worker1 (PID "),
        pid_after(&first, "started worker2 (PID "),
    ];
    assert!(processes.iter().all(|&pid| alive(pid)));
    (watching, keeper, processes)
}

fn sigkill(pid: u32) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap()),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
}

#[test]
fn a_keeper_killed_with_sigkill_leaves_no_process() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let project = Project::new();
    let (_watching, keeper, processes) = first_play(&project);
    sigkill(keeper);
    all_gone(&processes);
}

#[test]
fn a_keeper_whose_cargo_is_killed_stops_its_world() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let project = Project::new();
    let (mut watching, keeper, processes) = first_play(&project);
    sigkill(watching.child.id());
    watching.until("the process that started the keeper (PID ", GONE_WITHIN);
    all_gone(&[&[keeper][..], &processes].concat());
}

#[test]
fn the_example_keeps_its_middle_server_and_workers_for_a_plain_run() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let env = common::example_env(dir.path());
    let receipt = "steps::receipt::acknowledges_its_round_once";
    let example = |args: &[&str]| {
        let mut command = common::cargo();
        command
            .args(["test", "-p", "todo-task", "--test", "e2e", "--"])
            .args(args)
            .envs(env.iter().map(|(k, v)| (k, v)));
        command
    };
    let mut watching = Watching::spawn(example(&["--watch", receipt, "--exact"]));
    let first = watching.next_play(FIRST_PLAY);
    let keeper = pid_after(&first, "(keeper PID ");
    let names = ["middle", "worker1", "worker2", "worker3"];
    let pids: Vec<u32> = names
        .iter()
        .map(|name| pid_after(&first, &format!("started {name} (PID ")))
        .collect();
    assert!(
        first.contains("16 steps played (14 passed, 0 failed, 2 skipped)"),
        "{first}"
    );

    // worker1's HTTP_PROXY names the proxy port of the run before: kept.
    let point = format!("round 1 {receipt}");
    let plain = common::run_to_end(example(&[receipt, "--exact", "--from", &point]), NEXT_PLAY);
    let printed = String::from_utf8_lossy(&plain.stderr);
    assert!(plain.status.success(), "{printed}");
    assert!(
        printed.contains("restored the world before round 1 steps::receipt"),
        "{printed}"
    );
    watching.until(
        "used the kept world (4 of 4 processes kept, 1 step played)",
        NEXT_PLAY,
    );
    assert!(pids.iter().all(|&pid| alive(pid)));

    watching.type_line("q");
    assert_eq!(
        watching.exit(Duration::from_secs(60)),
        Some(0),
        "{}",
        watching.all()
    );
    all_gone(&[&[keeper][..], &pids].concat());
}
