#![doc = include_str!("../README.md")]

mod atomic_file;
mod churn;
mod conclusion;
mod config;
mod events;
mod failpoint;
mod faults;
mod harness;
mod http;
mod http_client;
mod keeper;
mod keys;
mod mongo;
mod pid_lock;
mod poll;
mod process;
mod proxy;
mod record;
mod recording;
mod runner;
mod service;
mod snapshot;
mod state;
mod step;
mod suite;
#[cfg(test)]
mod test_support;
mod worker;

pub use conclusion::{Conclusion, Exit};
pub use faults::handle::Faults;
pub use http::{Http, RequestBuilder};
pub use keys::{
    CanonicalJsonError, KeyError, KeyErrorKind, KeyRole, Keypair, SignatureError, SigningKey,
    canonical_json, create_signature, load_keypair, verify_signature,
};
pub use poll::{Poll, PollTimeout, Polling};
pub use runner::Runner;
pub use service::Service;
pub use step::{PrepareOutput, Skip, StepFuture, StepOutput};
pub use suite::Suite;
pub use worker::Worker;

/// Registers an `async fn` as a step of the suite.
///
/// # Example
///
/// ```no_run
/// use prometheus_test::{Runner, Worker, step};
///
/// /// Worker 1 submits its work (this line is the step's description).
/// #[step(worker = "worker1", order = 2)]
/// async fn submit(runner: &Runner, worker: &Worker) -> anyhow::Result<()> {
///     let url = format!("{}/submission/{}", worker.url(), runner.current_round());
///     runner.http().post(url).send().await?.error_for_status()?;
///     Ok(())
/// }
///
/// /// Builds the audit's input; its output type is the step's third parameter.
/// async fn pr_url(runner: &Runner, _worker: &Worker) -> anyhow::Result<String> {
///     runner.get("pr_urls.worker1")
/// }
///
/// #[step(worker = "worker2", order = 3, prepare = pr_url, name = "audit-pr")]
/// async fn audit(_runner: &Runner, _worker: &Worker, url: String) -> anyhow::Result<()> {
///     anyhow::ensure!(url.starts_with("https://"), "not a PR URL: {url}");
///     Ok(())
/// }
///
/// /// Every worker of workers.json checks its health, in file order.
/// #[step(workers = "*", order = 4)]
/// async fn healthy(runner: &Runner, worker: &Worker) -> anyhow::Result<()> {
///     runner.http().get(format!("{}/health", worker.url())).send().await?.error_for_status()?;
///     Ok(())
/// }
/// # fn main() {}
/// ```
///
/// # Arguments
///
/// | key | type | default |
/// |---|---|---|
/// | `worker` | string: a key of workers.json, the one worker the step runs against | required: this or `workers` |
/// | `workers` | `["worker1", "worker2"]`: one instance of the step per listed worker, in this order, each named with its worker appended (`audit[worker1]`); or `"*"`: one instance per worker of workers.json, in file order | required: this or `worker` |
/// | `order` | integer `0..=4294967295`: the step's place in every round | required |
/// | `prepare` | path of `async fn(&Runner, &Worker) -> Result<T, E>`; the step then takes a third parameter `T` | none |
/// | `name` | string: the step's name in the state file and the output | the fn name |
/// | `description` | string | the doc comment |
/// | `retries` | integer: how many more times a failed attempt (an error or a panic; not a skip) runs again, `prepare` included | 0 |
/// | `retry_delay` | duration string, like `"500ms"`, `"2s"`, `"1m"`: the pause before each re-run; only with `retries` | none |
/// | `timeout` | duration string: each attempt's time limit, in place of config.yaml's `step_timeout` | `step_timeout` |
///
/// The function is `async fn(runner: &Runner, worker: &Worker[, prepared: T])`
/// returning `()` or `Result<(), E>` with `E: Into<anyhow::Error>`. Return
/// early with [`skip!`] to report the step as skipped.
///
/// # Errors
///
/// Compile errors point at your tokens: an unknown or repeated key, a missing
/// `order`, neither or both of `worker` and `workers`, an empty `workers`
/// list, a worker listed twice or `"*"` inside a list, a value of the wrong
/// kind, a function that is not `async`, is generic, takes `self`, or has the
/// wrong number of parameters, a parameter of the wrong type, a prepare
/// function whose output does not match the third parameter, and a return
/// type that is not a step result.
///
/// # Runtime behaviour
///
/// Steps register through `inventory`, so the function must live in the
/// `harness = false` test target (its root file or modules under it), not in
/// a library. At start-up the harness sorts them by `order`; two steps with
/// the same `order` or name, or a worker missing from workers.json, stop
/// the run before anything starts, with each step's file and line. The test
/// name is the step's Rust path inside the target (`steps::audit`, and
/// `steps::audit[worker2]` for an instance of a `workers` step), which is
/// what an IDE's run button sends; the function itself can only be run by
/// the harness. Prepare functions and `post_load` hooks are your own plain
/// functions: with `clippy::pedantic`, one that never awaits needs
/// `#[expect(clippy::unused_async)]`.
#[doc(inline)]
pub use prometheus_test_macros::step;

/// Generates `fn main` for the suite's `harness = false` test target.
///
/// # Example
///
/// ```no_run
/// use prometheus_test::{Runner, mongodb::Database};
///
/// /// Runs once after the fixtures of a fresh run are imported.
/// async fn seed(db: &Database, runner: &Runner) -> anyhow::Result<()> {
///     let todos = db.collection::<prometheus_test::mongodb::bson::Document>("todos");
///     todos.update_many(
///         prometheus_test::mongodb::bson::doc! {"taskId": runner.task_id()},
///         prometheus_test::mongodb::bson::doc! {"$set": {"status": "pending"}},
///     ).await?;
///     Ok(())
/// }
///
/// prometheus_test::main!(config = "config.yaml", post_load = seed);
/// ```
///
/// # Arguments
///
/// | key | type | default |
/// |---|---|---|
/// | `config` | string: config.yaml's path, relative to the directory of the file `main!()` is in | `"config.yaml"` |
/// | `post_load` | path of `async fn(&mongodb::Database, &Runner) -> Result<(), E>` | none |
///
/// `PROMETHEUS_TEST_CONFIG=path` overrides `config` at run time.
///
/// # Errors
///
/// An unknown or repeated key, a value of the wrong kind, and a hook with the
/// wrong signature are compile errors on your tokens.
///
/// # Runtime behaviour
///
/// The binary accepts libtest's command line (`--list`, `--exact`, filters,
/// `--skip`, `--nocapture`, `--format`, …) plus `--reset`. `--list` prints the
/// steps without loading anything. Any other run first loads the `.env`
/// files, config.yaml and workers.json and checks them with the registered
/// steps, reporting every problem at once, before it touches MongoDB, the
/// state file or starts a process. It exits with 0 when every executed step
/// passed or was skipped, 101 when one failed, and 130/143 on SIGINT/SIGTERM,
/// always after every worker has stopped (see [`Exit`]).
///
/// `main!()` runs the suite through [`Suite`], which a test can also call
/// in-process to check how a suite fails (the message of a setup error, not
/// only its exit code): see the example on [`Suite`].
#[doc(inline)]
pub use prometheus_test_macros::main;

/// The result type steps and hooks usually return.
pub type Result<T = (), E = anyhow::Error> = std::result::Result<T, E>;

pub use anyhow;
/// Stream adapters, for MongoDB cursors above all: with `TryStreamExt` in
/// scope, `cursor.try_collect().await` reads every document.
///
/// ```no_run
/// use prometheus_test::TryStreamExt as _;
/// use prometheus_test::mongodb::bson::{Document, doc};
///
/// # async fn step(runner: &prometheus_test::Runner) -> anyhow::Result<()> {
/// let todos: Vec<Document> = runner
///     .db()?
///     .collection::<Document>("todos")
///     .find(doc! { "taskId": runner.task_id() })
///     .await?
///     .try_collect()
///     .await?;
/// # Ok(()) }
/// ```
pub use futures_util::{StreamExt, TryStreamExt};
pub use mongodb;
pub use reqwest;

/// The primitives the benchmarks in `benches/` time; they do all measuring and
/// printing themselves. Not public API.
#[doc(hidden)]
pub mod __bench {
    pub use crate::harness::recording_in_a_step;
    pub use crate::http_client::default_client as http_client;
    pub use crate::mongo::seam::{
        FixtureImport, Fixtures, IMPORT_BATCH, ManagedMongod, close_client,
        find_or_provision_mongod,
    };
    pub use crate::process::{ContainerSpec, Fleet, LaunchSpec, LogMode, free_port};
    pub use crate::recording::BenchProxy;
}

/// Comparing two runs' `faults.jsonl`, for the suite's own tests. Not public API.
#[doc(hidden)]
pub mod __faults {
    pub use crate::faults::history::same_faults;
}

/// Glue for the code `#[step]` and `main!()` generate. Not public API.
#[doc(hidden)]
pub mod __private {
    /// The `post_load` hook's future: the same boxed future as a step's.
    pub use crate::step::StepFuture as PostLoadFuture;
    pub use crate::step::{PrepareOutput, StepDef, StepFuture, StepOutput, StepWorkers};
    pub use crate::suite::{MainOptions, run_main, with_frozen_clock, with_steps};
    pub use ::inventory;
    pub use ::std::boxed::Box;
}

/// The repository README's examples compile too.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct RepositoryReadme;
