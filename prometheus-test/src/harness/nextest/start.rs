//! Starting the coordinator exactly once per nextest run. A test process
//! whose run has no results file yet takes `start.lock` (an exclusive
//! `flock`, held only while it checks and starts), and under it:
//!
//! - the run's results file exists: another test process of the run
//!   started the coordinator meanwhile;
//! - `coordinator.lock` is held: a coordinator of another run is alive.
//!   When that run is over (its results closed) the coordinator is about to
//!   exit and is waited for; otherwise the test fails at once, naming the
//!   run, its coordinator's PID and its log;
//! - else it starts the coordinator, records the run and the coordinator's
//!   PID in `start.lock`, and waits until the coordinator has written the
//!   results file (it holds `coordinator.lock` by then), or has exited
//!   (its results then say so, for every test of the run).

use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::folder::Folder;
use super::results::{self, RunResults};
use super::selected::Selected;
use crate::pid_lock::{self, LockFile};

/// In the coordinator's environment: the run it plays for.
pub(super) const COORDINATOR_VAR: &str = "PROMETHEUS_TEST_NEXTEST_COORDINATOR";
/// In the coordinator's environment: nextest's process (see [`Watched`](super::watch::Watched)).
pub(super) const WATCH_VAR: &str = "PROMETHEUS_TEST_NEXTEST_WATCH";

/// How long a coordinator may take to write the results file.
const START_LIMIT: Duration = Duration::from_secs(30);
/// How long the coordinator of a finished run may take to exit.
const EXIT_LIMIT: Duration = Duration::from_secs(10);
/// How often the start is looked at.
const POLL: Duration = Duration::from_millis(10);

/// Makes sure run `run` has a coordinator, started with `spawn` (given the
/// log file; its error is the test's message) when it has none; the started
/// child, if this process started it. The error is the test's message.
pub(super) fn ensure_coordinator(
    folder: &Folder,
    run: &str,
    spawn: impl FnOnce(File) -> Result<Child, String>,
) -> Result<Option<Child>, String> {
    let results_file = folder.results(run);
    if results_file.exists() {
        return Ok(None);
    }
    let path = folder.start_lock();
    let cannot = |err: &dyn std::fmt::Display| {
        format!(
            "cannot start the suite's coordinator: {}: {err}",
            path.display()
        )
    };
    folder.create().map_err(|err| cannot(&err))?;
    let file = LockFile::open(&path).map_err(|err| cannot(&err))?;
    let mut held = file.wait().map_err(|err| cannot(&err))?;
    if results_file.exists() {
        return Ok(None);
    }
    wait_for_other_coordinator(folder, &pid_lock::stamp(&path))?;
    let log = File::options()
        .create(true)
        .append(true)
        .open(folder.log(run))
        .map_err(|err| cannot(&err))?;
    let mut child = spawn(log)?;
    if let Err(err) = held.stamp_with(&format!("{run}\n{}\n", child.id())) {
        eprintln!("prometheus-test: warning: {}: {err}", path.display());
    }
    wait_until_started(folder, run, &mut child);
    Ok(Some(child))
}

/// Fails when a coordinator of another run is alive; waits for one whose
/// run is over to exit. `record` is what `start.lock` holds: that run and
/// its coordinator's PID.
fn wait_for_other_coordinator(folder: &Folder, record: &str) -> Result<(), String> {
    let mut lines = record.lines();
    let (other, pid) = (lines.next().unwrap_or(""), lines.next().unwrap_or("?"));
    let deadline = Instant::now() + EXIT_LIMIT;
    while coordinator_alive(folder) {
        let over = results::read(&folder.results(other)).is_some_and(|r| r.closed.is_some());
        if !over || Instant::now() > deadline {
            return Err(format!(
                "another nextest run of this suite is going (run {other}, coordinator PID {pid}, \
                 its log: {}): wait for it to finish or stop it; two runs would share one state \
                 file, database and ports",
                folder.log(other).display()
            ));
        }
        std::thread::sleep(POLL);
    }
    Ok(())
}

/// Whether a coordinator holds `coordinator.lock`.
pub(super) fn coordinator_alive(folder: &Folder) -> bool {
    LockFile::open(&folder.coordinator_lock())
        .is_ok_and(|file| matches!(file.try_lock(), Ok(Err(_busy))))
}

/// Waits for the coordinator's results file; when the coordinator exits
/// first or takes too long, writes closed results that say so.
fn wait_until_started(folder: &Folder, run: &str, child: &mut Child) {
    let results_file = folder.results(run);
    let deadline = Instant::now() + START_LIMIT;
    let problem = loop {
        if results_file.exists() {
            return;
        }
        match child.try_wait() {
            Ok(Some(status)) => break format!("exited at once ({status})"),
            Err(err) => break format!("cannot be waited for: {err}"),
            Ok(None) if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break format!("did not start within {}s", START_LIMIT.as_secs());
            }
            Ok(None) => std::thread::sleep(POLL),
        }
    };
    let results = RunResults {
        notes: vec![format!(
            "error: the suite's coordinator (PID {}) {problem}; its log: {}",
            child.id(),
            folder.log(run).display()
        )],
        closed: Some(crate::Exit::SetupFailed.code()),
        ..RunResults::new(child.id())
    };
    if let Err(err) = results::write(&results_file, &results) {
        eprintln!(
            "prometheus-test: warning: {}: {err}",
            results_file.display()
        );
    }
}

/// The coordinator's command: this binary with the `selected` tests and
/// `--exact` (no arguments when all are), with `env` and the coordinator's
/// variables, in its own process group (nextest kills a timed-out test's
/// process group), output to `log`.
pub(super) fn coordinator_command(
    env: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
    run: &str,
    watch: Option<super::watch::Watched>,
    selected: &Selected,
    log: File,
) -> std::io::Result<Command> {
    use std::os::unix::process::CommandExt as _;
    let program: PathBuf = std::env::current_exe()?;
    let mut command = Command::new(program);
    command
        .env_clear()
        .envs(env)
        .env(COORDINATOR_VAR, run)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0);
    if let Selected::Only(names) = selected {
        command.args(names).arg("--exact");
    }
    if let Some(watch) = watch {
        command.env(WATCH_VAR, watch.to_string());
    }
    Ok(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sleeper(log: File) -> Result<Child, String> {
        Command::new("sleep")
            .arg("30")
            .stdout(log)
            .stdin(Stdio::null())
            .spawn()
            .map_err(|err| err.to_string())
    }

    #[test]
    fn a_coordinator_that_exits_at_once_leaves_closed_results_that_say_so() {
        let dir = tempfile::tempdir().unwrap();
        let folder = Folder::in_data_dir(dir.path());
        let mut child = ensure_coordinator(&folder, "run1", |log| {
            Command::new("true")
                .stdout(log)
                .spawn()
                .map_err(|err| err.to_string())
        })
        .unwrap()
        .expect("this process started it");
        child.wait().unwrap();
        let results = results::read(&folder.results("run1")).unwrap();
        assert_eq!(results.closed, Some(2));
        assert_eq!(
            results.notes,
            [format!(
                "error: the suite's coordinator (PID {}) exited at once (exit status: 0); its log: {}",
                child.id(),
                folder.log("run1").display()
            )]
        );
        assert_eq!(
            std::fs::read_to_string(folder.start_lock()).unwrap(),
            format!("run1\n{}\n", child.id())
        );
        let again = ensure_coordinator(&folder, "run1", |_| panic!("started twice"));
        assert!(matches!(again, Ok(None)));
    }

    #[test]
    fn a_live_coordinator_of_another_run_fails_the_start_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let folder = Folder::in_data_dir(dir.path());
        folder.create().unwrap();
        let held = LockFile::open(&folder.coordinator_lock())
            .unwrap()
            .wait()
            .unwrap();
        std::fs::write(folder.start_lock(), "run1\n4321\n").unwrap();
        results::write(&folder.results("run1"), &RunResults::new(4321)).unwrap();
        let err = ensure_coordinator(&folder, "run2", sleeper).unwrap_err();
        assert_eq!(
            err,
            format!(
                "another nextest run of this suite is going (run run1, coordinator PID 4321, its log: {}): \
                 wait for it to finish or stop it; two runs would share one state file, database and ports",
                folder.log("run1").display()
            )
        );
        assert!(coordinator_alive(&folder));
        drop(held);
        assert!(!coordinator_alive(&folder));
    }
}
