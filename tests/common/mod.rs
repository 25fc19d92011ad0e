//! What the process-level tests of this package share: starting a suite
//! binary in a cleared environment, waiting for it with a time limit, finding
//! the processes a run left behind, and free ports.

#![allow(dead_code, reason = "each test file uses the part it needs")]

use std::io::Read as _;
use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

/// The variable every process of a run inherits, so that leftovers can be
/// found by their environment: `PT_CONTRACT_MARKER=<marker>`.
pub(crate) const MARKER_VAR: &str = "PT_CONTRACT_MARKER";

/// `binary` in a cleared environment holding only the `inherited` variables
/// of this process (those that are set) and `PROMETHEUS_TEST_CONFIG=config`.
pub(crate) fn suite_command(binary: &str, inherited: &[&str], config: &Path) -> Command {
    let mut cmd = Command::new(binary);
    cmd.env_clear()
        .envs(
            inherited
                .iter()
                .filter_map(|&name| Some((name, std::env::var_os(name)?))),
        )
        .env("PROMETHEUS_TEST_CONFIG", config);
    cmd
}

/// A loopback port for a worker, below the kernel's ephemeral range.
pub(crate) fn free_port() -> u16 {
    prometheus_test::__bench::free_port().expect("a free loopback port")
}

/// Waits for `child` and collects its output; kills it after `limit`.
pub(crate) fn wait_with_timeout(mut child: Child, limit: Duration) -> Result<Output, String> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("poll the child") {
            let mut stdout = Vec::new();
            let mut stderr = Vec::new();
            if let Some(mut pipe) = child.stdout.take() {
                pipe.read_to_end(&mut stdout).expect("read stdout");
            }
            if let Some(mut pipe) = child.stderr.take() {
                pipe.read_to_end(&mut stderr).expect("read stderr");
            }
            return Ok(Output {
                status,
                stdout,
                stderr,
            });
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("the suite did not finish within {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// [`wait_with_timeout`], failing the test at the limit.
pub(crate) fn wait(child: Child, limit: Duration) -> Output {
    wait_with_timeout(child, limit).unwrap_or_else(|error| panic!("{error}"))
}

/// The live (not zombie) processes whose environment holds
/// `PT_CONTRACT_MARKER=<marker>`.
pub(crate) fn marked_processes(marker: &str) -> Vec<u32> {
    let needle = format!("{MARKER_VAR}={marker}");
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc")
        .expect("read /proc")
        .filter_map(Result::ok)
    {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if environ
            .split(|b| *b == 0)
            .any(|var| var == needle.as_bytes())
            && !is_zombie(pid)
        {
            pids.push(pid);
        }
    }
    pids
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
        stat.rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z'))
    })
}
