//! SIGINT/SIGTERM during a run: received by the [`Watchdog`] thread from the
//! start (so no signal is missed between two waits, and none is lost while a
//! step blocks the run's thread) and passed on to the run here.

use tokio::sync::watch;

use super::watchdog::TimeLimit;
use super::watchdog::{StepWatch, Watchdog};
use crate::events::{Events, StepId};
use crate::process::{TerminationSignal, termination_signal};

/// The run's SIGINT/SIGTERM watch, installed once.
pub(super) struct Interrupts {
    seen: watch::Receiver<Option<TerminationSignal>>,
    watchdog: Option<Watchdog>,
}

impl Interrupts {
    /// Starts watching; call inside the run's runtime. The signal handlers
    /// are installed when this returns.
    pub(super) fn install(events: &Events) -> Self {
        let (tx, seen) = watch::channel(None);
        let watchdog = Watchdog::start(tx.clone(), events.clone());
        if watchdog.is_none() {
            let signal = termination_signal();
            tokio::spawn(async move {
                let _ = tx.send(Some(signal.await));
            });
        }
        Self { seen, watchdog }
    }

    /// Resolves once SIGINT or SIGTERM has arrived.
    pub(super) async fn wait(&self) -> TerminationSignal {
        let mut seen = self.seen.clone();
        loop {
            if let Some(signal) = *seen.borrow_and_update() {
                return signal;
            }
            if seen.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }

    /// Notes each step that runs `every`, and each time as long again
    /// (config.yaml `slow_step`; see [`Watchdog`]).
    pub(super) fn note_slow_steps(&self, every: std::time::Duration) {
        if let Some(watchdog) = &self.watchdog {
            watchdog.note_slow_steps(every);
        }
    }

    /// Tells the watchdog which attempt of a step runs until the returned
    /// guard is dropped, and its time limit: a step that blocks its thread
    /// past the limit or a signal ends the run (see [`Watchdog`]).
    pub(super) fn step_started(
        &self,
        step: &StepId,
        name: &str,
        limit: TimeLimit,
    ) -> Option<StepWatch> {
        self.watchdog
            .as_ref()
            .map(|watchdog| watchdog.step_started(step, name, limit))
    }
}
