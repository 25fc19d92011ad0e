//! Whole runs in this process through the public [`Suite`] entry: a real
//! config.yaml, workers.json and state file in a temporary folder, steps
//! built here, the exit, the libtest output and the notes compared whole
//! (with a frozen clock, so every measured time shows as zero). Signals,
//! leftover processes and steps that block their thread (which the watchdog
//! ends with `std::process::exit`) are covered by the process-level contract
//! tests.
//!
//! [`Suite`]: prometheus_test::Suite

mod churn;
mod down_behind_the_proxy;
mod fault_reports;
mod faults;
mod http_timeouts;
mod recording;
mod redaction;
mod resume_counts;
mod resumed_seed;
mod rounds;
mod services;
mod setup_failures;
mod snapshots;
mod support;
mod timeouts;
mod venv;
mod worker_links;
