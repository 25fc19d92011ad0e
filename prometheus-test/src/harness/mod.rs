//! The `main!()` entry point: parses the libtest command line, lists or
//! plays the steps, and returns the exit code once every process is stopped.

mod cli;
mod paths;
mod plan;
mod report;
mod select;
mod session;
mod setup;
mod steps;

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;

use crate::Runner;

use self::cli::Cli;
use self::report::Reporter;
use self::select::Selection;

/// The future of a post-load hook.
pub type PostLoadFuture<'a> = Pin<Box<dyn Future<Output = anyhow::Result<()>> + 'a>>;

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
    pub post_load: Option<for<'a> fn(&'a mongodb::Database, &'a Runner) -> PostLoadFuture<'a>>,
}

/// libtest's exit code for a failed run.
const FAILED: u8 = 101;

/// Runs the suite with the process's command line.
#[must_use]
#[expect(
    clippy::needless_pass_by_value,
    reason = "generated code hands the options over"
)]
pub fn run_main(options: MainOptions) -> ExitCode {
    let cli = Cli::parse_from(std::env::args_os());
    let steps = steps::registered();
    if steps.is_empty() {
        report::note(&format!("error: {}", steps::NO_STEPS));
        return ExitCode::from(FAILED);
    }
    let test_names: Vec<String> = steps.iter().map(|s| s.test_name()).collect();
    let selection = Selection::new(&cli.libtest, &test_names);
    if cli.libtest.list {
        let listed: Vec<String> = (0..test_names.len())
            .filter(|&i| selection.contains(i))
            .map(|i| test_names[i].clone())
            .collect();
        Reporter::list(cli.format(), &listed);
        return ExitCode::SUCCESS;
    }
    if selection.count() == 0 {
        let mut reporter = Reporter::new(cli.format());
        reporter.suite_started(0, test_names.len());
        reporter.finish();
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            report::note(&format!("error: cannot start the async runtime: {err}"));
            return ExitCode::from(FAILED);
        }
    };
    let session = session::Session {
        options: &options,
        cli: &cli,
        steps: &steps,
        test_names: &test_names,
        selection: &selection,
    };
    let code = runtime.block_on(session.run());
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    ExitCode::from(code)
}
