//! The run behind `Suite::run` and `main!()`: reads the
//! run control (command line and environment), lists or plays the steps,
//! and returns the run's [`Conclusion`] once every process is stopped.
//!
//! One run, top to bottom: [`cli`] (run control) → [`select`] → [`session`],
//! which drives [`setup`] (loaded → ready: checks everything, takes the run
//! [`lock`], checks the [`ports`], then resets or resumes), starts the
//! workers ([`launch`]), plays the [`plan`] one step at a time ([`execute`],
//! watched by the [`watchdog`] thread, which also receives the signals for
//! [`interrupts`]) and emits what happens as [`events`] to the
//! [`writers`]. Exit codes are [`Exit`](crate::Exit)'s. Under cargo-nextest,
//! each process is one step's test and the run plays once for all of them
//! ([`nextest`]).

mod args;
pub(crate) mod churn;
mod cli;
mod containers;
mod events;
mod execute;
mod interrupts;
mod launch;
mod lock;
mod nextest;
pub(crate) mod paths;
mod plan;
mod ports;
mod redaction;
mod select;
mod session;
mod setup;
mod steps;
mod unregistered;
mod watchdog;
mod world;
mod writers;

use std::ffi::OsString;
use std::io::Write as _;
use std::path::PathBuf;

use crate::step::{PostLoad, StepDef};
use crate::{Conclusion, Exit};

use self::cli::{Invocation, RunControl};
use self::events::{Event, Events};
use self::select::Selection;
use self::writers::ReportPaths;

pub(crate) use self::cli::ProcessEnv;
pub(crate) use self::events::Clock;
pub(crate) use self::steps::registered as registered_steps;
pub(crate) use self::writers::Outputs;

/// Where a suite's files are.
#[derive(Debug, Clone)]
pub(crate) struct SuiteFiles {
    /// config.yaml (`PROMETHEUS_TEST_CONFIG` replaces it).
    pub(crate) config: PathBuf,
    /// The test target's package, to find step files that registered no
    /// step; `None` skips that check.
    pub(crate) manifest_dir: Option<PathBuf>,
    /// The folder of the test target's root file.
    pub(crate) suite_dir: PathBuf,
    pub(crate) post_load: Option<PostLoad>,
}

/// config.yaml: `PROMETHEUS_TEST_CONFIG`, else the suite's.
fn config_file(files: &SuiteFiles, control: &RunControl) -> PathBuf {
    control
        .config_file
        .clone()
        .unwrap_or_else(|| files.config.clone())
}

/// One whole run in this process: `steps` (sorted by order) driven by `args`
/// (the program name first) and `env`, written to `outputs`. Under
/// cargo-nextest the process is one test of a run that plays once
/// ([`nextest`]).
pub(crate) fn run_with(
    files: &SuiteFiles,
    steps: &[&'static StepDef],
    args: impl IntoIterator<Item = OsString>,
    env: &ProcessEnv,
    outputs: Outputs,
) -> Conclusion {
    let control = match RunControl::parse(args, env) {
        Ok(Invocation::Run(control)) => *control,
        Ok(Invocation::Help) => {
            let mut out = outputs.out;
            let _ = out.write_all(args::USAGE.as_bytes());
            return Conclusion::before_any_step(Exit::Passed);
        }
        Err(problem) => {
            writers::notes_only(outputs.notes).note(format!("error: {problem}"));
            return Conclusion::before_any_step(Exit::SetupFailed);
        }
    };
    match nextest::Role::of(env, control.args.list) {
        nextest::Role::Plain => run_control(files, steps, &control, env, outputs, None),
        nextest::Role::Test(test) => {
            let names: Vec<String> = instances(files, steps, &control)
                .iter()
                .map(|s| s.test_name().to_owned())
                .collect();
            test.run(files, &control, env, &names, outputs)
        }
        nextest::Role::Coordinator(coordinator) => coordinator.run(files, &control, |results| {
            run_control(files, steps, &control, env, outputs, Some(results))
        }),
    }
}

/// `--list-snapshots`: the kept snapshots with their sizes, on stdout.
/// Reads config.yaml and the snapshots; writes nothing.
fn list_snapshots(files: &SuiteFiles, control: &RunControl, outputs: Outputs) -> Conclusion {
    let config = control
        .overrides
        .as_ref()
        .map_err(|problems| anyhow::anyhow!("{problems}"))
        .and_then(|overrides| {
            crate::config::Config::load_with(&config_file(files, control), overrides)
        });
    let listed = config.and_then(|config| {
        let (kept, bytes) = crate::snapshot::Store::peek(&config.data_dir)?;
        Ok(world::listing(&kept, bytes))
    });
    match listed {
        Ok(text) => {
            let mut out = outputs.out;
            let _ = out.write_all(text.as_bytes());
            Conclusion::before_any_step(Exit::Passed)
        }
        Err(err) => {
            writers::notes_only(outputs.notes).note(format!("error: {err:#}"));
            Conclusion::before_any_step(Exit::SetupFailed)
        }
    }
}

/// The step instances of `steps`: a `workers = "*"` step needs
/// workers.json's names (read, never checked, here) before anything can be
/// selected or listed.
fn instances(
    files: &SuiteFiles,
    steps: &[&'static StepDef],
    control: &RunControl,
) -> Vec<steps::StepInstance> {
    let all_workers = steps::needs_all_workers(steps)
        .then(|| {
            steps::workers_json_names(
                &config_file(files, control),
                control.overrides.as_ref().ok(),
            )
        })
        .flatten();
    steps::instances(steps, all_workers.as_deref())
}

/// A run as the command line and environment ask, with `extra` among its
/// writers (the results a nextest coordinator keeps).
fn run_control(
    files: &SuiteFiles,
    steps: &[&'static StepDef],
    control: &RunControl,
    env: &ProcessEnv,
    outputs: Outputs,
    extra: Option<Box<dyn events::Writer>>,
) -> Conclusion {
    if control.args.list_snapshots {
        return list_snapshots(files, control, outputs);
    }
    let reports = ReportPaths {
        html: control.report.clone(),
        junit: control.junit.clone(),
    };
    let events = writers::for_run(control.format(), outputs, reports, extra);
    if steps.is_empty() {
        events.note(format!("error: {}", steps::NO_STEPS));
        return Conclusion::before_any_step(Exit::SetupFailed);
    }
    let steps = instances(files, steps, control);
    let test_names: Vec<String> = steps.iter().map(|s| s.test_name().to_owned()).collect();
    let selection = Selection::new(&control.args, &test_names);
    for warning in Selection::unmatched_filters(&control.args, &test_names) {
        events.note(warning);
    }
    if control.args.list {
        let listed: Vec<String> = (0..test_names.len())
            .filter(|&i| selection.contains(i))
            .map(|i| test_names[i].clone())
            .collect();
        events.emit(&Event::Listed(listed));
        return Conclusion::before_any_step(Exit::Passed);
    }
    warn_of_unregistered_step_files(files, &steps, &events);
    if selection.count() == 0 {
        events.emit(&Event::RunStarted(events::RunStarted {
            executions: 0,
            filtered_out: test_names.len(),
            resumed: None,
            step_order: test_names.clone(),
        }));
        events.emit(&Event::RunFinished(Exit::Passed));
        return Conclusion {
            filtered_out: test_names.len(),
            ..Conclusion::before_any_step(Exit::Passed)
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            events.note(format!("error: cannot start the async runtime: {err}"));
            return Conclusion::before_any_step(Exit::SetupFailed);
        }
    };
    let session = session::Session {
        files,
        control,
        process_env: env,
        steps: &steps,
        selection: &selection,
        events: &events,
    };
    let conclusion = runtime.block_on(session.run());
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    conclusion
}

/// Names the suite's files that hold `#[step]` functions but registered none
/// (a missing `mod` line).
fn warn_of_unregistered_step_files(
    files: &SuiteFiles,
    steps: &[steps::StepInstance],
    events: &Events,
) {
    let Some(manifest_dir) = files.manifest_dir.as_deref() else {
        return;
    };
    let registered = steps
        .iter()
        .map(|step| unregistered::resolve_source(manifest_dir, step.file))
        .collect();
    for warning in unregistered::warnings(&files.suite_dir, &registered) {
        events.note(format!("warning: {warning}"));
    }
}
