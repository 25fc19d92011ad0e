//! The round's receipt: worker1 acknowledges its round once, in MongoDB
//! (`receipts`) and in its own `DATABASE_PATH` file. A second attempt in the
//! same world would find the first one's writes, so this step shows what
//! resuming does: the next run after a failure here restores the world the
//! step started in (the snapshot before it) and the step passes; with
//! `--no-restore` it finds the failed attempt's receipts.
//!
//! `fail_receipt_in_round` (config.yaml, 0 by default) makes the step fail
//! on purpose in that round after writing both receipts:
//! `PROMETHEUS_TEST_SET_FAIL_RECEIPT_IN_ROUND=1 cargo test -p todo-task --test e2e`.

use anyhow::{Context as _, bail, ensure};
use prometheus_test::mongodb::bson::{Document, doc};
use prometheus_test::{Runner, Worker, skip, step};
use serde::Deserialize;

use super::api::{self, RoundPayload};

/// What `GET`/`POST /receipt/{round}` answer.
#[derive(Debug, Deserialize)]
struct Receipts {
    receipts: u32,
}

/// worker1 acknowledges its round exactly once, in MongoDB and in its file.
#[step(worker = "worker1", order = 10)]
async fn acknowledges_its_round_once(runner: &Runner, worker: &Worker) -> anyhow::Result<()> {
    let round = runner.current_round();
    let name = worker.name();
    if runner
        .try_get::<String>(&format!("todos.{name}"))?
        .is_none()
    {
        skip!("{name} did no work in round {round}: nothing to acknowledge");
    }
    let receipts = runner.db()?.collection::<Document>("receipts");
    let id = format!("{}:{round}:{name}", runner.task_id());
    let in_mongo = receipts
        .count_documents(doc! { "_id": &id })
        .await
        .context("cannot count receipts")?;
    let reply = api::get(runner, worker, &format!("/receipt/{round}")).await?;
    let in_file = reply.json::<Receipts>()?.receipts;
    ensure!(
        (in_mongo, in_file) == (0, 0),
        "round {round} already holds {in_mongo} receipt(s) of {name} in MongoDB and {in_file} \
         in its DATABASE_PATH: the writes of an earlier attempt of this step are still there"
    );

    receipts
        .insert_one(doc! {
            "_id": &id,
            "taskId": runner.task_id(),
            "round": i64::from(round),
            "worker": name,
        })
        .await
        .context("cannot write the receipt")?;
    let payload = RoundPayload::new(runner, worker, "receipt")?;
    let reply = api::post_signed(
        runner,
        worker,
        worker,
        &format!("/receipt/{round}"),
        &payload,
    )
    .await?;
    let counted = reply.json::<Receipts>()?.receipts;

    let fail_in: u32 = runner.config_value("fail_receipt_in_round")?;
    if fail_in == round {
        bail!(
            "failing on purpose after writing both receipts (`fail_receipt_in_round: {round}`): \
             the next run resumes at this step"
        );
    }
    ensure!(
        counted == 1,
        "{name} counted {counted} receipts of round {round}, expected 1"
    );
    Ok(())
}
