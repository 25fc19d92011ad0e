//! The contract suite's steps.

pub(crate) mod audit;
pub(crate) mod task;

use prometheus_test::Runner;

/// Whether the env var `var` names this step in the current round (`name:round`).
pub(crate) fn triggered(var: &str, runner: &Runner, name: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v == format!("{name}:{}", runner.current_round()))
}

/// Records that the step ran, then applies the fault the environment asks for.
pub(crate) async fn enter(runner: &Runner, name: &str) -> anyhow::Result<()> {
    if let Ok(path) = std::env::var("CONTRACT_LOG") {
        use std::io::Write as _;
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        writeln!(log, "{}:{name}", runner.current_round())?;
    }
    if triggered("CONTRACT_PAUSE", runner, name) {
        runner.worker("worker1")?.pause().await?;
    }
    if triggered("CONTRACT_RESUME", runner, name) {
        runner.worker("worker1")?.resume().await?;
    }
    if std::env::var_os("CONTRACT_DEBUG").is_some() {
        println!("{name}: {runner:?}");
    }
    if triggered("CONTRACT_HANG", runner, name) {
        tokio::time::sleep(std::time::Duration::from_secs(120)).await;
    }
    if triggered("CONTRACT_BLOCK", runner, name) {
        // Blocks the run's thread: no await, so nothing else on it runs.
        std::thread::sleep(std::time::Duration::from_secs(120));
    }
    assert!(
        !triggered("CONTRACT_PANIC", runner, name),
        "asked to panic in {name}"
    );
    anyhow::ensure!(
        !triggered("CONTRACT_FAIL", runner, name),
        "asked to fail in {name}"
    );
    Ok(())
}
