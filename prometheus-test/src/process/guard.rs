//! Guarded children: each in its own process group, known to the reaper, and
//! stopped as a whole group (SIGTERM, grace, SIGKILL).

use std::future::Future;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::{Child, Command};
use tokio::time::{Instant, sleep, timeout, timeout_at};

use super::reaper;

/// How often a stopping group is checked for remaining processes.
const POLL: Duration = Duration::from_millis(10);
/// How long the leader may take to die after SIGKILL before we give up on it.
const KILL_WAIT: Duration = Duration::from_secs(5);
/// How long killed group members may take to disappear.
const SETTLE: Duration = Duration::from_millis(500);

/// Spawns `cmd` in its own process group, watched by the reaper, so it dies with the run.
pub(crate) fn spawn_guarded(cmd: &mut Command) -> std::io::Result<Child> {
    cmd.process_group(0).kill_on_drop(true);
    let child = cmd.spawn()?;
    if let Some(pid) = child.id()
        && let Err(error) = reaper::watch(pid)
    {
        signal_group(pid, Signal::SIGKILL);
        return Err(std::io::Error::new(
            error.kind(),
            format!("could not start the helper that cleans up processes after the run: {error}"),
        ));
    }
    Ok(child)
}

/// Stops a guarded child's process group (SIGTERM, `grace`, SIGKILL) and waits for it.
/// Call it before waiting on the child yourself: a reaped child no longer names its group.
pub(crate) async fn stop_guarded(child: &mut Child, grace: Duration) {
    let Some(pgid) = child.id() else {
        return;
    };
    stop_group(pgid, grace, async {
        let _ = child.wait().await;
    })
    .await;
}

/// Stops process group `pgid` whose leader's exit (and reaping) resolves `leader_exit`.
pub(crate) async fn stop_group(pgid: u32, grace: Duration, leader_exit: impl Future<Output = ()>) {
    let mut leader_exit = std::pin::pin!(leader_exit);
    signal_group(pgid, Signal::SIGTERM);
    let deadline = Instant::now() + grace;
    let mut leader_gone = timeout_at(deadline, leader_exit.as_mut()).await.is_ok();
    if leader_gone {
        // Forked members may still be shutting down: give them the rest of the grace.
        while group_alive(pgid) && Instant::now() < deadline {
            sleep(POLL).await;
        }
    }
    if !leader_gone || group_alive(pgid) {
        signal_group(pgid, Signal::SIGKILL);
    }
    if !leader_gone {
        leader_gone = timeout(KILL_WAIT, leader_exit.as_mut()).await.is_ok();
    }
    let settle = Instant::now() + SETTLE;
    while group_alive(pgid) && Instant::now() < settle {
        sleep(POLL).await;
    }
    if leader_gone {
        reaper::forget(pgid);
    }
}

/// Kills process group `pgid` with SIGKILL at once and waits for its leader
/// (whose exit resolves `leader_exit`) and the rest of the group to go.
pub(super) async fn kill_group(pgid: u32, leader_exit: impl Future<Output = ()>) {
    signal_group(pgid, Signal::SIGKILL);
    let leader_gone = timeout(KILL_WAIT, leader_exit).await.is_ok();
    let settle = Instant::now() + SETTLE;
    while group_alive(pgid) && Instant::now() < settle {
        sleep(POLL).await;
    }
    if leader_gone {
        reaper::forget(pgid);
    }
}

/// Sends `signal` to every process of group `pgid`; a group already gone is fine.
pub(crate) fn signal_group(pgid: u32, signal: Signal) {
    if let Ok(raw) = i32::try_from(pgid) {
        let _ = killpg(Pid::from_raw(raw), signal);
    }
}

/// True while group `pgid` has a process that is not a zombie.
///
/// Zombies count as gone: in containers whose init does not reap, orphans stay
/// zombies forever and would otherwise make every stop wait the whole grace.
/// Without `/proc`, falls back to signal 0, which counts zombies too.
pub(super) fn group_alive(pgid: u32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return i32::try_from(pgid).is_ok_and(|raw| killpg(Pid::from_raw(raw), None).is_ok());
    };
    entries.flatten().any(|entry| {
        let name = entry.file_name();
        if !name
            .to_str()
            .is_some_and(|name| name.bytes().all(|byte| byte.is_ascii_digit()))
        {
            return false;
        }
        std::fs::read_to_string(entry.path().join("stat"))
            .is_ok_and(|stat| live_member_of(&stat, pgid))
    })
}

/// Whether a `/proc/<pid>/stat` line describes a live (non-zombie) member of group `pgid`.
fn live_member_of(stat: &str, pgid: u32) -> bool {
    // The command name in parentheses may contain anything: parse after the last ')'.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return false;
    };
    let mut fields = rest.split_whitespace();
    let state = fields.next();
    let group = fields.nth(1).and_then(|group| group.parse::<u32>().ok());
    group == Some(pgid) && !matches!(state, Some("Z" | "X"))
}

#[cfg(test)]
mod tests {
    use super::live_member_of;

    #[test]
    fn reads_group_and_state_from_stat() {
        assert!(live_member_of("42 (python3) S 1 42 42 0 -1", 42));
        assert!(live_member_of("43 (odd ) name) R 42 42 42 0 -1", 42));
        assert!(!live_member_of("44 (python3) Z 1 42 42 0 -1", 42));
        assert!(!live_member_of("45 (sh) S 1 45 45 0 -1", 42));
    }
}
