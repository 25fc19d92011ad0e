//! A worker that is down, asked through the runner's fault link
//! (`runner->worker1`, routed whenever config.yaml has `faults`): the step
//! sees the refused connection it sees without the link, not the link's
//! 502, and `Worker::is_stopped` tells a stopped worker from a running one.

use prometheus_test::__private::StepFuture;
use prometheus_test::{Exit, Runner, Worker};
use serde_json::json;

use crate::support::{SuiteDir, one_fixture_worker, step};

/// Stops worker1 and asks it through `runner.http()`; stores whether the
/// call was refused (`refused`), and `is_stopped` before and after.
fn asks_a_stopped_worker<'a>(runner: &'a Runner, worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        let before = worker.is_stopped();
        worker.stop().await?;
        let after = worker.is_stopped();
        let sent = runner.http().get(format!("{}/", worker.url())).send().await;
        let refused = sent.as_ref().err().is_some_and(|error| {
            error
                .downcast_ref::<reqwest::Error>()
                .is_some_and(reqwest::Error::is_connect)
        });
        let status = sent.ok().map(|response| response.status().as_u16());
        worker.start().await?;
        runner.set(
            "seen",
            &json!([before, after, refused, status, worker.is_stopped()]),
        )
    })
}

#[test]
fn a_stopped_worker_refuses_the_connection_through_the_fault_link() {
    let suite = SuiteDir::empty();
    suite.write("config.yaml", "task_id: down\nmax_rounds: 1\nfaults: []\n");
    suite.write("workers.json", &one_fixture_worker("good_server.py"));
    let ran = suite.run(
        &[step("asks", 1, asks_a_stopped_worker).build()],
        &["--seed", "1"],
        &[],
    );
    ran.assert_exit(Exit::Passed);
    assert_eq!(
        suite.state()["rounds"]["1"]["seen"],
        json!([false, true, true, null, false]),
        "[stopped before, stopped after stop, refused, status, stopped after start]"
    );
}
