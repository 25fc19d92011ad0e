//! `--watch`: the edit loop. This process becomes the suite's keeper: it
//! starts `mongod` (when the suite has no server of its own) and keeps the
//! process members the runs ask for. It plays the selected steps in a child
//! run of the test binary attached to it, then waits for changes:
//!
//! - a step's code (or any code cargo builds): the test target is built
//!   again (the compiler's errors shown, the world kept when it fails), and
//!   the new binary plays again from the snapshot before the first step
//!   whose file changed, else before the selected step;
//! - a script a kept process runs (or a file beside it): that process
//!   alone is started again, then the steps play again;
//! - config.yaml, workers.json, a `.env` file or a fixture: every process
//!   starts again and the run starts over (`--reset`, the fixtures imported
//!   again).
//!
//! Each play says which processes were kept (their PIDs) or started, what
//! was restored, and where the time went. `q` + Enter, Ctrl-C or SIGTERM
//! stop the processes and `mongod`; a keeper killed with SIGKILL leaves
//! none (its reaper stops them).

mod cargo;
mod changes;
mod next;
mod play;
mod tell;
mod wakes;

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use self::cargo::Target;
use self::changes::{Change, Layout};
use self::next::{Needs, Next, next_play};
use self::wakes::{Quit, Wake};
use super::address;
use super::host::{Attachment, Keeper, shown};
use crate::harness::{ProcessEnv, SuiteFiles};
use crate::{Conclusion, Exit};

/// How long the loop waits for more changes once one came (an editor's
/// save, a `git checkout`, is often several).
const QUIET: Duration = Duration::from_millis(50);
/// The longest wait for quiet.
const SETTLE_LIMIT: Duration = Duration::from_secs(1);

/// The command line's and environment's settings the loop passes on.
pub(crate) struct WatchInputs<'a> {
    pub(crate) files: &'a SuiteFiles,
    pub(crate) config: &'a crate::config::ConfigFiles,
    /// The command line as given, the program name left out.
    pub(crate) args: &'a [OsString],
    /// Whether the command line selects steps.
    pub(crate) filtered: bool,
    pub(crate) env: &'a ProcessEnv,
}

/// Runs the edit loop until `q`, Ctrl-C or SIGTERM.
pub(crate) fn run(inputs: &WatchInputs<'_>, notes: Box<dyn std::io::Write + Send>) -> Conclusion {
    let mut say = Say(notes);
    match Loop::start(inputs, &mut say) {
        Ok(mut watch) => {
            let exit = watch.run(inputs, &mut say);
            watch.stop(&mut say);
            Conclusion::before_any_step(exit)
        }
        Err(err) => {
            say.line(&format!("error: {err:#}"));
            Conclusion::before_any_step(Exit::SetupFailed)
        }
    }
}

/// The loop's own lines, on stderr.
struct Say(Box<dyn std::io::Write + Send>);

impl Say {
    fn line(&mut self, text: &str) {
        let _ = writeln!(self.0, "watch: {text}");
        let _ = self.0.flush();
    }

    fn lines(&mut self, lines: Vec<String>) {
        for line in lines {
            self.line(&line);
        }
    }
}

/// The kept world and what the loop knows of the last play.
struct Loop {
    runtime: tokio::runtime::Runtime,
    keeper: Arc<Keeper>,
    mongo: Option<crate::mongo::Mongo>,
    layout: Layout,
    target: anyhow::Result<Target>,
    wakes: Receiver<Wake>,
    alarm: Sender<Wake>,
    /// The test binary the next play runs.
    exe: PathBuf,
    /// The last play that played steps.
    last: Option<Attachment>,
}

impl Loop {
    /// Becomes the suite's keeper: listens, starts `mongod` when the suite
    /// has no server, watches the files.
    fn start(inputs: &WatchInputs<'_>, say: &mut Say) -> anyhow::Result<Self> {
        let config = inputs.config.config()?;
        let env = inputs.config.env()?;
        let data_dir = &config.data_dir;
        std::fs::create_dir_all(data_dir)
            .map_err(|err| anyhow::anyhow!("{}: cannot create: {err}", data_dir.display()))?;
        let listener = listen(data_dir)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let mongo = if config.needs_mongodb() {
            if let Some(problem) = crate::mongo::srv_unsupported(env) {
                anyhow::bail!(problem);
            }
            let kept = data_dir.join("mongodb");
            Some(runtime.block_on(crate::mongo::connect(env, Some(&kept)))?)
        } else {
            None
        };
        let (alarm, wakes) = channel();
        let (detached, attachments) = channel();
        let uri = mongo
            .as_ref()
            .filter(|mongo| mongo.is_managed())
            .map(|mongo| mongo.uri().to_owned());
        let keeper = Keeper::new(
            runtime.handle().clone(),
            uri,
            detached,
            data_dir.join(".keeper"),
        )?;
        keeper.serve(listener)?;
        wakes::forward(attachments, alarm.clone(), Wake::Attached);
        let layout = layout_of(inputs, config);
        let (changed, paths) = channel();
        changes::watch(layout.clone(), changed)
            .map_err(|err| anyhow::anyhow!("cannot watch {}: {err}", layout.package.display()))?;
        wakes::forward(paths, alarm.clone(), Wake::Changed);
        wakes::read_stdin(alarm.clone());
        wakes::on_signal(&runtime, alarm.clone());
        wakes::on_parent_gone(alarm.clone());
        let exe = std::env::current_exe()?;
        let target = Target::of(&exe, &layout.package);
        let this = Self {
            runtime,
            keeper,
            mongo,
            layout,
            target,
            wakes,
            alarm,
            exe,
            last: None,
        };
        say.line(&format!(
            "keeping the world of {} (keeper PID {}): {}; watching {}",
            config.file.display(),
            std::process::id(),
            this.running(),
            this.layout.package.display()
        ));
        Ok(this)
    }

    /// Plays, waits for changes, plays again; the exit once stopped.
    fn run(&mut self, inputs: &WatchInputs<'_>, say: &mut Say) -> Exit {
        let mut next = Next::AsGiven;
        let mut rebuild = Duration::ZERO;
        loop {
            match self.play(inputs, &next, rebuild, say) {
                Played::Stopped(signal) => return stopped(signal, say),
                Played::CannotRewind if matches!(next, Next::From(_)) => {
                    say.line(
                        "the snapshot cannot be used (see above): playing again without a restore",
                    );
                    next = Next::Again;
                    rebuild = Duration::ZERO;
                    continue;
                }
                Played::Done | Played::CannotRewind => {}
            }
            say.line(
                "waiting for changes (q + Enter, or Ctrl-C, stops; r + Enter starts every \
                 process again)",
            );
            (next, rebuild) = loop {
                let changes = match self.wait_for_changes(say) {
                    Ok(changes) => changes,
                    Err(signal) => return stopped(signal, say),
                };
                if let Some(then) = self.act_on(&Needs::of(&changes), inputs, say) {
                    break then;
                }
            };
        }
    }

    /// Does what `needs` asks before the next play (marks processes stale,
    /// builds); the next play and the build's time, or `None` when there is
    /// nothing to play (no change that matters, or a failed build).
    fn act_on(
        &mut self,
        needs: &Needs,
        inputs: &WatchInputs<'_>,
        say: &mut Say,
    ) -> Option<(Next, Duration)> {
        if let Some(first) = &needs.reset {
            say.line(&format!(
                "{} changed: the run starts over (--reset: the fixtures are imported again, \
                 every service and worker is started again)",
                shown(first)
            ));
            self.keeper
                .mark_all_stale(&format!("{} changed", shown(first)));
        }
        if needs.restart {
            say.line("every service and worker starts again (r)");
            self.keeper.mark_all_stale("asked for (r)");
        }
        let restarted = self.keeper.mark_stale_by_files(&needs.others);
        if !restarted.is_empty() {
            say.line(&format!(
                "{} changed: {} will be started again",
                listed(&needs.others),
                restarted.join(", ")
            ));
        }
        let mut built = Duration::ZERO;
        if !needs.build.is_empty() {
            let started = Instant::now();
            self.exe = self.build(&needs.build, say)?;
            built = started.elapsed();
        }
        let nothing = needs.reset.is_none()
            && !needs.restart
            && restarted.is_empty()
            && needs.build.is_empty();
        if nothing {
            return None;
        }
        Some((next_play(needs, self.last.as_ref(), inputs.filtered), built))
    }

    /// Builds the test target after `changed`; the new binary, or `None`
    /// (said why) when it cannot be built.
    fn build(&self, changed: &[PathBuf], say: &mut Say) -> Option<PathBuf> {
        let target = match &self.target {
            Ok(target) => target,
            Err(err) => {
                say.line(&format!("error: cannot build the suite again: {err:#}"));
                return None;
            }
        };
        say.line(&format!(
            "{} changed: building --test {}",
            listed(changed),
            target.name
        ));
        match target.build() {
            Ok(Some(exe)) => Some(exe),
            Ok(None) => {
                say.line(&format!(
                    "the build failed (the compiler's messages are above); the world is kept: {}",
                    self.running()
                ));
                None
            }
            Err(err) => {
                say.line(&format!("error: {err:#}"));
                None
            }
        }
    }

    /// One play of the test binary, attached to the keeper; says what it
    /// kept, restored and took.
    fn play(
        &mut self,
        inputs: &WatchInputs<'_>,
        next: &Next,
        rebuild: Duration,
        say: &mut Say,
    ) -> Played {
        let outcome = play::play(
            &self.exe,
            (inputs.args, inputs.env),
            next,
            (&self.wakes, &self.alarm),
            &mut |other| say.lines(tell::other_run(&other)),
        );
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(err) => {
                say.line(&format!("error: cannot run {}: {err}", self.exe.display()));
                return Played::Done;
            }
        };
        let setup_failed = outcome.exit == Some(i32::from(Exit::SetupFailed.code()));
        let mut played_steps = false;
        if let Some(attachment) = outcome.attachment {
            say.lines(tell::played(
                &attachment,
                self.mongod(),
                (rebuild, outcome.took),
                outcome.exit,
            ));
            played_steps = attachment
                .report
                .as_ref()
                .is_some_and(|report| !report.played.is_empty());
            if played_steps {
                self.last = Some(attachment);
            }
        }
        match outcome.stop {
            Some(signal) => Played::Stopped(signal),
            None if setup_failed && !played_steps => Played::CannotRewind,
            None => Played::Done,
        }
    }

    /// The next changes that matter, once quiet; the signal (or `q`) that
    /// stops the loop instead.
    fn wait_for_changes(&mut self, say: &mut Say) -> Result<Vec<Change>, Quit> {
        let mut changes: Vec<Change> = Vec::new();
        let mut settle_until: Option<Instant> = None;
        let mut first_at: Option<Instant> = None;
        loop {
            let wake = match settle_until {
                Some(until) => {
                    let wait = until.saturating_duration_since(Instant::now());
                    match self.wakes.recv_timeout(wait) {
                        Ok(wake) => wake,
                        Err(_) => return Ok(changes),
                    }
                }
                None => self.wakes.recv().map_err(|_| Quit::Asked)?,
            };
            match wake {
                Wake::Changed(path) => {
                    if let Some(change) = self.layout.classify(&path)
                        && !changes.contains(&change)
                    {
                        changes.push(change);
                        let first = *first_at.get_or_insert_with(Instant::now);
                        settle_until = Some((Instant::now() + QUIET).min(first + SETTLE_LIMIT));
                    }
                }
                Wake::Quit(signal) => return Err(signal),
                Wake::Restart => {
                    changes.push(Change::Restart);
                    return Ok(changes);
                }
                Wake::Attached(other) => say.lines(tell::other_run(&other)),
                Wake::ChildExited(..) => {}
            }
        }
    }

    /// `mongod`'s PID, when the keeper runs it.
    fn mongod(&self) -> Option<u32> {
        self.mongo
            .as_ref()
            .and_then(crate::mongo::Mongo::managed_pid)
    }

    /// The processes kept now, for a line.
    fn running(&self) -> String {
        tell::running(self.mongod(), self.keeper.running())
    }

    /// Stops the kept processes and `mongod`.
    fn stop(self, say: &mut Say) {
        say.line(&format!("stopping {}", self.running()));
        self.runtime.block_on(async {
            self.keeper.stop_all().await;
            if let Some(mongo) = self.mongo {
                mongo.shutdown().await;
            }
        });
        self.runtime.shutdown_timeout(Duration::from_secs(1));
    }
}

/// How a play ended.
enum Played {
    Done,
    /// The run could not start (exit 2): a rewind is retried without.
    CannotRewind,
    /// `q`, Ctrl-C or SIGTERM.
    Stopped(Quit),
}

fn stopped(quit: Quit, say: &mut Say) -> Exit {
    if let Quit::ParentGone(parent) = quit {
        say.line(&format!(
            "the process that started the keeper (PID {parent}) is gone: stopping as on SIGTERM"
        ));
    }
    quit.exit()
}

/// Listens as the keeper of `data_dir`; a second keeper is refused, naming
/// the first.
fn listen(data_dir: &Path) -> anyhow::Result<std::os::unix::net::UnixListener> {
    match address::bind(data_dir) {
        Ok(listener) => Ok(listener),
        Err(err) if err.kind() == std::io::ErrorKind::AddrInUse => {
            let other = address::connect(data_dir)
                .ok()
                .flatten()
                .and_then(|stream| address::peer_pid(&stream))
                .map_or_else(|| "?".to_owned(), |pid| pid.to_string());
            anyhow::bail!(
                "another keeper (PID {other}) keeps the world of this suite (data folder {}): \
                 stop it (q + Enter, or Ctrl-C, in its terminal) first; two would share one \
                 database, one state file and the workers' ports",
                data_dir.display()
            )
        }
        Err(err) => anyhow::bail!("cannot listen as the suite's keeper: {err}"),
    }
}

/// What the keeper watches: the package, the suite, the data folder's fixtures.
fn layout_of(inputs: &WatchInputs<'_>, config: &crate::config::Config) -> Layout {
    let canonical =
        |path: &Path| std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let in_canonical = |path: &Path| match (path.parent(), path.file_name()) {
        (Some(parent), Some(name)) => canonical(parent).join(name),
        _ => path.to_path_buf(),
    };
    let package = inputs
        .files
        .manifest_dir
        .clone()
        .or_else(|| std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from))
        .unwrap_or_else(|| config.project_dir.clone());
    let data_dir = canonical(&config.data_dir);
    let fixtures = config
        .mongodb
        .collections
        .values()
        .filter_map(|collection| collection.data_file.as_deref())
        .map(|file| data_dir.join(file))
        .collect();
    Layout {
        package: canonical(&package),
        suite: canonical(&inputs.files.suite_dir),
        config_files: [
            config.file.clone(),
            config.workers_config.clone(),
            config.tests_dir.join(".env"),
            config.project_dir.join(".env"),
        ]
        .iter()
        .map(|path| in_canonical(path))
        .collect(),
        fixtures,
        data_dir,
    }
}

/// Files as a line lists them: their names.
fn listed(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|path| shown(path))
        .collect::<Vec<_>>()
        .join(", ")
}
