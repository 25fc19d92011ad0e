//! The steps of one round, in the order they run (their `order` in brackets):
//!
//! - `auth` (1): worker3's server refuses forged or misdirected requests.
//! - `task` (2-4): each worker claims the oldest todo it has not done and hashes it.
//! - `submission` (5-7): each worker submits that work; the runner keeps it.
//! - `audit` (8-11): each worker audits the peer named in workers.json, and
//!   worker1 sees a forged submission fail.
//! - `checks` (12): the audits collection holds exactly those verdicts.
//! - `report` (13): worker1's round report, computed in the background, is
//!   polled for and matches its submission.
//!
//! Rounds = todos + 1: every worker does one todo per round, so in the last
//! round the queue is empty and the task, submission and audit steps skip.
//! `seed` holds the post-load hook that prepares the imported fixtures.

mod api;
mod audit;
mod auth;
mod checks;
mod db;
mod report;
pub(crate) mod seed;
mod submission;
mod task;

/// The workers of workers.json.
const WORKERS: [&str; 3] = ["worker1", "worker2", "worker3"];
