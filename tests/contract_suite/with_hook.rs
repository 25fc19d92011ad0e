//! The contract suite with MongoDB and a `post_load` hook: the hook appends
//! `hook` to `CONTRACT_LOG` and fails when `CONTRACT_HOOK_FAIL` is set.

#[path = "steps/mod.rs"]
mod steps;

use prometheus_test::Runner;
use prometheus_test::mongodb::Database;

async fn post_load(db: &Database, runner: &Runner) -> anyhow::Result<()> {
    if let Ok(path) = std::env::var("CONTRACT_LOG") {
        use std::io::Write as _;
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        writeln!(log, "hook")?;
    }
    anyhow::ensure!(
        std::env::var_os("CONTRACT_HOOK_FAIL").is_none(),
        "asked to fail in the hook"
    );
    db.collection::<prometheus_test::mongodb::bson::Document>("todos")
        .update_many(
            prometheus_test::mongodb::bson::doc! { "taskId": runner.task_id() },
            prometheus_test::mongodb::bson::doc! { "$set": { "status": "pending" } },
        )
        .await?;
    Ok(())
}

prometheus_test::main!(post_load = post_load);
