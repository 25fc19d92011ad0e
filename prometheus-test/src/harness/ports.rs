//! The spawned workers' ports, checked free before anything is deleted: a
//! run that could not start its workers must not have reset the data first.

use std::net::{Ipv4Addr, TcpListener};

use crate::Worker;
use crate::config::Launch;

/// Fails naming the first spawned worker whose port something already
/// listens on (on 127.0.0.1). External workers (`url` only) are not checked.
pub(super) fn check_free(workers: &[Worker]) -> anyhow::Result<()> {
    for worker in workers {
        let spec = worker.spec();
        if !matches!(spec.launch, Launch::Spawn(_)) || spec.port == 0 {
            continue;
        }
        if TcpListener::bind((Ipv4Addr::LOCALHOST, spec.port)).is_err() {
            anyhow::bail!(
                "port {} of {} is already in use by another process: stop that process or give {} \
                 another port (nothing was reset)",
                spec.port,
                spec.name,
                spec.name
            );
        }
    }
    Ok(())
}
