//! The coordinator: the process that plays the suite for a nextest run. It
//! is a plain run of the tests nextest selected (with `--exact`, none when
//! it selected all; its output goes to the run's log) with one more writer,
//! the [`Results`], and it
//!
//! - holds `coordinator.lock` for its whole life, so that test processes
//!   and other nextest runs know it is alive;
//! - writes the results file before anything else (the test process that
//!   started it waits for that file);
//! - follows nextest's process: when it is gone (exited or killed), the
//!   run stops as on SIGTERM (the coordinator sends itself one), so its
//!   workers and MongoDB stop within seconds;
//! - closes the results once the run has stopped everything it started.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::super::cli::RunControl;
use super::folder::{Folder, data_dir};
use super::results::{Results, RunResults};
use super::verdict::played_out;
use super::watch::Watched;
use crate::events::Writer;
use crate::pid_lock::{Held, LockFile};
use crate::{Conclusion, Exit};

/// How often the coordinator looks at nextest's process.
const WATCH_EVERY: Duration = Duration::from_millis(200);

/// The coordinator of run `run`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Coordinator {
    /// The run's key (see [`Role::of`](super::Role::of)).
    pub(super) run: String,
    /// nextest's process; `None` when it cannot be followed.
    pub(super) watch: Option<Watched>,
}

impl Coordinator {
    /// Plays the suite with `play`, which runs it with the writer it is given.
    pub(crate) fn run(
        self,
        control: &RunControl,
        play: impl FnOnce(Box<dyn Writer>) -> Conclusion,
    ) -> Conclusion {
        let folder = match data_dir(control) {
            Ok(data_dir) => Folder::in_data_dir(&data_dir),
            Err(err) => {
                eprintln!("prometheus-test: error: {err:#}");
                return Conclusion::before_any_step(Exit::SetupFailed);
            }
        };
        let _alive = match hold_coordinator_lock(&folder) {
            Ok(held) => held,
            Err(err) => {
                eprintln!("prometheus-test: error: {err}");
                return Conclusion::before_any_step(Exit::SetupFailed);
            }
        };
        folder.remove_old_runs(&self.run);
        let selected = (!control.args.filters.is_empty()).then(|| control.args.filters.clone());
        let shared = Arc::new(Mutex::new(RunResults {
            selected,
            ..RunResults::new(std::process::id())
        }));
        let results = Results::new(shared.clone(), folder.results(&self.run));
        if let Err(err) = results.save() {
            eprintln!(
                "prometheus-test: error: cannot write the nextest results to {}: {err}",
                folder.results(&self.run).display()
            );
            return Conclusion::before_any_step(Exit::SetupFailed);
        }
        let closer = Results::new(shared.clone(), folder.results(&self.run));
        let done = Arc::new(AtomicBool::new(false));
        if let Some(nextest) = self.watch {
            follow(nextest, shared, done.clone());
        }
        let conclusion = play(Box::new(results));
        done.store(true, Ordering::SeqCst);
        if let Err(err) = closer.update(|results| results.closed = Some(conclusion.exit.code())) {
            eprintln!("prometheus-test: warning: cannot close the nextest results: {err}");
        }
        conclusion
    }
}

/// Takes `coordinator.lock` for the life of the process; fails when another
/// coordinator holds it.
fn hold_coordinator_lock(folder: &Folder) -> Result<Held, String> {
    let path = folder.coordinator_lock();
    let cannot = |err: &dyn std::fmt::Display| format!("{}: cannot lock: {err}", path.display());
    folder.create().map_err(|err| cannot(&err))?;
    match LockFile::open(&path)
        .map_err(|err| cannot(&err))?
        .try_lock()
    {
        Ok(Ok(held)) => Ok(held),
        Ok(Err(_)) => Err(format!(
            "{}: another coordinator of this suite is running",
            path.display()
        )),
        Err(errno) => Err(cannot(&errno)),
    }
}

/// Stops the run as on SIGTERM once `nextest` is gone, unless the run is
/// `done` or has played everything it planned (it is stopping) first.
fn follow(nextest: Watched, results: Arc<Mutex<RunResults>>, done: Arc<AtomicBool>) {
    let spawned = std::thread::Builder::new()
        .name("prometheus-test-nextest".to_owned())
        .spawn(move || {
            while !done.load(Ordering::SeqCst) {
                let played_out =
                    played_out(&results.lock().unwrap_or_else(PoisonError::into_inner));
                if played_out {
                    return;
                }
                if !nextest.is_alive() {
                    eprintln!(
                        "prometheus-test: nextest (PID {}) is gone: stopping the run as on SIGTERM",
                        nextest.pid()
                    );
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::this(),
                        nix::sys::signal::Signal::SIGTERM,
                    );
                    return;
                }
                std::thread::sleep(WATCH_EVERY);
            }
        });
    if let Err(err) = spawned {
        eprintln!("prometheus-test: warning: cannot follow nextest's process: {err}");
    }
}
