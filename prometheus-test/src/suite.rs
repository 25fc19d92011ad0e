//! The public, in-process entry: a [`Suite`] of registered steps, run with
//! a command line, an environment and two outputs, returning a
//! [`Conclusion`]. `main!()` runs the process's suite through it.

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;

use crate::harness::{self, Clock, ProcessEnv, SuiteFiles, paths};
use crate::step::{PostLoad, StepDef, StepFuture};
use crate::{Conclusion, Runner, StepOutput};

/// A suite: the registered steps and the config.yaml that drives them.
///
/// [`main!()`](crate::main) builds one for the test target and runs it with
/// the process's command line and environment. Build your own to run a
/// suite in-process, for example to test how it fails:
///
/// ```no_run
/// use prometheus_test::{Exit, Suite};
///
/// let notes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
/// let conclusion = Suite::new("tests/config.yaml").run(
///     ["e2e", "--reset"],
///     [("PATH", "/usr/bin:/bin")],
///     std::io::sink(),
///     SharedBuffer(notes.clone()),
/// );
/// assert_eq!(conclusion.exit, Exit::SetupFailed);
/// let notes = String::from_utf8(notes.lock().unwrap().clone()).unwrap();
/// assert!(notes.starts_with("prometheus-test: error: "), "{notes}");
///
/// /// Collects what is written to it.
/// struct SharedBuffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
///
/// impl std::io::Write for SharedBuffer {
///     fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
///         self.0.lock().unwrap().extend_from_slice(bytes);
///         Ok(bytes.len())
///     }
///     fn flush(&mut self) -> std::io::Result<()> {
///         Ok(())
///     }
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Suite {
    files: SuiteFiles,
    /// Only the steps defined in this module or below, when set.
    module: Option<String>,
    /// These steps instead of the registered ones.
    explicit: Option<Vec<&'static StepDef>>,
    clock: Clock,
}

impl Suite {
    /// The suite of every step registered in this binary, with config.yaml
    /// at `config` (workers.json, `.env` and the data folder are found from
    /// there, as for `main!()`).
    #[must_use]
    pub fn new(config: impl Into<PathBuf>) -> Self {
        let config = config.into();
        let suite_dir = config
            .parent()
            .map_or_else(|| PathBuf::from("."), PathBuf::from);
        Self {
            files: SuiteFiles {
                config,
                manifest_dir: None,
                suite_dir,
                post_load: None,
            },
            module: None,
            explicit: None,
            clock: Clock::Real,
        }
    }

    /// Keeps only the steps defined in `module` (a path as `module_path!()`
    /// gives it) and the modules under it: several suites in one binary.
    #[must_use]
    pub fn module(mut self, module: &str) -> Self {
        self.module = Some(module.to_owned());
        self
    }

    /// Runs `hook` once after the fixtures of a fresh run are imported, as
    /// `main!(post_load = …)` does: an `async fn(&Database, &Runner)` (or an
    /// async closure) returning `()` or `Result<(), E>` with
    /// `E: Into<anyhow::Error>`.
    ///
    /// ```no_run
    /// use prometheus_test::{Runner, Suite, mongodb::Database};
    ///
    /// async fn seed(db: &Database, runner: &Runner) -> anyhow::Result<()> {
    ///     let _ = (db, runner);
    ///     Ok(())
    /// }
    ///
    /// let suite = Suite::new("tests/config.yaml").post_load(seed);
    /// ```
    #[must_use]
    pub fn post_load<H, R>(mut self, hook: H) -> Self
    where
        H: AsyncFn(&mongodb::Database, &Runner) -> R + Send + Sync + 'static,
        R: StepOutput,
    {
        let hook = Arc::new(hook);
        self.files.post_load = Some(PostLoad::new(move |db, runner| {
            let hook = Arc::clone(&hook);
            Box::pin(async move { (*hook)(db, runner).await.into_step_result() })
        }));
        self
    }

    /// Runs the suite in this process: `args` is the command line (the
    /// program name first, then libtest's flags and the harness's own), `env`
    /// exactly the environment variables the run sees. The libtest output is
    /// written to `out`, notes (warnings, errors, where the run resumes) to
    /// `notes`. Returns once every worker and server the run started has
    /// stopped.
    pub fn run<A, K, V>(
        &self,
        args: impl IntoIterator<Item = A>,
        env: impl IntoIterator<Item = (K, V)>,
        out: impl std::io::Write + Send + 'static,
        notes: impl std::io::Write + Send + 'static,
    ) -> Conclusion
    where
        A: Into<OsString>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        harness::run_with(
            &self.files,
            &self.steps(),
            args.into_iter().map(Into::into),
            &ProcessEnv::from_pairs(env),
            harness::Outputs {
                out: Box::new(out),
                notes: Box::new(notes),
                screen: None,
                clock: self.clock,
            },
        )
    }

    /// The suite `main!()` generates for a test target.
    fn from_main(options: &MainOptions) -> Self {
        Self {
            files: SuiteFiles::from_main(options),
            module: None,
            explicit: None,
            clock: Clock::Real,
        }
    }

    /// Runs with the process's command line and environment, on stdout and
    /// stderr (with the live line of a long step on a terminal).
    pub(crate) fn run_in_this_process(&self) -> Conclusion {
        harness::run_with(
            &self.files,
            &self.steps(),
            std::env::args_os(),
            &ProcessEnv::capture(),
            harness::Outputs {
                out: Box::new(std::io::stdout()),
                notes: Box::new(std::io::stderr()),
                screen: Some(Box::new(std::io::stderr())),
                clock: self.clock,
            },
        )
    }

    fn steps(&self) -> Vec<&'static StepDef> {
        let mut steps = self
            .explicit
            .clone()
            .unwrap_or_else(harness::registered_steps);
        if let Some(module) = &self.module {
            steps.retain(|step| {
                step.module == module
                    || step
                        .module
                        .strip_prefix(module.as_str())
                        .is_some_and(|rest| rest.starts_with("::"))
            });
        }
        steps
    }
}

/// `suite` with exactly `steps` (sorted by `order` here) in place of the
/// registered ones. Not public API: the harness's own tests.
#[must_use]
pub fn with_steps(mut suite: Suite, mut steps: Vec<&'static StepDef>) -> Suite {
    steps.sort_by_key(|step| step.order);
    suite.explicit = Some(steps);
    suite
}

/// `suite` showing every measured time as zero in its outputs, so that
/// tests can compare them whole. Not public API: the harness's own tests.
#[must_use]
pub fn with_frozen_clock(mut suite: Suite) -> Suite {
    suite.clock = Clock::Frozen;
    suite
}

/// What `main!()` passes to [`run_main`].
#[derive(Debug)]
pub struct MainOptions {
    /// `file!()` of the test target's root file.
    pub source_file: &'static str,
    /// `env!("CARGO_MANIFEST_DIR")` of the test target's package.
    pub manifest_dir: &'static str,
    /// The `config` argument: config.yaml relative to the test file's directory.
    pub config: Option<&'static str>,
    /// The `post_load` argument, as `main!()` adapts it.
    pub post_load: Option<for<'a> fn(&'a mongodb::Database, &'a Runner) -> StepFuture<'a>>,
}

/// Runs the registered steps with the process's command line and
/// environment, printing results on stdout and notes on stderr.
#[must_use]
#[expect(
    clippy::needless_pass_by_value,
    reason = "generated code hands the options over"
)]
pub fn run_main(options: MainOptions) -> std::process::ExitCode {
    Suite::from_main(&options).run_in_this_process().exit_code()
}

impl SuiteFiles {
    fn from_main(options: &MainOptions) -> Self {
        let suite_dir = paths::tests_dir(options.source_file, options.manifest_dir);
        Self {
            config: suite_dir.join(options.config.unwrap_or("config.yaml")),
            manifest_dir: Some(PathBuf::from(options.manifest_dir)),
            suite_dir,
            post_load: options.post_load.map(PostLoad::new),
        }
    }
}
