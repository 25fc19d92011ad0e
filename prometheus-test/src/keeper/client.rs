//! A run's side of the keeper: attached for the whole run, it has the keeper
//! spawn the process members ([`Host`]), learns the keeper's `mongod` and
//! proxy ports, and tells what it played as it ends.

use std::collections::{BTreeMap, HashMap};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use futures_util::future::BoxFuture;
use tokio::sync::watch;

use super::address;
use super::protocol::{
    self, Hello, Incoming, Reply, Report, Request, SpawnRequest, StepSource, Welcome,
};
use crate::process::{Host, HostedProcess, LaunchSpec, WorkerExit};

/// How long the keeper may take to answer (a spawn stops the old process
/// first: its grace, then the new one's start).
const ANSWER_LIMIT: Duration = Duration::from_secs(60);

/// Variables of a run's process environment that belong to that run alone
/// (nextest's, the edit loop's): not passed on to a member the keeper
/// starts, which outlives the run.
const PER_RUN_PREFIXES: [&str; 3] = [
    "NEXTEST",
    "PROMETHEUS_TEST_NEXTEST_",
    "PROMETHEUS_TEST_WATCH",
];

/// A run attached to its suite's keeper.
#[derive(Clone)]
pub(crate) struct Link(Arc<Inner>);

struct Inner {
    writer: UnixStream,
    /// Answers in order, each with what it carries.
    answers: Mutex<Receiver<Answer>>,
    /// One question at a time.
    turn: Mutex<()>,
    welcome: Welcome,
    /// The run starts fresh: every process it asks for starts again.
    fresh: std::sync::atomic::AtomicBool,
}

/// An answer, with the spawned process's exit.
struct Answer {
    reply: Reply,
    exit: Option<watch::Receiver<Option<WorkerExit>>>,
}

impl Drop for Inner {
    /// Detaches: the keeper sees the connection end (the reading thread
    /// holds a copy of the socket, which would keep it open).
    fn drop(&mut self) {
        let _ = self.writer.shutdown(std::net::Shutdown::Both);
    }
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("keeper", &self.0.welcome.keeper)
            .finish_non_exhaustive()
    }
}

impl Link {
    /// Attaches to the keeper of `data_dir` when one is up, introducing
    /// this run and its `steps`.
    pub(crate) fn attach(data_dir: &Path, steps: Vec<StepSource>) -> anyhow::Result<Option<Self>> {
        let cannot = || format!("cannot attach to the keeper of {}", data_dir.display());
        let Some(stream) = address::connect(data_dir).with_context(cannot)? else {
            return Ok(None);
        };
        let reader = stream.try_clone().with_context(cannot)?;
        protocol::send(
            &stream,
            &Request::Hello(Hello {
                pid: std::process::id(),
                steps,
            }),
        )
        .with_context(cannot)?;
        let (answers, received) = channel();
        std::thread::Builder::new()
            .name("prometheus-test-keeper".to_owned())
            .spawn(move || read_answers(Incoming::new(reader), &answers))
            .with_context(cannot)?;
        let welcome = match received.recv_timeout(ANSWER_LIMIT) {
            Ok(Answer {
                reply: Reply::Welcome(welcome),
                ..
            }) => welcome,
            Ok(Answer { reply, .. }) => bail!("{}: it answered {reply:?}", cannot()),
            Err(_) => bail!("{}: it did not answer", cannot()),
        };
        Ok(Some(Self(Arc::new(Inner {
            writer: stream,
            answers: Mutex::new(received),
            turn: Mutex::new(()),
            welcome,
            fresh: std::sync::atomic::AtomicBool::new(false),
        }))))
    }

    /// The keeper's PID.
    pub(crate) fn keeper_pid(&self) -> u32 {
        self.0.welcome.keeper
    }

    /// The `MONGO_URI` of the `mongod` the keeper runs, if it runs one.
    pub(crate) fn mongo_uri(&self) -> Option<&str> {
        self.0.welcome.mongo_uri.as_deref()
    }

    /// The port the last run's proxy listened on for `client`.
    pub(crate) fn proxy_port(&self, client: &str) -> Option<u16> {
        self.0.welcome.proxy_ports.get(client).copied()
    }

    /// This run starts fresh (`--reset`, or after a completed run): the
    /// processes it asks for start again, forgetting the old world.
    pub(crate) fn start_fresh(&self) {
        self.0
            .fresh
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// The processes the keeper runs now, with their ports.
    pub(crate) fn kept_ports(&self) -> BTreeMap<String, u16> {
        self.0.welcome.kept_ports.clone()
    }

    /// Tells the keeper the ports this run's proxy listens on.
    pub(crate) fn remember_proxy_ports(&self, ports: BTreeMap<String, u16>) -> anyhow::Result<()> {
        self.ask(&Request::ProxyPorts { ports }).map(drop)
    }

    /// Tells the keeper what this run played.
    pub(crate) fn report(&self, report: Report) -> anyhow::Result<()> {
        self.ask(&Request::Report(report)).map(drop)
    }

    /// Sends `request` and waits for its answer.
    fn ask(&self, request: &Request) -> anyhow::Result<Answer> {
        let _turn = self.0.turn.lock().unwrap_or_else(PoisonError::into_inner);
        protocol::send(&self.0.writer, request).context("the keeper is gone")?;
        let answers = self
            .0
            .answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match answers.recv_timeout(ANSWER_LIMIT) {
            Ok(Answer {
                reply: Reply::Refused { error },
                ..
            }) => Err(anyhow!(error)),
            Ok(answer) => Ok(answer),
            Err(RecvTimeoutError::Timeout) => bail!(
                "the keeper (PID {}) did not answer within {}s",
                self.keeper_pid(),
                ANSWER_LIMIT.as_secs()
            ),
            Err(RecvTimeoutError::Disconnected) => {
                bail!("the keeper (PID {}) is gone", self.keeper_pid())
            }
        }
    }

    /// The spawn request for `spec`, or why the keeper cannot run it.
    fn request_for(&self, spec: &LaunchSpec) -> anyhow::Result<SpawnRequest> {
        let text = |value: &std::ffi::OsStr| {
            value.to_str().map(str::to_owned).ok_or_else(|| {
                anyhow!(
                    "{}: the keeper runs commands of UTF-8 only: {}",
                    spec.name,
                    value.to_string_lossy()
                )
            })
        };
        let command = spec
            .command
            .iter()
            .map(|part| text(part))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let process: BTreeMap<String, String> = std::env::vars_os()
            .filter_map(|(key, value)| Some((key.into_string().ok()?, value.into_string().ok()?)))
            .collect();
        // The run's environment is the process's with the `.env` files and
        // the member's own variables over it: what differs from the
        // process's is the member's own.
        let env = spec
            .env
            .iter()
            .filter(|(key, value)| process.get(key) != Some(value))
            .cloned()
            .collect();
        let inherited = process
            .into_iter()
            .filter(|(key, _)| {
                !PER_RUN_PREFIXES
                    .iter()
                    .any(|prefix| key.starts_with(prefix))
            })
            .collect();
        Ok(SpawnRequest {
            name: spec.name.clone(),
            command,
            cwd: spec.cwd.clone(),
            env,
            inherited,
            port: spec.port,
            fresh: self.0.fresh.load(std::sync::atomic::Ordering::SeqCst),
        })
    }
}

impl Host for Link {
    fn spawn<'a>(&'a self, spec: &'a LaunchSpec) -> BoxFuture<'a, anyhow::Result<HostedProcess>> {
        Box::pin(async move {
            let request = Request::Spawn(self.request_for(spec)?);
            let link = self.clone();
            let answer = tokio::task::spawn_blocking(move || link.ask(&request))
                .await
                .map_err(|err| anyhow!("{}: {err}", spec.name))??;
            let (
                Reply::Spawned {
                    pid,
                    stdout,
                    stderr,
                    ..
                },
                Some(exit),
            ) = (&answer.reply, answer.exit)
            else {
                bail!("{}: the keeper answered {:?}", spec.name, answer.reply);
            };
            let output = |path: &Path| {
                open_fifo(path).with_context(|| {
                    format!(
                        "{}: cannot read its output at {}",
                        spec.name,
                        path.display()
                    )
                })
            };
            Ok(HostedProcess {
                pid: *pid,
                stdout: output(stdout)?,
                stderr: output(stderr)?,
                exit,
            })
        })
    }
}

/// Reads the keeper's lines until it closes: exits go to the process they
/// name, answers to the question waiting.
fn read_answers(mut incoming: Incoming, answers: &Sender<Answer>) {
    let mut exits: HashMap<u32, watch::Sender<Option<WorkerExit>>> = HashMap::new();
    while let Ok(Some(reply)) = incoming.next::<Reply>() {
        match reply {
            Reply::Exited { pid, code, signal } => {
                if let Some(exit) = exits.remove(&pid) {
                    exit.send_replace(Some(WorkerExit { code, signal }));
                }
            }
            Reply::Spawned { pid, .. } => {
                let (sender, receiver) = watch::channel(None);
                exits.insert(pid, sender);
                let answer = Answer {
                    reply,
                    exit: Some(receiver),
                };
                if answers.send(answer).is_err() {
                    return;
                }
            }
            reply => {
                let answer = Answer { reply, exit: None };
                if answers.send(answer).is_err() {
                    return;
                }
            }
        }
    }
}

/// Opens the FIFO at `path` to read (without waiting for a writer: the
/// keeper holds it open) and removes its name.
fn open_fifo(path: &Path) -> std::io::Result<OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(path)?;
    std::fs::remove_file(path)?;
    Ok(OwnedFd::from(file))
}
