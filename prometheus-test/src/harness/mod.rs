//! The `main!()` entry point: reads the run control (command line and
//! environment), lists or plays the steps, and returns the exit code once
//! every process is stopped.
//!
//! One run, top to bottom: [`cli`] (run control) → [`select`] → [`session`],
//! which drives [`setup`] (loaded → ready: checks everything, takes the run
//! [`lock`], checks the [`ports`], then resets or resumes), starts the
//! workers ([`launch`]), plays the [`plan`] one step at a time ([`execute`],
//! watched by the [`watchdog`] thread, which also receives the signals for
//! [`interrupts`]) and reports each result ([`report`]).
//!
//! Exit codes: 0 all passed; 101 a step failed (libtest's code); 2 the suite
//! could not start (anything before the first step); 130/143 SIGINT/SIGTERM.

mod args;
mod cli;
mod execute;
mod interrupts;
mod launch;
mod lock;
mod paths;
mod plan;
mod ports;
mod progress;
mod recording;
mod report;
mod select;
mod session;
mod setup;
mod steps;
mod unregistered;
mod watchdog;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_reliability;
#[cfg(test)]
mod tests_venv;

use std::ffi::OsString;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::step::{PostLoad, StepDef};

use self::cli::{Invocation, ProcessEnv, RunControl};
use self::report::Reporter;
use self::select::Selection;

/// What `main!()` passes to [`run_main`].
#[derive(Debug)]
pub struct MainOptions {
    /// `file!()` of the test target's root file.
    pub source_file: &'static str,
    /// `env!("CARGO_MANIFEST_DIR")` of the test target's package.
    pub manifest_dir: &'static str,
    /// The `config` argument: config.yaml relative to the test file's directory.
    pub config: Option<&'static str>,
    /// The `post_load` argument.
    pub post_load: Option<PostLoad>,
}

/// libtest's exit code for a failed run: a step failed (or timed out, or
/// its worker exited) once the steps had started.
const FAILED: u8 = 101;
/// The suite could not start: anything that goes wrong before the first step
/// (configuration, workers.json, `.env`, fixtures, MongoDB, the run lock,
/// ports, starting the workers, the `post_load` hook). 130/143 stay for
/// SIGINT/SIGTERM.
const SETUP_FAILED: u8 = 2;

/// Runs the registered steps with the process's command line and environment,
/// printing results on stdout.
#[must_use]
#[expect(
    clippy::needless_pass_by_value,
    reason = "generated code hands the options over"
)]
pub fn run_main(options: MainOptions) -> ExitCode {
    let code = run_with(
        &options,
        &steps::registered(),
        std::env::args_os(),
        &ProcessEnv::capture(),
        Box::new(std::io::stdout()),
    );
    ExitCode::from(code)
}

/// config.yaml: `PROMETHEUS_TEST_CONFIG`, else `main!`'s `config` next to
/// the test target's root file.
fn config_file(options: &MainOptions, control: &RunControl) -> PathBuf {
    control.config_file.clone().unwrap_or_else(|| {
        paths::tests_dir(options.source_file, options.manifest_dir)
            .join(options.config.unwrap_or("config.yaml"))
    })
}

/// One whole run in this process: `steps` (sorted by order) driven by `args`
/// (the program name first) and `env`, with the libtest output written to
/// `out` and progress notes to stderr. Returns the exit code.
pub(crate) fn run_with(
    options: &MainOptions,
    steps: &[&'static StepDef],
    args: impl IntoIterator<Item = OsString>,
    env: &ProcessEnv,
    out: Box<dyn std::io::Write>,
) -> u8 {
    let control = match RunControl::parse(args, env) {
        Ok(Invocation::Run(control)) => *control,
        Ok(Invocation::Help) => {
            let mut out = out;
            let _ = out.write_all(args::USAGE.as_bytes());
            return 0;
        }
        Err(problem) => {
            report::note(&format!("error: {problem}"));
            return SETUP_FAILED;
        }
    };
    let mut reporter = Reporter::new(control.format(), out);
    if steps.is_empty() {
        report::note(&format!("error: {}", steps::NO_STEPS));
        return SETUP_FAILED;
    }
    // `workers = "*"` steps need workers.json's names (read, never checked,
    // here) before anything can be selected or listed.
    let all_workers = steps::needs_all_workers(steps)
        .then(|| {
            steps::workers_json_names(
                &config_file(options, &control),
                control.overrides.as_ref().ok(),
            )
        })
        .flatten();
    let steps = steps::instances(steps, all_workers.as_deref());
    let test_names: Vec<String> = steps.iter().map(|s| s.test_name().to_owned()).collect();
    let selection = Selection::new(&control.args, &test_names);
    for warning in Selection::unmatched_filters(&control.args, &test_names) {
        report::note(&warning);
    }
    if control.args.list {
        let listed: Vec<String> = (0..test_names.len())
            .filter(|&i| selection.contains(i))
            .map(|i| test_names[i].clone())
            .collect();
        reporter.list(&listed);
        return 0;
    }
    warn_of_unregistered_step_files(options, &steps);
    if selection.count() == 0 {
        reporter.suite_started(0, test_names.len());
        reporter.finish();
        return 0;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            report::note(&format!("error: cannot start the async runtime: {err}"));
            return SETUP_FAILED;
        }
    };
    let session = session::Session {
        options,
        control: &control,
        process_env: env,
        steps: &steps,
        test_names: &test_names,
        selection: &selection,
    };
    let code = runtime.block_on(session.run(reporter));
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    code
}

/// Names the suite's files that hold `#[step]` functions but registered none
/// (a missing `mod` line), on stderr.
fn warn_of_unregistered_step_files(options: &MainOptions, steps: &[steps::StepInstance]) {
    let manifest_dir = std::path::Path::new(options.manifest_dir);
    let registered = steps
        .iter()
        .map(|step| unregistered::resolve_source(manifest_dir, step.file))
        .collect();
    let suite_dir = paths::tests_dir(options.source_file, options.manifest_dir);
    for warning in unregistered::warnings(&suite_dir, &registered) {
        report::note(&format!("warning: {warning}"));
    }
}
