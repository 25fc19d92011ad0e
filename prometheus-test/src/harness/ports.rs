//! The spawned workers' ports, checked free before anything is deleted: a
//! run that could not start its workers must not have reset the data first.

use std::collections::BTreeMap;

use crate::Worker;
use crate::config::{EnvMap, Launch};

/// Fails naming the first spawned worker whose port is 0, shared or taken
/// (the same check as when the workers start). External workers (`url`
/// only), containers on a remote engine and the workers a keeper runs on
/// their port (`kept`: name to port) are not checked.
pub(super) fn check_free(
    workers: &[Worker],
    env: &EnvMap,
    kept: &BTreeMap<String, u16>,
) -> anyhow::Result<()> {
    let local_engine = crate::config::remote_host(&crate::config::docker_host_in(env)).is_none();
    let spawned = workers
        .iter()
        .map(Worker::spec)
        .filter(|spec| match spec.launch {
            Launch::Spawn(_) => true,
            Launch::Container { .. } => local_engine,
            Launch::External => false,
        })
        .filter(|spec| kept.get(&spec.name) != Some(&spec.port));
    crate::process::check_ports_free(spawned.map(|spec| (spec.name.as_str(), spec.port)))
        .map_err(|err| anyhow::anyhow!("{err} (nothing was reset)"))
}
