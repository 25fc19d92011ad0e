//! One run of the suite, in order: load and check everything, connect
//! MongoDB, set up the state and the runner, start the workers, play the
//! planned steps, and stop everything before the exit code is returned.
//! SIGINT/SIGTERM stop the run at any point, also after everything is stopped.

use std::time::Instant;

use super::cli::{Format, ProcessEnv, RunControl};
use super::execute::execute;
use super::interrupts::Interrupts;
use super::launch::launch_specs;
use super::plan::{Action, plan};
use super::progress;
use super::recording;
use super::report::{self, Reporter};
use super::select::Selection;
use super::setup::{self, Ready, SetupInputs};
use super::steps::StepInstance;
use super::{FAILED, MainOptions, SETUP_FAILED, config_file};
use crate::Runner;
use crate::config::Overrides;
use crate::process::{Fleet, LineFilter, LogMode, TerminationSignal};

/// Everything `run_with` hands over to one run.
pub(super) struct Session<'a> {
    pub(super) options: &'a MainOptions,
    pub(super) control: &'a RunControl,
    /// The process environment the run's environment starts from.
    pub(super) process_env: &'a ProcessEnv,
    pub(super) steps: &'a [StepInstance],
    /// The steps' test names (their Rust paths), by index.
    pub(super) test_names: &'a [String],
    pub(super) selection: &'a Selection,
}

/// Why the step loop ended early.
enum Stop {
    Failed,
    Signal(TerminationSignal),
}

impl Session<'_> {
    /// Plays the run and returns the process exit code.
    pub(super) async fn run(self, reporter: Reporter) -> u8 {
        let interrupts = Interrupts::install();
        let overrides = match &self.control.overrides {
            Ok(overrides) => overrides,
            Err(problems) => return failed(&anyhow::anyhow!("{problems}")),
        };
        if let Some(header) = overrides.describe() {
            report::note(&header);
        }
        let loaded = match setup::load(self.setup_inputs(overrides)) {
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
            ready = loaded.set_up(mongo.as_ref()) => ready.map_err(|err| failed(&err)),
            signal = interrupts.wait() => Err(interrupted(signal, "before any step ran")),
        };
        let code = match ready {
            Ok(ready) => self.play(ready, &interrupts, reporter).await,
            Err(code) => code,
        };
        if let Some(mongo) = mongo {
            mongo.shutdown().await;
        }
        code
    }

    fn setup_inputs<'o>(&'o self, overrides: &'o Overrides) -> SetupInputs<'o> {
        SetupInputs {
            config_file: config_file(self.options, self.control),
            overrides,
            process_env: self.process_env,
            steps: self.steps,
            reset: self.control.reset,
            post_load: self.options.post_load,
        }
    }

    /// Starts the workers, plays the plan, stops the workers, prints the summary.
    async fn play(&self, ready: Ready, interrupts: &Interrupts, mut reporter: Reporter) -> u8 {
        let Ready {
            runner,
            position,
            lock: _lock,
        } = ready;
        recording::start(&runner, position, self.test_names);
        let actions = plan(
            self.steps.len(),
            position,
            runner.max_rounds(),
            self.selection,
        );
        let mode = if self.control.nocapture {
            LogMode::Stream
        } else {
            LogMode::Capture
        };
        let started = Instant::now();
        let fleet = tokio::select! {
            fleet = Fleet::start_filtered(launch_specs(&runner), mode, Some(redacting(&runner))) => fleet,
            signal = interrupts.wait() => return interrupted(signal, "while starting the workers"),
        };
        let fleet = match fleet {
            Ok(fleet) => fleet,
            Err(err) => {
                let code = failed(&err);
                note_command_lines(&runner, &format!("{err:#}"));
                return code;
            }
        };
        recording::workers_started(&runner);
        report::note(&format!(
            "{} worker(s) ready in {:.2}s; {} round(s) to play",
            runner.workers().len(),
            started.elapsed().as_secs_f64(),
            runner.max_rounds()
        ));
        let (executions, unplanned) = counts(&actions, self.steps.len());
        reporter.suite_started(executions, unplanned);
        let stop = self
            .play_actions(&runner, &fleet, interrupts, &mut reporter, &actions)
            .await;
        let exits = fleet.shutdown_with_exits().await;
        recording::workers_stopped(&runner, &exits);
        if let Err(err) = runner.state().sync() {
            report::note(&format!("warning: {err:#}"));
        }
        let (html, junit) = (
            self.control.report.as_deref(),
            self.control.junit.as_deref(),
        );
        reporter.report_paths(recording::write_reports(&runner, html, junit));
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
        let mut previous_round = None;
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
            let name = &self.test_names[index];
            reporter.step_started(name, round);
            let worker = self.steps[index].worker.as_str();
            recording::begin_step(runner, previous_round, round, name, worker);
            previous_round = Some(round);
            let live = progress::Live::start(
                progress::enabled(self.control.format() == Format::Pretty),
                runner.recorder().clone(),
                format!("test [round {round}] {name} ... "),
                worker.to_owned(),
            );
            let mut executed = execute(&self.steps[index], record, runner, fleet, interrupts).await;
            live.stop();
            let exchanges = recording::finish_step(runner, &mut executed);
            reporter.step_exchanges(name, round, worker, &exchanges);
            let failed = executed.verdict.is_failure();
            reporter.step_finished(name, round, executed.verdict, executed.elapsed);
            if let Some(signal) = executed.interrupted {
                return Some(Stop::Signal(signal));
            }
            if failed {
                return Some(Stop::Failed);
            }
        }
        None
    }
}

/// The step executions the plan holds, and how many steps it leaves out.
fn counts(actions: &[Action], steps: usize) -> (usize, usize) {
    let mut planned = vec![false; steps];
    let mut executions = 0;
    for action in actions {
        if let Action::Step { index, .. } = *action {
            planned[index] = true;
            executions += 1;
        }
    }
    (executions, planned.iter().filter(|&&p| !p).count())
}

/// A failure before the first step: the suite could not start.
fn failed(err: &anyhow::Error) -> u8 {
    report::note(&format!("error: {err:#}"));
    SETUP_FAILED
}

/// After a failed worker start: the command line of each spawned worker
/// the error names (of every spawned worker if it names none), to try by hand.
fn note_command_lines(runner: &Runner, error: &str) {
    let spawned: Vec<(&str, String)> = runner
        .workers()
        .iter()
        .filter_map(|worker| {
            let spec = worker.spec();
            Some((spec.name.as_str(), spec.launch.command_line()?))
        })
        .collect();
    let named = spawned.iter().any(|(name, _)| error.contains(name));
    for (name, line) in &spawned {
        if !named || error.contains(name) {
            report::note(&format!("{name} was started with: {line}"));
        }
    }
}

fn interrupted(signal: TerminationSignal, when: &str) -> u8 {
    report::note(&format!("interrupted by {} {when}", signal.name()));
    signal.exit_code()
}

/// Redacts every line the workers print (shown live with `--nocapture`,
/// captured for a failing step, or kept for a crash report) with the run's
/// secrets, the same as the reports. Once the reports are written nothing
/// redacts any more, so a late line shows only that it was printed.
fn redacting(runner: &Runner) -> LineFilter {
    let recorder = runner.recorder().clone();
    std::sync::Arc::new(move |line: &str| {
        recorder
            .with(|r| r.redact(line))
            .unwrap_or_else(|| "(a line printed after the run's reports were written)".to_owned())
    })
}
