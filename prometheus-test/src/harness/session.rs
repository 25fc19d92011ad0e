//! One run of the suite, in order: load and check everything, connect
//! MongoDB, set up the state and the runner, start the workers, play the
//! planned steps, and stop everything before the run's [`Conclusion`] is
//! returned. SIGINT/SIGTERM stop the run at any point, also after everything
//! is stopped. The session emits [`Event`]s; it formats nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::cli::RunControl;
use super::containers::start_notes;
use super::execute::{Context, execute};
use super::files::SuiteFiles;
use super::interrupts::Interrupts;
use super::launch::stack_specs;
use super::outside::{FaultRun, Outside};
use super::plan::{Action, Position, announced, plan};
use super::redaction::redacted_vars_note;
use super::select::Selection;
use super::setup::{self, Ready, SetupInputs};
use super::steps::StepInstance;
use super::world::{self, Snapshots};
use anyhow::Context as _;

use crate::churn::Churn;
use crate::events::{Event, Events, Outcome, StepFinished, StepId, WorkersReady};
use crate::faults::seed::{Seed, SeedSource};
use crate::keeper::Link;
use crate::process::{Fleet, Host, LineFilter, LogMode, TerminationSignal};
use crate::{Conclusion, Exit, Runner};

/// Everything `run_with` hands over to one run.
pub(super) struct Session<'a> {
    pub(super) files: &'a SuiteFiles,
    pub(super) control: &'a RunControl,
    pub(super) steps: &'a [StepInstance],
    pub(super) selection: &'a Selection,
    pub(super) events: &'a Events,
    /// The keeper this run is attached to: its process members are the
    /// keeper's, and are left running at the end.
    pub(super) keeper: Option<&'a Link>,
}

/// Why the step loop ended early.
enum Stop {
    Failed,
    Signal(TerminationSignal),
}

/// The step executions' outcomes so far.
#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    skipped: usize,
}

impl Session<'_> {
    /// Plays the run and returns how it ended.
    pub(super) async fn run(self) -> Conclusion {
        let interrupts = Interrupts::install(self.events);
        let overrides = match &self.control.overrides {
            Ok(overrides) => overrides,
            Err(problems) => return self.failed(&anyhow::anyhow!("{problems}")),
        };
        if let Some(header) = overrides.describe() {
            self.events.note(header);
        }
        let loaded = match setup::load(self.setup_inputs()) {
            Ok(loaded) => loaded,
            Err(err) => return self.failed(&err),
        };
        let prepared = tokio::select! {
            prepared = loaded.prepare_containers() => prepared,
            signal = interrupts.wait() => return self.interrupted(signal, "before any step ran"),
        };
        if let Err(err) = prepared {
            return self.failed(&err);
        }
        let mongo = tokio::select! {
            mongo = loaded.connect() => mongo,
            signal = interrupts.wait() => return self.interrupted(signal, "before any step ran"),
        };
        let mongo = match mongo {
            Ok(mongo) => mongo,
            Err(err) => return self.failed(&err),
        };
        let ready = tokio::select! {
            ready = loaded.set_up(mongo.as_ref()) => ready.map_err(|err| self.failed(&err)),
            signal = interrupts.wait() => Err(self.interrupted(signal, "before any step ran")),
        };
        let conclusion = match ready {
            Ok(ready) => self.play(ready, &interrupts).await,
            Err(conclusion) => conclusion,
        };
        if let Some(mongo) = mongo {
            mongo.shutdown().await;
        }
        conclusion
    }

    fn setup_inputs(&self) -> SetupInputs<'_> {
        SetupInputs {
            config: &self.control.config,
            steps: self.steps,
            reset: self.control.reset,
            from: self.control.from.as_deref(),
            restore: self.control.restore,
            post_load: self.files.post_load.clone(),
            events: self.events,
            kept_ports: self.keeper.map(Link::kept_ports).unwrap_or_default(),
        }
    }

    /// Starts the workers, plays the plan, stops the workers, finishes the run.
    async fn play(&self, ready: Ready, interrupts: &Interrupts) -> Conclusion {
        let Ready {
            mut runner,
            position,
            lock: _lock,
            world,
            fresh,
        } = ready;
        interrupts.note_slow_steps(runner.config().slow_step);
        let mut snapshots = Snapshots::open(runner.config(), world, self.events);
        self.events.emit(&Event::Recording {
            recorder: runner.recorder().clone(),
            data_dir: runner.data_dir().to_path_buf(),
        });
        let actions = plan(
            self.steps.len(),
            position,
            runner.max_rounds(),
            self.selection,
        );
        let started = Instant::now();
        if fresh && let Some(keeper) = self.keeper {
            keeper.start_fresh();
        }
        let outside = match self.start_outside(&mut runner, fresh).await {
            Ok(outside) => outside,
            Err(err) => return self.failed(&err),
        };
        let specs = match stack_specs(&runner, outside.as_ref()) {
            Ok(specs) => specs,
            Err(err) => {
                Outside::stop_quietly(outside).await;
                return self.failed(&err);
            }
        };
        let fleet = tokio::select! {
            fleet = Fleet::start_kept(specs, self.log_mode(), Some(redacting(&runner)), self.host()) => fleet,
            signal = interrupts.wait() => {
                Outside::stop_quietly(outside).await;
                return self.interrupted(signal, "while starting the workers");
            }
        };
        let fleet = match fleet {
            Ok(fleet) => Arc::new(fleet),
            Err(err) => {
                Outside::stop_quietly(outside).await;
                let conclusion = self.failed(&err);
                self.note_command_lines(&runner, &format!("{err:#}"));
                return conclusion;
            }
        };
        let filtered_out = self.announce(&runner, &actions, position, started.elapsed());
        let churn = Arc::new(Churn::new(Arc::clone(&fleet), self.events.clone()));
        runner.use_churn(Some(Arc::clone(&churn)));
        let cx = Context {
            runner: &runner,
            outside: outside.as_ref(),
            fleet: &fleet,
            churn: &churn,
            interrupts,
            events: self.events,
        };
        let mut tally = Tally::default();
        let held = runner.state().held_workers().clone();
        let stop = match churn.hold(&held).await {
            Ok(()) => {
                self.play_actions(&cx, &actions, &mut tally, snapshots.as_mut())
                    .await
            }
            Err(err) => {
                self.events.emit(&Event::RunError(format!("{err:#}")));
                tally.failed += 1;
                Some(Stop::Failed)
            }
        };
        runner.use_churn(None);
        runner.fault_reach().use_scripted(None);
        self.wind_down(&runner, &fleet, snapshots.as_ref()).await;
        let faulted = self.stop_outside(outside, &runner, &mut tally).await;
        let exit = match stop {
            Some(Stop::Signal(signal)) => signal.exit(),
            None if tally.failed == 0 => Exit::Passed,
            Some(Stop::Failed) | None => Exit::Failed,
        };
        if faulted && exit == Exit::Failed {
            let seed = self.seed_of(&runner);
            self.events.note(format!("faults: {}", seed.rerun_note()));
        }
        self.events.emit(&Event::RunFinished(exit));
        Conclusion {
            exit,
            passed: tally.passed,
            failed: tally.failed,
            skipped: tally.skipped,
            filtered_out,
        }
    }

    /// Starts the proxy when the suite has one; with `faults`, notes the
    /// seed, routes the runner's calls through it and lets steps script.
    async fn start_outside(
        &self,
        runner: &mut Runner,
        fresh: bool,
    ) -> anyhow::Result<Option<Outside>> {
        let faults = if runner.config().faults.is_some() {
            let (seed, source) = self.effective_seed(runner, fresh);
            runner
                .state()
                .keep_fault_seed(seed.0)
                .context("cannot keep the faults' seed in the state")?;
            runner.fault_reach().use_seed(seed);
            self.events.note(seed.announce(source));
            Some(FaultRun { seed, fresh })
        } else {
            None
        };
        let outside = Outside::start(runner, self.events, faults, self.keeper).await?;
        if let Some(listener) = outside.as_ref().and_then(Outside::runner_listener)
            && let Err(err) = runner.route_http_through(listener)
        {
            Outside::stop_quietly(outside).await;
            return Err(err);
        }
        runner
            .fault_reach()
            .use_scripted(outside.as_ref().and_then(Outside::scripted));
        Ok(outside)
    }

    /// The workers' output: live with `--nocapture`, else captured per step.
    fn log_mode(&self) -> LogMode {
        if self.control.nocapture {
            LogMode::Stream
        } else {
            LogMode::Capture
        }
    }

    /// The keeper, as the fleet's host of process members.
    fn host(&self) -> Option<Arc<dyn Host>> {
        self.keeper
            .map(|keeper| Arc::new(keeper.clone()) as Arc<dyn Host>)
    }

    /// The seed of the run's faults: `--seed` or `PROMETHEUS_TEST_SEED`,
    /// else the one a resumed run's state kept, else a fresh one.
    fn effective_seed(&self, runner: &Runner, fresh: bool) -> (Seed, SeedSource) {
        let (seed, source) = self.control.seed;
        let kept = runner.state().fault_seed();
        match (source, kept) {
            (SeedSource::Fresh, Some(kept)) if !fresh => (Seed(kept), SeedSource::Resumed),
            _ => (seed, source),
        }
    }

    /// The seed the run's faults are drawn from (the command line's when it
    /// has no faults).
    fn seed_of(&self, runner: &Runner) -> Seed {
        runner.fault_reach().seed().unwrap_or(self.control.seed.0)
    }

    /// Stops the proxy, counting its failure and a failed `always` in
    /// `tally`; whether the run had faults.
    async fn stop_outside(
        &self,
        outside: Option<Outside>,
        runner: &Runner,
        tally: &mut Tally,
    ) -> bool {
        let faulted = outside
            .as_ref()
            .and_then(Outside::runner_listener)
            .is_some();
        if let Some(failure) = Outside::stop(outside, self.events).await {
            self.events.emit(&Event::RunError(failure));
            tally.failed += 1;
        }
        if self.checks_failed(runner) {
            tally.failed += 1;
        }
        faulted
    }

    /// The steps' properties at the run's end: each `always` that failed is
    /// an error (with the seed that replays it), each `sometimes` never true
    /// a note. Whether an `always` failed.
    fn checks_failed(&self, runner: &Runner) -> bool {
        let checks = runner.fault_reach().checks();
        for line in checks.summary(self.seed_of(runner)).lines() {
            if line.starts_with("always ") {
                self.events.emit(&Event::RunError(line.to_owned()));
            } else {
                self.events.note(line);
            }
        }
        checks.failed()
    }

    /// With the workers up: says so, with what the run will play (the
    /// plan's counts); returns the steps the selection leaves out.
    fn announce(
        &self,
        runner: &Runner,
        actions: &[Action],
        position: Position,
        elapsed: Duration,
    ) -> usize {
        for worker in runner.workers() {
            self.events.emit(&Event::WorkerStarted {
                worker: worker.name().to_owned(),
            });
        }
        let plan = announced(
            actions,
            self.steps
                .iter()
                .map(|s| s.test_name().to_owned())
                .collect(),
            position,
            self.selection,
        );
        let filtered_out = plan.filtered_out;
        self.events.emit(&Event::WorkersReady(WorkersReady {
            workers: runner.workers().len(),
            elapsed,
        }));
        self.events.emit(&Event::RunStarted(plan));
        filtered_out
    }

    /// After the last step: stops the workers, saves the state, and says
    /// what the snapshots keep and which mapped variables were redacted.
    async fn wind_down(&self, runner: &Runner, fleet: &Fleet, snapshots: Option<&Snapshots>) {
        let exits = match self.keeper {
            Some(keeper) => {
                let (left, exits) = fleet.detach_with_exits().await;
                if !left.is_empty() {
                    self.events.note(format!(
                        "keeper: {} left running to the keeper (PID {})",
                        left.join(", "),
                        keeper.keeper_pid()
                    ));
                }
                exits
            }
            None => fleet.shutdown_with_exits().await,
        };
        for (worker, exit) in exits {
            if let Some(exit) = exit {
                self.events.emit(&Event::WorkerExited { worker, exit });
            }
        }
        if let Err(err) = runner.state().sync() {
            self.events.note(format!("warning: {err:#}"));
        }
        if let Some(kept) = snapshots.and_then(Snapshots::kept) {
            self.events.emit(&Event::SnapshotsKept(kept));
        }
        if let Some(note) = redacted_vars_note(runner) {
            self.events.note(note);
        }
    }

    async fn play_actions(
        &self,
        cx: &Context<'_>,
        actions: &[Action],
        tally: &mut Tally,
        mut snapshots: Option<&mut Snapshots>,
    ) -> Option<Stop> {
        let mut previous_round = None;
        for action in actions {
            let Action::Step {
                round,
                index,
                record,
            } = *action
            else {
                if let Err(err) = cx.runner.state().next_round() {
                    self.events.emit(&Event::RunError(format!("{err:#}")));
                    tally.failed += 1;
                    return Some(Stop::Failed);
                }
                continue;
            };
            let step = &self.steps[index];
            if previous_round != Some(round) {
                self.events.emit(&Event::RoundStarted { round });
                if let Some(snapshots) = snapshots.as_deref_mut() {
                    snapshots.round_started(round, self.events);
                }
                previous_round = Some(round);
            }
            if let Some(snapshots) = snapshots.as_deref_mut() {
                let point = world::point_before(round, index, self.steps);
                snapshots.before(&point, self.events).await;
            }
            let id = StepId {
                name: step.test_name().to_owned(),
                round,
                worker: step.worker.clone(),
            };
            self.events.emit(&Event::StepStarted(id.clone()));
            let executed = execute(step, &id, record, cx).await;
            match &executed.outcome {
                Outcome::Passed { .. } => tally.passed += 1,
                Outcome::Skipped { .. } => tally.skipped += 1,
                Outcome::Failed { .. } | Outcome::Interrupted { .. } => tally.failed += 1,
            }
            let failed = executed.outcome.is_failure();
            self.events.emit(&Event::StepFinished(StepFinished {
                step: id,
                outcome: executed.outcome,
                elapsed: executed.elapsed,
                logs: executed.logs,
            }));
            if let Some(signal) = executed.interrupted {
                return Some(Stop::Signal(signal));
            }
            if failed {
                return Some(Stop::Failed);
            }
        }
        None
    }

    /// A failure before the first step: the suite could not start.
    fn failed(&self, err: &anyhow::Error) -> Conclusion {
        self.events.note(format!("error: {err:#}"));
        Conclusion::before_any_step(Exit::SetupFailed)
    }

    fn interrupted(&self, signal: TerminationSignal, when: &str) -> Conclusion {
        self.events
            .note(format!("interrupted by {} {when}", signal.name()));
        Conclusion::before_any_step(signal.exit())
    }

    /// After a failed worker start: how each worker the error names was
    /// started (see [`start_notes`]).
    fn note_command_lines(&self, runner: &Runner, error: &str) {
        let workers: Vec<(&str, &crate::config::Launch)> = runner
            .workers()
            .iter()
            .map(|worker| (worker.name(), &worker.spec().launch))
            .collect();
        let engine = crate::config::docker_host_in(runner.env());
        for note in start_notes(&workers, error, &engine) {
            self.events.note(note);
        }
    }
}

/// Redacts every line the workers print (shown live with `--nocapture`,
/// captured for a failing step, or kept for a crash report) with the run's
/// secrets, the same as the reports. Once the reports are written nothing
/// redacts any more, so a late line shows only that it was printed.
fn redacting(runner: &Runner) -> LineFilter {
    let recorder = runner.recorder().clone();
    std::sync::Arc::new(move |line: &str| {
        recorder.redact_or(
            line,
            "(a line printed after the run's reports were written)",
        )
    })
}
