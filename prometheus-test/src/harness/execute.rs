//! One execution of one step: run it against its worker (a panic, a
//! timeout, a worker that exits or a signal ends it), again after a failure
//! while its `retries` last, record it in the state when the plan says so,
//! and turn the result into an [`Outcome`] with the worker output captured
//! during it.

use std::fmt::Write as _;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::FutureExt as _;

use super::interrupts::Interrupts;
use super::outside::Outside;
use super::redaction::{redact, redact_outcome};
use super::steps::StepInstance;
use super::watchdog::TimeLimit;
use crate::Runner;
use crate::churn::Churn;
use crate::events::{AttemptFailed, Event, Events, LogLine, Outcome, StepId};
use crate::process::{Fleet, TerminationSignal};
use crate::state::Scope;
use crate::step::Skip;

/// How one execution ended.
pub(super) struct Executed {
    pub(super) outcome: Outcome,
    pub(super) elapsed: Duration,
    /// The signal that stopped the step; the run stops with it.
    pub(super) interrupted: Option<TerminationSignal>,
    /// What the workers printed while the step ran (redacted).
    pub(super) logs: Vec<LogLine>,
}

/// What an execution needs of the run.
pub(super) struct Context<'a> {
    pub(super) runner: &'a Runner,
    /// The proxy of the workers' outside calls and the run's faults, when
    /// the suite has one.
    pub(super) outside: Option<&'a Outside>,
    pub(super) fleet: &'a Fleet,
    /// What a drawn crash, pause or restart goes through.
    pub(super) churn: &'a Arc<Churn>,
    pub(super) interrupts: &'a Interrupts,
    pub(super) events: &'a Events,
}

/// Runs `step` once; `record` saves it as the last completed step when it
/// passes or is skipped. The outcome's text is redacted: no writer sees a
/// secret a step put in its failure or skip reason.
pub(super) async fn execute(
    step: &StepInstance,
    id: &StepId,
    record: bool,
    cx: &Context<'_>,
) -> Executed {
    let Context {
        runner,
        fleet,
        interrupts,
        outside,
        ..
    } = *cx;
    fleet.begin_capture();
    let started = Instant::now();
    if let Some(outside) = outside
        && let Err(err) = outside.begin_step(id)
    {
        return Executed {
            outcome: redact_outcome(runner, Outcome::failed(format!("{err:#}"))),
            elapsed: started.elapsed(),
            interrupted: None,
            logs: fleet.take_captured().await,
        };
    }
    let mut attempts = 1;
    let mut failed_attempts = Vec::new();
    let result = tokio::select! {
        result = attempt_until_done(step, id, cx, &mut attempts, &mut failed_attempts) => result,
        exited = fleet.any_exit() => Err(anyhow::Error::new(exited)),
        signal = interrupts.wait() => {
            // The harness's own words: nothing a step said, nothing to redact.
            return Executed {
                outcome: Outcome::Interrupted { signal: signal.name().to_owned() },
                elapsed: started.elapsed(),
                interrupted: Some(signal),
                logs: fleet.take_captured().await,
            };
        }
    };
    let result = match outside {
        Some(outside) => with_the_tape(result, outside.end_step().await),
        None => result,
    };
    let elapsed = started.elapsed();
    let logs = fleet.take_captured().await;
    let saved = match (&result, record) {
        (Ok(_), true) => record_completed(runner, fleet, step, attempts),
        _ => Ok(()),
    };
    let outcome = match (result, saved) {
        (Err(err), _) => Outcome::failed(describe(step, &err, attempts, &failed_attempts)),
        (_, Err(err)) => Outcome::failed(format!("cannot record the step: {err:#}")),
        (Ok(None), Ok(())) => Outcome::Passed { attempts },
        (Ok(Some(skip)), Ok(())) => Outcome::Skipped {
            reason: skip.reason().to_owned(),
        },
    };
    Executed {
        outcome: redact_outcome(runner, outcome),
        elapsed,
        interrupted: None,
        logs,
    }
}

/// The step's result with what the recording said of the workers' outside
/// calls during it (`failure`: a call not on tape, a cassette not written),
/// which fails it, first, since a call answered `599` is what a step then
/// fails of.
fn with_the_tape(
    result: anyhow::Result<Option<Skip>>,
    failure: Option<String>,
) -> anyhow::Result<Option<Skip>> {
    let Some(failure) = failure else {
        return result;
    };
    match result {
        Ok(_) => Err(anyhow::anyhow!("{failure}")),
        Err(err) => Err(anyhow::anyhow!(
            "{failure}\n\nthe step's own error: {err:#}"
        )),
    }
}

/// Runs the step until an attempt passes or is skipped, or its `retries`
/// are used up, pausing `retry_delay` before each re-run. Each attempt is
/// watched with its own time limit, and meets the faults drawn for it; each failed attempt that is retried is
/// an [`Event::AttemptFailed`] and kept in `failed_attempts`; `attempts`
/// counts the attempts started (it stays right if a signal ends the wait).
/// `Ok(Some(skip))`: the step called `skip!`.
async fn attempt_until_done(
    step: &StepInstance,
    id: &StepId,
    cx: &Context<'_>,
    attempts: &mut u32,
    failed_attempts: &mut Vec<String>,
) -> anyhow::Result<Option<Skip>> {
    let total = step.retries.saturating_add(1);
    let limit = time_limit(step, cx.runner);
    loop {
        cx.runner
            .fault_reach()
            .enter(format!("round {} {}", id.round, id.name));
        let mut pauses = Vec::new();
        if let Some(outside) = cx.outside {
            for (worker, fault) in outside.begin_attempt(id, *attempts) {
                pauses.extend(super::drawn::apply(cx.churn, &worker, fault, cx.events).await);
            }
        }
        let watched = cx.interrupts.step_started(id, &step.name, limit.clone());
        let result = Skip::sort(run_step(step, cx.runner, limit.as_ref()).await);
        drop(watched);
        for pause in pauses {
            let _ = pause.await;
        }
        if let Some(outside) = cx.outside {
            outside.end_attempt();
        }
        let Err(err) = &result else {
            return result;
        };
        if *attempts >= total {
            return result;
        }
        let error = redact(cx.runner, &format!("{err:#}"));
        cx.events.emit(&Event::AttemptFailed(AttemptFailed {
            step: id.clone(),
            attempt: *attempts,
            total,
            error: error.clone(),
            delay: step.retry_delay,
        }));
        failed_attempts.push(error);
        tokio::time::sleep(step.retry_delay).await;
        *attempts += 1;
    }
}

/// Saves the step as the last completed one, with how many attempts it
/// took in the round's `_attempts` map when it needed more than one, and
/// the workers it left stopped or paused (so a run resumed after it holds
/// them so too).
fn record_completed(
    runner: &Runner,
    fleet: &Fleet,
    step: &StepInstance,
    attempts: u32,
) -> anyhow::Result<()> {
    let mut state = runner.state();
    for (worker, life) in fleet.held_lives() {
        state.hold_worker(worker, life)?;
    }
    if attempts > 1 {
        let mut map = match state.get(ATTEMPTS_KEY) {
            Some(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        map.insert(step.name.clone(), attempts.into());
        state.set(Scope::Round, ATTEMPTS_KEY, map.into())?;
    }
    state.complete_step(&step.name)
}

/// The round-data key under which steps that passed after a retry record
/// their attempt count: `{"_attempts": {"step name": 2}}`.
const ATTEMPTS_KEY: &str = "_attempts";

fn time_limit(step: &StepInstance, runner: &Runner) -> TimeLimit {
    match (step.timeout, runner.config().step_timeout) {
        (Some(limit), _) => Some((limit, "its `timeout`".to_owned())),
        (None, Some(limit)) => Some((limit, runner.config().step_timeout_source().to_owned())),
        (None, None) => None,
    }
}

/// Runs one step once, turning a panic into a failure and applying `limit`.
async fn run_step(
    step: &StepInstance,
    runner: &Runner,
    limit: Option<&(Duration, String)>,
) -> anyhow::Result<()> {
    let worker = runner.worker(&step.worker)?;
    let running = AssertUnwindSafe((step.run)(runner, worker)).catch_unwind();
    let finished = match limit {
        None => running.await,
        Some((limit, source)) => tokio::time::timeout(*limit, running)
            .await
            .map_err(|_| anyhow::anyhow!("the step did not finish within {limit:?} ({source})"))?,
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

fn describe(step: &StepInstance, err: &anyhow::Error, attempts: u32, earlier: &[String]) -> String {
    let description = first_paragraph(step.description)
        .map(|text| format!(" ({text})"))
        .unwrap_or_default();
    let tries = match attempts {
        1 => String::new(),
        n => format!(" after {n} attempts"),
    };
    let mut message = format!(
        "step `{}`{description} on {} at {} failed{tries}: {err:#}",
        step.name,
        step.worker,
        step.location()
    );
    for (number, error) in earlier.iter().enumerate() {
        let _ = write!(message, "\n  attempt {} failed: {error}", number + 1);
    }
    message
}

/// The first paragraph of a doc comment, its lines joined by spaces.
fn first_paragraph(doc: &str) -> Option<String> {
    let lines: Vec<&str> = doc
        .lines()
        .map(str::trim)
        .skip_while(|line| line.is_empty())
        .take_while(|line| !line.is_empty())
        .collect();
    (!lines.is_empty()).then(|| lines.join(" "))
}

#[cfg(test)]
mod tests {
    use super::first_paragraph;

    #[test]
    fn a_description_is_the_doc_comments_first_paragraph() {
        assert_eq!(
            first_paragraph(
                " Worker 2 audits the submission of\n worker 1, round by round.\n\n Details."
            )
            .as_deref(),
            Some("Worker 2 audits the submission of worker 1, round by round.")
        );
        assert_eq!(
            first_paragraph("\n\n One line.").as_deref(),
            Some("One line.")
        );
        assert_eq!(first_paragraph("  \n"), None);
    }
}
