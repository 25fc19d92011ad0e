//! One builder for the steps the tests register, with a default for every
//! field of `StepDef`.

use std::time::Duration;

use prometheus_test::__private::{StepDef, StepFuture, StepWorkers};
use prometheus_test::{Runner, Worker};

/// A step function, as `#[step]` registers it.
pub(crate) type StepFn = for<'a> fn(&'a Runner, &'a Worker) -> StepFuture<'a>;

/// A step named `name` (also its fn name, so its test name is
/// `steps::{name}`) at position `order` of a round, running `run` against
/// `worker1`, defined at `tests/suite.rs:1`, with no description, no retries
/// and no timeout of its own.
pub(crate) fn step(name: &'static str, order: u32, run: StepFn) -> StepBuilder {
    StepBuilder(StepDef {
        name,
        fn_name: name,
        description: "",
        module: "suite::steps",
        workers: StepWorkers::One("worker1"),
        order,
        file: "tests/suite.rs",
        line: 1,
        retries: 0,
        retry_delay: Duration::ZERO,
        timeout: None,
        run,
    })
}

/// A step being built; [`build`](Self::build) registers it for the test's
/// lifetime.
#[must_use]
pub(crate) struct StepBuilder(StepDef);

impl StepBuilder {
    /// The `description` (first paragraph shown in a failure).
    pub(crate) fn description(mut self, description: &'static str) -> Self {
        self.0.description = description;
        self
    }

    /// `workers = [...]`: one instance per worker, in this order.
    pub(crate) fn workers(mut self, workers: &'static [&'static str]) -> Self {
        self.0.workers = StepWorkers::Listed(workers);
        self
    }

    /// `workers = "*"`: one instance per worker of workers.json.
    pub(crate) fn every_worker(mut self) -> Self {
        self.0.workers = StepWorkers::All;
        self
    }

    /// The `line!()` of the definition in `tests/suite.rs`.
    pub(crate) fn line(mut self, line: u32) -> Self {
        self.0.line = line;
        self
    }

    /// The `file!()` of the definition.
    pub(crate) fn file(mut self, file: &'static str) -> Self {
        self.0.file = file;
        self
    }

    /// `retries`.
    pub(crate) fn retries(mut self, retries: u32) -> Self {
        self.0.retries = retries;
        self
    }

    /// `retry_delay`.
    pub(crate) fn retry_delay(mut self, delay: Duration) -> Self {
        self.0.retry_delay = delay;
        self
    }

    /// `timeout`.
    pub(crate) fn timeout(mut self, timeout: Duration) -> Self {
        self.0.timeout = Some(timeout);
        self
    }

    /// The step, leaked: a suite takes `&'static` steps, and a test builds a few.
    pub(crate) fn build(self) -> &'static StepDef {
        Box::leak(Box::new(self.0))
    }
}
