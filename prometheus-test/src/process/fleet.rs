//! A fleet of worker servers: started together and awaited until ready,
//! watched for crashes, logged per step, and stopped without leftovers.

use std::fmt;
use std::os::unix::process::ExitStatusExt as _;
use std::process::ExitStatus;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use futures_util::future::{join_all, select_all, try_join_all};
use nix::sys::signal::Signal;
use tokio::net::unix::pipe::Receiver;
use tokio::process::{ChildStderr, ChildStdout};
use tokio::sync::watch;
use tokio::time::sleep;

use super::guard::{signal_group, spawn_guarded, stop_group};
use super::logs::{LineFilter, LogHub, LogMode, Pipe, WorkerLog, render_tail};
use super::ready::{self, Probe};
use super::reaper;
use super::spawn::{LaunchSpec, check_ports, worker_command};

/// SIGTERM to SIGKILL delay at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// How long to wait for the last output of a process that exited.
const DRAIN_LIMIT: Duration = Duration::from_millis(300);
/// How long a step's end waits for the log readers to read what the pipes
/// hold (they answer in microseconds unless the machine is starved).
const CATCH_UP_LIMIT: Duration = Duration::from_millis(500);
/// Output lines shown in an error.
const ERROR_TAIL: usize = 25;

/// The running worker servers of one run.
#[derive(Debug)]
pub struct Fleet {
    workers: Vec<RunningWorker>,
    hub: Arc<LogHub>,
}

#[derive(Debug)]
struct RunningWorker {
    name: String,
    /// The leader's pid, which is also its process group id.
    pgid: u32,
    log: Arc<WorkerLog>,
    /// `Some(exit)` once the leader exited.
    exit: watch::Receiver<Option<WorkerExit>>,
    stopped: bool,
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

/// How a worker process ended: an exit code or a signal number (neither
/// when the status could not be read). Shown as `status 1` or
/// `signal 9 SIGKILL`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct WorkerExit {
    pub(crate) code: Option<i32>,
    pub(crate) signal: Option<i32>,
}

impl From<ExitStatus> for WorkerExit {
    fn from(status: ExitStatus) -> Self {
        Self {
            code: status.code(),
            signal: status.signal(),
        }
    }
}

impl fmt::Display for WorkerExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code, self.signal) {
            (Some(code), _) => write!(f, "status {code}"),
            (None, Some(number)) => match Signal::try_from(number) {
                Ok(signal) => write!(f, "signal {number} {}", signal.as_str()),
                Err(_) => write!(f, "signal {number}"),
            },
            (None, None) => f.write_str("status unknown"),
        }
    }
}

impl Fleet {
    /// Starts every worker at once and waits until all are ready. On any
    /// failure, stops all already-started processes before returning the error.
    /// Dropping the future (e.g. a `select!` on Ctrl-C) kills what it started with SIGKILL.
    pub async fn start(specs: Vec<LaunchSpec>, mode: LogMode) -> anyhow::Result<Fleet> {
        Self::start_filtered(specs, mode, None).await
    }

    /// [`Fleet::start`], with every line the workers print passed through
    /// `filter` before it is shown, captured or kept for a crash report.
    pub async fn start_filtered(
        specs: Vec<LaunchSpec>,
        mode: LogMode,
        filter: Option<LineFilter>,
    ) -> anyhow::Result<Fleet> {
        check_ports(&specs)?;
        let client = if specs.iter().any(|spec| spec.health_url.is_some()) {
            Some(ready::health_client()?)
        } else {
            None
        };
        let mut fleet = Fleet {
            workers: Vec::with_capacity(specs.len()),
            hub: LogHub::filtered(mode, filter),
        };
        for (index, spec) in specs.iter().enumerate() {
            match launch(&fleet.hub, index, spec) {
                Ok(worker) => fleet.workers.push(worker),
                Err(error) => {
                    fleet.shutdown().await;
                    return Err(error);
                }
            }
        }
        let waits = fleet.workers.iter().zip(&specs).map(|(worker, spec)| {
            let probe = match (&spec.health_url, &client) {
                (Some(url), Some(client)) => Probe::Health {
                    url: url.clone(),
                    client: client.clone(),
                },
                _ => Probe::Port(spec.port),
            };
            worker.wait_ready(probe, spec)
        });
        if let Err(error) = try_join_all(waits).await {
            fleet.shutdown().await;
            return Err(error);
        }
        Ok(fleet)
    }

    /// Marks the start of a step: lines logged from now on belong to it.
    pub(crate) fn begin_capture(&self) {
        self.hub.begin_step();
    }

    /// Ends the step and returns the worker lines logged since `begin_capture`,
    /// prefixed (`[worker1] ...`, `[worker1 ERR] ...`), including every line a
    /// worker had written by now (the readers catch up first). Empty outside
    /// a step.
    pub(crate) async fn take_captured(&self) -> Vec<String> {
        join_all(
            self.workers
                .iter()
                .map(|worker| worker.log.caught_up(CATCH_UP_LIMIT)),
        )
        .await;
        self.hub.take_step()
    }

    /// Resolves when any worker process exits (at once if one already has).
    /// Never resolves for an empty fleet.
    pub(crate) async fn any_exit(&self) -> WorkerExited {
        if self.workers.is_empty() {
            return std::future::pending().await;
        }
        let exits = self.workers.iter().map(|worker| Box::pin(worker.exited()));
        let (status, index, _) = select_all(exits).await;
        let worker = &self.workers[index];
        worker.log.drained(DRAIN_LIMIT).await;
        WorkerExited {
            name: worker.name.clone(),
            status,
            tail: worker.log.tail(ERROR_TAIL),
        }
    }

    /// Stops every process and its children: SIGTERM to each process group,
    /// SIGKILL after a grace of 2 s, and waits for them.
    pub async fn shutdown(mut self) {
        self.stop_all().await;
    }

    /// [`Fleet::shutdown`], then how each worker ended, in start order:
    /// its name and `status 0`, `signal 15 SIGTERM`, … (`None` if unknown).
    pub(crate) async fn shutdown_with_exits(mut self) -> Vec<(String, Option<WorkerExit>)> {
        self.stop_all().await;
        self.workers
            .iter()
            .map(|worker| (worker.name.clone(), *worker.exit.borrow()))
            .collect()
    }

    async fn stop_all(&mut self) {
        let stops = self.workers.iter_mut().map(|worker| {
            let already = std::mem::replace(&mut worker.stopped, true);
            let mut exit = worker.exit.clone();
            let pgid = worker.pgid;
            async move {
                if !already {
                    stop_group(pgid, SHUTDOWN_GRACE, async move {
                        let _ = exit.wait_for(Option::is_some).await;
                    })
                    .await;
                }
            }
        });
        join_all(stops).await;
        join_all(
            self.workers
                .iter()
                .map(|worker| worker.log.drained(DRAIN_LIMIT)),
        )
        .await;
    }

    /// The last output lines of worker `name`, for tests.
    #[cfg(test)]
    pub(super) fn tail_of(&self, name: &str) -> Vec<String> {
        self.workers
            .iter()
            .find(|worker| worker.name == name)
            .map(|worker| worker.log.tail(usize::MAX))
            .unwrap_or_default()
    }
}

impl Drop for Fleet {
    /// A fleet dropped without `shutdown` (a panic, a cancelled start) still kills its groups.
    fn drop(&mut self) {
        for worker in self.workers.iter().filter(|worker| !worker.stopped) {
            signal_group(worker.pgid, Signal::SIGKILL);
            reaper::forget(worker.pgid);
        }
    }
}

/// Spawns one worker, follows its output and watches for its exit.
fn launch(hub: &Arc<LogHub>, index: usize, spec: &LaunchSpec) -> anyhow::Result<RunningWorker> {
    let mut command = worker_command(spec)?;
    let mut child = spawn_guarded(&mut command).map_err(|error| {
        anyhow!(
            "{}: could not start `{}` in {}: {error}",
            spec.name,
            spec.command
                .first()
                .map(|program| program.to_string_lossy())
                .unwrap_or_default(),
            spec.cwd.display()
        )
    })?;
    let pgid = child
        .id()
        .ok_or_else(|| anyhow!("{}: the process vanished as it started", spec.name))?;
    let log = WorkerLog::new(Arc::clone(hub), &spec.name, index);
    let pipes = [
        (
            child.stdout.take().map(ChildStdout::into_owned_fd),
            Pipe::Stdout,
        ),
        (
            child.stderr.take().map(ChildStderr::into_owned_fd),
            Pipe::Stderr,
        ),
    ];
    for (fd, pipe) in pipes {
        let Some(fd) = fd else { continue };
        let reader = fd
            .and_then(Receiver::from_owned_fd)
            .with_context(|| format!("{}: cannot read the worker's output", spec.name))?;
        log.follow(reader, pipe);
    }
    let (exit_sender, exit) = watch::channel(None);
    tokio::spawn(async move {
        let status = child.wait().await.map(WorkerExit::from).unwrap_or_default();
        exit_sender.send_replace(Some(status));
    });
    Ok(RunningWorker {
        name: spec.name.clone(),
        pgid,
        log,
        exit,
        stopped: false,
    })
}

impl RunningWorker {
    /// Waits until the worker is ready, exits, or runs out of time.
    async fn wait_ready(&self, probe: Probe, spec: &LaunchSpec) -> anyhow::Result<()> {
        enum Outcome {
            Ready,
            Exited(WorkerExit),
            TimedOut,
        }
        let mut last = String::from("no attempt finished");
        let outcome = tokio::select! {
            biased;
            status = self.exited() => Outcome::Exited(status),
            () = ready::until_ready(&probe, &mut last, || self.log.printed()) => Outcome::Ready,
            () = sleep(spec.start_timeout) => Outcome::TimedOut,
        };
        let name = &self.name;
        let waited_for = probe.describe();
        match outcome {
            Outcome::Ready => Ok(()),
            Outcome::Exited(status) => {
                self.log.drained(DRAIN_LIMIT).await;
                let tail = render_tail(name, &self.log.tail(ERROR_TAIL));
                Err(anyhow!(
                    "{name} (port {}) exited during start-up ({status}) before it was ready (waiting for {waited_for}){tail}",
                    spec.port
                ))
            }
            Outcome::TimedOut => {
                let tail = render_tail(name, &self.log.tail(ERROR_TAIL));
                Err(anyhow!(
                    "{name} (port {}) was not ready after {:?}: waited for {waited_for}; last attempt: {last}{tail}",
                    spec.port,
                    spec.start_timeout
                ))
            }
        }
    }

    /// Resolves with the exit status once the leader process exited.
    async fn exited(&self) -> WorkerExit {
        let mut exit = self.exit.clone();
        match exit.wait_for(Option::is_some).await {
            Ok(status) => status.unwrap_or_default(),
            Err(_) => WorkerExit::default(),
        }
    }
}
