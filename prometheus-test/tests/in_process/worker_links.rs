//! The workers' calls to each other go through their fault links when the
//! run has `faults`: a schedule entry on `worker1->worker2` reaches worker1's
//! calls to worker2 (made to `127.0.0.1`, while worker2's URL says
//! `localhost`) and no other link, and a scripted partition of worker2 cuts
//! worker1's calls to it.

use prometheus_test::__private::StepFuture;
use prometheus_test::{Exit, Runner, Worker};
use serde_json::json;

use crate::support::{SuiteDir, fixture_workers, step};

/// What `from` answers when asked to fetch `to`'s root: `STATUS BODY` of
/// what came back, or `failed: WHY`.
async fn fetched(runner: &Runner, from: &str, to: &str) -> anyhow::Result<String> {
    let to = runner.worker(to)?;
    let from = runner.worker(from)?;
    let target = format!("http://127.0.0.1:{}/", to.port());
    let url = format!("{}/call?url={target}", from.url());
    Ok(runner.http().get(url).send().await?.text().await?)
}

/// Each worker fetches the other; stored as `seen`.
fn each_other<'a>(runner: &'a Runner, _: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        let one_to_two = fetched(runner, "worker1", "worker2").await?;
        let two_to_one = fetched(runner, "worker2", "worker1").await?;
        runner.set("seen", &json!([one_to_two, two_to_one]))
    })
}

/// worker2 cut off by a script, then worker1 fetches it; stored as `cut`.
fn partitioned<'a>(runner: &'a Runner, _: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        runner.faults().partition("worker2")?;
        let answer = fetched(runner, "worker1", "worker2").await?;
        runner.set("cut", &answer)
    })
}

#[test]
fn a_fault_on_a_link_between_workers_reaches_that_link_only() {
    let suite = SuiteDir::empty();
    suite.write(
        "config.yaml",
        "task_id: links\nmax_rounds: 1\nfaults:\n  - link: \"worker1->worker2\"\n    \
         error: { status: 503, body: busy }\n",
    );
    suite.write(
        "workers.json",
        &fixture_workers(&["worker1", "worker2"], "calling_server.py"),
    );
    let ran = suite.run(
        &[
            step("each_other", 1, each_other).build(),
            step("partitioned", 2, partitioned).build(),
        ],
        &["--seed", "1"],
        &[],
    );
    ran.assert_exit(Exit::Passed);
    let round = &suite.state()["rounds"]["1"];
    let seen = round["seen"].as_array().unwrap();
    assert_eq!(seen[0], "503 busy", "worker1->worker2 meets its fault");
    // worker1's root has no `url`: it answers that it failed to fetch nothing.
    let unfaulted = seen[1].as_str().unwrap();
    assert!(
        unfaulted.starts_with("200 failed:"),
        "worker2->worker1 is untouched: {unfaulted}"
    );
    let cut = round["cut"].as_str().unwrap();
    assert!(
        cut.starts_with("failed:"),
        "the partition cuts worker1->worker2: {cut}"
    );
    let history = std::fs::read_to_string(suite.data().join("faults.jsonl")).unwrap();
    let links: Vec<String> = history
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["link"].to_string())
        .collect();
    assert!(
        links.iter().all(|link| link == "\"worker1->worker2\""),
        "{history}"
    );
    assert!(history.contains("\"fault\":\"partition\""), "{history}");
}
