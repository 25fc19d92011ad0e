//! What wakes the watch loop, each from a thread of its own: changed files,
//! runs that detached from the keeper, the play's run exiting, `q` or `r`
//! on stdin, SIGINT and SIGTERM.

use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::mpsc::{Receiver, Sender};

use crate::keeper::host::Attachment;
use crate::process::TerminationSignal;

/// What wakes the loop.
pub(super) enum Wake {
    Changed(PathBuf),
    Quit(Quit),
    /// `r` + Enter: start every process again and play again.
    Restart,
    Attached(Attachment),
    /// The run of a play (its PID) exited.
    ChildExited(u32, std::io::Result<ExitStatus>),
}

/// Why the loop stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Quit {
    /// `q` + Enter.
    Asked,
    Signal(TerminationSignal),
    /// The process that started the loop (its PID) is gone.
    ParentGone(u32),
}

impl Quit {
    /// How the loop exits.
    pub(super) fn exit(self) -> crate::Exit {
        match self {
            Self::Asked => crate::Exit::Passed,
            Self::Signal(signal) => signal.exit(),
            Self::ParentGone(_) => crate::Exit::Terminated,
        }
    }
}

/// Sends what `from` receives to `to`, as `wrap` makes it.
pub(super) fn forward<T: Send + 'static>(from: Receiver<T>, to: Sender<Wake>, wrap: fn(T) -> Wake) {
    let _ = std::thread::Builder::new()
        .name("prometheus-test-watch-forward".to_owned())
        .spawn(move || {
            for item in from {
                if to.send(wrap(item)).is_err() {
                    return;
                }
            }
        });
}

/// `q` + Enter on stdin stops the loop (an empty or closed stdin does not);
/// `r` + Enter starts every process again and plays again.
pub(super) fn read_stdin(to: Sender<Wake>) {
    let _ = std::thread::Builder::new()
        .name("prometheus-test-watch-stdin".to_owned())
        .spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { return };
                let wake = match line.trim() {
                    "q" | "quit" => Wake::Quit(Quit::Asked),
                    "r" | "restart" => Wake::Restart,
                    _ => continue,
                };
                if to.send(wake).is_err() {
                    return;
                }
            }
        });
}

/// SIGINT and SIGTERM wake the loop (on `runtime`) instead of killing it.
pub(super) fn on_signal(runtime: &tokio::runtime::Runtime, to: Sender<Wake>) {
    runtime.spawn(async move {
        let signal = crate::process::termination_signal().await;
        let _ = to.send(Wake::Quit(Quit::Signal(signal)));
    });
}

/// How often the loop looks at its parent.
const PARENT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// The loop stops as on SIGTERM once the process that started it (cargo)
/// is gone, killed or not: this process is then another's child.
pub(super) fn on_parent_gone(to: Sender<Wake>) {
    let parent = std::os::unix::process::parent_id();
    let _ = std::thread::Builder::new()
        .name("prometheus-test-watch-parent".to_owned())
        .spawn(move || {
            while std::os::unix::process::parent_id() == parent {
                std::thread::sleep(PARENT_EVERY);
            }
            let _ = to.send(Wake::Quit(Quit::ParentGone(parent)));
        });
}
