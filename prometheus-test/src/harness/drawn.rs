//! A worker's fault the schedule draws for a step attempt, applied through
//! the churn control as a step's own `kill`, `pause` or `restart` would be.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::churn::{Action, Churn};
use crate::events::Events;
use crate::faults::schedule::ChurnFault;

/// Applies `fault` to `worker`: a crash kills it (nothing starts it
/// again), a pause resumes it `ms` later while the step runs (the returned
/// task, which the attempt waits for before it ends, so that no step ends
/// with a worker paused by a fault), a restart stops and starts it. One that
/// cannot be applied (an external worker, one already down) is a warning:
/// the step runs on.
pub(super) async fn apply(
    churn: &Arc<Churn>,
    worker: &str,
    fault: ChurnFault,
    events: &Events,
) -> Option<JoinHandle<()>> {
    let applied = match fault {
        ChurnFault::Crash => churn.apply(worker, Action::Kill).await.map(|()| None),
        ChurnFault::Restart => churn.apply(worker, Action::Restart).await.map(|()| None),
        ChurnFault::Pause { ms } => churn.apply(worker, Action::Pause).await.map(|()| {
            let churn = Arc::clone(churn);
            let worker = worker.to_owned();
            Some(tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                // A worker the step stopped meanwhile stays as it left it.
                let _ = churn.apply(&worker, Action::Resume).await;
            }))
        }),
    };
    applied.unwrap_or_else(|err| {
        events.note(format!(
            "warning: faults: the drawn {fault} of {worker} was not applied: {err:#}"
        ));
        None
    })
}
