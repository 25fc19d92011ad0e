//! One worker of a fleet over its whole life: the process it runs now
//! (replaced at each start), what steps did to it, and the operations a step
//! may apply (stop, kill, start, pause, resume).

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use nix::sys::signal::Signal;
use tokio::net::unix::pipe::Receiver;
use tokio::process::{ChildStderr, ChildStdout};
use tokio::sync::watch;
use tokio::time::sleep;

use super::container::{Engine, RUN_LABEL};
use super::exit::WorkerExit;
use super::guard::{kill_group, signal_group, spawn_guarded, stop_group};
use super::hosted::Host;
use super::line::Stream;
use super::logs::{LogHub, WorkerLog, render_tail};
use super::ready::{self, Probe};
use super::reaper;
use super::spawn::worker_command;
use super::spec::LaunchSpec;

/// SIGTERM to SIGKILL delay, at shutdown and for a step's `stop`.
pub(super) const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// How long to wait for the last output of a process that exited.
pub(super) const DRAIN_LIMIT: Duration = Duration::from_millis(300);
/// Output lines shown in an error.
pub(super) const ERROR_TAIL: usize = 25;

/// Where a worker is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Life {
    /// Its process was spawned and is not ready yet.
    Starting,
    /// Ready and not paused.
    Running,
    /// Its process group is stopped with SIGSTOP.
    Paused,
    /// Stopped on purpose (by a step or at the run's end): not a crash.
    Stopped,
    /// Its process ended by itself while it ran.
    Crashed(WorkerExit),
}

impl fmt::Display for Life {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Starting => f.write_str("it is starting"),
            Self::Running => f.write_str("it is running"),
            Self::Paused => f.write_str("it is paused"),
            Self::Stopped => f.write_str("it is stopped"),
            Self::Crashed(exit) => write!(f, "it exited ({exit})"),
        }
    }
}

/// How a step ends a worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StopHow {
    /// SIGTERM to its process group, SIGKILL after the grace.
    Stop,
    /// SIGKILL at once.
    Kill,
}

impl StopHow {
    /// `stop` or `kill`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Kill => "kill",
        }
    }
}

/// What runs a worker now.
#[derive(Clone, Debug)]
enum Body {
    /// A process: the leader's pid, which is also its process group id.
    Group(u32),
    /// A container, by id.
    Container(String),
}

/// One start of a worker: its process or container.
#[derive(Clone, Debug)]
struct Process {
    body: Body,
    /// `Some(exit)` once the leader exited.
    exit: watch::Receiver<Option<WorkerExit>>,
    /// Set before the harness ends it, so its exit is not a crash.
    expected: Arc<AtomicBool>,
}

/// A worker of a fleet.
#[derive(Debug)]
pub(crate) struct Member {
    spec: LaunchSpec,
    pub(super) log: Arc<WorkerLog>,
    /// The client for health probes, when the worker has a health URL.
    client: Option<reqwest::Client>,
    /// The Docker Engine, for a container worker.
    engine: Option<Arc<Engine>>,
    /// The keeper that runs a process member, when a keeper keeps the world.
    host: Option<Arc<dyn Host>>,
    life: watch::Sender<Life>,
    process: Mutex<Option<Process>>,
    /// One operation at a time.
    turn: tokio::sync::Mutex<()>,
}

impl Member {
    pub(super) fn new(
        hub: &Arc<LogHub>,
        index: usize,
        spec: LaunchSpec,
        client: Option<reqwest::Client>,
        engine: Option<Arc<Engine>>,
        host: Option<Arc<dyn Host>>,
    ) -> Arc<Self> {
        Arc::new(Self {
            log: WorkerLog::new(Arc::clone(hub), &spec.name, index),
            host: host.filter(|_| spec.container.is_none()),
            spec,
            client,
            engine,
            life: watch::Sender::new(Life::Stopped),
            process: Mutex::new(None),
            turn: tokio::sync::Mutex::new(()),
        })
    }

    /// The worker's name.
    pub(crate) fn name(&self) -> &str {
        &self.spec.name
    }

    /// Where the worker is in its life now.
    pub(crate) fn life(&self) -> Life {
        *self.life.borrow()
    }

    /// Resolves with how the worker's process ended once it crashed (at once
    /// if it has); never for a worker stopped on purpose.
    pub(super) async fn crashed(&self) -> WorkerExit {
        let mut life = self.life.subscribe();
        match life.wait_for(|life| matches!(life, Life::Crashed(_))).await {
            Ok(life) => match *life {
                Life::Crashed(exit) => exit,
                _ => WorkerExit::default(),
            },
            Err(_) => std::future::pending().await,
        }
    }

    /// Starts the worker's process or container and follows its output and exit.
    pub(super) async fn spawn(&self) -> anyhow::Result<()> {
        match (&self.spec.container, &self.engine) {
            (Some(container), Some(engine)) => {
                let id = engine.run(&self.spec, container).await?;
                if let Some((_, run)) = container.labels.iter().find(|(key, _)| key == RUN_LABEL) {
                    let _ = reaper::watch_run(run);
                }
                engine.follow_logs(&id, &self.log)?;
                let engine = Arc::clone(engine);
                let waited = id.clone();
                self.watch(
                    Body::Container(id),
                    async move { engine.wait(&waited).await },
                );
                Ok(())
            }
            (Some(_), None) => Err(anyhow!(
                "{}: a container worker needs a Docker Engine",
                self.spec.name
            )),
            (None, _) => match &self.host {
                Some(host) => self.spawn_hosted(host.as_ref()).await,
                None => self.spawn_process(),
            },
        }
    }

    /// Whether a keeper runs this member's process.
    pub(super) fn is_hosted(&self) -> bool {
        self.host.is_some()
    }

    /// Has `host` spawn the worker's process (or hand over the one it
    /// keeps) and follows its output and exit.
    async fn spawn_hosted(&self, host: &dyn Host) -> anyhow::Result<()> {
        let hosted = host.spawn(&self.spec).await?;
        for (fd, pipe) in [
            (hosted.stdout, Stream::Stdout),
            (hosted.stderr, Stream::Stderr),
        ] {
            let reader = Receiver::from_owned_fd(fd)
                .with_context(|| format!("{}: cannot read the worker's output", self.name()))?;
            self.log.follow(reader, pipe);
        }
        let mut exit = hosted.exit;
        self.watch(Body::Group(hosted.pid), async move {
            match exit.wait_for(Option::is_some).await {
                Ok(status) => status.unwrap_or_default(),
                Err(_) => WorkerExit::default(),
            }
        });
        Ok(())
    }

    /// Spawns the worker's process and follows its output and exit.
    fn spawn_process(&self) -> anyhow::Result<()> {
        let spec = &self.spec;
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
        let pipes = [
            (
                child.stdout.take().map(ChildStdout::into_owned_fd),
                Stream::Stdout,
            ),
            (
                child.stderr.take().map(ChildStderr::into_owned_fd),
                Stream::Stderr,
            ),
        ];
        for (fd, pipe) in pipes {
            let Some(fd) = fd else { continue };
            let reader = fd
                .and_then(Receiver::from_owned_fd)
                .with_context(|| format!("{}: cannot read the worker's output", spec.name))?;
            self.log.follow(reader, pipe);
        }
        self.watch(Body::Group(pgid), async move {
            child.wait().await.map(WorkerExit::from).unwrap_or_default()
        });
        Ok(())
    }

    /// Makes `body` the worker's current start, whose end `exit` resolves:
    /// an end the harness did not ask for is a crash.
    fn watch(&self, body: Body, exit: impl Future<Output = WorkerExit> + Send + 'static) {
        self.life.send_replace(Life::Starting);
        let (exit_sender, exit_receiver) = watch::channel(None);
        let expected = Arc::new(AtomicBool::new(false));
        *lock(&self.process) = Some(Process {
            body,
            exit: exit_receiver,
            expected: Arc::clone(&expected),
        });
        let life = self.life.clone();
        tokio::spawn(async move {
            let status = exit.await;
            // The exit is published before the life changes: `wait_ready` relies on it.
            exit_sender.send_replace(Some(status));
            if !expected.load(Ordering::SeqCst) {
                life.send_modify(|life| {
                    if matches!(life, Life::Running | Life::Paused) {
                        *life = Life::Crashed(status);
                    }
                });
            }
        });
    }

    /// Waits until the spawned process is ready, then marks it running (or
    /// crashed, if it exited in between).
    pub(super) async fn wait_ready(&self) -> anyhow::Result<()> {
        let process = self.current()?;
        let probe = match (&self.spec.health_url, &self.client) {
            (Some(url), Some(client)) => Probe::Health {
                url: url.clone(),
                client: client.clone(),
            },
            _ => self.port_probe(),
        };
        self.await_ready(&process, probe).await?;
        let expected = process.expected.load(Ordering::SeqCst);
        let exit = *process.exit.borrow();
        self.life.send_modify(|life| {
            *life = match exit {
                Some(exit) if !expected => Life::Crashed(exit),
                Some(_) => Life::Stopped,
                None => Life::Running,
            };
        });
        Ok(())
    }

    /// The port to probe: on the runner's loopback, or on the engine's host
    /// for a container on a remote engine (its port is published there).
    fn port_probe(&self) -> Probe {
        let port = self.spec.port;
        let remote = self.engine.as_deref().and_then(Engine::remote_host);
        match (&self.spec.container, remote) {
            (Some(_), Some(host)) => Probe::Remote {
                host: host.to_owned(),
                port,
            },
            _ => Probe::Port(port),
        }
    }

    async fn await_ready(&self, process: &Process, probe: Probe) -> anyhow::Result<()> {
        enum Outcome {
            Ready,
            Exited(WorkerExit),
            TimedOut,
        }
        let spec = &self.spec;
        let mut last = String::from("no attempt finished");
        let outcome = tokio::select! {
            biased;
            status = exited(process) => Outcome::Exited(status),
            () = ready::until_ready(&probe, &mut last, || self.log.printed()) => Outcome::Ready,
            () = sleep(spec.start_timeout) => Outcome::TimedOut,
        };
        let name = &spec.name;
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
                    "{name} (port {}) was not ready after {:?}: waited for {waited_for}; last attempt: {last}{}{tail}",
                    spec.port,
                    spec.start_timeout,
                    probe.hint()
                ))
            }
        }
    }

    /// A step's `start`: spawns the worker again (same command, port and
    /// environment) and waits until it is ready. Fails if it is not stopped.
    pub(crate) async fn start(&self) -> anyhow::Result<()> {
        let _turn = self.turn.lock().await;
        let name = self.name();
        match self.life() {
            Life::Stopped | Life::Crashed(_) => {}
            life => bail!(
                "cannot start {name}: {life}; stop it first, or call `restart` to stop and start it"
            ),
        }
        if self.spec.container.is_none() {
            super::port::check_free([(name, self.spec.port)])?;
        }
        self.spawn().await?;
        if let Err(error) = self.wait_ready().await {
            self.end(StopHow::Stop).await;
            return Err(error);
        }
        Ok(())
    }

    /// A step's `stop` or `kill`: how the process ended. Fails if the worker
    /// is not running or paused.
    pub(crate) async fn stop(&self, how: StopHow) -> anyhow::Result<Option<WorkerExit>> {
        let _turn = self.turn.lock().await;
        match self.life() {
            Life::Running | Life::Paused => Ok(self.end(how).await),
            life => bail!("cannot {} {}: {life}", how.as_str(), self.name()),
        }
    }

    /// A step's `pause`: SIGSTOP to the worker's process group.
    pub(crate) async fn pause(&self) -> anyhow::Result<()> {
        let _turn = self.turn.lock().await;
        match self.life() {
            Life::Running => {}
            Life::Paused => bail!("cannot pause {}: it is paused already", self.name()),
            life => bail!("cannot pause {}: {life}, not running", self.name()),
        }
        match self.current()?.body {
            Body::Group(pgid) => signal_group(pgid, Signal::SIGSTOP),
            Body::Container(id) => self.engine()?.pause(&id).await?,
        }
        self.life.send_modify(|life| {
            if *life == Life::Running {
                *life = Life::Paused;
            }
        });
        Ok(())
    }

    /// A step's `resume`: SIGCONT to the worker's paused process group.
    pub(crate) async fn resume(&self) -> anyhow::Result<()> {
        let _turn = self.turn.lock().await;
        let life = self.life();
        if life != Life::Paused {
            bail!("cannot resume {}: {life}, not paused", self.name());
        }
        match self.current()?.body {
            Body::Group(pgid) => signal_group(pgid, Signal::SIGCONT),
            Body::Container(id) => self.engine()?.unpause(&id).await?,
        }
        self.life.send_modify(|life| {
            if *life == Life::Paused {
                *life = Life::Running;
            }
        });
        Ok(())
    }

    /// At the run's end: stops the worker unless a step stopped it; how its
    /// last process ended, if it ended at the run's end or by a crash.
    pub(super) async fn shut_down(&self) -> Option<WorkerExit> {
        let _turn = self.turn.lock().await;
        match self.life() {
            Life::Stopped => None,
            Life::Crashed(exit) => {
                // Whatever the crashed leader forked goes too.
                self.end(StopHow::Stop).await;
                Some(exit)
            }
            Life::Starting | Life::Running | Life::Paused => self.end(StopHow::Stop).await,
        }
    }

    /// At the run's end, for a member a keeper runs: leaves its process to
    /// the keeper (running: a paused one is resumed) unless a step stopped
    /// it; how it ended if it crashed.
    pub(super) async fn detach(&self) -> Option<WorkerExit> {
        let _turn = self.turn.lock().await;
        let life = self.life();
        if let Ok(process) = self.current() {
            process.expected.store(true, Ordering::SeqCst);
            if let (Life::Paused, Body::Group(pgid)) = (life, &process.body) {
                signal_group(*pgid, Signal::SIGCONT);
            }
        }
        self.life.send_replace(Life::Stopped);
        match life {
            Life::Crashed(exit) => Some(exit),
            _ => None,
        }
    }

    /// Ends the current process (its whole group) and marks the worker stopped.
    async fn end(&self, how: StopHow) -> Option<WorkerExit> {
        let Ok(process) = self.current() else {
            self.life.send_replace(Life::Stopped);
            return None;
        };
        process.expected.store(true, Ordering::SeqCst);
        let mut exit = process.exit.clone();
        let leader_exit = async move {
            let _ = exit.wait_for(Option::is_some).await;
        };
        match (&process.body, &self.engine) {
            (Body::Group(pgid), _) => match how {
                StopHow::Stop => {
                    // A paused group would hold the SIGTERM until it runs again.
                    signal_group(*pgid, Signal::SIGCONT);
                    stop_group(*pgid, SHUTDOWN_GRACE, leader_exit).await;
                }
                StopHow::Kill => kill_group(*pgid, leader_exit).await,
            },
            (Body::Container(id), Some(engine)) => {
                if self.life() == Life::Paused {
                    let _ = engine.unpause(id).await;
                }
                match how {
                    StopHow::Stop => engine.stop(id, SHUTDOWN_GRACE).await,
                    StopHow::Kill => engine.kill(id).await,
                }
                let _ = tokio::time::timeout(SHUTDOWN_GRACE, leader_exit).await;
                let _ = engine.remove(id).await;
            }
            (Body::Container(_), None) => {}
        }
        self.log.drained(DRAIN_LIMIT).await;
        self.life.send_replace(Life::Stopped);
        *process.exit.borrow()
    }

    /// Kills the current process group at once, without waiting: for a
    /// fleet dropped without shutdown.
    pub(super) fn kill_now(&self) {
        if self.life() == Life::Stopped {
            return;
        }
        if let Ok(process) = self.current() {
            process.expected.store(true, Ordering::SeqCst);
            match (&process.body, &self.engine) {
                (Body::Group(pgid), _) => {
                    signal_group(*pgid, Signal::SIGKILL);
                    reaper::forget(*pgid);
                }
                (Body::Container(id), Some(engine)) => engine.remove_soon(id),
                (Body::Container(_), None) => {}
            }
        }
    }

    fn engine(&self) -> anyhow::Result<&Arc<Engine>> {
        self.engine
            .as_ref()
            .ok_or_else(|| anyhow!("{}: no Docker Engine", self.name()))
    }

    fn current(&self) -> anyhow::Result<Process> {
        lock(&self.process)
            .clone()
            .ok_or_else(|| anyhow!("{} was never started", self.name()))
    }
}

/// Resolves with the exit status once the process's leader exited.
async fn exited(process: &Process) -> WorkerExit {
    let mut exit = process.exit.clone();
    match exit.wait_for(Option::is_some).await {
        Ok(status) => status.unwrap_or_default(),
        Err(_) => WorkerExit::default(),
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
