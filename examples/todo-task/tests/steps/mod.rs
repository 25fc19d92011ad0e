//! The steps of one round, in order (the number is the step's `order`):
//!
//! 1. `auth`: worker3's server refuses forged or misdirected requests.
//! 2-4. `task`: each worker claims the oldest todo it has not done and hashes it.
//! 5-7. `submission`: each worker submits that work; the runner keeps it.
//! 8-11. `audit`: each worker audits the peer named in workers.json; worker1
//!    also sees a forged submission fail.
//! 12. `checks`: the audits collection holds exactly those verdicts.
//!
//! Rounds = todos + 1: every worker does one todo per round, so in the last
//! round the queue is empty and the task, submission and audit steps skip.
//! `seed` holds the post-load hook that prepares the imported fixtures.

mod api;
mod audit;
mod auth;
mod checks;
mod db;
pub(crate) mod seed;
mod submission;
mod task;

/// The workers of workers.json.
const WORKERS: [&str; 3] = ["worker1", "worker2", "worker3"];
