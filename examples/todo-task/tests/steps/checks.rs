//! Phase 4 of a round: what the workers wrote to MongoDB. Each honest
//! audit is recorded as valid, the forged one as invalid, and nothing else;
//! after the last round, every todo was done and audited by every worker.

use std::collections::BTreeSet;

use anyhow::{Context as _, ensure};
use prometheus_test::mongodb::bson::doc;
use prometheus_test::{Runner, Worker, step};

use super::api::Submission;
use super::churn;
use super::db::{self, Audit};

/// The audits collection holds exactly this round's expected verdicts.
#[step(worker = "worker1", order = 8)]
async fn audits_are_recorded(runner: &Runner, _worker: &Worker) -> anyhow::Result<()> {
    let round = runner.current_round();
    let recorded = audits_of_round(runner, round).await?;

    // (auditor, submitter, todo, valid) for every audit the steps made.
    let mut expected = BTreeSet::new();
    for auditor in runner.workers() {
        if churn::went_away(runner, auditor.name())? {
            continue;
        }
        let peer: String = auditor.get("audits")?;
        if let Some(submission) = runner.try_get::<Submission>(&format!("submissions.{peer}"))? {
            expected.insert((auditor.name().to_owned(), peer, submission.todo_id, true));
        }
    }
    let forgery_target: String = runner.config_value("forgery_target")?;
    if let Some(submission) =
        runner.try_get::<Submission>(&format!("submissions.{forgery_target}"))?
    {
        expected.insert((
            "worker1".to_owned(),
            forgery_target,
            submission.todo_id,
            false,
        ));
    }

    let found = recorded
        .iter()
        .map(|audit| {
            Ok((
                worker_named(runner, &audit.auditor)?,
                worker_named(runner, &audit.submitter)?,
                audit.todo_id.clone(),
                audit.valid,
            ))
        })
        .collect::<anyhow::Result<BTreeSet<_>>>()?;
    ensure!(
        found.len() == recorded.len() && found == expected,
        "audits of round {round} in MongoDB differ from the audits made:\n  found    {found:?}\n  expected {expected:?}"
    );

    if round == runner.max_rounds() {
        every_todo_was_done_and_audited(runner).await?;
    }
    Ok(())
}

/// After the last round: each todo lists every worker, each in its own
/// round, and the valid audits cover every worker's work on every todo.
async fn every_todo_was_done_and_audited(runner: &Runner) -> anyhow::Result<()> {
    let mut cursor = db::todos(runner)?
        .find(doc! { "taskId": runner.task_id() })
        .await?;
    let mut todos = 0_usize;
    while cursor.advance().await? {
        let todo = cursor.deserialize_current()?;
        todos += 1;
        for worker in runner.workers() {
            let (name, key) = (worker.name(), worker.staking_public_key()?);
            ensure!(
                todo.assignees
                    .iter()
                    .filter(|a| a.staking_key == key)
                    .count()
                    == 1,
                "todo {} ({:?}) should list {name} exactly once: {:?}",
                todo.id,
                todo.title,
                todo.assignees
            );
        }
    }
    let valid = db::audits(runner)?
        .count_documents(doc! { "taskId": runner.task_id(), "valid": true })
        .await?;
    let workers = runner.workers().len();
    let missed: usize = runner.try_get("audits_missed")?.unwrap_or(0);
    let expected = todos * workers - missed;
    ensure!(
        usize::try_from(valid)? == expected,
        "{valid} valid audits in MongoDB; {todos} todos x {workers} workers, less the {missed} \
         a worker that went away did not get or make, should give {expected}"
    );
    Ok(())
}

async fn audits_of_round(runner: &Runner, round: u32) -> anyhow::Result<Vec<Audit>> {
    let mut cursor = db::audits(runner)?
        .find(doc! { "taskId": runner.task_id(), "round": i64::from(round) })
        .await
        .context("cannot read audits")?;
    let mut audits = Vec::new();
    while cursor.advance().await? {
        audits.push(cursor.deserialize_current()?);
    }
    Ok(audits)
}

/// The name of the worker whose staking key is `key`.
fn worker_named(runner: &Runner, key: &str) -> anyhow::Result<String> {
    for worker in runner.workers() {
        if worker.staking_public_key()? == key {
            return Ok(worker.name().to_owned());
        }
    }
    anyhow::bail!("an audit names staking key {key}, which is none of the workers'")
}
