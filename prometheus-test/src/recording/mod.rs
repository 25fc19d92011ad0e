//! Recording and replay of the workers' calls to the outside world (model
//! APIs, GitHub): a [`Handler`](crate::proxy::Handler) of the proxy that
//! answers from cassettes a reviewer can read, records into them, and tells
//! the harness which requests it could not answer.
//!
//! The harness makes one [`Recording`] per run, gives it to the proxy, and
//! brackets each step instance with [`Recording::begin_step`] and
//! [`Recording::end_step`]; requests outside steps (worker start-up) go to a
//! cassette of their own, reported by [`Recording::take_outside`]. A step
//! fails with [`StepTape::failure`].
//!
//! - Files: see [`layout`]; format: see [`cassette`] and [`entry`].
//! - Matching: see [`matching`]. An entry answers only the worker that
//!   recorded it: workers run concurrently, so identical requests of two
//!   workers would otherwise get each other's answers in whatever order they
//!   came, and a worker sending another's request would go unnoticed.
//! - Secrets: see [`secrets`].

mod bench;
mod cassette;
mod content;
mod entry;
mod handler;
mod headers;
mod layout;
mod matching;
mod options;
mod report;
mod scan;
mod secrets;
mod tape;

#[cfg(test)]
mod tests;

pub use self::bench::BenchProxy;
pub(crate) use self::handler::Recording;
pub(crate) use self::layout::StepKey;
pub(crate) use self::options::Options;
pub(crate) use self::report::StepTape;
