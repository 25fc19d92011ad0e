//! One execution of one step: run it against its worker (a panic, a
//! `step_timeout`, a worker that exits or a signal ends it), record it in the
//! state when the plan says so, and turn the result into a [`Verdict`] with
//! the worker output captured during it.

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use futures_util::FutureExt as _;

use super::interrupts::Interrupts;
use super::report::Verdict;
use super::steps::StepInstance;
use crate::Runner;
use crate::process::{Fleet, TerminationSignal};
use crate::step::Outcome;

/// How one execution ended.
pub(super) struct Executed {
    pub(super) verdict: Verdict,
    pub(super) elapsed: Duration,
    /// The signal that stopped the step; the run stops with it.
    pub(super) interrupted: Option<TerminationSignal>,
}

/// Runs `step` once; `record` saves it as the last completed step when it
/// passes or is skipped.
pub(super) async fn execute(
    step: &StepInstance,
    record: bool,
    runner: &Runner,
    fleet: &Fleet,
    interrupts: &Interrupts,
) -> Executed {
    let _watched = interrupts.step_started(&step.name, &step.worker, runner.config().step_timeout);
    fleet.begin_capture();
    let started = Instant::now();
    let outcome = tokio::select! {
        result = run_step(step, runner) => Outcome::from_result(result),
        exited = fleet.any_exit() => Outcome::Failed(anyhow::Error::new(exited)),
        signal = interrupts.wait() => {
            let message = format!("interrupted by {}", signal.name());
            let logs = fleet.take_captured();
            return Executed {
                verdict: Verdict::Failed { message, logs },
                elapsed: started.elapsed(),
                interrupted: Some(signal),
            };
        }
    };
    let elapsed = started.elapsed();
    let logs = fleet.take_captured();
    let saved = match (&outcome, record) {
        (Outcome::Passed | Outcome::Skipped(_), true) => runner.state().complete_step(&step.name),
        _ => Ok(()),
    };
    let verdict = match (outcome, saved) {
        (Outcome::Failed(err), _) => Verdict::Failed {
            message: describe(step, &err),
            logs,
        },
        (_, Err(err)) => Verdict::Failed {
            message: format!("cannot record the step: {err:#}"),
            logs,
        },
        (Outcome::Passed, Ok(())) => Verdict::Passed,
        (Outcome::Skipped(reason), Ok(())) => Verdict::Skipped(reason),
    };
    Executed {
        verdict,
        elapsed,
        interrupted: None,
    }
}

/// Runs one step, turning a panic into a failure and applying config.yaml's
/// `step_timeout`.
async fn run_step(step: &StepInstance, runner: &Runner) -> anyhow::Result<()> {
    let worker = runner.worker(&step.worker)?;
    let running = AssertUnwindSafe((step.run)(runner, worker)).catch_unwind();
    let finished = match runner.config().step_timeout {
        None => running.await,
        Some(limit) => tokio::time::timeout(limit, running).await.map_err(|_| {
            anyhow::anyhow!("the step did not finish within {limit:?} (config.yaml `step_timeout`)")
        })?,
    };
    finished.unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(ToString::to_string)
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-string panic payload".to_owned());
        Err(anyhow::anyhow!("the step panicked: {message}"))
    })
}

fn describe(step: &StepInstance, err: &anyhow::Error) -> String {
    let description = step
        .description
        .lines()
        .next()
        .map(|line| format!(" ({line})"))
        .unwrap_or_default();
    format!(
        "step `{}`{description} on {} at {} failed: {err:#}",
        step.name,
        step.worker,
        step.location()
    )
}
