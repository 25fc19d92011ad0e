//! SIGINT/SIGTERM during a run: watched from the start, so no signal is
//! missed between two waits.

use tokio::sync::watch;

use crate::process::{TerminationSignal, termination_signal};

/// The run's SIGINT/SIGTERM watch, installed once.
pub(super) struct Interrupts {
    seen: watch::Receiver<Option<TerminationSignal>>,
}

impl Interrupts {
    /// Starts watching; call inside the run's runtime.
    pub(super) fn install() -> Self {
        let (tx, seen) = watch::channel(None);
        let signal = termination_signal();
        tokio::spawn(async move {
            let _ = tx.send(Some(signal.await));
        });
        Self { seen }
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
}
