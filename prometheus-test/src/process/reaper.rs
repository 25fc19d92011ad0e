//! The reaper: one `sh` helper per run that kills every process group it was
//! told about once the runner is gone, even when the runner was killed with SIGKILL.
//!
//! The runner holds the write end of the helper's stdin and writes `add <pgid>`
//! and `del <pgid>` lines. When the pipe closes (the runner exited, however it
//! died), the helper sends SIGTERM to the groups still listed, waits up to 2 s
//! for them to go, sends SIGKILL and exits. The helper has its own process
//! group so a terminal Ctrl-C does not reach it, ignores SIGINT and SIGHUP, and
//! holds no other descriptor of the runner (stdout/stderr are closed), so it
//! never keeps a pipe of the caller open.
//!
//! Container workers are told as `run <id>` lines: when the pipe closes the
//! helper also removes every container labelled with that run
//! (`docker rm -f`, with the runner's `DOCKER_HOST`), so a killed runner
//! leaves no container either.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, PoisonError};

const SCRIPT: &str = r#"
trap '' INT HUP
groups=' '
runs=''
while read -r op pgid; do
  case $op in
    add) groups="$groups$pgid " ;;
    run) runs="$runs $pgid" ;;
    del) case $groups in *" $pgid "*) groups="${groups%% $pgid *} ${groups#* $pgid }" ;; esac ;;
  esac
done
live=''
for g in $groups; do kill -TERM -$g 2>/dev/null && live="$live $g"; done
n=0
while [ -n "$live" ] && [ $n -lt 20 ]; do
  sleep 0.1
  n=$((n + 1))
  still=''
  for g in $live; do kill -0 -$g 2>/dev/null && still="$still $g"; done
  live=$still
done
for g in $live; do kill -KILL -$g 2>/dev/null; done
for r in $runs; do
  ids=$(docker ps -aq --filter "label=prometheus-test.run=$r" 2>/dev/null)
  [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1
done
exit 0
"#;

static REAPER: Mutex<Reaper> = Mutex::new(Reaper {
    helper: None,
    groups: BTreeSet::new(),
    runs: BTreeSet::new(),
});

struct Reaper {
    helper: Option<(Child, ChildStdin)>,
    /// Groups still to kill if the runner dies; replayed to a restarted helper.
    groups: BTreeSet<u32>,
    /// Runs whose containers to remove if the runner dies; replayed too.
    runs: BTreeSet<String>,
}

impl Reaper {
    /// Writes `line` to the helper, starting (or restarting) it when needed.
    fn send(&mut self, line: &str) -> std::io::Result<()> {
        if let Some((_, stdin)) = &mut self.helper
            && stdin.write_all(line.as_bytes()).is_ok()
        {
            return Ok(());
        }
        // No helper yet, or it died (someone killed it): start a new one and
        // tell it every group still alive, which includes the one in `line`.
        if let Some((mut old, _)) = self.helper.take() {
            let _ = old.try_wait();
        }
        let mut child = Command::new("sh")
            .args(["-c", SCRIPT])
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()?;
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| std::io::Error::other("the reaper's stdin was not piped"))?;
        let mut replay = self.groups.iter().fold(String::new(), |mut replay, pgid| {
            let _ = writeln!(replay, "add {pgid}");
            replay
        });
        for run in &self.runs {
            let _ = writeln!(replay, "run {run}");
        }
        stdin.write_all(replay.as_bytes())?;
        self.helper = Some((child, stdin));
        Ok(())
    }
}

/// Makes the reaper kill process group `pgid` if the runner dies.
pub(super) fn watch(pgid: u32) -> std::io::Result<()> {
    let mut reaper = REAPER.lock().unwrap_or_else(PoisonError::into_inner);
    reaper.groups.insert(pgid);
    let sent = reaper.send(&format!("add {pgid}\n"));
    if sent.is_err() {
        reaper.groups.remove(&pgid);
    }
    sent
}

/// Makes the reaper remove the containers labelled with run `run` (letters,
/// digits and `-` only) if the runner dies.
pub(super) fn watch_run(run: &str) -> std::io::Result<()> {
    if !run
        .bytes()
        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
    {
        return Err(std::io::Error::other(format!(
            "run label `{run}` is not plain"
        )));
    }
    let mut reaper = REAPER.lock().unwrap_or_else(PoisonError::into_inner);
    if !reaper.runs.insert(run.to_owned()) {
        return Ok(());
    }
    reaper.send(&format!("run {run}\n"))
}

/// Tells the reaper that group `pgid` is gone.
pub(crate) fn forget(pgid: u32) {
    let mut reaper = REAPER.lock().unwrap_or_else(PoisonError::into_inner);
    if reaper.groups.remove(&pgid) && reaper.helper.is_some() {
        // If the helper died, the restarted one is simply not told about `pgid`.
        let _ = reaper.send(&format!("del {pgid}\n"));
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    #[test]
    fn script_forgets_deleted_groups_and_kills_the_rest() {
        // Run the script on fake ids with `kill` replaced by an echo, to check its bookkeeping.
        let script = super::SCRIPT
            .replace("kill -TERM", "echo TERM")
            .replace("kill -0 -$g", "false");
        let output = Command::new("sh")
            .args([
                "-c",
                &format!("printf 'add 11\\nadd 22\\nadd 33\\ndel 22\\ndel 44\\n' | {{ {script} }}"),
            ])
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "TERM -11\nTERM -33\n"
        );
    }
}
