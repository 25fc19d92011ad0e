//! The handle steps use to read configuration and pass data between steps.

/// The test run as steps see it (skeleton).
#[derive(Debug)]
pub struct Runner {}
