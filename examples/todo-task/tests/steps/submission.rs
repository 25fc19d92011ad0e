//! Phase 2 of a round: every worker submits the work it did. The submission
//! must name the todo the task step saw; it is kept for the auditors.

use anyhow::{bail, ensure};
use prometheus_test::{Runner, Worker, skip, step};

use super::api::{self, RoundPayload, Submission};
use super::churn;

/// Each worker submits its work for the round.
#[step(workers = "*", order = 4)]
async fn submits(runner: &Runner, worker: &Worker) -> anyhow::Result<()> {
    submit(runner, worker).await
}

/// Asks `POST /submission/{round}` for the worker's submission, checks it and
/// stores it at `submissions.<worker>`. Skips when the worker did no work,
/// or went away this round (after checking it cannot be reached).
async fn submit(runner: &Runner, worker: &Worker) -> anyhow::Result<()> {
    let name = worker.name();
    let round = runner.current_round();
    let payload = RoundPayload::new(runner, worker, "submission")?;
    let sent = api::post_signed(
        runner,
        worker,
        worker,
        &format!("/submission/{round}"),
        &payload,
    )
    .await;
    if churn::went_away(runner, name)? {
        match sent {
            Err(error) if churn::is_connect_error(&error) => skip!(
                "{name} went away before submitting: its submission cannot connect, as in production"
            ),
            Err(error) => bail!("{name} went away, but its submission failed otherwise: {error:#}"),
            Ok(reply) => bail!(
                "{name} went away, yet {} answered {}",
                reply.what,
                reply.status
            ),
        }
    }
    let reply = sent?;

    let Some(todo_id) = runner.try_get::<String>(&format!("todos.{name}"))? else {
        ensure!(
            reply.status == 409,
            "{name} did no work in round {round}, so {} should answer 409; it answered {}: {}",
            reply.what,
            reply.status,
            reply.message()
        );
        skip!("{name} did no work in round {round}, and its server says so (409)");
    };
    if reply.status == 409 {
        bail!(
            "{} answered 409 ({}), but {name} did todo {todo_id} this round",
            reply.what,
            reply.message()
        );
    }
    let submission: Submission = reply.json()?;

    let expected = Submission {
        round_number: round,
        todo_id,
        result: submission.result.clone(),
        staking_key: worker.staking_public_key()?.to_owned(),
    };
    ensure!(
        submission == expected,
        "{name}'s submission differs from its work this round:\n  got      {submission:?}\n  expected {expected:?}"
    );
    runner.set(&format!("submissions.{name}"), &submission)?;
    Ok(())
}
