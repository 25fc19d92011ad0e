//! Phase 6 of a round: the middle server (config.yaml `services`), which
//! each worker tells of its submission, holds exactly the round's work: one
//! submission per worker that did a todo this round (worker3's too in the
//! churn round, sent when it came back), none from the others.

use std::collections::BTreeSet;

use anyhow::Context as _;
use prometheus_test::{Runner, Worker, step};
use serde::Deserialize;

use super::api::Submission;

/// What `GET /submissions/{round}` answers.
#[derive(Debug, Deserialize)]
struct Submissions {
    submissions: Vec<Submission>,
}

/// The middle server holds each worker's submission of the round.
#[step(worker = "worker1", order = 11)]
async fn middle_server_holds_the_rounds_submissions(
    runner: &Runner,
    _worker: &Worker,
) -> anyhow::Result<()> {
    let round = runner.current_round();
    let middle = runner.service("middle")?;
    let url = format!("{}/submissions/{round}", middle.url());
    let held: Submissions = runner
        .http()
        .get(&url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await
        .with_context(|| format!("GET {url}: not a list of submissions"))?;
    let held: BTreeSet<(String, String, u32)> = held
        .submissions
        .into_iter()
        .map(|s| (s.staking_key, s.todo_id, s.round_number))
        .collect();
    let mut expected = BTreeSet::new();
    for worker in runner.workers() {
        if let Some(todo) = runner.try_get::<String>(&format!("todos.{}", worker.name()))? {
            expected.insert((worker.staking_public_key()?.to_owned(), todo, round));
        }
    }
    anyhow::ensure!(
        held == expected,
        "the middle server holds other submissions of round {round} than the workers made:\n  \
         held     {held:?}\n  expected {expected:?}"
    );
    Ok(())
}
