//! A private `mongod` on a free loopback port, for runs that have no `MongoDB`
//! server of their own: with a temporary dbpath, or one kept between runs so a
//! resumed run finds its data again. Runs start it standalone; as the primary
//! of a one-member replica set it is measured, and found not to pay (see
//! [`ManagedMongod::start_replica_set`]).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use mongodb::Client;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ClientOptions;
use tokio::process::{Child, Command};

use crate::process::{free_port, spawn_guarded, stop_guarded};

/// How long mongod may take to accept connections before the start fails.
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a stopping mongod gets after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// Attempts with a fresh port when another process takes the chosen one first.
const PORT_ATTEMPTS: u32 = 3;
/// `WiredTiger`'s journal for kept data: 1 MB log files, none preallocated.
/// mongod 4.0's default makes 100 MB files and preallocates two more, so a
/// kept directory holds 301 MB before any data; with this it holds ~1 MB, and
/// checkpoints (every 60 s, and at shutdown) remove the files they no longer need.
const SMALL_JOURNAL: &str = "log=(file_max=1MB,prealloc=false)";
/// The name of the one-member replica set of [`ManagedMongod::start_replica_set`].
const SET_NAME: &str = "prometheus-test";
/// How long a replica set member may take to become primary before the
/// server is started standalone instead. mongod 4.0 needs ~2 s after
/// `replSetInitiate` and ~3 s after a restart, most of it its own timers.
const PRIMARY_TIMEOUT: Duration = Duration::from_secs(20);
/// mongod's code for a `replSetInitiate` sent to a member that has a configuration.
const ALREADY_INITIALIZED: i32 = 23;
/// The file in the dbpath that says its replica set was initiated (so it goes
/// with the data when the dbpath is removed).
const INITIATED_MARK: &str = "replica-set-initiated";
/// mongod's code for a replica set member that was never initiated, or has
/// not loaded its configuration yet.
const NOT_YET_INITIALIZED: i32 = 94;

#[cfg(test)]
#[path = "managed_tests.rs"]
mod tests;

/// What [`ManagedMongod::start_replica_set`] started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topology {
    /// The primary of a one-member replica set: snapshots read its oplog.
    Primary,
    /// A standalone server, because the replica set did not become primary
    /// (the reason): snapshots survey every collection, as on any standalone
    /// server.
    Standalone(String),
}

/// A running `mongod` owned by this process: stopped and its data removed by
/// [`ManagedMongod::stop`], killed when dropped.
#[derive(Debug)]
pub struct ManagedMongod {
    child: Child,
    port: u16,
    /// Its dbpath and log. Declared after `child` so that it is removed after
    /// the process is gone.
    dir: ServerDir,
    startup: Duration,
}

impl ManagedMongod {
    /// Starts `binary` with a temporary dbpath and waits until a driver ping succeeds.
    pub async fn start(binary: &Path) -> anyhow::Result<(Self, Client)> {
        Self::start_in(binary, None).await
    }

    /// Starts `binary` and waits until a driver ping succeeds; with `kept`, the
    /// data lives in that directory (journaled) and outlives the server.
    pub(crate) async fn start_in(
        binary: &Path,
        kept: Option<&Path>,
    ) -> anyhow::Result<(Self, Client)> {
        Self::start_with(binary, kept, &[]).await
    }

    /// [`ManagedMongod::start_in`] as the primary of a one-member replica set,
    /// so that snapshots read the oplog instead of surveying every collection.
    /// A kept directory's replica set is kept too, and moved to this start's
    /// port. When the member does not become primary within
    /// [`PRIMARY_TIMEOUT`], the server is started again standalone on the
    /// same kept data (or a new temporary dbpath), and
    /// [`Topology::Standalone`] says why.
    ///
    /// Not used by runs, because it does not pay (`scripts/bench-snapshots.sh`,
    /// mongod 4.0): it starts in ~2.8 s (new dbpath) or ~3.7 s (kept) against
    /// ~0.7 s standalone, and the example's whole run with snapshots is no
    /// faster on it (2.91 s against 2.76 s, and 3.16 s against 3.16 s, in two
    /// invocations): a snapshot that found nothing changed is cheaper, one
    /// after writes dearer.
    pub async fn start_replica_set(
        binary: &Path,
        kept: Option<&Path>,
    ) -> anyhow::Result<(Self, Client, Topology)> {
        Self::start_replica_set_within(binary, kept, PRIMARY_TIMEOUT).await
    }

    /// [`ManagedMongod::start_replica_set`], waiting `timeout` for a primary.
    pub(crate) async fn start_replica_set_within(
        binary: &Path,
        kept: Option<&Path>,
        timeout: Duration,
    ) -> anyhow::Result<(Self, Client, Topology)> {
        let started = Instant::now();
        let (mut server, client) = Self::start_with(binary, kept, &["--replSet", SET_NAME]).await?;
        let mark = server.dir.path().join("db").join(INITIATED_MARK);
        match make_primary(&client, server.port, &mark, timeout).await {
            Ok(()) => {
                server.startup = started.elapsed();
                Ok((server, client, Topology::Primary))
            }
            Err(error) => {
                let why = format!(
                    "{error:#}; its log ends with:\n{}",
                    log_tail(&server.dir.path().join("mongod.log"))
                );
                // Dropped, not shut down: the driver's shutdown handshake can
                // hang against mongod 4.0, and this server is going away.
                drop(client);
                server.stop().await;
                let (mut server, client) = Self::start_with(binary, kept, &[]).await?;
                server.startup = started.elapsed();
                Ok((server, client, Topology::Standalone(why)))
            }
        }
    }

    /// [`ManagedMongod::start_in`] with extra command-line `args` (e.g. `--auth`).
    #[cfg(test)]
    pub(crate) async fn start_with_args(
        binary: &Path,
        kept: Option<&Path>,
        args: &[&str],
    ) -> anyhow::Result<(Self, Client)> {
        Self::start_with(binary, kept, args).await
    }

    async fn start_with(
        binary: &Path,
        kept: Option<&Path>,
        args: &[&str],
    ) -> anyhow::Result<(Self, Client)> {
        let started = Instant::now();
        let mut taken = Vec::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port().context("cannot find a free loopback port for mongod")?;
            let dir = match kept {
                Some(dir) => ServerDir::kept(dir)?,
                None => ServerDir::Private(PrivateDir::create()?),
            };
            match Self::launch(binary, dir, port, args).await {
                Ok(mut server) => {
                    server.startup = started.elapsed();
                    return match ping_client(port).await {
                        Ok(client) => Ok((server, client)),
                        Err(error) => {
                            server.stop().await;
                            Err(error)
                        }
                    };
                }
                Err(LaunchError::PortTaken) => taken.push(port.to_string()),
                Err(LaunchError::Failed(error)) => return Err(error),
            }
        }
        bail!(
            "{}: ports {} were taken by other processes before mongod could bind them",
            binary.display(),
            taken.join(", ")
        )
    }

    /// Spawns mongod in `dir` and waits until it accepts connections.
    async fn launch(
        binary: &Path,
        dir: ServerDir,
        port: u16,
        args: &[&str],
    ) -> Result<Self, LaunchError> {
        let log_path = dir.path().join("mongod.log");
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("cannot create {}", log_path.display()))?;
        let mut command = Command::new(binary);
        command
            .arg("--port")
            .arg(port.to_string())
            .arg("--dbpath")
            .arg(dir.path().join("db"))
            .args(["--bind_ip", "127.0.0.1", "--nounixsocket"])
            .args(["--wiredTigerCacheSizeGB", "0.25"])
            // Data thrown away at the end of the run needs no journal; kept data
            // must survive a killed run, in a journal that takes little room.
            .args(match dir {
                ServerDir::Private(_) => &["--nojournal"][..],
                ServerDir::Kept(_) => &["--wiredTigerEngineConfigString", SMALL_JOURNAL][..],
            })
            .args(["--setParameter", "diagnosticDataCollectionEnabled=false"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(
                log.try_clone().context("cannot share the mongod log")?,
            ))
            .stderr(Stdio::from(log));
        let child = spawn_guarded(&mut command).with_context(|| {
            format!(
                "cannot start {}; set PROMETHEUS_TEST_MONGOD to a mongod binary",
                binary.display()
            )
        })?;
        // From here on, dropping `server` kills mongod and removes a private `dir`.
        let mut server = Self {
            child,
            port,
            dir,
            startup: Duration::ZERO,
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = server.child.try_wait().context("cannot poll mongod")? {
                let log = log_tail(&log_path);
                if log.contains("Address already in use") {
                    return Err(LaunchError::PortTaken);
                }
                return Err(LaunchError::Failed(anyhow::anyhow!(
                    "{} exited during startup ({status}); its log ends with:\n{log}",
                    binary.display()
                )));
            }
            if tokio::net::TcpStream::connect(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
                .await
                .is_ok()
            {
                return Ok(server);
            }
            if Instant::now() > deadline {
                let log = log_tail(&log_path);
                server.stop().await;
                return Err(LaunchError::Failed(anyhow::anyhow!(
                    "{} did not accept connections on port {port} within {} s; its log ends with:\n{log}",
                    binary.display(),
                    READY_TIMEOUT.as_secs(),
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The connection string of this server.
    #[must_use]
    pub fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}", self.port)
    }

    /// The operating-system id of the server process, while it runs.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// How long the start took, from spawn to the first successful ping.
    #[must_use]
    pub fn startup(&self) -> Duration {
        self.startup
    }

    /// Stops the server (SIGTERM, then SIGKILL after a grace period) and removes
    /// its data, unless the data is kept for the next run.
    pub async fn stop(mut self) {
        stop_guarded(&mut self.child, STOP_GRACE).await;
        // Dropping `self` now finds the child reaped and removes a private directory.
    }
}

impl Drop for ManagedMongod {
    fn drop(&mut self) {
        // After `stop` the child is already reaped and this is a no-op.
        if self.child.start_kill().is_ok() {
            let deadline = Instant::now() + Duration::from_secs(2);
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        // The fields drop next: the child, then the directory.
    }
}

/// Where a server keeps its dbpath (`db/`) and `mongod.log`.
#[derive(Debug)]
enum ServerDir {
    /// Removed when the server is dropped.
    Private(PrivateDir),
    /// Kept for the next run.
    Kept(PathBuf),
}

impl ServerDir {
    fn kept(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir.join("db"))
            .with_context(|| format!("cannot create {}", dir.join("db").display()))?;
        Ok(Self::Kept(dir.to_path_buf()))
    }

    fn path(&self) -> &Path {
        match self {
            Self::Private(dir) => &dir.0,
            Self::Kept(dir) => dir,
        }
    }
}

/// A directory for one server's dbpath (`db/`) and `mongod.log`, removed on drop.
#[derive(Debug)]
struct PrivateDir(PathBuf);

impl PrivateDir {
    const PREFIX: &str = "prometheus-test-mongod-";

    fn create() -> anyhow::Result<Self> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let temp = std::env::temp_dir();
        remove_stale(&temp);
        let dir = temp.join(format!(
            "{}{}-{}",
            Self::PREFIX,
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        // A directory left by a killed process with a recycled pid holds nothing we need.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("db"))
            .with_context(|| format!("cannot create {}", dir.join("db").display()))?;
        Ok(Self(dir))
    }
}

/// Removes the directories of runs whose process is gone: a server kept for a whole
/// process (as the tests do) or a killed run never gets to remove its own.
fn remove_stale(temp: &Path) {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let owner = name
            .to_str()
            .and_then(|name| name.strip_prefix(PrivateDir::PREFIX))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<i32>().ok());
        if let Some(pid) = owner
            && pid != 0
            && nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None)
                == Err(nix::errno::Errno::ESRCH)
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

enum LaunchError {
    PortTaken,
    Failed(anyhow::Error),
}

impl From<anyhow::Error> for LaunchError {
    fn from(error: anyhow::Error) -> Self {
        Self::Failed(error)
    }
}

/// Makes the member on `port` the primary of [`SET_NAME`], waiting until
/// `timeout`: initiated (and `mark` written) when there is no `mark`; else
/// once it has loaded the configuration it keeps (a restarted member answers
/// as if never initiated until then), that configuration moved to `port` when
/// it names another (a member that does not find itself in it waits as
/// `REMOVED`).
async fn make_primary(
    client: &Client,
    port: u16,
    mark: &Path,
    timeout: Duration,
) -> anyhow::Result<()> {
    let admin = client.database("admin");
    let host = format!("127.0.0.1:{port}");
    let members = vec![doc! { "_id": 0, "host": &host }];
    let deadline = Instant::now() + timeout;
    let initiated = mark.exists()
        || match admin
            .run_command(doc! {
                "replSetInitiate": { "_id": SET_NAME, "protocolVersion": 1, "members": members.clone() },
            })
            .await
        {
            Ok(_) => {
                std::fs::write(mark, SET_NAME)
                    .with_context(|| format!("cannot write {}", mark.display()))?;
                false
            }
            // Initiated by a start that did not get to write its mark.
            Err(error) if command_code(&error) == Some(ALREADY_INITIALIZED) => true,
            Err(error) => {
                return Err(error)
                    .context(format!("replSetInitiate of {SET_NAME} at {host} failed"));
            }
        };
    if initiated {
        let reply = loop {
            match admin.run_command(doc! { "replSetGetConfig": 1 }).await {
                Ok(reply) => break reply,
                Err(error)
                    if command_code(&error) == Some(NOT_YET_INITIALIZED)
                        && Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(error) => {
                    return Err(error).context(format!(
                        "{host} did not load the configuration of replica set {SET_NAME} it \
                         keeps within {} ms",
                        timeout.as_millis()
                    ));
                }
            }
        };
        let config = reply
            .get_document("config")
            .map_err(|_| anyhow::anyhow!("replSetGetConfig at {host} answered without `config`"))?;
        if configured_host(config) != Some(host.as_str()) {
            let version = config.get_i32("version").unwrap_or(1);
            admin
                .run_command(doc! {
                    "replSetReconfig": {
                        "_id": SET_NAME,
                        "version": version + 1,
                        "protocolVersion": 1,
                        "members": members,
                    },
                    "force": true,
                })
                .await
                .with_context(|| format!("replSetReconfig of {SET_NAME} to {host} failed"))?;
        }
    }
    loop {
        let hello = admin.run_command(doc! { "isMaster": 1 }).await?;
        if hello.get_bool("ismaster") == Ok(true) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "{host} was not the primary of replica set {SET_NAME} within {} ms",
                timeout.as_millis()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The host of the only member of a replica set `config`.
fn configured_host(config: &Document) -> Option<&str> {
    match config.get_array("members").ok()?.as_slice() {
        [Bson::Document(member)] => member.get_str("host").ok(),
        _ => None,
    }
}

/// The server's error code of a failed command.
fn command_code(error: &mongodb::error::Error) -> Option<i32> {
    match &*error.kind {
        mongodb::error::ErrorKind::Command(command) => Some(command.code),
        _ => None,
    }
}

async fn ping_client(port: u16) -> anyhow::Result<Client> {
    let uri = format!("mongodb://127.0.0.1:{port}/?directConnection=true");
    let mut options = ClientOptions::parse(&uri).await?;
    options.app_name = Some("prometheus-test".to_owned());
    options.server_selection_timeout = Some(Duration::from_secs(3));
    options.connect_timeout = Some(Duration::from_secs(3));
    let client = Client::with_options(options)?;
    client
        .database("admin")
        .run_command(doc! { "ping": 1 })
        .await
        .with_context(|| format!("the private mongod on port {port} does not answer a ping"))?;
    Ok(client)
}

/// The last lines of mongod's log, for startup errors.
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}
