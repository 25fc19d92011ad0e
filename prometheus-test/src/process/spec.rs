//! What a worker is launched from: a process, or a container of an image.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// How to run one worker server. `Debug` shows variable names, not values.
#[derive(Clone)]
pub struct LaunchSpec {
    /// Worker name, e.g. `worker1`; prefixes its log lines and errors.
    pub name: String,
    /// Program and arguments, already resolved (e.g. `["python3", "/abs/main.py"]`).
    pub command: Vec<OsString>,
    /// Working directory of the process.
    pub cwd: PathBuf,
    /// Variables added to the inherited environment. Values may be secret: never logged.
    pub env: Vec<(String, String)>,
    /// The port the worker listens on.
    pub port: u16,
    /// When set, the worker is ready once this URL answers 2xx; otherwise once
    /// its port accepts TCP connections.
    pub health_url: Option<String>,
    /// How long the worker may take to become ready.
    pub start_timeout: Duration,
    /// Run it as a container of this image instead of a process (`command`
    /// then runs inside; `cwd` is not used).
    pub container: Option<ContainerSpec>,
}

impl std::fmt::Debug for LaunchSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LaunchSpec")
            .field("name", &self.name)
            .field("command", &self.command)
            .field("cwd", &self.cwd)
            .field("env", &self.env.iter().map(|(k, _)| k).collect::<Vec<_>>())
            .field("port", &self.port)
            .field("health_url", &self.health_url)
            .field("start_timeout", &self.start_timeout)
            .field("container", &self.container)
            .finish()
    }
}

/// How to run a worker as a container.
#[derive(Clone, Debug)]
pub struct ContainerSpec {
    /// The image, present on the engine (never pulled).
    pub image: String,
    /// Host folders mounted at the same path inside (the data folder), so
    /// `DATABASE_PATH` and `DATA_DIR` mean the same in the container.
    pub mounts: Vec<PathBuf>,
    /// Labels: the suite, the run and the worker.
    pub labels: Vec<(String, String)>,
}
