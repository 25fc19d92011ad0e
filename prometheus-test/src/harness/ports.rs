//! The spawned workers' ports, checked free before anything is deleted: a
//! run that could not start its workers must not have reset the data first.

use crate::Worker;
use crate::config::Launch;

/// Fails naming the first spawned worker whose port is 0, shared or taken
/// (the same check as when the workers start). External workers (`url`
/// only) are not checked.
pub(super) fn check_free(workers: &[Worker]) -> anyhow::Result<()> {
    let spawned = workers
        .iter()
        .map(Worker::spec)
        .filter(|spec| matches!(spec.launch, Launch::Spawn(_)));
    crate::process::check_ports_free(spawned.map(|spec| (spec.name.as_str(), spec.port)))
        .map_err(|err| anyhow::anyhow!("{err} (nothing was reset)"))
}
