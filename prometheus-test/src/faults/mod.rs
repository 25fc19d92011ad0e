//! Faults drawn from one seed: slow, broken and partitioned links, crashed
//! and paused workers, the same at the same places in every run with the
//! same seed (and code).
//!
//! - [`mix`] holds the one function every draw comes from, pinned by its tests;
//! - [`seed`] reads `--seed N` or `PROMETHEUS_TEST_SEED`, or makes a fresh seed;
//! - [`link`] names links (`worker3->api.anthropic.com`) and their patterns;
//! - [`schedule`] is config.yaml's `faults:` and what it draws;
//! - [`context`] is the step attempt requests are counted in;
//! - [`scripted`] keeps the faults a step sets (`partition`, `heal`, `delay`);
//! - [`layer`] is the proxy's [`Handler`](crate::proxy::Handler) that
//!   applies them;
//! - [`entry`] is one fault as the history, the events and the reports hold it;
//! - [`history`] writes `data_dir/faults.jsonl`;
//! - [`checks`] tallies `always` and `sometimes`;
//! - [`handle`] is what steps reach: [`Faults`](handle::Faults), the checks.
//!
//! # Determinism
//!
//! A draw is a pure function of the seed, the round, the step instance,
//! its attempt, the link (or worker), the request's number on that link in
//! that attempt, and the schedule entry asking. There is no generator
//! state: a resumed run, a `--from` rewind and a nextest replay start each
//! step's counters at 0 and draw what the first run drew; requests on one
//! link cannot move another link's draws. Two requests racing on one link
//! within one step take their numbers in arrival order, so they may swap
//! draws between runs.
//!
//! # Limits
//!
//! A cut or a bandwidth limit on a response the inner handler makes itself
//! (a replayed recording) is applied to its pieces: the cut body is framed
//! whole by the proxy, so the client sees a short body, not a broken
//! connection.

pub(crate) mod checks;
pub(crate) mod context;
pub(crate) mod entry;
pub(crate) mod handle;
pub(crate) mod history;
pub(crate) mod layer;
pub(crate) mod link;
pub(crate) mod mix;
pub(crate) mod schedule;
pub(crate) mod scripted;
pub(crate) mod seed;
