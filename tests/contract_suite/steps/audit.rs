//! Audit steps: read what earlier steps stored; one skips in even rounds.

use prometheus_test::{Runner, Worker, skip, step};
use serde::Deserialize;

use super::enter;

#[derive(Deserialize)]
pub(crate) struct Work {
    round: u32,
    by: String,
}

/// What worker 1 audits, prepared from the runner's state.
#[expect(clippy::unused_async, reason = "prepare functions are async")]
async fn stored_work(runner: &Runner, _worker: &Worker) -> anyhow::Result<Work> {
    runner.get("work")
}

/// Worker 1 checks the work stored this round.
#[step(worker = "worker1", order = 3, prepare = stored_work)]
async fn audit(runner: &Runner, _worker: &Worker, work: Work) -> anyhow::Result<()> {
    enter(runner, "audit").await?;
    anyhow::ensure!(
        work.round == runner.current_round(),
        "work of round {} found in round {}",
        work.round,
        runner.current_round()
    );
    anyhow::ensure!(work.by == "worker2", "work by {}", work.by);
    Ok(())
}

/// An optional check that only applies to odd rounds.
#[step(worker = "worker2", order = 4)]
async fn optional(runner: &Runner, _worker: &Worker) -> anyhow::Result<()> {
    enter(runner, "optional").await?;
    if runner.current_round().is_multiple_of(2) {
        skip!("nothing to check in even round {}", runner.current_round());
    }
    Ok(())
}
