//! A fleet of worker servers: started together and awaited until ready,
//! watched for crashes, logged per step, and stopped without leftovers.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::{join_all, select_all, try_join_all};

use super::container::Engine;
use super::exit::WorkerExit;
use super::hosted::Host;
use super::logs::{LineFilter, LogHub, LogMode, render_tail};
use super::member::{DRAIN_LIMIT, ERROR_TAIL, Life, Member};
use super::ready;
use super::spawn::check_ports;
use super::spec::LaunchSpec;
use crate::config::EnvMap;
use crate::config::{docker_host_in, remote_host};
use crate::state::HeldLife;

/// How long a step's end waits for the log readers to read what the pipes
/// hold (they answer in microseconds unless the machine is starved).
const CATCH_UP_LIMIT: Duration = Duration::from_millis(500);

/// The running worker servers of one run (and the services started
/// before them).
#[derive(Debug)]
pub struct Fleet {
    workers: Vec<Arc<Member>>,
    /// Each member's wave: the waves start one after another, each once
    /// the one before is ready, and stop in the reverse order.
    waves: Vec<usize>,
    hub: Arc<LogHub>,
}

/// A worker process ended while the fleet was running.
#[derive(Clone, Debug)]
pub(crate) struct WorkerExited {
    /// The worker's name.
    pub(crate) name: String,
    /// How it ended.
    pub(crate) status: WorkerExit,
    /// Its last output lines, prefixed.
    pub(crate) tail: Vec<String>,
}

impl fmt::Display for WorkerExited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} exited ({}){}",
            self.name,
            self.status,
            render_tail(&self.name, &self.tail)
        )
    }
}

impl std::error::Error for WorkerExited {}

impl Fleet {
    /// Starts every worker at once and waits until all are ready. On any
    /// failure, stops all already-started processes before returning the error.
    /// Dropping the future (e.g. a `select!` on Ctrl-C) kills what it started with SIGKILL.
    /// No run's environment: container workers go to the default local socket.
    pub async fn start(specs: Vec<LaunchSpec>, mode: LogMode) -> anyhow::Result<Fleet> {
        Self::start_filtered((specs, &EnvMap::default()), mode, None).await
    }

    /// [`Fleet::start`] of `waves`, one after another: each wave's members
    /// at once, once every member of the wave before is ready (a stack's
    /// services, then its workers).
    pub async fn start_in_waves(
        waves: Vec<Vec<LaunchSpec>>,
        mode: LogMode,
    ) -> anyhow::Result<Fleet> {
        Self::start_stack((waves, &EnvMap::default()), mode, None).await
    }

    /// [`Fleet::start`] of `specs` in the run's environment `env` (its
    /// `DOCKER_HOST` and `NO_COLOR`), with every line the workers print passed
    /// through `filter` before it is shown, captured or kept for a crash report.
    pub(crate) async fn start_filtered(
        (specs, env): (Vec<LaunchSpec>, &EnvMap),
        mode: LogMode,
        filter: Option<LineFilter>,
    ) -> anyhow::Result<Fleet> {
        Self::start_stack((vec![specs], env), mode, filter).await
    }

    /// [`Fleet::start_filtered`] of `waves`: the first wave's members at
    /// once, the next wave's once every one of them is ready, and so on (a
    /// stack's services in the order they depend on each other, the workers
    /// last). Shutting down goes the other way.
    pub(crate) async fn start_stack(
        (waves, env): (Vec<Vec<LaunchSpec>>, &EnvMap),
        mode: LogMode,
        filter: Option<LineFilter>,
    ) -> anyhow::Result<Fleet> {
        Self::start_kept((waves, env), mode, filter, None).await
    }

    /// [`Fleet::start_stack`] with the process members run by `keeper`
    /// when one keeps the world: the keeper checks their ports when it
    /// starts them (those it keeps running are in use by them).
    pub(crate) async fn start_kept(
        (waves, env): (Vec<Vec<LaunchSpec>>, &EnvMap),
        mode: LogMode,
        filter: Option<LineFilter>,
        keeper: Option<Arc<dyn Host>>,
    ) -> anyhow::Result<Fleet> {
        let host = docker_host_in(env);
        let all: Vec<LaunchSpec> = waves.iter().flatten().cloned().collect();
        let checked: Vec<LaunchSpec> = all
            .iter()
            .filter(|spec| keeper.is_none() || spec.container.is_some())
            .cloned()
            .collect();
        check_ports(&checked, remote_host(&host).is_some())?;
        let engine = if all.iter().any(|spec| spec.container.is_some()) {
            Some(Engine::connect_to(host).await?)
        } else {
            None
        };
        Self::start_on(engine, (waves, env), mode, filter, keeper).await
    }

    /// [`Fleet::start_stack`] with the container members on `engine`
    /// rather than on `DOCKER_HOST`'s; the caller has checked the ports.
    pub(crate) async fn start_on(
        engine: Option<Arc<Engine>>,
        (waves, env): (Vec<Vec<LaunchSpec>>, &EnvMap),
        mode: LogMode,
        filter: Option<LineFilter>,
        keeper: Option<Arc<dyn Host>>,
    ) -> anyhow::Result<Fleet> {
        let client = if waves.iter().flatten().any(|spec| spec.health_url.is_some()) {
            Some(ready::health_client()?)
        } else {
            None
        };
        let hub = LogHub::filtered(mode, filter, env);
        let mut workers = Vec::new();
        let mut wave_of = Vec::new();
        for (wave, specs) in waves.into_iter().enumerate() {
            for spec in specs {
                let index = workers.len();
                workers.push(Member::new(
                    &hub,
                    index,
                    spec,
                    client.clone(),
                    engine.clone(),
                    keeper.clone(),
                ));
                wave_of.push(wave);
            }
        }
        let fleet = Fleet {
            workers,
            waves: wave_of,
            hub,
        };
        for wave in fleet.wave_numbers() {
            let members: Vec<&Arc<Member>> = fleet.in_wave(wave).collect();
            // Containers are created in parallel: the engine answers each in ~100 ms.
            let spawned = join_all(members.iter().map(|member| member.spawn())).await;
            if let Some(error) = spawned.into_iter().find_map(Result::err) {
                fleet.shutdown().await;
                return Err(error);
            }
            let waits = members.iter().map(|member| member.wait_ready());
            if let Err(error) = try_join_all(waits).await {
                fleet.shutdown().await;
                return Err(error);
            }
        }
        Ok(fleet)
    }

    /// The waves, first to last.
    fn wave_numbers(&self) -> std::ops::RangeInclusive<usize> {
        0..=self.waves.iter().copied().max().unwrap_or(0)
    }

    /// The members of `wave`.
    fn in_wave(&self, wave: usize) -> impl Iterator<Item = &Arc<Member>> {
        self.workers
            .iter()
            .zip(&self.waves)
            .filter(move |(_, of)| **of == wave)
            .map(|(member, _)| member)
    }

    /// The worker called `name`, for a step's churn operations.
    pub(crate) fn member(&self, name: &str) -> Option<&Member> {
        self.workers
            .iter()
            .find(|worker| worker.name() == name)
            .map(AsRef::as_ref)
    }

    /// How each worker the harness runs is held: stopped or paused by a
    /// step, or (`None`) running as configured.
    pub(crate) fn held_lives(&self) -> impl Iterator<Item = (&str, Option<HeldLife>)> {
        self.workers.iter().map(|worker| {
            let held = match worker.life() {
                Life::Stopped => Some(HeldLife::Stopped),
                Life::Paused => Some(HeldLife::Paused),
                Life::Starting | Life::Running | Life::Crashed(_) => None,
            };
            (worker.name(), held)
        })
    }

    /// Marks the start of a step: lines logged from now on belong to it.
    pub(crate) fn begin_capture(&self) {
        self.hub.begin_step();
    }

    /// Ends the step and returns the worker lines logged since `begin_capture`,
    /// prefixed (`[worker1] ...`, `[worker1 ERR] ...`), including every line a
    /// worker had written by now (the readers catch up first). Empty outside
    /// a step.
    pub(crate) async fn take_captured(&self) -> Vec<super::LogLine> {
        join_all(
            self.workers
                .iter()
                .map(|worker| worker.log.caught_up(CATCH_UP_LIMIT)),
        )
        .await;
        self.hub.take_step()
    }

    /// Resolves when any worker process exits by itself (at once if one
    /// already has). A worker a step stopped did not crash. Never resolves
    /// for an empty fleet.
    pub(crate) async fn any_exit(&self) -> WorkerExited {
        if self.workers.is_empty() {
            return std::future::pending().await;
        }
        let exits = self.workers.iter().map(|worker| Box::pin(worker.crashed()));
        let (status, index, _) = select_all(exits).await;
        let worker = &self.workers[index];
        worker.log.drained(DRAIN_LIMIT).await;
        WorkerExited {
            name: worker.name().to_owned(),
            status,
            tail: worker.log.tail(ERROR_TAIL),
        }
    }

    /// Stops every process and its children: SIGTERM to each process group,
    /// SIGKILL after a grace of 2 s, and waits for them.
    pub async fn shutdown(&self) {
        self.shutdown_with_exits().await;
    }

    /// [`Fleet::shutdown`], then how each worker ended, in start order:
    /// its name and `status 0`, `signal 15 SIGTERM`, … (`None` if unknown,
    /// or if a step had stopped it already).
    pub(crate) async fn shutdown_with_exits(&self) -> Vec<(String, Option<WorkerExit>)> {
        self.end(false).await.1
    }

    /// [`Fleet::shutdown_with_exits`], but the members a keeper runs are
    /// left running to it (see [`Member::detach`]): the names of those
    /// left, and how each member ended.
    pub(crate) async fn detach_with_exits(
        &self,
    ) -> (Vec<String>, Vec<(String, Option<WorkerExit>)>) {
        self.end(true).await
    }

    /// Ends every member, the last wave (the workers) first and the
    /// services they use after: each is stopped, or with `detach` left to
    /// the keeper that runs it. The names of those left running, and how
    /// each member ended, in start order.
    async fn end(&self, detach: bool) -> (Vec<String>, Vec<(String, Option<WorkerExit>)>) {
        let mut left = Vec::new();
        let mut exits = vec![None; self.workers.len()];
        for wave in self.wave_numbers().rev() {
            let members = self
                .workers
                .iter()
                .enumerate()
                .filter(|(index, _)| self.waves[*index] == wave);
            let ended = join_all(members.map(|(index, member)| async move {
                if detach && member.is_hosted() {
                    let running =
                        matches!(member.life(), Life::Starting | Life::Running | Life::Paused);
                    (index, member.detach().await, running)
                } else {
                    (index, member.shut_down().await, false)
                }
            }))
            .await;
            for (index, exit, running) in ended {
                exits[index] = exit;
                if running {
                    left.push(index);
                }
            }
        }
        // The output of a process left to the keeper goes on.
        join_all(
            self.workers
                .iter()
                .enumerate()
                .filter(|(index, _)| !left.contains(index))
                .map(|(_, worker)| worker.log.drained(DRAIN_LIMIT)),
        )
        .await;
        left.sort_unstable();
        let left = left
            .into_iter()
            .map(|index| self.workers[index].name().to_owned())
            .collect();
        let exits = self
            .workers
            .iter()
            .map(|worker| worker.name().to_owned())
            .zip(exits)
            .collect();
        (left, exits)
    }

    /// The last output lines of worker `name`, for tests.
    #[cfg(test)]
    pub(super) fn tail_of(&self, name: &str) -> Vec<String> {
        self.workers
            .iter()
            .find(|worker| worker.name() == name)
            .map(|worker| worker.log.tail(usize::MAX))
            .unwrap_or_default()
    }
}

impl Drop for Fleet {
    /// A fleet dropped without `shutdown` (a panic, a cancelled start) still kills its groups.
    fn drop(&mut self) {
        for worker in &self.workers {
            worker.kill_now();
        }
    }
}
