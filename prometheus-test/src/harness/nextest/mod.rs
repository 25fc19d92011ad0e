//! Under cargo-nextest: one process per test, one play of the suite.
//!
//! nextest lists the steps (`--list`, unchanged and side-effect free), then
//! starts one process per step instance (`--exact NAME --nocapture`), in
//! parallel and in an order of its own. The suite must still play once, in
//! plan order, against one set of workers and one database. So:
//!
//! - the first test process of a nextest run asks nextest which of the
//!   binary's tests the run selected ([`selected`]) and starts the run's
//!   *coordinator* ([`start`]): the same binary, in its own process group,
//!   its output in a log file, playing what a plain `cargo test` of those
//!   tests (`--exact`, none when all are selected) plays ([`coordinator`]),
//!   with one more writer ([`results`]) that keeps every step's outcome in a
//!   results file;
//! - every test process ([`wait`]) polls that file until its own step is done
//!   in every round, or the run stopped, prints its step's lines
//!   ([`verdict`]) and exits with its step's verdict.
//!
//! [`detect`] tells the three roles apart from the environment. The
//! coordinator follows nextest's process ([`watch`]): when nextest is gone,
//! the run stops as on SIGTERM.
//!
//! Every file lives in `data_dir/.nextest/`: `<run>.json` (the results),
//! `<run>.log` (the coordinator's output), `start.lock` (held while a test
//! process checks for or starts the coordinator; it names the last run and
//! its coordinator's PID) and `coordinator.lock` (held by the live
//! coordinator for its whole life).

mod coordinator;
mod detect;
mod folder;
mod results;
mod selected;
mod start;
mod verdict;
mod wait;
mod watch;

pub(crate) use self::detect::Role;
