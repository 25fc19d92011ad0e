//! SIGINT/SIGTERM during a run: received by the [`Watchdog`] thread from the
//! start (so no signal is missed between two waits, and none is lost while a
//! step blocks the run's thread) and passed on to the run here.

use std::time::Duration;

use tokio::sync::watch;

use super::watchdog::{StepWatch, Watchdog};
use crate::process::{TerminationSignal, termination_signal};

/// The run's SIGINT/SIGTERM watch, installed once.
pub(super) struct Interrupts {
    seen: watch::Receiver<Option<TerminationSignal>>,
    watchdog: Option<Watchdog>,
}

impl Interrupts {
    /// Starts watching; call inside the run's runtime. The signal handlers
    /// are installed when this returns.
    pub(super) fn install() -> Self {
        let (tx, seen) = watch::channel(None);
        let watchdog = Watchdog::start(tx.clone());
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

    /// Tells the watchdog which step runs until the returned guard is
    /// dropped, and its `step_timeout`: a step that blocks its thread past
    /// the timeout or a signal ends the process (see [`Watchdog`]).
    pub(super) fn step_started(
        &self,
        name: &str,
        worker: &str,
        limit: Option<Duration>,
    ) -> Option<StepWatch> {
        self.watchdog
            .as_ref()
            .map(|watchdog| watchdog.step_started(name, worker, limit))
    }
}
