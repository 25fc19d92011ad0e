//! Container workers on a Docker Engine (at `DOCKER_HOST` of the run's
//! environment, else the default local socket), through the engine's API (`bollard`): the checks made
//! before anything starts (the engine answers, the images are present
//! locally; nothing is ever pulled), the removal of containers an earlier
//! run of the same suite left behind, and one container's life: created and
//! started with the worker's environment, its output streamed into the
//! worker's log, its exit watched, stopped, killed, paused and removed.
//!
//! Networking: with a local engine a container uses the host's network
//! (`network_mode: host`), so the worker listens on the runner's loopback and
//! reaches MongoDB on 127.0.0.1 as a process would. With a remote engine
//! (`DOCKER_HOST=tcp://host:port`, host not loopback) the worker's port is
//! published on the engine's host and its URL names that host.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail};
use bollard::Docker;
use bollard::container::LogOutput;
use bollard::errors::Error as DockerError;
use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};
use bollard::query_parameters::{
    KillContainerOptionsBuilder, ListContainersOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, StopContainerOptionsBuilder, WaitContainerOptionsBuilder,
};
use futures_util::StreamExt as _;
use tokio::io::AsyncWriteExt as _;

use super::exit::WorkerExit;
use super::line::Stream;
use super::logs::WorkerLog;
use super::spec::{ContainerSpec, LaunchSpec};
use crate::config::remote_host;

/// The label naming the suite (its data folder) a container belongs to.
pub(crate) const SUITE_LABEL: &str = "prometheus-test.suite";
/// The label naming the run a container belongs to.
pub(crate) const RUN_LABEL: &str = "prometheus-test.run";
/// The label naming the worker a container runs.
pub(crate) const WORKER_LABEL: &str = "prometheus-test.worker";

/// How long the engine may take to answer the first call.
const CONNECT_LIMIT: Duration = Duration::from_secs(10);
/// The API client's own limit, long enough for followed logs and waits.
const STREAM_LIMIT: Duration = Duration::from_secs(7 * 24 * 3600);

/// A Docker Engine that answered.
#[derive(Clone, Debug)]
pub(crate) struct Engine {
    docker: Docker,
    /// `DOCKER_HOST`, or the default socket: shown in messages.
    host: String,
    /// The engine's host name when it is remote (a `tcp://` host that is not loopback).
    remote: Option<String>,
}

impl Engine {
    /// Connects to the engine at `host` (`unix://…`, `tcp://…`) and checks
    /// that it answers.
    pub(crate) async fn connect_to(host: String) -> anyhow::Result<Arc<Self>> {
        let not_answering = |error: &dyn std::fmt::Display| {
            anyhow!(
                "no Docker Engine answers at {host} ({error}): start one (e.g. `dockerd` as root), \
                 or set DOCKER_HOST to an engine that runs"
            )
        };
        let docker = Docker::connect_with_host(&host)
            .map_err(|error| not_answering(&error))?
            .with_timeout(STREAM_LIMIT);
        let docker = match tokio::time::timeout(CONNECT_LIMIT, docker.negotiate_version()).await {
            Ok(Ok(docker)) => docker,
            Ok(Err(error)) => return Err(not_answering(&error)),
            Err(_) => {
                return Err(not_answering(&format!(
                    "no answer within {CONNECT_LIMIT:?}"
                )));
            }
        };
        Ok(Arc::new(Self {
            docker,
            remote: remote_host(&host),
            host,
        }))
    }

    /// The engine's API client.
    pub(super) fn docker(&self) -> &Docker {
        &self.docker
    }

    /// The engine's host name when it is remote: container ports are
    /// published there.
    pub(crate) fn remote_host(&self) -> Option<&str> {
        self.remote.as_deref()
    }

    /// Fails unless every image of `uses` (worker, image) is present on the
    /// engine: one error naming every missing image with every worker that
    /// uses it (each image is looked at once).
    pub(crate) async fn check_images(&self, uses: &[(&str, &str)]) -> anyhow::Result<()> {
        let mut images: Vec<(&str, Vec<&str>)> = Vec::new();
        for &(worker, image) in uses {
            match images.iter_mut().find(|(known, _)| *known == image) {
                Some((_, workers)) => workers.push(worker),
                None => images.push((image, vec![worker])),
            }
        }
        let mut missing = Vec::new();
        let mut problems = Vec::new();
        for (image, workers) in &images {
            let used_by = workers.join(", ");
            match self.docker.inspect_image(image).await {
                Ok(_) => {}
                Err(DockerError::DockerResponseServerError {
                    status_code: 404, ..
                }) => missing.push((*image, format!("image `{image}` ({used_by})"))),
                Err(error) => problems.push(format!(
                    "cannot inspect image `{image}` ({used_by}) on the Docker Engine at {}: {error}",
                    self.host
                )),
            }
        }
        if let Some((first, _)) = missing.first() {
            let (are, them) = match missing.len() {
                1 => ("is", "it"),
                _ => ("are", "them"),
            };
            let named: Vec<&str> = missing.iter().map(|(_, line)| line.as_str()).collect();
            problems.insert(
                0,
                format!(
                    "{} {are} not present on the Docker Engine at {}: build or load {them} there \
                     first (`docker build -t {first} …`, `docker load`, `docker import`); the \
                     harness never pulls images",
                    named.join(" and "),
                    self.host
                ),
            );
        }
        if problems.is_empty() {
            Ok(())
        } else {
            bail!("{}", problems.join("\n"))
        }
    }

    /// Removes every container labelled with suite `suite` (left by an earlier
    /// run that was killed); returns a line naming each one removed.
    pub(crate) async fn remove_leftovers(&self, suite: &str) -> anyhow::Result<Vec<String>> {
        let filters = HashMap::from([("label", vec![format!("{SUITE_LABEL}={suite}")])]);
        let options = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&filters)
            .build();
        let found = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(|error| {
                anyhow!(
                    "cannot list the containers of the Docker Engine at {}: {error}",
                    self.host
                )
            })?;
        let mut removed = Vec::new();
        for container in found {
            let Some(id) = container.id else { continue };
            let name = container
                .names
                .and_then(|names| names.into_iter().next())
                .map_or_else(
                    || id.chars().take(12).collect(),
                    |name| name.trim_start_matches('/').to_owned(),
                );
            let labels = container.labels.unwrap_or_default();
            let of = |label: &str| labels.get(label).cloned().unwrap_or_else(|| "?".to_owned());
            self.remove(&id).await?;
            removed.push(format!(
                "removed container {name} (worker {}) left by an earlier run ({}) of this suite",
                of(WORKER_LABEL),
                of(RUN_LABEL)
            ));
        }
        Ok(removed)
    }

    /// Creates and starts worker `spec`'s container; its id.
    pub(crate) async fn run(
        &self,
        spec: &LaunchSpec,
        container: &ContainerSpec,
    ) -> anyhow::Result<String> {
        let name = &spec.name;
        let port = spec.port.to_string();
        let (network_mode, exposed, bindings) = if self.remote.is_none() {
            (Some("host".to_owned()), None, None)
        } else {
            let key = format!("{port}/tcp");
            let binding = PortBinding {
                host_ip: Some("0.0.0.0".to_owned()),
                host_port: Some(port.clone()),
            };
            (
                None,
                Some(vec![key.clone()]),
                Some(HashMap::from([(key, Some(vec![binding]))])),
            )
        };
        let body = ContainerCreateBody {
            image: Some(container.image.clone()),
            cmd: (!spec.command.is_empty()).then(|| {
                spec.command
                    .iter()
                    .map(|part| part.to_string_lossy().into_owned())
                    .collect()
            }),
            env: Some(
                std::iter::once("PYTHONUNBUFFERED=1".to_owned())
                    .chain(spec.env.iter().map(|(key, value)| format!("{key}={value}")))
                    .collect(),
            ),
            labels: Some(container.labels.iter().cloned().collect()),
            exposed_ports: exposed,
            host_config: Some(HostConfig {
                // An init as PID 1 passes SIGTERM on to the worker and reaps what it forks.
                init: Some(true),
                network_mode,
                port_bindings: bindings,
                binds: Some(
                    container
                        .mounts
                        .iter()
                        .map(|dir| format!("{0}:{0}", dir.display()))
                        .collect(),
                ),
                ..HostConfig::default()
            }),
            ..ContainerCreateBody::default()
        };
        let created = self
            .docker
            .create_container(None, body)
            .await
            .map_err(|error| {
                anyhow!(
                    "{name}: cannot create a container of image `{}`: {error}",
                    container.image
                )
            })?;
        let id = created.id;
        if let Err(error) = self.docker.start_container(&id, None).await {
            let _ = self.remove(&id).await;
            bail!(
                "{name}: cannot start its container of image `{}`: {error}",
                container.image
            );
        }
        Ok(id)
    }

    /// Streams container `id`'s output into `log` (stdout and stderr kept
    /// apart) until the container ends.
    pub(super) fn follow_logs(
        self: &Arc<Self>,
        id: &str,
        log: &Arc<WorkerLog>,
    ) -> anyhow::Result<()> {
        let (mut out, out_reader) = tokio::net::unix::pipe::pipe()?;
        let (mut err, err_reader) = tokio::net::unix::pipe::pipe()?;
        log.follow(out_reader, Stream::Stdout);
        log.follow(err_reader, Stream::Stderr);
        let options = LogsOptionsBuilder::new()
            .follow(true)
            .stdout(true)
            .stderr(true)
            .build();
        let mut stream = self.docker.logs(id, Some(options));
        tokio::spawn(async move {
            while let Some(Ok(output)) = stream.next().await {
                let written = match output {
                    LogOutput::StdErr { message } => err.write_all(&message).await,
                    LogOutput::StdOut { message } | LogOutput::Console { message } => {
                        out.write_all(&message).await
                    }
                    LogOutput::StdIn { .. } => Ok(()),
                };
                if written.is_err() {
                    break;
                }
            }
        });
        Ok(())
    }

    /// Resolves with how container `id` ended (its exit code).
    pub(crate) async fn wait(&self, id: &str) -> WorkerExit {
        let options = WaitContainerOptionsBuilder::new()
            .condition("not-running")
            .build();
        let code = match self.docker.wait_container(id, Some(options)).next().await {
            Some(Ok(response)) => Some(response.status_code),
            Some(Err(DockerError::DockerContainerWaitError { code, .. })) => Some(code),
            _ => None,
        };
        WorkerExit {
            code: code.and_then(|code| i32::try_from(code).ok()),
            signal: None,
        }
    }

    /// Stops container `id`: SIGTERM, SIGKILL after `grace`.
    pub(crate) async fn stop(&self, id: &str, grace: Duration) {
        let seconds = i32::try_from(grace.as_secs()).unwrap_or(i32::MAX);
        let options = StopContainerOptionsBuilder::new().t(seconds).build();
        let _ = self.docker.stop_container(id, Some(options)).await;
    }

    /// Kills container `id` with SIGKILL.
    pub(crate) async fn kill(&self, id: &str) {
        let options = KillContainerOptionsBuilder::new().signal("KILL").build();
        let _ = self.docker.kill_container(id, Some(options)).await;
    }

    /// Freezes container `id` (the engine's pause).
    pub(crate) async fn pause(&self, id: &str) -> anyhow::Result<()> {
        self.docker.pause_container(id).await.map_err(|error| {
            anyhow!(
                "the Docker Engine at {} did not pause it: {error}",
                self.host
            )
        })
    }

    /// Lets paused container `id` run again.
    pub(crate) async fn unpause(&self, id: &str) -> anyhow::Result<()> {
        self.docker.unpause_container(id).await.map_err(|error| {
            anyhow!(
                "the Docker Engine at {} did not unpause it: {error}",
                self.host
            )
        })
    }

    /// Removes container `id`, running or not.
    pub(crate) async fn remove(&self, id: &str) -> anyhow::Result<()> {
        let options = RemoveContainerOptionsBuilder::new().force(true).build();
        match self.docker.remove_container(id, Some(options)).await {
            Ok(())
            | Err(DockerError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(error) => Err(anyhow!(
                "cannot remove container {id} on the Docker Engine at {}: {error}",
                self.host
            )),
        }
    }

    /// Removes container `id` without waiting (a fleet dropped without shutdown).
    pub(crate) fn remove_soon(self: &Arc<Self>, id: &str) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let engine = Arc::clone(self);
            let id = id.to_owned();
            runtime.spawn(async move {
                let _ = engine.remove(&id).await;
            });
        }
    }
}
