//! What to start: the spawned workers' command lines, directories,
//! environments and health checks, and the container workers' images,
//! mounts and labels. External workers (`url` only) are left alone.

use std::ffi::OsString;

use super::outside::Outside;
use crate::Runner;
use crate::config::{EnvMap, Launch};
use crate::process::{ContainerSpec, LaunchSpec, RUN_LABEL, SUITE_LABEL, WORKER_LABEL};

/// The workers to spawn, in workers.json order, and the run's environment
/// the fleet reads (the Docker Engine, colours); with the recording proxy,
/// each worker's calls to the outside world go through its listener.
pub(super) fn launch_specs<'a>(
    runner: &'a Runner,
    outside: Option<&Outside>,
) -> (Vec<LaunchSpec>, &'a EnvMap) {
    let config = runner.config();
    let run = run_label();
    let specs = runner
        .workers()
        .iter()
        .filter_map(|worker| {
            let spec = worker.spec();
            let (command, container) = match &spec.launch {
                Launch::Spawn(command) => (command.clone(), None),
                Launch::Container { image, command } => (
                    command.iter().map(OsString::from).collect(),
                    Some(ContainerSpec {
                        image: image.clone(),
                        mounts: vec![config.data_dir.clone()],
                        labels: vec![
                            (SUITE_LABEL.to_owned(), suite_label(config)),
                            (RUN_LABEL.to_owned(), run.clone()),
                            (WORKER_LABEL.to_owned(), spec.name.clone()),
                        ],
                    }),
                ),
                Launch::External => return None,
            };
            Some(LaunchSpec {
                name: spec.name.clone(),
                command,
                cwd: config.tests_dir.clone(),
                env: runner
                    .env()
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .chain(
                        worker
                            .server_env()
                            .map(|(k, v)| (k.to_owned(), v.to_owned())),
                    )
                    .chain(
                        outside
                            .map(|outside| outside.env_of(&spec.name))
                            .unwrap_or_default()
                            .iter()
                            .cloned(),
                    )
                    .collect(),
                port: spec.port,
                health_url: spec
                    .health_path
                    .as_ref()
                    .map(|p| format!("{}{p}", spec.url)),
                start_timeout: spec.start_timeout,
                container,
            })
        })
        .collect();
    (specs, runner.env())
}

/// The suite's label on its containers: its data folder, absolute.
pub(super) fn suite_label(config: &crate::config::Config) -> String {
    std::path::absolute(&config.data_dir)
        .unwrap_or_else(|_| config.data_dir.clone())
        .display()
        .to_string()
}

/// This run's label on its containers: the runner's pid and start time.
fn run_label() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis());
    format!("{}-{millis}", std::process::id())
}
