//! The keeper: a long-lived process that keeps a suite's world up between
//! runs, for the edit loop (`--watch`, and the IDE's run button while one
//! is up).
//!
//! - The keeper of a data folder listens on a socket named after it
//!   ([`address`]); a second keeper of the same folder is refused.
//! - It runs the suite's `mongod` when the suite has no server of its own,
//!   and every process member (services and workers) a run asks for
//!   ([`host`]): a run attached to it ([`client`]) plays as any run, but its
//!   process members are the keeper's, handed over warm when nothing about
//!   them changed, and left running when the run ends.
//! - What the two say is in [`protocol`]; an attached run reports what it
//!   played ([`report`]) so the watch loop ([`watch`]) knows where to rewind
//!   to on the next change.

mod address;
mod client;
mod host;
mod protocol;
mod report;
pub(crate) mod watch;

pub(crate) use self::client::Link;
pub(crate) use self::protocol::StepSource;
pub(crate) use self::report::Reporting;
