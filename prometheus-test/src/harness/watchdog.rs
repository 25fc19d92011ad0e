//! The watchdog: a thread of its own, with its own small runtime, that
//! receives SIGINT/SIGTERM and watches the running step's `step_timeout`.
//!
//! Steps run on the run's main thread. A step that blocks that thread
//! (`std::thread::sleep`, a blocking call in an async step) stops every
//! reaction there: its timeout never fires, a signal is never seen. The
//! watchdog cannot be blocked by a step: it passes each signal on to the run
//! and, when the running step has not ended [`GRACE`] after a signal or
//! after its deadline, it ends the process itself, naming the step (after a
//! signal with no step running, the run has [`STOP_LIMIT`] to stop). The
//! state file already holds the last completed step (the next run resumes
//! at the blocked one), the run lock goes with the process, and the
//! reaper stops the workers' process groups once the runner is gone.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};

use super::report;
use crate::process::{TerminationSignal, termination_signal};

/// How long the run has to react (end the step) before the watchdog ends the process.
pub(super) const GRACE: Duration = Duration::from_secs(2);
/// How long the run has to stop after a signal when no step runs (stopping
/// the workers and MongoDB takes a few seconds at most); past it, something
/// else blocks the thread (a `post_load` hook, say) and the watchdog ends the process.
const STOP_LIMIT: Duration = Duration::from_secs(30);
/// How often the watchdog looks at the running step.
const TICK: Duration = Duration::from_millis(100);
/// libtest's exit code for a failed run (a step that timed out).
const FAILED: i32 = 101;

/// The watchdog thread's handle; dropping it ends the thread.
pub(super) struct Watchdog {
    watched: Arc<Mutex<Watched>>,
    _stop: oneshot::Sender<()>,
}

/// What the watchdog knows of the run.
#[derive(Default)]
struct Watched {
    /// Counts steps, so a late guard never clears a newer step.
    started: u64,
    step: Option<RunningStep>,
    signal: Option<(TerminationSignal, Instant)>,
}

struct RunningStep {
    id: u64,
    name: String,
    worker: String,
    since: Instant,
    limit: Option<Duration>,
}

/// Why the watchdog ends the process.
#[derive(Debug, PartialEq, Eq)]
enum Blocked {
    Timeout(Duration),
    Signal(TerminationSignal),
}

/// The running step, for the watchdog; dropping it (the step ended, however)
/// tells the watchdog.
#[must_use = "the step counts as running until this is dropped"]
pub(super) struct StepWatch {
    watched: Arc<Mutex<Watched>>,
    id: u64,
}

impl Drop for StepWatch {
    fn drop(&mut self) {
        let mut watched = lock(&self.watched);
        if watched.step.as_ref().is_some_and(|s| s.id == self.id) {
            watched.step = None;
        }
    }
}

impl Watchdog {
    /// Starts the thread; returns once its signal handlers are installed,
    /// with the channel on which it passes signals on. If the thread cannot
    /// start, signals are watched on the run's runtime instead (`None`
    /// watchdog), as before.
    pub(super) fn start(signals: watch::Sender<Option<TerminationSignal>>) -> Option<Self> {
        let watched = Arc::new(Mutex::new(Watched::default()));
        let (stop, stopped) = oneshot::channel();
        let (installed, is_installed) = std::sync::mpsc::channel();
        let shared = watched.clone();
        let spawned = std::thread::Builder::new()
            .name("prometheus-test-watchdog".to_owned())
            .spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    let _ = installed.send(None);
                    return;
                };
                runtime.block_on(watch_run(&shared, &signals, stopped, &installed));
            });
        if spawned.is_err() || !matches!(is_installed.recv(), Ok(Some(()))) {
            return None;
        }
        Some(Self {
            watched,
            _stop: stop,
        })
    }

    /// Tells the watchdog that step `name` on `worker` runs from now, with
    /// its `step_timeout`.
    pub(super) fn step_started(
        &self,
        name: &str,
        worker: &str,
        limit: Option<Duration>,
    ) -> StepWatch {
        let mut watched = lock(&self.watched);
        watched.started += 1;
        let id = watched.started;
        watched.step = Some(RunningStep {
            id,
            name: name.to_owned(),
            worker: worker.to_owned(),
            since: Instant::now(),
            limit,
        });
        StepWatch {
            watched: self.watched.clone(),
            id,
        }
    }
}

async fn watch_run(
    watched: &Mutex<Watched>,
    signals: &watch::Sender<Option<TerminationSignal>>,
    mut stopped: oneshot::Receiver<()>,
    installed: &std::sync::mpsc::Sender<Option<()>>,
) {
    let signal = termination_signal();
    let _ = installed.send(Some(()));
    tokio::pin!(signal);
    let mut signal_seen = false;
    let mut tick = tokio::time::interval(TICK);
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            received = &mut signal, if !signal_seen => {
                signal_seen = true;
                lock(watched).signal = Some((received, Instant::now()));
                let _ = signals.send(Some(received));
            }
            _ = tick.tick() => {
                let verdict = lock(watched).blocked(Instant::now());
                if let Some((message, code)) = verdict {
                    report::note(&format!("error: {message}"));
                    std::process::exit(code);
                }
            }
        }
    }
}

impl Watched {
    /// The message and exit code when the running step has blocked its
    /// thread past a deadline or a signal.
    fn blocked(&self, now: Instant) -> Option<(String, i32)> {
        let Some(step) = self.step.as_ref() else {
            let (signal, at) = self.signal?;
            return (now >= at + STOP_LIMIT).then(|| {
                (
                    format!(
                        "the run did not stop within {STOP_LIMIT:?} after {}: something outside \
                         the steps (a `post_load` hook?) blocked its thread; exiting",
                        signal.name()
                    ),
                    i32::from(signal.exit_code()),
                )
            });
        };
        let blocked = step.blocked(self.signal, now)?;
        let (why, code) = match blocked {
            Blocked::Timeout(limit) => (
                format!(
                    "it ran past its {limit:?} `step_timeout` (config.yaml) and did not yield \
                     within {GRACE:?} after it"
                ),
                FAILED,
            ),
            Blocked::Signal(signal) => (
                format!(
                    "{} arrived and the step did not yield within {GRACE:?}",
                    signal.name()
                ),
                i32::from(signal.exit_code()),
            ),
        };
        let message = format!(
            "step `{}` on {} blocked its thread: {why}. Stopping the workers and exiting; \
             the state keeps the last completed step, so the next run resumes at `{}`. \
             An async step must not block (use tokio::time::sleep, \
             tokio::task::spawn_blocking or async I/O)",
            step.name, step.worker, step.name
        );
        Some((message, code))
    }
}

impl RunningStep {
    fn blocked(
        &self,
        signal: Option<(TerminationSignal, Instant)>,
        now: Instant,
    ) -> Option<Blocked> {
        if let Some((signal, at)) = signal
            && now >= at.max(self.since) + GRACE
        {
            return Some(Blocked::Signal(signal));
        }
        let limit = self.limit?;
        (now >= self.since + limit + GRACE).then_some(Blocked::Timeout(limit))
    }
}

fn lock(watched: &Mutex<Watched>) -> std::sync::MutexGuard<'_, Watched> {
    watched.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(limit: Option<Duration>, since: Instant) -> RunningStep {
        RunningStep {
            id: 1,
            name: "work".to_owned(),
            worker: "worker2".to_owned(),
            since,
            limit,
        }
    }

    #[test]
    fn a_step_is_blocked_only_after_the_grace_past_its_deadline_or_a_signal() {
        let t0 = Instant::now();
        let second = Duration::from_secs(1);
        let timed = step(Some(second), t0);
        assert_eq!(timed.blocked(None, t0 + second), None);
        assert_eq!(
            timed.blocked(None, t0 + second + GRACE.saturating_sub(TICK)),
            None
        );
        assert_eq!(
            timed.blocked(None, t0 + second + GRACE),
            Some(Blocked::Timeout(second))
        );
        let untimed = step(None, t0);
        assert_eq!(untimed.blocked(None, t0 + 1000 * second), None);
        let sigterm = Some((TerminationSignal::Terminate, t0 + second));
        assert_eq!(untimed.blocked(sigterm, t0 + second + TICK), None);
        assert_eq!(
            untimed.blocked(sigterm, t0 + second + GRACE),
            Some(Blocked::Signal(TerminationSignal::Terminate))
        );
        let later = step(None, t0 + 10 * second);
        assert_eq!(
            later.blocked(sigterm, t0 + 10 * second + TICK),
            None,
            "a step that starts after the signal gets its own grace"
        );
    }

    #[test]
    fn the_message_names_the_step_its_worker_and_the_cause() {
        let t0 = Instant::now();
        let watched = Watched {
            started: 1,
            step: Some(step(None, t0)),
            signal: Some((TerminationSignal::Interrupt, t0)),
        };
        let (message, code) = watched.blocked(t0 + GRACE).unwrap();
        assert_eq!(code, 130);
        assert!(
            message.starts_with("step `work` on worker2 blocked its thread: SIGINT arrived"),
            "{message}"
        );
        assert!(message.contains("resumes at `work`"), "{message}");
        let idle = Watched {
            step: None,
            ..watched
        };
        assert!(
            idle.blocked(t0 + STOP_LIMIT.saturating_sub(TICK)).is_none(),
            "without a step, the run has longer to stop"
        );
        let (message, code) = idle.blocked(t0 + STOP_LIMIT).unwrap();
        assert_eq!(code, 130);
        assert!(
            message.starts_with("the run did not stop within 30s after SIGINT"),
            "{message}"
        );
        let quiet = Watched {
            signal: None,
            ..idle
        };
        assert!(
            quiet.blocked(t0 + 100 * STOP_LIMIT).is_none(),
            "no signal, nothing to stop"
        );
    }

    #[tokio::test]
    async fn a_finished_step_is_forgotten_and_a_late_guard_keeps_the_newer_step() {
        let (tx, _rx) = watch::channel(None);
        let watchdog = Watchdog::start(tx).expect("the watchdog starts");
        let first = watchdog.step_started("a", "worker1", None);
        let second = watchdog.step_started("b", "worker1", None);
        drop(first);
        assert_eq!(
            lock(&watchdog.watched)
                .step
                .as_ref()
                .map(|s| s.name.clone()),
            Some("b".to_owned())
        );
        drop(second);
        assert!(lock(&watchdog.watched).step.is_none());
    }
}
