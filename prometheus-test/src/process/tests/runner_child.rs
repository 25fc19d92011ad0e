//! The runner itself dies or is told to stop: this test binary is started
//! again as a child "runner" that starts a fleet, and is then sent SIGKILL,
//! SIGTERM or a terminal's SIGINT. No marked process may survive.

use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::timeout;

use super::support::{
    MARKER_VAR, assert_no_process_left, free_port, marked_processes, new_marker, python_spec,
};
use crate::process::{Fleet, LogMode, termination_signal};

/// Set in the child runner's environment.
const CHILD_VAR: &str = "PT_PROCESS_CHILD_RUNNER";
/// Printed by the child runner once its fleet is ready.
const READY_LINE: &str = "PT_CHILD_FLEET_READY";

/// The child runner: starts a good and a forking worker, then on SIGINT or
/// SIGTERM shuts them down and exits with 130 or 143. Does nothing unless
/// started by the tests below.
#[tokio::test]
#[ignore = "run as a child process by the runner_* tests"]
async fn child_runner() {
    let (Ok(_), Ok(marker)) = (std::env::var(CHILD_VAR), std::env::var(MARKER_VAR)) else {
        return;
    };
    let stop = termination_signal();
    let specs = vec![
        python_spec("worker1", "good_server.py", free_port(), &marker),
        python_spec("worker2", "forking_server.py", free_port(), &marker),
    ];
    let fleet = Fleet::start(specs, LogMode::Capture)
        .await
        .expect("the child runner's fleet starts");
    println!("{READY_LINE}");
    let signal = stop.await;
    fleet.shutdown().await;
    std::process::exit(i32::from(signal.exit().code()));
}

struct ChildRunner {
    child: Child,
    stderr: Arc<Mutex<String>>,
}

impl ChildRunner {
    /// Starts the child runner in its own process group and waits until its fleet is ready.
    async fn start(marker: &str) -> ChildRunner {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "process::tests::runner_child::child_runner",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .env(CHILD_VAR, "1")
            .env(MARKER_VAR, marker)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut stderr_pipe = child.stderr.take().unwrap();
        let collected = Arc::clone(&stderr);
        tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr_pipe.read_to_string(&mut text).await;
            collected.lock().unwrap().push_str(&text);
        });
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = stdout.next_line().await {
                if line == READY_LINE {
                    return true;
                }
            }
            false
        })
        .await;
        let runner = ChildRunner { child, stderr };
        assert!(
            matches!(ready, Ok(true)),
            "the child runner's fleet did not start:\n{}",
            runner.stderr()
        );
        // Keep reading stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = stdout.next_line().await {} });
        runner
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id().unwrap()).unwrap())
    }

    async fn wait(&mut self) -> ExitStatus {
        timeout(Duration::from_secs(20), self.child.wait())
            .await
            .expect("the child runner did not exit")
            .unwrap()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

/// The runner, its reaper, worker1, worker2 and worker2's forked child.
fn assert_fleet_running(marker: &str) {
    let running = marked_processes(marker);
    assert_eq!(running.len(), 5, "{running:#?}");
}

#[tokio::test]
async fn a_runner_killed_with_sigkill_leaves_no_process() {
    let marker = new_marker("runner-sigkill");
    let mut runner = ChildRunner::start(&marker).await;
    assert_fleet_running(&marker);
    kill(runner.pid(), Signal::SIGKILL).unwrap();
    let status = runner.wait().await;
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    // The reaper gives the groups 2 s after SIGTERM, then sends SIGKILL.
    assert_no_process_left(&marker, Duration::from_secs(6)).await;
}

#[tokio::test]
async fn a_runner_sent_sigterm_stops_its_fleet_and_exits_143() {
    let marker = new_marker("runner-sigterm");
    let mut runner = ChildRunner::start(&marker).await;
    assert_fleet_running(&marker);
    kill(runner.pid(), Signal::SIGTERM).unwrap();
    let status = runner.wait().await;
    assert_eq!(status.code(), Some(143), "{}", runner.stderr());
    assert_no_process_left(&marker, Duration::from_secs(1)).await;
}

#[tokio::test]
async fn a_runner_interrupted_like_ctrl_c_stops_its_fleet_and_exits_130() {
    let marker = new_marker("runner-sigint");
    let mut runner = ChildRunner::start(&marker).await;
    assert_fleet_running(&marker);
    // A terminal sends SIGINT to the whole foreground group: the workers have
    // their own groups, so only the runner gets it.
    killpg(runner.pid(), Signal::SIGINT).unwrap();
    let status = runner.wait().await;
    assert_eq!(status.code(), Some(130), "{}", runner.stderr());
    assert_no_process_left(&marker, Duration::from_secs(1)).await;
}
