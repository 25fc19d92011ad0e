//! `MongoDB`: connection (or a managed local `mongod`), fixture validation and
//! import, required-document checks and round counting.

mod connect;
mod fixtures;
mod import;
mod locate;
mod managed;
mod position;
mod provision;
mod raw_json;
mod rounds;
pub(crate) mod seam;

/// Shared with other modules' tests: the test server (`tests::server`).
#[cfg(test)]
pub(crate) mod tests;

pub(crate) use connect::{DEFAULT_URI, Mongo, connect, srv_unsupported};
pub(crate) use fixtures::{Fixtures, read_fixtures};
pub(crate) use import::{check_required, reset};
pub(crate) use rounds::count_rounds;
