//! Where a snapshot was taken: the step instance it was taken before.

use std::fmt;

/// Where a snapshot was taken: before step instance `index` (0-based position
/// in the suite's step order, counting each worker instance of a multi-worker
/// step) of `round`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Point {
    pub(crate) round: u32,
    pub(crate) index: usize,
    /// The step's test name, like `steps::audit::audits_its_peer`.
    pub(crate) step: String,
    pub(crate) worker: Option<String>,
}

impl fmt::Display for Point {
    /// `round 2 steps::audit::audits_its_peer[worker3]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "round {} {}", self.round, self.step)?;
        match &self.worker {
            Some(worker) => write!(f, "[{worker}]"),
            None => Ok(()),
        }
    }
}
