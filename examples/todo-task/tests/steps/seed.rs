//! The post-load hook: runs once on a fresh run, after the fixtures in
//! `data/` are imported and before the workers start.

use anyhow::{Context as _, ensure};
use prometheus_test::Runner;
use prometheus_test::mongodb::bson::{Document, doc};
use prometheus_test::mongodb::options::IndexOptions;
use prometheus_test::mongodb::{Database, IndexModel};

/// Reopens every todo of the task (the fixture is a snapshot of a live queue:
/// its statuses and assignees are stale) and adds the indexes the workers'
/// queue and the audit records rely on.
pub(crate) async fn post_load(db: &Database, runner: &Runner) -> anyhow::Result<()> {
    let task_id = runner.task_id();
    let todos = db.collection::<Document>("todos");
    let reopened = todos
        .update_many(
            doc! { "taskId": task_id },
            doc! { "$set": { "status": "pending", "assignees": [] } },
        )
        .await
        .context("cannot reopen the todos")?;
    ensure!(
        reopened.matched_count > 0,
        "no todos with taskId {task_id:?}: check data/todos.json and config.yaml"
    );

    // The queue: pending todos of a task, oldest first.
    todos
        .create_index(
            IndexModel::builder()
                .keys(doc! { "taskId": 1, "status": 1, "createdAt": 1 })
                .build(),
        )
        .await
        .context("cannot index todos")?;
    // One verdict per auditor, submitter and round.
    db.collection::<Document>("audits")
        .create_index(
            IndexModel::builder()
                .keys(doc! { "taskId": 1, "round": 1, "auditor": 1, "submitter": 1 })
                .options(IndexOptions::builder().unique(true).build())
                .build(),
        )
        .await
        .context("cannot index audits")?;
    Ok(())
}
