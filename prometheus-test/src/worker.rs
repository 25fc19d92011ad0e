//! A worker as steps see it: name, address, extra fields, env and keys.

/// One worker of workers.json (skeleton).
#[derive(Debug)]
pub struct Worker {}
