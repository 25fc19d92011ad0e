//! The runner's own termination signals: Ctrl-C (SIGINT) and SIGTERM.

use std::future::Future;

use tokio::signal::unix::{SignalKind, signal};

/// A signal asking the runner to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TerminationSignal {
    /// SIGINT, e.g. Ctrl-C in a terminal.
    Interrupt,
    /// SIGTERM, e.g. from CI cancelling the job.
    Terminate,
}

impl TerminationSignal {
    /// How a run stopped by this signal exits (128 + the signal's number).
    pub(crate) fn exit(self) -> crate::Exit {
        match self {
            Self::Interrupt => crate::Exit::Interrupted,
            Self::Terminate => crate::Exit::Terminated,
        }
    }

    /// `SIGINT` or `SIGTERM`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Interrupt => "SIGINT",
            Self::Terminate => "SIGTERM",
        }
    }
}

/// Resolves on SIGINT or SIGTERM, returning which one.
///
/// The handlers are installed when this is called (inside a tokio runtime),
/// not when first polled, and stay installed for the life of the process: from
/// then on these signals no longer kill the runner, so keep a future from this
/// function alive wherever the runner must react to them. If the handlers cannot
/// be installed, the future never resolves and the signals keep their default action.
pub(crate) fn termination_signal() -> impl Future<Output = TerminationSignal> + Send {
    let handlers = signal(SignalKind::interrupt()).and_then(|interrupt| {
        signal(SignalKind::terminate()).map(|terminate| (interrupt, terminate))
    });
    async move {
        let Ok((mut interrupt, mut terminate)) = handlers else {
            return std::future::pending().await;
        };
        tokio::select! {
            _ = interrupt.recv() => TerminationSignal::Interrupt,
            _ = terminate.recv() => TerminationSignal::Terminate,
        }
    }
}
