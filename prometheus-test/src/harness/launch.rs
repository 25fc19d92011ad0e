//! What to start: the spawned workers' command lines, directories,
//! environments and health checks. External workers (`url` only) are left alone.

use crate::Runner;
use crate::config::Launch;
use crate::process::LaunchSpec;

/// The workers to spawn, in workers.json order.
pub(super) fn launch_specs(runner: &Runner) -> Vec<LaunchSpec> {
    let config = runner.config();
    runner
        .workers()
        .iter()
        .filter_map(|worker| {
            let spec = worker.spec();
            let Launch::Spawn(command) = &spec.launch else {
                return None;
            };
            Some(LaunchSpec {
                name: spec.name.clone(),
                command: command.clone(),
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
                    .collect(),
                port: spec.port,
                health_url: spec
                    .health_path
                    .as_ref()
                    .map(|p| format!("{}{p}", spec.url)),
                start_timeout: spec.start_timeout,
            })
        })
        .collect()
}
