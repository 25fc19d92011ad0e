//! Nodes that come and go: in config.yaml's `churn_round`, worker3 goes
//! away after doing its task and before submitting, and comes back after
//! the audits, as a node of a real network may. In that round its
//! submission cannot connect (the submission step checks so and skips), it
//! audits nothing, and its missing submission is not audited: the task
//! records no verdict for work it never saw. Started again, worker3 still
//! knows the work it did (its `DATABASE_PATH` survived) and plays the next
//! rounds as before.

use anyhow::{bail, ensure};
use prometheus_test::mongodb::bson::doc;
use prometheus_test::{Runner, Worker, skip, step};

use super::api::{self, RoundPayload};
use super::db;

/// Whether `worker` went away this round (and so submits and audits nothing).
pub(crate) fn went_away(runner: &Runner, worker: &str) -> anyhow::Result<bool> {
    Ok(runner
        .try_get::<bool>(&format!("went_away.{worker}"))?
        .unwrap_or(false))
}

/// Whether `error` is the connection failure a node that went away gives.
pub(crate) fn is_connect_error(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<prometheus_test::reqwest::Error>()
            .is_some_and(prometheus_test::reqwest::Error::is_connect)
    })
}

/// worker3 is stopped after its task and before its submission in
/// `churn_round`.
#[step(worker = "worker3", order = 3)]
async fn goes_away_before_submitting(runner: &Runner, worker: &Worker) -> anyhow::Result<()> {
    let round = runner.current_round();
    let churn_round: u32 = runner.config_value("churn_round")?;
    if round != churn_round {
        skip!("worker3 goes away in round {churn_round}");
    }
    let name = worker.name();
    if runner
        .try_get::<String>(&format!("todos.{name}"))?
        .is_none()
    {
        skip!("{name} did no work in round {round}: it has nothing to miss");
    }
    worker.stop().await?;
    runner.set(&format!("went_away.{name}"), &true)?;
    // Its submission will not be audited, and it will not audit its peer.
    let missed: usize = runner.try_get("audits_missed")?.unwrap_or(0);
    runner.set_global("audits_missed", &(missed + 2))
}

/// After the audits, no verdict was recorded on worker3's missing
/// submission; worker3 comes back and still knows this round's work.
#[step(worker = "worker3", order = 7)]
async fn comes_back_after_the_audits(runner: &Runner, worker: &Worker) -> anyhow::Result<()> {
    let round = runner.current_round();
    let name = worker.name();
    if !went_away(runner, name)? {
        skip!("{name} did not go away in round {round}");
    }
    let audited = db::audits(runner)?
        .count_documents(doc! {
            "taskId": runner.task_id(),
            "round": i64::from(round),
            "submitter": worker.staking_public_key()?,
        })
        .await?;
    ensure!(
        audited == 0,
        "{audited} verdict(s) on {name}'s missing submission of round {round}: the task \
         should record none for work it never saw"
    );
    match submission(runner, worker, round).await {
        Err(error) if is_connect_error(&error) => {}
        Err(error) => bail!("{name} is away, but asking it failed otherwise: {error:#}"),
        Ok(reply) => bail!("{name} is away, yet it answered {}", reply.status),
    }

    worker.start().await?;
    let todo: String = runner.get(&format!("todos.{name}"))?;
    let reply = submission(runner, worker, round).await?;
    ensure!(
        reply.status == 200 && reply.body["todoId"] == todo.as_str(),
        "{name} came back without its round {round} work (todo {todo}): {} answered {}: {}",
        reply.what,
        reply.status,
        reply.message()
    );
    Ok(())
}

/// `POST /submission/{round}` to `worker`, signed by it.
async fn submission(runner: &Runner, worker: &Worker, round: u32) -> anyhow::Result<api::Reply> {
    let payload = RoundPayload::new(runner, worker, "submission")?;
    api::post_signed(
        runner,
        worker,
        worker,
        &format!("/submission/{round}"),
        &payload,
    )
    .await
}
