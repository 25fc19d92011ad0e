//! The steps of one round, in the order they run (their `order` in brackets):
//!
//! - `auth` (1): worker3's server refuses forged or misdirected requests.
//! - `task` (2): each worker of workers.json, in file order, claims the oldest
//!   todo it has not done and hashes it (`workers = "*"`: one step per worker).
//! - `churn` (3): in config.yaml's `churn_round`, worker3 goes away before
//!   it submits.
//! - `submission` (4): each worker submits that work; the runner keeps it.
//! - `audit` (5-6): worker2, worker3, then worker1 audit the peer named by
//!   their `audits` field in workers.json, and worker1 sees a forged
//!   submission fail.
//! - `churn` (7): worker3 comes back after the audits, with its
//!   `DATABASE_PATH` state intact; its missing submission got no verdict.
//! - `checks` (8): the audits collection holds exactly those verdicts.
//! - `report` (9): worker1's round report, computed in the background, is
//!   polled for and matches its submission.
//! - `receipt` (10): worker1 acknowledges its round once, in MongoDB and in
//!   its `DATABASE_PATH` file (the step that shows resuming in the world a
//!   failed step started in).
//! - `middle` (11): the middle server (config.yaml `services`) holds each
//!   worker's submission of the round.
//!
//! Rounds = todos + 1: every worker does one todo per round, so in the last
//! round the queue is empty and the task, submission and audit steps skip.
//! `seed` holds the post-load hook that prepares the imported fixtures.

mod api;
mod audit;
mod auth;
mod checks;
mod churn;
mod db;
mod middle;
mod receipt;
mod report;
pub(crate) mod seed;
mod submission;
mod task;
