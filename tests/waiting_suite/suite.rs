//! A small suite used by the workspace's waiting tests (`tests/waiting.rs`):
//! one real python worker (`server.py`) whose answers arrive after a few
//! calls, and steps that poll it, retry or time out. `WAITING_STEPS` (names,
//! comma separated) says which steps do their work; the others skip. Every
//! step appends `name` to the file named by `WAITING_LOG` each time it runs,
//! and a poll's check appends `name:check`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use prometheus_test::{Poll, Runner, Worker, skip, step};

/// Records that `name` ran, and skips unless `WAITING_STEPS` names it.
fn enter(name: &str) -> anyhow::Result<()> {
    log(name)?;
    let wanted = std::env::var("WAITING_STEPS").unwrap_or_default();
    if !wanted.split(',').any(|w| w == name) {
        skip!("not in this scenario");
    }
    Ok(())
}

fn log(line: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    if let Ok(path) = std::env::var("WAITING_LOG") {
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        writeln!(log, "{line}")?;
    }
    Ok(())
}

/// Polls `path` on the worker: 200 is ready, 404 pending, anything else is
/// a terminal error.
async fn poll_path(
    runner: &Runner,
    worker: &Worker,
    name: &str,
    path: &str,
    deadline: Duration,
) -> anyhow::Result<String> {
    let url = format!("{}{path}", worker.url());
    runner
        .poll(format!("{}'s verdict", worker.name()), || async {
            log(&format!("{name}:check"))?;
            let response = runner.http().get(&url).send().await?;
            let status = response.status().as_u16();
            let body = response.text().await?;
            match status {
                200 => Ok(Poll::Ready(body)),
                404 => Ok(Poll::Pending(format!("{status}: {body}"))),
                _ => anyhow::bail!("{status}: {body}"),
            }
        })
        .every(Duration::from_millis(20))
        .max_every(Duration::from_millis(50))
        .deadline(deadline)
        .await
}

/// The verdict is ready on the fourth call.
#[step(worker = "worker1", order = 1)]
async fn ready_after_polls(runner: &Runner, worker: &Worker) -> anyhow::Result<()> {
    enter("ready_after_polls")?;
    let verdict = poll_path(
        runner,
        worker,
        "ready_after_polls",
        "/verdict/a?after=4",
        Duration::from_secs(20),
    )
    .await?;
    runner.set("verdict", &verdict)?;
    Ok(())
}

/// Polls something that never comes, until a signal ends the run.
#[step(worker = "worker1", order = 2)]
async fn interrupted_while_polling(runner: &Runner, worker: &Worker) -> anyhow::Result<()> {
    enter("interrupted_while_polling")?;
    poll_path(
        runner,
        worker,
        "interrupted_while_polling",
        "/pending",
        Duration::from_secs(120),
    )
    .await?;
    Ok(())
}

/// The worker says the submission was rejected: the poll stops at once.
#[step(worker = "worker1", order = 3)]
async fn rejected_stops_at_once(runner: &Runner, worker: &Worker) -> anyhow::Result<()> {
    enter("rejected_stops_at_once")?;
    poll_path(
        runner,
        worker,
        "rejected_stops_at_once",
        "/rejected",
        Duration::from_secs(20),
    )
    .await?;
    Ok(())
}

/// Nothing comes before the deadline.
#[step(worker = "worker1", order = 4)]
async fn deadline_passes(runner: &Runner, worker: &Worker) -> anyhow::Result<()> {
    enter("deadline_passes")?;
    poll_path(
        runner,
        worker,
        "deadline_passes",
        "/pending",
        Duration::from_millis(300),
    )
    .await?;
    Ok(())
}

static FLAKY_RUNS: AtomicU32 = AtomicU32::new(0);

/// Panics on its first attempt, passes on the second.
#[step(worker = "worker1", order = 5, retries = 2, retry_delay = "20ms")]
async fn passes_on_second_attempt(_runner: &Runner, _worker: &Worker) -> anyhow::Result<()> {
    enter("passes_on_second_attempt")?;
    let run = FLAKY_RUNS.fetch_add(1, Ordering::SeqCst) + 1;
    assert!(run > 1, "the first attempt panics");
    Ok(())
}

static FAILING_RUNS: AtomicU32 = AtomicU32::new(0);

/// Fails on every attempt.
#[step(worker = "worker1", order = 6, retries = 2)]
async fn exhausts_its_retries(_runner: &Runner, _worker: &Worker) -> anyhow::Result<()> {
    enter("exhausts_its_retries")?;
    let run = FAILING_RUNS.fetch_add(1, Ordering::SeqCst) + 1;
    anyhow::bail!("failure number {run}")
}

/// A skip ends the step, retries or not.
#[step(worker = "worker1", order = 7, retries = 3)]
async fn skip_is_not_retried(_runner: &Runner, _worker: &Worker) -> anyhow::Result<()> {
    enter("skip_is_not_retried")?;
    skip!("nothing to do")
}

/// Sleeps longer than its own `timeout` (config.yaml's `step_timeout` is longer).
#[step(worker = "worker1", order = 8, timeout = "300ms")]
async fn own_timeout(_runner: &Runner, _worker: &Worker) -> anyhow::Result<()> {
    enter("own_timeout")?;
    tokio::time::sleep(Duration::from_secs(60)).await;
    Ok(())
}

prometheus_test::main!();
