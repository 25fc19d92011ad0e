//! Nodes that come and go: in the last round worker3 goes away before it
//! submits and comes back after the audits, as a real node may.

use anyhow::{bail, ensure};
use prometheus_test::mongodb::bson::doc;
use prometheus_test::{Runner, Worker, skip, step};

use super::api::{self, RoundPayload};
use super::db;

/// worker3 is stopped before its submission, which then fails to connect;
/// nothing audits the missing submission; started again, worker3 still
/// knows the work it did in round 1 (its `DATABASE_PATH` state survived).
#[step(worker = "worker3", order = 9)]
async fn a_node_that_goes_away_catches_up(runner: &Runner, worker: &Worker) -> anyhow::Result<()> {
    let round = runner.current_round();
    if round != runner.max_rounds() {
        skip!(
            "worker3 goes away in the last round ({})",
            runner.max_rounds()
        );
    }
    let before = round_one_work(runner, worker).await?;

    worker.stop().await?;
    let mut payload = RoundPayload::new(runner, worker, "submission")?;
    payload.round_number = round;
    let path = format!("/submission/{round}");
    match api::post_signed(runner, worker, worker, &path, &payload).await {
        Err(error) if is_connect_error(&error) => {}
        Err(error) => bail!("the stopped worker3 failed otherwise than by connection: {error:#}"),
        Ok(reply) => bail!(
            "the stopped worker3 answered {}: {}",
            reply.status,
            reply.message()
        ),
    }
    ensure!(
        runner
            .try_get::<serde_json::Value>("submissions.worker3")?
            .is_none(),
        "worker3 submitted nothing this round, yet a submission is stored for its auditor"
    );
    let audited = db::audits(runner)?
        .count_documents(doc! {
            "taskId": runner.task_id(),
            "round": i64::from(round),
            "submitter": worker.staking_public_key()?,
        })
        .await?;
    ensure!(
        audited == 0,
        "{audited} audit(s) of worker3's missing submission in round {round}"
    );

    worker.start().await?;
    let after = round_one_work(runner, worker).await?;
    ensure!(
        after == before,
        "worker3 forgot its round 1 work across the restart:\n  before {before}\n  after  {after}"
    );
    Ok(())
}

/// worker3's answer to `POST /submission/1`: the work its store kept.
async fn round_one_work(runner: &Runner, worker: &Worker) -> anyhow::Result<serde_json::Value> {
    let mut payload = RoundPayload::new(runner, worker, "submission")?;
    payload.round_number = 1;
    let reply = api::post_signed(runner, worker, worker, "/submission/1", &payload).await?;
    ensure!(
        reply.status == 200,
        "{} answered {}: {}",
        reply.what,
        reply.status,
        reply.message()
    );
    Ok(reply.body)
}

/// Whether `error` is the connection failure a node that went away gives.
fn is_connect_error(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<prometheus_test::reqwest::Error>()
            .is_some_and(prometheus_test::reqwest::Error::is_connect)
    })
}
