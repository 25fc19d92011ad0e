//! The keeper's side: the processes it runs for the suite's runs, kept up
//! between them, and the runs attached one after another.
//!
//! A run asks for each process member ([`Request::Spawn`]). When the keeper
//! runs one of that name whose command, folder, port, own variables and
//! program file are unchanged, and nothing marked it stale, the run gets that
//! process: its PID and two FIFOs of its output from now on. Otherwise the
//! old one is stopped and a new one started. The keeper reads every
//! process's output itself, copying it to the FIFOs of the run that holds it
//! and dropping it while no run does, so a process never blocks on a full
//! pipe.
//!
//! When a run detaches, the processes it paused are resumed: the next run
//! pauses again what its state holds paused.

use std::collections::BTreeMap;
use std::hash::{Hash as _, Hasher as _};
use std::os::unix::fs::MetadataExt as _;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::unix::pipe;
use tokio::sync::watch;

use super::address;
use super::protocol::{self, Incoming, Reply, Report, Request, SpawnRequest, StepSource, Welcome};
use crate::process::{self, WorkerExit};

/// SIGTERM to SIGKILL when a kept process is replaced or the keeper stops.
const GRACE: Duration = Duration::from_secs(2);

/// How a run got one of its processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Got {
    /// The one kept running.
    Kept,
    /// A new one: none ran.
    Started,
    /// A new one in place of the one kept, for this reason.
    Replaced(String),
}

/// One process a run got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Handed {
    pub(crate) name: String,
    pub(crate) pid: u32,
    pub(crate) got: Got,
}

/// What one attached run did, once it detached.
#[derive(Debug, Clone, Default)]
pub(crate) struct Attachment {
    /// The run's PID.
    pub(crate) pid: u32,
    /// Its steps and their files.
    pub(crate) steps: Vec<StepSource>,
    /// The processes it got, in order.
    pub(crate) handed: Vec<Handed>,
    /// What it played, if it said.
    pub(crate) report: Option<Report>,
}

/// A process the keeper runs.
struct Kept {
    pid: u32,
    port: u16,
    /// Hash of the command, folder, port and own variables.
    setup: u64,
    /// The program file's identity (modification time, size, inode).
    program: Option<(i64, i64, u64, u64)>,
    /// Files the command names (scripts), for [`Keeper::mark_stale_by_files`].
    files: Vec<PathBuf>,
    exit: watch::Receiver<Option<WorkerExit>>,
    /// Where its stdout and stderr are copied to while a run holds it.
    sinks: [Sink; 2],
    /// The run it is handed to, told of its exit.
    holder: Option<Arc<Attached>>,
}

type Sink = Arc<tokio::sync::Mutex<Option<pipe::Sender>>>;

/// The attached run's connection, for the exits the keeper reports.
struct Attached {
    writer: UnixStream,
}

/// The processes a keeper runs, and the runs they are handed to.
pub(crate) struct Keeper {
    runtime: tokio::runtime::Handle,
    kept: Arc<tokio::sync::Mutex<BTreeMap<String, Kept>>>,
    /// Members to start again at their next spawn, with why.
    stale: Mutex<BTreeMap<String, String>>,
    proxy_ports: Mutex<BTreeMap<String, u16>>,
    mongo_uri: Option<String>,
    /// Each run's [`Attachment`] once it detached.
    detached: std::sync::mpsc::Sender<Attachment>,
    /// Where the FIFOs of the processes' output are made (private).
    fifo_dir: PathBuf,
    fifos: AtomicU64,
}

impl Keeper {
    /// A keeper whose runs find the `mongod` at `mongo_uri` (if it runs
    /// one); each run's [`Attachment`] is sent to `detached`.
    /// The output FIFOs are made in `fifo_dir` (created, private).
    pub(crate) fn new(
        runtime: tokio::runtime::Handle,
        mongo_uri: Option<String>,
        detached: std::sync::mpsc::Sender<Attachment>,
        fifo_dir: PathBuf,
    ) -> std::io::Result<Arc<Self>> {
        use std::os::unix::fs::DirBuilderExt as _;
        if fifo_dir.exists() {
            std::fs::remove_dir_all(&fifo_dir)?;
        }
        std::fs::DirBuilder::new()
            .mode(0o700)
            .recursive(true)
            .create(&fifo_dir)?;
        Ok(Arc::new(Self {
            fifo_dir,
            fifos: AtomicU64::new(0),
            runtime,
            kept: Arc::default(),
            stale: Mutex::default(),
            proxy_ports: Mutex::default(),
            mongo_uri,
            detached,
        }))
    }

    /// Serves the runs that connect to `listener`, one thread each, for as
    /// long as the process lives.
    pub(crate) fn serve(self: &Arc<Self>, listener: UnixListener) -> std::io::Result<()> {
        let keeper = Arc::clone(self);
        std::thread::Builder::new()
            .name("prometheus-test-keeper".to_owned())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    if address::same_user(&stream).is_err() {
                        continue;
                    }
                    let keeper = Arc::clone(&keeper);
                    let _ = std::thread::Builder::new()
                        .name("prometheus-test-keeper-run".to_owned())
                        .spawn(move || keeper.attend(stream));
                }
            })
            .map(drop)
    }

    /// Starts `name` again at its next spawn, saying `why`.
    pub(crate) fn mark_stale(&self, name: &str, why: String) {
        lock(&self.stale).insert(name.to_owned(), why);
    }

    /// Marks stale the processes `changed` files are code of (see
    /// [`code_of`]); returns their names.
    pub(crate) fn mark_stale_by_files(&self, changed: &[PathBuf]) -> Vec<String> {
        let kept = self.runtime.block_on(self.kept.lock());
        let scripts: Vec<(&String, &[PathBuf])> = kept
            .iter()
            .map(|(name, process)| (name, process.files.as_slice()))
            .collect();
        let mut marked = BTreeMap::new();
        for path in changed {
            for name in code_of(path, &scripts) {
                marked.entry(name.clone()).or_insert_with(|| shown(path));
            }
        }
        for (name, file) in &marked {
            self.mark_stale(name, format!("{file} changed"));
        }
        marked.into_keys().collect()
    }

    /// Marks every process stale (a change of the configuration).
    pub(crate) fn mark_all_stale(&self, why: &str) {
        let names: Vec<String> = self
            .runtime
            .block_on(self.kept.lock())
            .keys()
            .cloned()
            .collect();
        for name in names {
            self.mark_stale(&name, why.to_owned());
        }
    }

    /// The processes running now, by name, with their PIDs.
    pub(crate) fn running(&self) -> BTreeMap<String, u32> {
        self.runtime
            .block_on(self.kept.lock())
            .iter()
            .filter(|(_, process)| process.exit.borrow().is_none())
            .map(|(name, process)| (name.clone(), process.pid))
            .collect()
    }

    /// Stops every process (SIGTERM, SIGKILL after the grace), all at once.
    pub(crate) async fn stop_all(&self) {
        let mut kept = self.kept.lock().await;
        let stopping = kept
            .values()
            .map(|process| stop(process.pid, process.exit.clone()));
        futures_util::future::join_all(stopping).await;
        kept.clear();
    }

    /// One attached run, from its hello until it closes.
    fn attend(self: Arc<Self>, stream: UnixStream) {
        let Ok(writer) = stream.try_clone() else {
            return;
        };
        let mut incoming = Incoming::new(stream);
        let Ok(Some(Request::Hello(hello))) = incoming.next::<Request>() else {
            return;
        };
        let attached = Arc::new(Attached { writer });
        let mut attachment = Attachment {
            pid: hello.pid,
            steps: hello.steps,
            ..Attachment::default()
        };
        let welcome = Reply::Welcome(Welcome {
            keeper: std::process::id(),
            mongo_uri: self.mongo_uri.clone(),
            proxy_ports: lock(&self.proxy_ports).clone(),
            kept_ports: self
                .runtime
                .block_on(self.kept.lock())
                .iter()
                .filter(|(_, process)| process.exit.borrow().is_none())
                .map(|(name, process)| (name.clone(), process.port))
                .collect(),
        });
        let mut answered = protocol::send(&attached.writer, &welcome).is_ok();
        while answered {
            let Ok(Some(request)) = incoming.next::<Request>() else {
                break;
            };
            answered = match request {
                Request::Hello(_) => Self::answer(&attached, &Reply::Noted),
                Request::Spawn(spawn) => {
                    let handed = self.runtime.block_on(self.spawn(&spawn, &attached));
                    match handed {
                        Ok(handed) => {
                            attachment.handed.push(handed);
                            true
                        }
                        Err(error) => Self::answer(&attached, &Reply::Refused { error }),
                    }
                }
                Request::ProxyPorts { ports } => {
                    lock(&self.proxy_ports).extend(ports);
                    Self::answer(&attached, &Reply::Noted)
                }
                Request::Report(report) => {
                    attachment.report = Some(report);
                    Self::answer(&attached, &Reply::Noted)
                }
            };
        }
        self.runtime.block_on(self.detach(&attached));
        let _ = self.detached.send(attachment);
    }

    fn answer(attached: &Attached, reply: &Reply) -> bool {
        protocol::send(&attached.writer, reply).is_ok()
    }

    /// The run is gone: the pipes of the processes it held close, those it
    /// paused resume.
    async fn detach(&self, attached: &Arc<Attached>) {
        let mut kept = self.kept.lock().await;
        let held = kept.values_mut().filter(|process| {
            process
                .holder
                .as_ref()
                .is_some_and(|holder| Arc::ptr_eq(holder, attached))
        });
        for process in held {
            process.holder = None;
            for sink in &process.sinks {
                *sink.lock().await = None;
            }
            if process.exit.borrow().is_none() {
                process::signal_group(process.pid, Signal::SIGCONT);
            }
        }
    }

    /// Hands `request`'s process to the run: the kept one, or a new one.
    /// The answer is sent here, under the lock the exits take too, so a
    /// run hears of an exit only after it got the process.
    async fn spawn(
        &self,
        request: &SpawnRequest,
        attached: &Arc<Attached>,
    ) -> Result<Handed, String> {
        let mut kept = self.kept.lock().await;
        let setup = setup_hash(request);
        let program = program_identity(request);
        let stale = lock(&self.stale).remove(&request.name);
        let got = match kept.get(&request.name) {
            None => Got::Started,
            Some(old) => {
                let alive = old.exit.borrow().is_none();
                let why = if !alive {
                    Some("it had exited".to_owned())
                } else if let Some(why) = stale {
                    Some(why)
                } else if request.fresh {
                    Some("the run starts fresh".to_owned())
                } else if old.program != program {
                    Some("its program changed".to_owned())
                } else if old.setup != setup {
                    Some("its command or environment changed".to_owned())
                } else {
                    None
                };
                match why {
                    None => Got::Kept,
                    Some(why) => {
                        if alive {
                            stop(old.pid, old.exit.clone()).await;
                        }
                        kept.remove(&request.name);
                        Got::Replaced(why)
                    }
                }
            }
        };
        // The FIFOs come first: a new process's first lines go to them.
        let serial = self.fifos.fetch_add(1, Ordering::Relaxed);
        let [stdout, stderr] = ["out", "err"].map(|stream| {
            self.fifo_dir
                .join(format!("{}-{serial}.{stream}", request.name))
        });
        let sinks = match kept.get(&request.name) {
            Some(process) if got == Got::Kept => process.sinks.clone(),
            _ => [Sink::default(), Sink::default()],
        };
        hand_over(&sinks, [&stdout, &stderr])
            .await
            .map_err(|err| format!("{}: cannot pass its output on: {err}", request.name))?;
        if got != Got::Kept {
            let started = self.start(request, (setup, program), sinks)?;
            kept.insert(request.name.clone(), started);
        }
        let process = kept
            .get_mut(&request.name)
            .ok_or_else(|| format!("{}: not running", request.name))?;
        process.holder = Some(Arc::clone(attached));
        let reply = Reply::Spawned {
            name: request.name.clone(),
            pid: process.pid,
            kept: got == Got::Kept,
            stdout,
            stderr,
        };
        protocol::send(&attached.writer, &reply)
            .map_err(|err| format!("{}: cannot answer the run: {err}", request.name))?;
        Ok(Handed {
            name: request.name.clone(),
            pid: process.pid,
            got,
        })
    }

    /// Starts `request`'s process, guarded by this process's reaper, its
    /// output copied to `sinks`.
    fn start(
        &self,
        request: &SpawnRequest,
        (setup, program): (u64, Option<(i64, i64, u64, u64)>),
        sinks: [Sink; 2],
    ) -> Result<Kept, String> {
        let name = &request.name;
        process::check_ports_free([(name.as_str(), request.port)])
            .map_err(|err| format!("{err:#}"))?;
        let Some((program_name, args)) = request.command.split_first() else {
            return Err(format!("{name}: the command to start it is empty"));
        };
        let mut command = tokio::process::Command::new(program_name);
        command
            .args(args)
            .current_dir(&request.cwd)
            .env_clear()
            .envs(request.inherited.iter().map(|(k, v)| (k, v)))
            .env("PYTHONUNBUFFERED", "1")
            .envs(request.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = process::spawn_guarded(&mut command).map_err(|err| {
            format!(
                "{name}: could not start `{program_name}` in {}: {err}",
                request.cwd.display()
            )
        })?;
        let pid = child
            .id()
            .ok_or_else(|| format!("{name}: the process vanished as it started"))?;
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(copy(stdout, Arc::clone(&sinks[0])));
        }
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(copy(stderr, Arc::clone(&sinks[1])));
        }
        let (sender, exit) = watch::channel(None);
        tokio::spawn(watch_exit(child, sender, Arc::clone(&self.kept)));
        Ok(Kept {
            pid,
            port: request.port,
            setup,
            program,
            files: named_files(request),
            exit,
            sinks,
            holder: None,
        })
    }
}

/// Waits for `child`'s exit: published at once (a stop awaits it), then
/// told to the run that holds it under the table's lock (see
/// [`Keeper::spawn`]).
async fn watch_exit(
    mut child: tokio::process::Child,
    sender: watch::Sender<Option<WorkerExit>>,
    kept: Arc<tokio::sync::Mutex<BTreeMap<String, Kept>>>,
) {
    let pid = child.id().unwrap_or_default();
    let status = child.wait().await.map(WorkerExit::from).unwrap_or_default();
    process::forget_group(pid);
    sender.send_replace(Some(status));
    let table = kept.lock().await;
    let holder = table
        .values()
        .find(|process| process.pid == pid)
        .and_then(|process| process.holder.clone());
    if let Some(now) = holder {
        let exited = Reply::Exited {
            pid,
            code: status.code,
            signal: status.signal,
        };
        let _ = protocol::send(&now.writer, &exited);
    }
}

/// Stops process group `pid` whose leader's exit `exit` publishes.
async fn stop(pid: u32, mut exit: watch::Receiver<Option<WorkerExit>>) {
    process::signal_group(pid, Signal::SIGCONT);
    process::stop_group(pid, GRACE, async move {
        let _ = exit.wait_for(Option::is_some).await;
    })
    .await;
}

/// New FIFOs at `paths` for `sinks`: the keeper writes what the process
/// prints to them (held open read-write, so it never waits for the run);
/// the run opens them to read.
async fn hand_over(sinks: &[Sink; 2], paths: [&Path; 2]) -> std::io::Result<()> {
    for (sink, path) in sinks.iter().zip(paths) {
        nix::unistd::mkfifo(
            path,
            nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR,
        )
        .map_err(std::io::Error::from)?;
        let writer = pipe::OpenOptions::new()
            .read_write(true)
            .open_sender(path)?;
        *sink.lock().await = Some(writer);
    }
    Ok(())
}

/// Copies what `output` gives to the sink while it has one; drops it while
/// not (or once the run stopped reading).
async fn copy(mut output: impl AsyncRead + Unpin, sink: Sink) {
    let mut buffer = vec![0_u8; 16 * 1024];
    loop {
        let read = match output.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        let mut sink = sink.lock().await;
        if let Some(writer) = sink.as_mut()
            && writer.write_all(&buffer[..read]).await.is_err()
        {
            *sink = None;
        }
    }
    // The run's reader sees the end of the output.
    *sink.lock().await = None;
}

/// Hash of what a member is started with but its program file: its
/// command, folder, port and own variables (workers.json's `env_vars`, the
/// proxy's, `PORT`, ...). What it inherits from the run's environment is
/// left out: a terminal's and an IDE's differ in many variables that mean
/// nothing to it (`_`, `PWD`, `TERM`, ...), and the kept process keeps the
/// one it started with (`r` in the watch loop starts every process again).
fn setup_hash(request: &SpawnRequest) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    request.command.hash(&mut hasher);
    request.cwd.hash(&mut hasher);
    request.port.hash(&mut hasher);
    let env: BTreeMap<&String, &String> = request.env.iter().map(|(k, v)| (k, v)).collect();
    env.hash(&mut hasher);
    hasher.finish()
}

/// The program file's modification time, size and inode, when the command
/// names it by path (a rebuilt binary is another file).
fn program_identity(request: &SpawnRequest) -> Option<(i64, i64, u64, u64)> {
    let program = request.command.first()?;
    if !program.contains('/') {
        return None;
    }
    let metadata = std::fs::metadata(request.cwd.join(program)).ok()?;
    Some((
        metadata.mtime(),
        metadata.mtime_nsec(),
        metadata.size(),
        metadata.ino(),
    ))
}

/// The processes (by name, with the files their commands name) that a
/// change of `path` is code of: those whose command names it; when none
/// does, those with a script of its extension in its folder or above (a
/// module the script imports).
fn code_of<'a>(path: &Path, scripts: &[(&'a String, &[PathBuf])]) -> Vec<&'a String> {
    let named: Vec<&String> = scripts
        .iter()
        .filter(|(_, files)| files.iter().any(|file| file == path))
        .map(|(name, _)| *name)
        .collect();
    if !named.is_empty() {
        return named;
    }
    scripts
        .iter()
        .filter(|(_, files)| {
            files.iter().any(|file| {
                file.extension().is_some()
                    && file.extension() == path.extension()
                    && file.parent().is_some_and(|dir| path.starts_with(dir))
            })
        })
        .map(|(name, _)| *name)
        .collect()
}

/// A path as a line shows it: its file name.
pub(crate) fn shown(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}

/// The files the command names (its program and scripts), absolute.
fn named_files(request: &SpawnRequest) -> Vec<PathBuf> {
    request
        .command
        .iter()
        .map(|part| request.cwd.join(part))
        .filter(|path| path.is_file())
        .map(|path| std::fs::canonicalize(&path).unwrap_or(path))
        .filter(|path| !is_system_program(path))
        .collect()
}

/// A program of the system (`/usr/bin/python3`): its folder is no member's code.
fn is_system_program(path: &Path) -> bool {
    ["/usr/", "/bin/", "/sbin/", "/lib/", "/opt/"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::AsyncBufReadExt as _;

    use super::*;
    use crate::keeper::client::Link;
    use crate::process::{Host as _, HostedProcess, LaunchSpec};

    /// A process that prints its PID and waits.
    fn sleeper(dir: &Path, value: &str) -> LaunchSpec {
        LaunchSpec {
            name: "worker1".to_owned(),
            command: vec![
                "sh".into(),
                "-c".into(),
                "echo pid $$; exec sleep 60".into(),
            ],
            cwd: dir.to_path_buf(),
            env: vec![("SETTING".to_owned(), value.to_owned())],
            port: crate::process::free_port().unwrap(),
            health_url: None,
            start_timeout: Duration::from_secs(5),
            container: None,
        }
    }

    /// The first line `hosted` prints from now on.
    async fn first_line(hosted: HostedProcess) -> (u32, String) {
        let reader = pipe::Receiver::from_owned_fd(hosted.stdout).unwrap();
        let mut line = String::new();
        let mut lines = tokio::io::BufReader::new(reader);
        tokio::time::timeout(Duration::from_secs(5), lines.read_line(&mut line))
            .await
            .expect("a line within 5 s")
            .unwrap();
        (hosted.pid, line)
    }

    #[test]
    fn a_process_is_handed_over_while_nothing_about_it_changes() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (detached, attachments) = std::sync::mpsc::channel();
        let keeper = Keeper::new(
            runtime.handle().clone(),
            None,
            detached,
            dir.path().join(".keeper"),
        )
        .unwrap();
        keeper.serve(address::bind(dir.path()).unwrap()).unwrap();
        let spec = sleeper(dir.path(), "1");
        let attach = || {
            Link::attach(dir.path(), Vec::new())
                .unwrap()
                .expect("the keeper is up")
        };
        let next_attachment = || attachments.recv_timeout(Duration::from_secs(5)).unwrap();

        let first = attach();
        let (pid, line) =
            runtime.block_on(async { first_line(first.spawn(&spec).await.unwrap()).await });
        assert_eq!(line, format!("pid {pid}\n"), "its output from the start");
        drop(first);
        assert_eq!(next_attachment().handed[0].got, Got::Started);

        let second = attach();
        let hosted = runtime.block_on(second.spawn(&spec)).unwrap();
        assert_eq!(hosted.pid, pid, "the same process");
        drop((hosted, second));
        assert_eq!(next_attachment().handed[0].got, Got::Kept);

        let third = attach();
        let changed = sleeper(dir.path(), "2");
        let mut hosted = runtime.block_on(third.spawn(&changed)).unwrap();
        let replaced = hosted.pid;
        assert_ne!(replaced, pid);
        assert!(!process_alive(pid), "the old one was stopped");
        process::signal_group(replaced, Signal::SIGKILL);
        let exit = runtime
            .block_on(async {
                tokio::time::timeout(
                    Duration::from_secs(5),
                    hosted.exit.wait_for(Option::is_some),
                )
                .await
                .map(|exit| *exit.unwrap())
            })
            .expect("the run hears of the exit");
        assert_eq!(exit.map(|exit| exit.signal), Some(Some(9)));
        drop((hosted, third));
        assert_eq!(
            next_attachment().handed[0].got,
            Got::Replaced("its command or environment changed".to_owned())
        );
        assert!(keeper.running().is_empty());

        let fourth = attach();
        let pid = runtime.block_on(fourth.spawn(&changed)).unwrap().pid;
        drop(fourth);
        assert_eq!(
            next_attachment().handed[0].got,
            Got::Replaced("it had exited".to_owned())
        );
        let fresh = attach();
        fresh.start_fresh();
        let again = runtime.block_on(fresh.spawn(&changed)).unwrap().pid;
        assert_ne!(
            again, pid,
            "a fresh run's world owes nothing to the old one"
        );
        drop(fresh);
        assert_eq!(
            next_attachment().handed[0].got,
            Got::Replaced("the run starts fresh".to_owned())
        );
        runtime.block_on(keeper.stop_all());
    }

    fn process_alive(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            !stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
    }

    #[test]
    fn a_changed_script_is_its_process_code_and_a_module_beside_it_is_every_such_scripts() {
        let (one, two, middle) = (
            "worker1".to_owned(),
            "worker2".to_owned(),
            "middle".to_owned(),
        );
        let scripts_one = [PathBuf::from("/p/worker1.py"), PathBuf::from("/bin/x")];
        let scripts_two = [PathBuf::from("/p/worker2.py")];
        let scripts_middle = [PathBuf::from("/p/middle/server.py")];
        let scripts: Vec<(&String, &[PathBuf])> = vec![
            (&one, &scripts_one),
            (&two, &scripts_two),
            (&middle, &scripts_middle),
        ];
        let code = |path: &str| code_of(Path::new(path), &scripts);
        assert_eq!(code("/p/worker2.py"), [&two], "named by worker2 alone");
        assert_eq!(code("/p/middle/server.py"), [&middle]);
        assert_eq!(code("/p/helpers.py"), [&one, &two], "a module beside both");
        assert_eq!(
            code("/p/middle/store.py"),
            [&one, &two, &middle],
            "below all three"
        );
        assert!(code("/p/README.md").is_empty(), "not a module of theirs");
        assert!(code("/q/other.py").is_empty());
    }
}
