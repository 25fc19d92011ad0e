//! The `main!()` entry point: reads the run control (command line and
//! environment), lists or plays the steps, and returns the exit code once
//! every process is stopped.
//!
//! One run, top to bottom: [`cli`] (run control) → [`select`] → [`session`],
//! which drives [`setup`] (loaded → ready), starts the workers ([`launch`]),
//! plays the [`plan`] one step at a time ([`execute`]) and reports each
//! result ([`report`]).

mod cli;
mod execute;
mod interrupts;
mod launch;
mod paths;
mod plan;
mod progress;
mod recording;
mod report;
mod select;
mod session;
mod setup;
mod steps;

#[cfg(test)]
mod tests;

use std::ffi::OsString;
use std::process::ExitCode;

use crate::step::{PostLoad, StepDef};

use self::cli::{ProcessEnv, RunControl};
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

/// libtest's exit code for a failed run.
const FAILED: u8 = 101;

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
    let control = RunControl::parse(args, env);
    let mut reporter = Reporter::new(control.format(), out);
    if steps.is_empty() {
        report::note(&format!("error: {}", steps::NO_STEPS));
        return FAILED;
    }
    let test_names: Vec<String> = steps.iter().map(|s| s.test_name()).collect();
    let selection = Selection::new(&control.libtest, &test_names);
    if control.libtest.list {
        let listed: Vec<String> = (0..test_names.len())
            .filter(|&i| selection.contains(i))
            .map(|i| test_names[i].clone())
            .collect();
        reporter.list(&listed);
        return 0;
    }
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
            return FAILED;
        }
    };
    let session = session::Session {
        options,
        control: &control,
        steps,
        test_names: &test_names,
        selection: &selection,
    };
    let code = runtime.block_on(session.run(reporter));
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    code
}
