//! What happened during a run, as plain data, and the writers that show it.
//!
//! The harness fills a [`model::RunRecord`] through a [`recorder::Recorder`]
//! while a run plays: every text that enters the record (URLs, headers,
//! bodies, log lines, error messages) goes through the run's
//! [`redact::Redactor`] first, so the record never holds a secret. The
//! writers are pure functions of the record: [`excerpt::failure_excerpt`]
//! (terminal output under a failed step), [`junit::write`] (`JUnit` XML),
//! [`html::render_with_detail_in`] (one HTML file) and
//! [`events::exchange_event`] (a libtest-JSON-style event line). A long
//! run's older rounds keep their exchanges and log lines in files
//! ([`detail`]) rather than in memory.

pub(crate) mod body;
pub(crate) mod detail;
pub(crate) mod events;
pub(crate) mod excerpt;
#[cfg(test)]
mod golden;
pub(crate) mod html;
pub(crate) mod junit;
pub(crate) mod model;
mod outcome;
pub(crate) mod recorder;
pub(crate) mod redact;
#[cfg(test)]
mod redaction_tests;
#[cfg(test)]
pub(crate) mod sample;
pub(crate) mod secrets;
pub(crate) mod shared;
pub(crate) mod signatures;
pub(crate) mod text;
pub(crate) mod view;
