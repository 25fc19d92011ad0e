//! A private `mongod` on a free loopback port, for runs that have no `MongoDB`
//! server of their own: with a temporary dbpath, or one kept between runs so a
//! resumed run finds its data again.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use mongodb::Client;
use mongodb::bson::doc;
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

/// A running `mongod` owned by this process: stopped and its data removed by
/// [`ManagedMongod::stop`], killed when dropped.
#[derive(Debug)]
pub struct ManagedMongod {
    child: Child,
    port: u16,
    /// Declared after `child` so that it is removed after the process is gone.
    _dir: ServerDir,
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
            _dir: dir,
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
