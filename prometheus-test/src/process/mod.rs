//! Worker processes: parallel start with readiness, captured logs, crash
//! detection and cleanup that leaves no process behind, even when the runner
//! itself is killed.
//!
//! Every child runs in its own process group (so a terminal Ctrl-C reaches the
//! runner only, and stopping a group also stops what the child forked) and is
//! registered with a reaper helper that kills the groups if the runner dies.

mod build;
mod container;
mod exit;
mod fleet;
mod guard;
mod hosted;
mod line;
mod logs;
mod member;
mod port;
mod ready;
mod reaper;
mod signals;
mod spawn;
mod spec;

#[cfg(test)]
mod tests;

pub(crate) use build::Built;
pub(crate) use container::{Engine, RUN_LABEL, SUITE_LABEL, WORKER_LABEL};
pub(crate) use exit::WorkerExit;
pub use fleet::Fleet;
pub(crate) use guard::{signal_group, spawn_guarded, stop_group, stop_guarded};
pub(crate) use hosted::{Host, HostedProcess};
pub(crate) use line::{LogLine, Stream};
pub(crate) use logs::LineFilter;
pub use logs::LogMode;
pub(crate) use member::{Life, StopHow};
pub(crate) use port::check_free as check_ports_free;
pub use port::free_port;
pub(crate) use reaper::forget as forget_group;
pub(crate) use signals::{TerminationSignal, termination_signal};
pub use spec::{ContainerSpec, LaunchSpec};
