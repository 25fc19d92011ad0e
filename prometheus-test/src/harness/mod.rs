//! The `main!()` entry point (skeleton).

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;

use crate::Runner;

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

/// Runs the suite (skeleton).
#[must_use]
pub fn run_main(options: MainOptions) -> ExitCode {
    let _ = options;
    ExitCode::SUCCESS
}
