//! Worker processes: parallel start with readiness, captured logs, crash
//! detection and cleanup that leaves no process behind.
//!
//! (Skeleton: the process helper fills this module in.)
