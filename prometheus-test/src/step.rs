//! What a step is: the registry entry the `#[step]` macro submits, and the
//! traits that turn a step's return value into a pass, a skip or a failure.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::{Runner, Worker};

/// The boxed future of every user function the harness calls: a registered
/// step (prepare, if any, then execute) and the `post_load` hook.
pub type StepFuture<'a> = Pin<Box<dyn Future<Output = anyhow::Result<()>> + 'a>>;

/// A `post_load` hook: `main!()`'s adapter or the `async fn` given to
/// [`Suite::post_load`](crate::Suite::post_load). Call it like a function.
#[derive(Clone)]
pub(crate) struct PostLoad(Arc<PostLoadFn>);

/// What a [`PostLoad`] calls.
type PostLoadFn = dyn for<'a> Fn(&'a mongodb::Database, &'a Runner) -> StepFuture<'a> + Send + Sync;

impl PostLoad {
    pub(crate) fn new(
        hook: impl for<'a> Fn(&'a mongodb::Database, &'a Runner) -> StepFuture<'a>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        Self(Arc::new(hook))
    }
}

impl std::ops::Deref for PostLoad {
    type Target = PostLoadFn;

    fn deref(&self) -> &PostLoadFn {
        &*self.0
    }
}

impl fmt::Debug for PostLoad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PostLoad")
    }
}

/// The workers a step runs against, as `#[step]` names them.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub enum StepWorkers {
    /// `worker = "worker1"`: one worker; the step keeps its plain name.
    One(&'static str),
    /// `workers = ["worker1", "worker2"]`: one instance per worker, in this order.
    Listed(&'static [&'static str]),
    /// `workers = "*"`: one instance per worker of workers.json, in file order.
    All,
}

/// One registered step, submitted to `inventory` by `#[step]`.
///
/// Not public API: build it only through the macro.
#[doc(hidden)]
#[derive(Debug)]
pub struct StepDef {
    /// The step's name in state and output: the `name` key, or the fn name.
    pub name: &'static str,
    /// The Rust fn name (the last segment of the test name).
    pub fn_name: &'static str,
    /// The `description` key, or the doc comment, or empty.
    pub description: &'static str,
    /// `module_path!()` at the step's definition.
    pub module: &'static str,
    /// The worker or workers (keys of workers.json) the step runs against.
    pub workers: StepWorkers,
    /// Position in a round: steps run by ascending `order`.
    pub order: u32,
    /// `file!()` at the step's definition.
    pub file: &'static str,
    /// `line!()` at the step's definition.
    pub line: u32,
    /// `retries`: how many more times a failed attempt is re-run.
    pub retries: u32,
    /// `retry_delay`: the pause before each re-run.
    pub retry_delay: ::core::time::Duration,
    /// `timeout`: overrides config.yaml's `step_timeout` for this step.
    pub timeout: ::core::option::Option<::core::time::Duration>,
    /// Runs the step.
    pub run: for<'a> fn(&'a Runner, &'a Worker) -> StepFuture<'a>,
}

inventory::collect!(StepDef);

impl StepDef {
    /// The libtest name of the step: its Rust path inside the test crate,
    /// which is what IDEs send with `--exact`.
    #[must_use]
    pub fn test_name(&self) -> String {
        match self.module.split_once("::") {
            Some((_crate, rest)) => format!("{rest}::{}", self.fn_name),
            None => self.fn_name.to_owned(),
        }
    }

    /// `file:line` of the definition, for error messages.
    #[must_use]
    pub fn location(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

/// A step ended without doing its work, for a reason: reported as ignored,
/// not as passed. Return it with [`skip!`](crate::skip).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    reason: String,
}

impl Skip {
    /// A skip with the reason shown in the report.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }

    /// Why the step was skipped.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// Sorts a step's result into pass (`Ok(None)`), skip (an error that is
    /// a [`Skip`]: `Ok(Some(_))`) or failure.
    pub(crate) fn sort(result: anyhow::Result<()>) -> anyhow::Result<Option<Self>> {
        match result {
            Ok(()) => Ok(None),
            Err(err) => match err.downcast::<Self>() {
                Ok(skip) => Ok(Some(skip)),
                Err(err) => Err(err),
            },
        }
    }
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "skipped: {}", self.reason)
    }
}

impl std::error::Error for Skip {}

/// Ends the step early as *skipped* with a reason (the report shows it as
/// ignored). Works in steps and prepare functions that return
/// `Result<_, E>` where `E: From<Skip>`, such as `anyhow::Error`.
///
/// ```
/// use prometheus_test::skip;
///
/// fn audit(status: u16) -> anyhow::Result<()> {
///     if status == 409 {
///         skip!("nothing to audit this round (status {status})");
///     }
///     Ok(())
/// }
/// let err = audit(409).unwrap_err();
/// assert_eq!(err.to_string(), "skipped: nothing to audit this round (status 409)");
/// ```
#[macro_export]
macro_rules! skip {
    ($($reason:tt)+) => {
        return ::core::result::Result::Err(::core::convert::From::from(
            $crate::Skip::new(::std::format!($($reason)+)),
        ))
    };
}

/// Keeps [`StepOutput`] and [`PrepareOutput`] closed: the harness decides
/// what a step may return, so a new accepted type is a change of this crate.
mod sealed {
    pub trait Sealed {}
    impl Sealed for () {}
    impl<T, E> Sealed for Result<T, E> {}
}

/// What a step function or `post_load` hook may return: `()` or
/// `Result<(), E>` with an error convertible into `anyhow::Error`.
///
/// Sealed: implemented for exactly those types, and not implementable
/// outside this crate.
#[diagnostic::on_unimplemented(
    message = "a step or `post_load` hook must return `()` or `Result<(), E>` where `E: Into<anyhow::Error>`",
    label = "`{Self}` is not a step result"
)]
pub trait StepOutput: sealed::Sealed {
    /// Converts the return value into the harness's result.
    fn into_step_result(self) -> anyhow::Result<()>;
}

impl StepOutput for () {
    fn into_step_result(self) -> anyhow::Result<()> {
        Ok(())
    }
}

impl<E: Into<anyhow::Error>> StepOutput for Result<(), E> {
    fn into_step_result(self) -> anyhow::Result<()> {
        self.map_err(Into::into)
    }
}

/// What a prepare function may return: `Result<T, E>` with an error
/// convertible into `anyhow::Error`; `T` is the type of the step's third
/// parameter.
///
/// Sealed: implemented for exactly those types, and not implementable
/// outside this crate.
#[diagnostic::on_unimplemented(
    message = "a prepare function must return `Result<T, E>` where `E: Into<anyhow::Error>`",
    label = "`{Self}` is not a prepare result"
)]
pub trait PrepareOutput: sealed::Sealed {
    /// The prepared value handed to the step.
    type Value;
    /// Converts the return value into the harness's result.
    fn into_prepared(self) -> anyhow::Result<Self::Value>;
}

impl<T, E: Into<anyhow::Error>> PrepareOutput for Result<T, E> {
    type Value = T;
    fn into_prepared(self) -> anyhow::Result<T> {
        self.map_err(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skipping() -> anyhow::Result<()> {
        crate::skip!("no todo left for {}", "worker3");
    }

    #[test]
    fn skip_is_sorted_as_skipped() {
        match Skip::sort(skipping()) {
            Ok(Some(skip)) => assert_eq!(skip.reason(), "no todo left for worker3"),
            other => panic!("expected a skip, got {other:?}"),
        }
    }

    #[test]
    fn other_errors_are_failures() {
        let sorted = Skip::sort(Err(anyhow::anyhow!("boom")));
        assert!(matches!(sorted, Err(e) if e.to_string() == "boom"));
        assert!(matches!(Skip::sort(Ok(())), Ok(None)));
    }
}
