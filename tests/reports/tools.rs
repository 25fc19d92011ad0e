//! Finding (or installing) the real consumers the tests use, and where the
//! tests keep what they produce.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::common;

/// The repository's root.
pub(crate) fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `target/tmp/reports/NAME`, emptied: artifacts a reader can open after the run.
pub(crate) fn artifact_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("reports")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the artifact directory");
    dir
}

/// Runs `ensure_NAME` from scripts/lib/chromium.sh and returns the tool's path
/// (the variable it exports), or why it cannot be had.
pub(crate) fn ensure(function: &str, variable: &str) -> Result<PathBuf, String> {
    let script = repo_root().join("scripts/lib/chromium.sh");
    let output = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source \"$1\" && {function} && printf '%s' \"${variable}\""
        ))
        .arg("bash")
        .arg(&script)
        .stdin(Stdio::null())
        .output()
        .map_err(|err| format!("cannot run bash: {err}"))?;
    if output.status.success() && !output.stdout.is_empty() {
        Ok(PathBuf::from(
            String::from_utf8_lossy(&output.stdout).into_owned(),
        ))
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}

/// `test` cannot run here for want of a tool (`why`, from [`ensure`]): it
/// fails under CI and is reported ignored elsewhere ([`common::unavailable`]).
pub(crate) fn unavailable(test: &str, why: &str) {
    common::unavailable(
        test,
        why,
        "scripts/test.sh installs it (scripts/lib/chromium.sh)",
    );
}

/// Runs `command`, killing it after `limit`.
pub(crate) fn run(command: &mut Command, limit: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {command:?}: {err}"));
    let start = Instant::now();
    // Read both pipes on threads so a chatty child cannot block.
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut buf).map(|_| buf)
    });
    let err = std::thread::spawn(move || {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut buf).map(|_| buf)
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{command:?} ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().expect("reader").expect("read stdout"),
        stderr: err.join().expect("reader").expect("read stderr"),
    }
}
