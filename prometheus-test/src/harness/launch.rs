//! What to start: the services of config.yaml in their waves, then the
//! spawned workers' command lines, directories, environments and health
//! checks, and the container workers' images, mounts and labels. External
//! workers (`url` only) are left alone.

use std::ffi::OsString;

use anyhow::Context as _;

use super::outside::Outside;
use crate::Runner;
use crate::config::{EnvMap, Launch, ServiceSpec};
use crate::process::{ContainerSpec, LaunchSpec, RUN_LABEL, SUITE_LABEL, WORKER_LABEL};

/// What the run starts, wave by wave: config.yaml's services in the order
/// their `depends_on` gives, then the workers; and the run's environment the
/// fleet reads. Creates each service's data folder.
pub(super) fn stack_specs<'a>(
    runner: &'a Runner,
    outside: Option<&Outside>,
) -> anyhow::Result<(Vec<Vec<LaunchSpec>>, &'a EnvMap)> {
    let services = &runner.config().services;
    let run = run_label();
    let mut waves: Vec<Vec<LaunchSpec>> = Vec::new();
    for service in services {
        if let Some(folder) = &service.data_dir {
            std::fs::create_dir_all(folder).with_context(|| {
                format!(
                    "service `{}`: cannot create its data folder {}",
                    service.name,
                    folder.display()
                )
            })?;
        }
        if waves.len() <= service.wave {
            waves.resize_with(service.wave + 1, Vec::new);
        }
        waves[service.wave].push(service_spec(runner, service, &run));
    }
    let (workers, env) = launch_specs(runner, outside, &run);
    waves.push(workers);
    Ok((waves, env))
}

/// How to start `service`: its command from its folder (or in a container
/// of its image, labelled for run `run`), with the run's environment, its
/// own `env`, `PORT` and `DATA_DIR`.
fn service_spec(runner: &Runner, service: &ServiceSpec, run: &str) -> LaunchSpec {
    let mut env: Vec<(String, String)> = runner
        .env()
        .iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    env.push(("PORT".to_owned(), service.port.to_string()));
    if let Some(folder) = &service.data_dir {
        env.push(("DATA_DIR".to_owned(), folder.display().to_string()));
    }
    env.extend(service.env.iter().cloned());
    LaunchSpec {
        name: service.name.clone(),
        command: service.command.iter().map(OsString::from).collect(),
        cwd: service.cwd.clone(),
        env,
        port: service.port,
        health_url: service
            .health_path
            .as_ref()
            .map(|path| format!("{}{path}", service.url)),
        start_timeout: service.start_timeout,
        container: service
            .image
            .as_ref()
            .map(|image| container(runner.config(), image, &service.name, run)),
    }
}

/// A container of `image` for `name` (a worker or a service) in run `run`:
/// the data folder mounted at its own path, the suite's labels.
fn container(config: &crate::config::Config, image: &str, name: &str, run: &str) -> ContainerSpec {
    ContainerSpec {
        image: image.to_owned(),
        mounts: vec![config.data_dir.clone()],
        labels: vec![
            (SUITE_LABEL.to_owned(), suite_label(config)),
            (RUN_LABEL.to_owned(), run.to_owned()),
            (WORKER_LABEL.to_owned(), name.to_owned()),
        ],
    }
}

/// The workers to spawn, in workers.json order, and the run's environment
/// the fleet reads (the Docker Engine, colours); with the recording proxy,
/// each worker's calls to the outside world go through its listener. Every
/// service's `exports` are in each worker's environment.
fn launch_specs<'a>(
    runner: &'a Runner,
    outside: Option<&Outside>,
    run: &str,
) -> (Vec<LaunchSpec>, &'a EnvMap) {
    let config = runner.config();
    let specs = runner
        .workers()
        .iter()
        .filter_map(|worker| {
            let spec = worker.spec();
            let (command, container) = match &spec.launch {
                Launch::Spawn(command) => (command.clone(), None),
                Launch::Container { image, command, .. } => (
                    command.iter().map(OsString::from).collect(),
                    Some(container(config, image, &spec.name, run)),
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
                        config
                            .services
                            .iter()
                            .flat_map(|service| service.exports.iter().cloned()),
                    )
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
    crate::config::suite_label(config)
}

/// This run's label on its containers: the runner's pid and start time.
fn run_label() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis());
    format!("{}-{millis}", std::process::id())
}
