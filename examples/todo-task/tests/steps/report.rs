//! A result that arrives later: worker1 computes its round report in the
//! background, so the step asks for it and polls until it is there.

use std::time::Duration;

use anyhow::ensure;
use prometheus_test::{Poll, Runner, Worker, skip, step};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use super::api::Submission;

/// What `GET /report/{round}` answers once the report is computed.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    round: u32,
    todo_id: String,
    result_digest: String,
}

/// worker1's round report matches its submission; the report is computed in
/// the background, so the step polls for it.
#[step(worker = "worker1", order = 9, retries = 1, retry_delay = "500ms")]
async fn worker1_reports_its_round(runner: &Runner, worker: &Worker) -> anyhow::Result<()> {
    let round = runner.current_round();
    let Some(submission) = runner.try_get::<Submission>("submissions.worker1")? else {
        skip!("worker1 submitted nothing in round {round}: no report to wait for");
    };
    let url = format!("{}/report/{round}", worker.url());
    let accepted = runner.http().post(&url).send().await?;
    ensure!(
        accepted.status().as_u16() == 202,
        "POST /report/{round} answered {}: {}",
        accepted.status(),
        accepted.text().await?
    );
    let report: Report = runner
        .poll(format!("worker1's report of round {round}"), || async {
            let response = runner.http().get(&url).send().await?;
            let status = response.status().as_u16();
            match status {
                200 => Ok(Poll::Ready(response.json().await?)),
                // Still being computed: the last answer is shown if the deadline passes.
                404 => Ok(Poll::Pending(format!("404: {}", response.text().await?))),
                // 409 and anything else will not change by asking again.
                _ => anyhow::bail!(
                    "GET /report/{round} answered {status}: {}",
                    response.text().await?
                ),
            }
        })
        .deadline(Duration::from_secs(10))
        .await?;
    let digest = format!("{:x}", Sha256::digest(submission.result.as_bytes()));
    ensure!(
        (report.round, &report.todo_id, &report.result_digest)
            == (round, &submission.todo_id, &digest),
        "worker1's report {report:?} does not match its submission {submission:?}"
    );
    Ok(())
}
