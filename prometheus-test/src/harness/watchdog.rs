//! The watchdog: a thread of its own, with its own small runtime, that
//! receives SIGINT/SIGTERM, watches the running attempt's time limit, and
//! notes a step that runs long (config.yaml `slow_step`, every 60 s by
//! default: "step `submit` on worker2 in round 3 is still running after
//! 60s"), as cargo-nextest's slow-timeout does, without ending it.
//!
//! Steps run on the run's main thread. A step that blocks that thread
//! (`std::thread::sleep`, a blocking call in an async step) stops every
//! reaction there: its timeout never fires, a signal is never seen. The
//! watchdog cannot be blocked by a step: it passes each signal on to the run
//! and, when the running step has not ended [`GRACE`] after a signal or
//! after its deadline, it ends the run itself: it reports the step as
//! failed, finishes the run on the event stream (so the reports are written
//! and the summary printed) and ends the process (after a signal with no
//! step running, the run has [`STOP_LIMIT`] to stop). The state file already
//! holds the last completed step (the next run resumes at the blocked one),
//! the run lock goes with the process, and the reaper stops the workers'
//! process groups once the runner is gone.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};

use crate::Exit;
use crate::config::Config;
use crate::events::{Event, Events, Outcome, StepFinished, StepId};
use crate::process::{TerminationSignal, termination_signal};

/// An attempt's time limit: the step's `timeout`, else `step_timeout`, with
/// where it was set.
pub(super) type TimeLimit = Option<(Duration, String)>;

/// How long the run has to react (end the step) before the watchdog ends the process.
pub(super) const GRACE: Duration = Duration::from_secs(2);
/// How long the run has to stop after a signal when no step runs (stopping
/// the workers and MongoDB takes a few seconds at most); past it, something
/// else blocks the thread (a `post_load` hook, say) and the watchdog ends the process.
const STOP_LIMIT: Duration = Duration::from_secs(30);
/// How often the watchdog looks at the running step.
const TICK: Duration = Duration::from_millis(100);

/// The watchdog thread's handle; dropping it ends the thread.
pub(super) struct Watchdog {
    watched: Arc<Mutex<Watched>>,
    _stop: oneshot::Sender<()>,
}

/// What the watchdog knows of the run.
struct Watched {
    /// Counts steps, so a late guard never clears a newer step.
    started: u64,
    step: Option<RunningStep>,
    signal: Option<(TerminationSignal, Instant)>,
    /// A step running this long, and each time as long again, is noted.
    slow_step: Duration,
}

impl Default for Watched {
    fn default() -> Self {
        Self {
            started: 0,
            step: None,
            signal: None,
            slow_step: Config::DEFAULT_SLOW_STEP,
        }
    }
}

struct RunningStep {
    id: u64,
    step: StepId,
    /// The step's name in the state file and its messages.
    name: String,
    since: Instant,
    limit: TimeLimit,
    /// How many `slow_step`s it had run at its last "still running" note.
    noted_slow: u32,
}

/// Why the watchdog ends the process.
#[derive(Debug, PartialEq, Eq)]
enum Blocked {
    Timeout(Duration, String),
    Signal(TerminationSignal),
}

/// How the watchdog ends a blocked run: the message, the exit, and the step
/// it reports as failed (none when no step ran).
#[derive(Debug)]
struct Ending {
    message: String,
    exit: Exit,
    step: Option<(StepId, Duration)>,
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
    pub(super) fn start(
        signals: watch::Sender<Option<TerminationSignal>>,
        events: Events,
    ) -> Option<Self> {
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
                runtime.block_on(watch_run(&shared, &signals, stopped, &installed, &events));
            });
        if spawned.is_err() || !matches!(is_installed.recv(), Ok(Some(()))) {
            return None;
        }
        Some(Self {
            watched,
            _stop: stop,
        })
    }

    /// Tells the watchdog that an attempt of `step` runs from now, with its
    /// time limit.
    pub(super) fn step_started(&self, step: &StepId, name: &str, limit: TimeLimit) -> StepWatch {
        let mut watched = lock(&self.watched);
        watched.started += 1;
        let id = watched.started;
        watched.step = Some(RunningStep {
            id,
            step: step.clone(),
            name: name.to_owned(),
            since: Instant::now(),
            limit,
            noted_slow: 0,
        });
        StepWatch {
            watched: self.watched.clone(),
            id,
        }
    }

    /// Notes each step that runs `every` (config.yaml `slow_step`), and each
    /// time as long again.
    pub(super) fn note_slow_steps(&self, every: Duration) {
        lock(&self.watched).slow_step = every;
    }
}

async fn watch_run(
    watched: &Mutex<Watched>,
    signals: &watch::Sender<Option<TerminationSignal>>,
    mut stopped: oneshot::Receiver<()>,
    installed: &std::sync::mpsc::Sender<Option<()>>,
    events: &Events,
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
                let now = Instant::now();
                let (ending, slow) = {
                    let mut watched = lock(watched);
                    (watched.blocked(now), watched.slow_note(now))
                };
                if let Some(note) = slow {
                    events.note(note);
                }
                if let Some(ending) = ending {
                    end_run(events, ending);
                }
            }
        }
    }
}

/// Ends the run of a blocked step: the step fails with `ending`'s message,
/// the run finishes on the event stream (the reports are written and the
/// summary printed) and the process exits.
fn end_run(events: &Events, ending: Ending) -> ! {
    match ending.step {
        Some((step, elapsed)) => events.emit(&Event::StepFinished(StepFinished {
            step,
            outcome: Outcome::failed(ending.message),
            elapsed,
            logs: Vec::new(),
        })),
        None => events.note(format!("error: {}", ending.message)),
    }
    events.emit(&Event::RunFinished(ending.exit));
    std::process::exit(i32::from(ending.exit.code()));
}

impl Watched {
    /// How to end the run when the running step has blocked its thread past
    /// a deadline or a signal.
    fn blocked(&self, now: Instant) -> Option<Ending> {
        let Some(running) = self.step.as_ref() else {
            let (signal, at) = self.signal?;
            return (now >= at + STOP_LIMIT).then(|| Ending {
                message: format!(
                    "the run did not stop within {STOP_LIMIT:?} after {}: something outside \
                     the steps (a `post_load` hook?) blocked its thread; exiting",
                    signal.name()
                ),
                exit: signal.exit(),
                step: None,
            });
        };
        let blocked = running.blocked(self.signal, now)?;
        let (why, exit) = match blocked {
            Blocked::Timeout(limit, source) => (
                format!(
                    "it ran past its {limit:?} limit ({source}) and did not yield within \
                     {GRACE:?} after it"
                ),
                Exit::Failed,
            ),
            Blocked::Signal(signal) => (
                format!(
                    "{} arrived and the step did not yield within {GRACE:?}",
                    signal.name()
                ),
                signal.exit(),
            ),
        };
        let name = &running.name;
        let message = format!(
            "step `{name}` on {} blocked its thread: {why}. Stopping the workers and exiting; \
             the state keeps the last completed step, so the next run resumes at `{name}`. \
             An async step must not block (use tokio::time::sleep, \
             tokio::task::spawn_blocking or async I/O)",
            running.step.worker,
        );
        Some(Ending {
            message,
            exit,
            step: Some((running.step.clone(), now.duration_since(running.since))),
        })
    }
}

impl Watched {
    /// "step `name` on worker in round N is still running after 60s" once
    /// the running step has run another `slow_step` since its last note.
    fn slow_note(&mut self, now: Instant) -> Option<String> {
        let running = self.step.as_mut()?;
        let every = self.slow_step.as_nanos();
        let ran = now.duration_since(running.since).as_nanos();
        let times = u32::try_from(ran.checked_div(every)?).unwrap_or(u32::MAX);
        if times <= running.noted_slow {
            return None;
        }
        running.noted_slow = times;
        let StepId { round, worker, .. } = &running.step;
        Some(format!(
            "step `{}` on {worker} in round {round} is still running after {:?}",
            running.name,
            self.slow_step.saturating_mul(times)
        ))
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
        let (limit, source) = self.limit.as_ref()?;
        (now >= self.since + *limit + GRACE).then(|| Blocked::Timeout(*limit, source.clone()))
    }
}

fn lock(watched: &Mutex<Watched>) -> std::sync::MutexGuard<'_, Watched> {
    watched.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::testing::Collect;

    fn step_id() -> StepId {
        StepId {
            name: "work".to_owned(),
            round: 2,
            worker: "worker2".to_owned(),
        }
    }

    fn step(limit: Option<Duration>, since: Instant) -> RunningStep {
        RunningStep {
            id: 1,
            step: step_id(),
            name: "work".to_owned(),
            since,
            limit: limit.map(|limit| (limit, "its `timeout`".to_owned())),
            noted_slow: 0,
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
            Some(Blocked::Timeout(second, "its `timeout`".to_owned()))
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
    fn a_timeout_names_the_attempts_own_limit_and_where_it_was_set() {
        let t0 = Instant::now();
        let watched = Watched {
            started: 1,
            step: Some(step(Some(Duration::from_secs(5)), t0)),
            signal: None,
            ..Watched::default()
        };
        assert!(watched.blocked(t0 + Duration::from_secs(6)).is_none());
        let ending = watched.blocked(t0 + Duration::from_secs(7)).unwrap();
        assert_eq!(ending.exit, Exit::Failed);
        assert_eq!(
            ending.message,
            "step `work` on worker2 blocked its thread: it ran past its 5s limit (its `timeout`) \
             and did not yield within 2s after it. Stopping the workers and exiting; the state \
             keeps the last completed step, so the next run resumes at `work`. An async step \
             must not block (use tokio::time::sleep, tokio::task::spawn_blocking or async I/O)"
        );
        assert_eq!(
            ending.step,
            Some((step_id(), Duration::from_secs(7))),
            "the blocked step is the one reported as failed"
        );
    }

    #[test]
    fn a_signal_ends_a_blocked_step_or_an_idle_run_with_the_signals_exit() {
        let t0 = Instant::now();
        let watched = Watched {
            started: 1,
            step: Some(step(None, t0)),
            signal: Some((TerminationSignal::Interrupt, t0)),
            ..Watched::default()
        };
        let ending = watched.blocked(t0 + GRACE).unwrap();
        assert_eq!(ending.exit, Exit::Interrupted);
        assert_eq!(
            ending.message,
            "step `work` on worker2 blocked its thread: SIGINT arrived and the step did not yield \
             within 2s. Stopping the workers and exiting; the state keeps the last completed \
             step, so the next run resumes at `work`. An async step must not block (use \
             tokio::time::sleep, tokio::task::spawn_blocking or async I/O)"
        );
        let idle = Watched {
            step: None,
            ..watched
        };
        assert!(
            idle.blocked(t0 + STOP_LIMIT.saturating_sub(TICK)).is_none(),
            "without a step, the run has longer to stop"
        );
        let ending = idle.blocked(t0 + STOP_LIMIT).unwrap();
        assert_eq!(ending.exit, Exit::Interrupted);
        assert_eq!(ending.step, None);
        assert_eq!(
            ending.message,
            "the run did not stop within 30s after SIGINT: something outside the steps \
             (a `post_load` hook?) blocked its thread; exiting"
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

    #[test]
    fn a_long_step_is_noted_each_slow_step_and_not_ended() {
        let t0 = Instant::now();
        let second = Duration::from_secs(1);
        let mut watched = Watched {
            step: Some(step(None, t0)),
            slow_step: second,
            ..Watched::default()
        };
        let notes: Vec<Option<String>> = [900, 1000, 1500, 3200, 3300]
            .map(|ms| watched.slow_note(t0 + Duration::from_millis(ms)))
            .into();
        let still = |after: &str| {
            Some(format!(
                "step `work` on worker2 in round 2 is still running after {after}"
            ))
        };
        assert_eq!(
            notes,
            [None, still("1s"), None, still("3s"), None],
            "a note when each second is up; a late look notes the last one up"
        );
        assert!(watched.blocked(t0 + 1000 * second).is_none());
        watched.step = None;
        assert_eq!(watched.slow_note(t0 + 10 * second), None);
    }

    #[test]
    fn the_watchdog_thread_notes_a_slow_step_on_the_event_stream() {
        let (tx, _rx) = watch::channel(None);
        let collected = Collect::default();
        let watchdog =
            Watchdog::start(tx, Events::new(Box::new(collected.clone()))).expect("it starts");
        watchdog.note_slow_steps(Duration::from_millis(500));
        let running = watchdog.step_started(&step_id(), "work", None);
        let waited = Instant::now();
        while collected.0.lock().unwrap().is_empty() && waited.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(TICK);
        }
        drop(running);
        let notes: Vec<String> = collected
            .0
            .lock()
            .unwrap()
            .iter()
            .map(|event| match event {
                Event::Note(text) => text.clone(),
                other => panic!("not a note: {other:?}"),
            })
            .collect();
        assert_eq!(
            notes,
            ["step `work` on worker2 in round 2 is still running after 500ms"]
        );
    }

    #[tokio::test]
    async fn a_finished_step_is_forgotten_and_a_late_guard_keeps_the_newer_step() {
        let (tx, _rx) = watch::channel(None);
        let events = Events::new(Box::new(Collect::default()));
        let watchdog = Watchdog::start(tx, events).expect("the watchdog starts");
        let (a, b) = (
            StepId {
                name: "a".to_owned(),
                ..step_id()
            },
            StepId {
                name: "b".to_owned(),
                ..step_id()
            },
        );
        let first = watchdog.step_started(&a, "a", None);
        let second = watchdog.step_started(&b, "b", None);
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
