//! One run of the suite: load and check everything, connect MongoDB, set up
//! the state, start the workers, play the planned steps, and stop everything
//! before the exit code is returned.

use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures_util::FutureExt as _;
use tokio::sync::watch;

use super::cli::Cli;
use super::plan::{Action, plan};
use super::report::{self, Reporter, Verdict};
use super::select::Selection;
use super::setup::Ready;
use super::{FAILED, MainOptions};
use crate::Runner;
use crate::config::Launch;
use crate::process::{Fleet, LaunchSpec, LogMode, TerminationSignal, termination_signal};
use crate::step::{Outcome, StepDef};

/// Everything `run_main` hands over to one run.
pub(super) struct Session<'a> {
    pub(super) options: &'a MainOptions,
    pub(super) cli: &'a Cli,
    pub(super) steps: &'a [&'static StepDef],
    /// The steps' test names (their Rust paths), by index.
    pub(super) test_names: &'a [String],
    pub(super) selection: &'a Selection,
}

/// The run's SIGINT/SIGTERM watch, installed once so no signal is missed
/// between two waits.
struct Interrupts {
    seen: watch::Receiver<Option<TerminationSignal>>,
}

impl Interrupts {
    fn install() -> Self {
        let (tx, seen) = watch::channel(None);
        let signal = termination_signal();
        tokio::spawn(async move {
            let _ = tx.send(Some(signal.await));
        });
        Self { seen }
    }

    /// Resolves once SIGINT or SIGTERM has arrived.
    async fn wait(&self) -> TerminationSignal {
        let mut seen = self.seen.clone();
        loop {
            if let Some(signal) = *seen.borrow_and_update() {
                return signal;
            }
            if seen.changed().await.is_err() {
                return std::future::pending().await;
            }
        }
    }
}

/// Why the step loop ended early.
enum Stop {
    Failed,
    Signal(TerminationSignal),
}

impl Session<'_> {
    /// Plays the run and returns the process exit code.
    pub(super) async fn run(self) -> u8 {
        let interrupts = Interrupts::install();
        let loaded = match self.load() {
            Ok(loaded) => loaded,
            Err(err) => return failed(&err),
        };
        let mongo = tokio::select! {
            mongo = loaded.connect() => mongo,
            signal = interrupts.wait() => return interrupted(signal, "before any step ran"),
        };
        let mongo = match mongo {
            Ok(mongo) => mongo,
            Err(err) => return failed(&err),
        };
        let ready = tokio::select! {
            ready = self.set_up(loaded, mongo.as_ref()) => ready.map_err(|err| failed(&err)),
            signal = interrupts.wait() => Err(interrupted(signal, "before any step ran")),
        };
        let code = match ready {
            Ok(ready) => self.play(ready, &interrupts).await,
            Err(code) => code,
        };
        if let Some(mongo) = mongo {
            mongo.shutdown().await;
        }
        code
    }

    /// Starts the workers, plays the plan, stops the workers, prints the summary.
    async fn play(&self, ready: Ready, interrupts: &Interrupts) -> u8 {
        let Ready { runner, position } = ready;
        let actions = plan(
            self.steps.len(),
            position,
            runner.max_rounds(),
            self.selection,
        );
        let planned: BTreeSet<usize> = actions
            .iter()
            .filter_map(|a| match a {
                Action::Step { index, .. } => Some(*index),
                Action::NextRound => None,
            })
            .collect();
        let executions = actions
            .iter()
            .filter(|a| matches!(a, Action::Step { .. }))
            .count();
        let mode = if self.cli.nocapture() {
            LogMode::Stream
        } else {
            LogMode::Capture
        };
        let started = Instant::now();
        let fleet = tokio::select! {
            fleet = Fleet::start(launch_specs(&runner), mode) => fleet,
            signal = interrupts.wait() => return interrupted(signal, "while starting the workers"),
        };
        let fleet = match fleet {
            Ok(fleet) => fleet,
            Err(err) => return failed(&err),
        };
        report::note(&format!(
            "{} worker(s) ready in {:.2}s; {} round(s) to play",
            runner.workers().len(),
            started.elapsed().as_secs_f64(),
            runner.max_rounds()
        ));
        let mut reporter = Reporter::new(self.cli.format());
        reporter.suite_started(executions, self.steps.len() - planned.len());
        let stop = self
            .play_actions(&runner, &fleet, interrupts, &mut reporter, &actions)
            .await;
        fleet.shutdown().await;
        let all_passed = reporter.finish();
        match stop {
            Some(Stop::Signal(signal)) => signal.exit_code(),
            None if all_passed => 0,
            Some(Stop::Failed) | None => FAILED,
        }
    }

    async fn play_actions(
        &self,
        runner: &Runner,
        fleet: &Fleet,
        interrupts: &Interrupts,
        reporter: &mut Reporter,
        actions: &[Action],
    ) -> Option<Stop> {
        for action in actions {
            let Action::Step {
                round,
                index,
                record,
            } = *action
            else {
                if let Err(err) = runner.state().next_round() {
                    reporter.run_error(&format!("{err:#}"));
                    return Some(Stop::Failed);
                }
                continue;
            };
            let step = self.steps[index];
            let name = &self.test_names[index];
            reporter.step_started(name, round);
            fleet.begin_capture();
            let started = Instant::now();
            let outcome = tokio::select! {
                result = run_step(step, runner) => Outcome::from_result(result),
                exited = fleet.any_exit() => Outcome::Failed(anyhow::Error::new(exited)),
                signal = interrupts.wait() => {
                    let message = format!("interrupted by {}", signal.name());
                    let logs = fleet.take_captured();
                    reporter.step_finished(name, round, Verdict::Failed { message, logs }, started.elapsed());
                    return Some(Stop::Signal(signal));
                }
            };
            let elapsed = started.elapsed();
            let logs = fleet.take_captured();
            let saved = match (&outcome, record) {
                (Outcome::Passed | Outcome::Skipped(_), true) => {
                    runner.state().complete_step(step.name)
                }
                _ => Ok(()),
            };
            let verdict = match (outcome, saved) {
                (Outcome::Failed(err), _) => Verdict::Failed {
                    message: describe(step, &err),
                    logs,
                },
                (_, Err(err)) => Verdict::Failed {
                    message: format!("cannot record the step: {err:#}"),
                    logs,
                },
                (Outcome::Passed, Ok(())) => Verdict::Passed,
                (Outcome::Skipped(reason), Ok(())) => Verdict::Skipped(reason),
            };
            let failed = matches!(verdict, Verdict::Failed { .. });
            reporter.step_finished(name, round, verdict, elapsed);
            if failed {
                return Some(Stop::Failed);
            }
        }
        None
    }
}

fn failed(err: &anyhow::Error) -> u8 {
    report::note(&format!("error: {err:#}"));
    FAILED
}

fn interrupted(signal: TerminationSignal, when: &str) -> u8 {
    report::note(&format!("interrupted by {} {when}", signal.name()));
    signal.exit_code()
}

/// Runs one step, turning a panic into a failure and applying config.yaml's
/// `step_timeout`.
async fn run_step(step: &StepDef, runner: &Runner) -> anyhow::Result<()> {
    let worker = runner.worker(step.worker)?;
    let running = AssertUnwindSafe((step.run)(runner, worker)).catch_unwind();
    let finished = match runner.config().step_timeout {
        None => running.await,
        Some(limit) => tokio::time::timeout(limit, running).await.map_err(|_| {
            anyhow::anyhow!("the step did not finish within {limit:?} (config.yaml `step_timeout`)")
        })?,
    };
    finished.unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(ToString::to_string)
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-string panic payload".to_owned());
        Err(anyhow::anyhow!("the step panicked: {message}"))
    })
}

fn describe(step: &StepDef, err: &anyhow::Error) -> String {
    let description = step
        .description
        .lines()
        .next()
        .map(|line| format!(" ({line})"))
        .unwrap_or_default();
    format!(
        "step `{}`{description} on {} at {} failed: {err:#}",
        step.name,
        step.worker,
        step.location()
    )
}

/// The workers to spawn; external ones (`url` only) are left alone.
fn launch_specs(runner: &Runner) -> Vec<LaunchSpec> {
    let config = runner.config();
    runner
        .workers()
        .iter()
        .filter_map(|worker| {
            let spec = worker.spec();
            let Launch::Spawn(command) = &spec.launch else {
                return None;
            };
            Some(LaunchSpec {
                name: spec.name.clone(),
                command: command.clone(),
                cwd: config.tests_dir.clone(),
                env: runner
                    .env()
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .chain(
                        worker
                            .server_env()
                            .map(|(k, v)| (k.to_owned(), v.to_owned())),
                    )
                    .collect(),
                port: spec.port,
                health_url: spec
                    .health_path
                    .as_ref()
                    .map(|p| format!("{}{p}", spec.url)),
                start_timeout: spec.start_timeout,
            })
        })
        .collect()
}
