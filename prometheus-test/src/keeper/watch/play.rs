//! One play: the test binary run as the loop was asked (its own `--watch`
//! left out), attached to the keeper, its output straight to the terminal.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc::{Receiver, Sender};
use std::time::{Duration, Instant};

use super::next::Next;
use super::wakes::{Quit, Wake};
use crate::harness::ProcessEnv;
use crate::keeper::host::Attachment;
use crate::process::TerminationSignal;

/// How long the keeper waits for an exited run's report (its connection
/// closes as it exits).
const REPORT_LIMIT: Duration = Duration::from_secs(2);

/// How a play went.
pub(super) struct Outcome {
    /// The run's exit code (`None` when killed by a signal).
    pub(super) exit: Option<i32>,
    /// What the run did with the keeper, once it detached.
    pub(super) attachment: Option<Attachment>,
    /// `q` or a signal came while it ran.
    pub(super) stop: Option<Quit>,
    pub(super) took: Duration,
}

/// Runs `exe` with the loop's `args` and `env` for `next`; other runs'
/// attachments seen meanwhile go to `other`.
pub(super) fn play(
    exe: &Path,
    (args, env): (&[OsString], &ProcessEnv),
    next: &Next,
    (wakes, alarm): (&Receiver<Wake>, &Sender<Wake>),
    other: &mut dyn FnMut(Attachment),
) -> std::io::Result<Outcome> {
    let started = Instant::now();
    let mut child = Command::new(exe)
        .args(child_args(args, next))
        .env_clear()
        .envs(child_env(env, next))
        .stdin(Stdio::null())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()?;
    let pid = child.id();
    let alarm = alarm.clone();
    std::thread::Builder::new()
        .name("prometheus-test-watch-run".to_owned())
        .spawn(move || {
            let status = child.wait();
            let _ = alarm.send(Wake::ChildExited(pid, status));
        })?;
    let mut outcome = Outcome {
        exit: None,
        attachment: None,
        stop: None,
        took: Duration::ZERO,
    };
    let mut exited = false;
    while !exited || outcome.attachment.is_none() {
        let wake = if exited {
            wakes.recv_timeout(REPORT_LIMIT).ok()
        } else {
            wakes.recv().ok()
        };
        let Some(wake) = wake else { break };
        match wake {
            Wake::ChildExited(of, status) if of == pid => {
                exited = true;
                outcome.took = started.elapsed();
                outcome.exit = status.ok().and_then(|status| status.code());
            }
            Wake::Attached(attached) if attached.pid == pid => outcome.attachment = Some(attached),
            Wake::Attached(attached) => other(attached),
            Wake::Quit(quit) => {
                if matches!(
                    quit,
                    Quit::Signal(TerminationSignal::Terminate) | Quit::ParentGone(_)
                ) {
                    terminate(pid);
                }
                outcome.stop = Some(quit);
            }
            Wake::Changed(_) | Wake::ChildExited(..) | Wake::Restart => {}
        }
    }
    Ok(outcome)
}

/// Passes the loop's SIGTERM on to the run (a terminal's Ctrl-C reaches the
/// run itself: it is in the terminal's process group).
fn terminate(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
}

/// The run's arguments: the loop's own, `--watch` left out; after the first
/// play, without `--reset` and `--from`, then the next play's.
fn child_args(given: &[OsString], next: &Next) -> Vec<OsString> {
    let mut args = Vec::new();
    let mut given = given.iter();
    while let Some(arg) = given.next() {
        let text = arg.to_string_lossy();
        if text == "--watch" {
            continue;
        }
        if *next != Next::AsGiven {
            if text == "--reset" || text.starts_with("--from=") {
                continue;
            }
            if text == "--from" {
                given.next();
                continue;
            }
        }
        args.push(arg.clone());
    }
    match next {
        Next::AsGiven | Next::Again => {}
        Next::From(point) => args.extend(["--from".into(), point.into()]),
        Next::Reset => args.push("--reset".into()),
    }
    args
}

/// The run's environment: the loop's, without `PROMETHEUS_TEST_WATCH`;
/// after the first play, without the variables that reset or rewind.
fn child_env(env: &ProcessEnv, next: &Next) -> Vec<(OsString, OsString)> {
    use crate::harness::{FROM_VAR, RESET_VAR, WATCH_VAR};
    let dropped: &[&str] = if *next == Next::AsGiven {
        &[WATCH_VAR]
    } else {
        &[WATCH_VAR, RESET_VAR, FROM_VAR]
    };
    env.vars()
        .filter(|(key, _)| !dropped.iter().any(|name| key == name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn a_play_after_a_change_drops_watch_reset_and_from_and_adds_its_own() {
        let given = os(&[
            "audit",
            "--watch",
            "--reset",
            "--from",
            "round 1 a",
            "--exact",
            "--from=x",
        ]);
        assert_eq!(
            child_args(&given, &Next::AsGiven),
            os(&[
                "audit",
                "--reset",
                "--from",
                "round 1 a",
                "--exact",
                "--from=x"
            ])
        );
        assert_eq!(
            child_args(&given, &Next::From("round 2 steps::b".to_owned())),
            os(&["audit", "--exact", "--from", "round 2 steps::b"])
        );
        assert_eq!(
            child_args(&given, &Next::Reset),
            os(&["audit", "--exact", "--reset"])
        );
        assert_eq!(child_args(&given, &Next::Again), os(&["audit", "--exact"]));
    }

    #[test]
    fn a_play_never_inherits_the_watch_and_only_the_first_the_reset() {
        let env = ProcessEnv::from_pairs([
            ("PROMETHEUS_TEST_WATCH", "1"),
            ("PROMETHEUS_TEST_RESET", "1"),
            ("HOME", "/h"),
        ]);
        let names = |next: &Next| -> Vec<String> {
            child_env(&env, next)
                .into_iter()
                .map(|(key, _)| key.to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(names(&Next::AsGiven), ["HOME", "PROMETHEUS_TEST_RESET"]);
        assert_eq!(names(&Next::Again), ["HOME"]);
    }
}
