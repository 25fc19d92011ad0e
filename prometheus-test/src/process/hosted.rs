//! Members a keeper runs: a long-lived process of the suite (see
//! [`crate::keeper`]) spawns them and keeps them up after the run that asked
//! for them is gone, so the next run finds them warm.
//!
//! The fleet sees such a member as it sees its own process: a process group
//! it signals, two pipes it reads and an exit it awaits. Only the spawn goes
//! through the [`Host`], which starts the process, or hands over the one it
//! already runs when nothing about it changed.

use std::fmt::Debug;
use std::os::fd::OwnedFd;

use futures_util::future::BoxFuture;
use tokio::sync::watch;

use super::exit::WorkerExit;
use super::spec::LaunchSpec;

/// What spawns a fleet's process members instead of the fleet.
pub(crate) trait Host: Debug + Send + Sync {
    /// Starts `spec`'s process, or hands over the running one when `spec`
    /// and the program it runs are unchanged since it started.
    fn spawn<'a>(&'a self, spec: &'a LaunchSpec) -> BoxFuture<'a, anyhow::Result<HostedProcess>>;
}

/// A process a [`Host`] runs for the fleet.
#[derive(Debug)]
pub(crate) struct HostedProcess {
    /// The leader's PID, which is also its process group's id.
    pub(crate) pid: u32,
    /// The read ends of what it prints from now on.
    pub(crate) stdout: OwnedFd,
    pub(crate) stderr: OwnedFd,
    /// `Some(exit)` once the leader exited.
    pub(crate) exit: watch::Receiver<Option<WorkerExit>>,
}
