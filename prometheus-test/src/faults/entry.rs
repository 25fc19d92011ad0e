//! One fault of a run as `faults.jsonl`, the event stream and the reports
//! record it: what was faulted, where, and how a faulted request ended.

use serde::{Deserialize, Serialize};

/// One line of the history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub(crate) round: u32,
    pub(crate) step: String,
    /// The step's attempt, written when it is a retry.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) attempt: u32,
    /// The link of a request's fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) link: Option<String>,
    /// The worker of a worker's fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) worker: Option<String>,
    /// The request's place on its link in the step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) n: Option<u64>,
    /// `GET /path`: the method and the URL's path, never its query (where
    /// keys are sometimes sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) request: Option<String>,
    /// `reset`, `latency 230ms`, `error 503`, `crash`, …
    pub(crate) fault: String,
    /// `script` for a fault a step set; the schedule's otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) by: Option<String>,
    /// How the faulted request ended: `reset`, `hung`, `responded 503`,
    /// `forwarded 200`, `forwarded, failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) outcome: Option<String>,
    /// Milliseconds since the history was opened (in the run record:
    /// since the run's start, as its other times).
    pub(crate) at_ms: u64,
}

impl std::fmt::Display for Entry {
    /// The fault as the reports list it: `runner->worker2 POST /audit/2
    /// reset, ended reset`, `worker3 crash`, `(scripted)` after a fault a
    /// step set.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let place = self.link.as_deref().or(self.worker.as_deref());
        if let Some(place) = place {
            write!(f, "{place} ")?;
        }
        if let Some(request) = &self.request {
            write!(f, "{request} ")?;
        }
        f.write_str(&self.fault)?;
        if self.by.as_deref() == Some("script") {
            f.write_str(" (scripted)")?;
        }
        if let Some(outcome) = &self.outcome {
            write!(f, ", ended {outcome}")?;
        }
        Ok(())
    }
}

#[expect(clippy::trivially_copy_pass_by_ref, reason = "serde's signature")]
fn is_zero(value: &u32) -> bool {
    *value == 0
}
