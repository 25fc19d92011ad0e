//! A service of config.yaml as steps reach it: its URL, its environment,
//! and the churn a worker's handle offers.

use std::fmt;
use std::sync::Arc;

use anyhow::anyhow;

use crate::churn::{Action, ChurnCell};
use crate::config::ServiceSpec;

/// A process of the task's stack that is not a worker (config.yaml
/// `services`): started before the workers and stopped after them, never
/// selected by a step's `worker`/`workers`. A step reaches it through
/// [`Runner::service`](crate::Runner::service).
///
/// ```no_run
/// # async fn step(runner: &prometheus_test::Runner) -> anyhow::Result<()> {
/// let middle = runner.service("middle")?;
/// let todos = runner.http().get(format!("{}/todos", middle.url())).send().await?;
/// middle.restart().await?; // on the report's timeline, as a worker's
/// # Ok(()) }
/// ```
pub struct Service {
    spec: ServiceSpec,
    churn: Arc<ChurnCell>,
}

impl Service {
    pub(crate) fn new(spec: ServiceSpec, churn: Arc<ChurnCell>) -> Self {
        Self { spec, churn }
    }

    /// Its name in config.yaml.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// `http://localhost:{port}`.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.spec.url
    }

    /// The port it listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.spec.port
    }

    /// The value of variable `key` it exports to the workers (`exports`),
    /// or of its own `env`.
    #[must_use]
    pub fn env(&self, key: &str) -> Option<&str> {
        self.spec
            .exports
            .iter()
            .chain(&self.spec.env)
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }

    /// Whether it is stopped (by a step, until started again).
    #[must_use]
    pub fn is_stopped(&self) -> bool {
        self.churn.is_stopped(&self.spec.name)
    }

    /// Stops it (SIGTERM to its process group, SIGKILL after 2 s), as
    /// [`Worker::stop`](crate::Worker::stop) stops a worker.
    pub async fn stop(&self) -> anyhow::Result<()> {
        self.apply(Action::Stop).await
    }

    /// Kills it at once (SIGKILL to its process group).
    pub async fn kill(&self) -> anyhow::Result<()> {
        self.apply(Action::Kill).await
    }

    /// Starts it again and waits until it is ready.
    pub async fn start(&self) -> anyhow::Result<()> {
        self.apply(Action::Start).await
    }

    /// [`stop`](Self::stop) (when it runs) then [`start`](Self::start).
    pub async fn restart(&self) -> anyhow::Result<()> {
        self.apply(Action::Restart).await
    }

    /// Freezes it (SIGSTOP) until [`resume`](Self::resume).
    pub async fn pause(&self) -> anyhow::Result<()> {
        self.apply(Action::Pause).await
    }

    /// Lets it run again (SIGCONT).
    pub async fn resume(&self) -> anyhow::Result<()> {
        self.apply(Action::Resume).await
    }

    async fn apply(&self, action: Action) -> anyhow::Result<()> {
        let name = &self.spec.name;
        self.churn
            .apply(name, action, || {
                anyhow!(
                    "cannot {action} service `{name}`: the stack is not running now (only steps \
                     can change it)"
                )
            })
            .await
    }
}

impl fmt::Debug for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Service")
            .field("name", &self.spec.name)
            .field("url", &self.spec.url)
            .finish_non_exhaustive()
    }
}
