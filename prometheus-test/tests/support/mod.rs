//! Helpers shared by the runtime crate's integration tests.

pub(crate) mod json;
