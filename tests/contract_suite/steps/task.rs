//! Task steps: talk to the workers and pass data on through the runner.

use prometheus_test::{Runner, Worker, step};

use super::{enter, triggered};

/// Worker 1 answers its health check.
#[step(worker = "worker1", order = 1)]
async fn ping(runner: &Runner, worker: &Worker) -> anyhow::Result<()> {
    enter(runner, "ping").await?;
    runner
        .http()
        .get(format!("{}/health", worker.url()))
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

/// Worker 2 does the round's work and records it.
#[step(worker = "worker2", order = 2)]
async fn work(runner: &Runner, worker: &Worker) -> anyhow::Result<()> {
    enter(runner, "work").await?;
    if triggered("CONTRACT_CRASH", runner, "work") {
        let _ = runner
            .http()
            .get(format!("{}/crash", worker.url()))
            .send()
            .await;
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    }
    runner.set("work.round", &runner.current_round())?;
    runner.set("work.by", worker.name())?;
    Ok(())
}
