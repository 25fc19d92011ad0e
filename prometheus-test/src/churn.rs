//! Nodes that come and go: the control a step reaches through
//! [`Worker::stop`](crate::Worker::stop) and its siblings. It applies an
//! operation to a worker of the running fleet and puts the change on the
//! event stream (the report's timeline, `--format json`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::anyhow;

use crate::events::{Event, Events};
use crate::process::{Fleet, Life, StopHow};
use crate::state::HeldLife;

/// What a step does to a worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    Stop,
    Kill,
    Start,
    Restart,
    Pause,
    Resume,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Stop => "stop",
            Self::Kill => "kill",
            Self::Start => "start",
            Self::Restart => "restart",
            Self::Pause => "pause",
            Self::Resume => "resume",
        })
    }
}

/// The running fleet and the run's events, while the steps play.
pub(crate) struct Churn {
    fleet: Arc<Fleet>,
    events: Events,
}

impl Churn {
    pub(crate) fn new(fleet: Arc<Fleet>, events: Events) -> Self {
        Self { fleet, events }
    }

    /// Whether worker `name` is stopped on purpose (a step's `stop` or
    /// `kill`, a drawn crash); false for an external worker.
    pub(crate) fn is_stopped(&self, name: &str) -> bool {
        self.fleet
            .member(name)
            .is_some_and(|member| matches!(member.life(), Life::Stopped))
    }

    /// Applies `action` to worker `name` and emits what changed.
    pub(crate) async fn apply(&self, name: &str, action: Action) -> anyhow::Result<()> {
        let member = self.fleet.member(name).ok_or_else(|| {
            anyhow!(
                "cannot {action} {name}: it is an external worker (a `url` in workers.json, \
                 no `command`), which the harness does not run"
            )
        })?;
        let worker = name.to_owned();
        let stop = |how: StopHow| async move {
            let exit = member.stop(how).await?;
            self.events.emit(&Event::WorkerStopped {
                worker: name.to_owned(),
                how,
                exit,
            });
            anyhow::Ok(())
        };
        match action {
            Action::Stop => stop(StopHow::Stop).await?,
            Action::Kill => stop(StopHow::Kill).await?,
            Action::Start => {
                member.start().await?;
                self.events.emit(&Event::WorkerStarted { worker });
            }
            Action::Restart => {
                if matches!(member.life(), Life::Running | Life::Paused) {
                    stop(StopHow::Stop).await?;
                }
                member.start().await?;
                self.events.emit(&Event::WorkerStarted { worker });
            }
            Action::Pause => {
                member.pause().await?;
                self.events.emit(&Event::WorkerPaused { worker });
            }
            Action::Resume => {
                member.resume().await?;
                self.events.emit(&Event::WorkerResumed { worker });
            }
        }
        Ok(())
    }
}

impl Churn {
    /// At a resumed run's start: stops or pauses the workers the steps
    /// before the resume point left so (the state's `held_workers`, as the
    /// restored world holds them), with a note saying so. A name the fleet
    /// does not run any more (workers.json changed) is a warning.
    pub(crate) async fn hold(&self, held: &BTreeMap<String, HeldLife>) -> anyhow::Result<()> {
        if held.is_empty() {
            return Ok(());
        }
        let mut described = Vec::new();
        for (name, life) in held {
            if self.fleet.member(name).is_none() {
                self.events.note(format!(
                    "warning: the state holds {name} {}, but the harness does not run a worker \
                     of that name now; it is left as workers.json says",
                    life.as_str()
                ));
                continue;
            }
            let action = match life {
                HeldLife::Stopped => Action::Stop,
                HeldLife::Paused => Action::Pause,
            };
            self.apply(name, action).await.map_err(|err| {
                anyhow!(
                    "cannot hold {name} {} as the resumed run found it: {err:#}",
                    life.as_str()
                )
            })?;
            described.push(format!("{name} {}", life.as_str()));
        }
        if !described.is_empty() {
            self.events.note(format!(
                "held {} as the steps before the resume point left {}",
                described.join(", "),
                if described.len() == 1 { "it" } else { "them" }
            ));
        }
        Ok(())
    }
}

/// Where the workers reach the churn control: empty until the fleet is up
/// and again once the run stops it. Shared by the runner and its workers.
#[derive(Default)]
pub(crate) struct ChurnCell(Mutex<Option<Arc<Churn>>>);

impl ChurnCell {
    /// Makes `churn` reachable (or, with `None`, no longer).
    pub(crate) fn set(&self, churn: Option<Arc<Churn>>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = churn;
    }

    /// The control, if the fleet is running.
    pub(crate) fn get(&self) -> Option<Arc<Churn>> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Applies `action` to member `name` (a worker or a service); `idle`
    /// is the error when the fleet is not running.
    pub(crate) async fn apply(
        &self,
        name: &str,
        action: Action,
        idle: impl FnOnce() -> anyhow::Error,
    ) -> anyhow::Result<()> {
        self.get().ok_or_else(idle)?.apply(name, action).await
    }

    /// Whether member `name` is stopped on purpose; false when the fleet
    /// is not running.
    pub(crate) fn is_stopped(&self, name: &str) -> bool {
        self.get().is_some_and(|churn| churn.is_stopped(name))
    }
}
