//! Phase 3 of a round: every worker audits the peer named by its `audits`
//! field in workers.json, using the submission stored by phase 2. Then
//! worker1 shows that a forged submission does not pass.

use anyhow::{Context as _, ensure};
use prometheus_test::{Runner, Worker, skip, step};

use super::api::{self, AuditPayload, AuditVerdict, Submission};
use super::churn;

/// Builds the audit request of `worker`: its peer's stored submission,
/// signed for the current round. Skips when the peer submitted nothing or
/// the auditor went away.
#[expect(
    clippy::unused_async,
    reason = "prepare functions are async; this one needs no I/O"
)]
async fn peer_audit(runner: &Runner, worker: &Worker) -> anyhow::Result<AuditPayload> {
    if churn::went_away(runner, worker.name())? {
        skip!(
            "{} went away in round {}: it audits nothing",
            worker.name(),
            runner.current_round()
        );
    }
    let peer_name: String = worker.get("audits")?;
    let peer = runner.worker(&peer_name)?;
    let Some(submission) = runner.try_get::<Submission>(&format!("submissions.{peer_name}"))?
    else {
        skip!(
            "{peer_name} submitted nothing in round {}: {} has nothing to audit",
            runner.current_round(),
            worker.name()
        );
    };
    AuditPayload::new(runner, worker, peer.staking_public_key()?, submission)
}

/// Each worker audits its peer's submission (an honest one: it must pass).
#[step(workers = ["worker2", "worker3", "worker1"], order = 5, prepare = peer_audit)]
async fn audits_its_peer(
    runner: &Runner,
    worker: &Worker,
    payload: AuditPayload,
) -> anyhow::Result<()> {
    expect_valid(runner, worker, &payload).await
}

/// worker1 finds a tampered copy of a peer's submission invalid.
///
/// The peer is config.yaml's `forgery_target`; the copy keeps the todo but
/// claims another result.
#[step(worker = "worker1", order = 6)]
async fn worker1_rejects_a_forged_submission(
    runner: &Runner,
    worker: &Worker,
) -> anyhow::Result<()> {
    let round = runner.current_round();
    let target: String = runner.config_value("forgery_target")?;
    let Some(mut forged) = runner.try_get::<Submission>(&format!("submissions.{target}"))? else {
        skip!("{target} submitted nothing in round {round}: nothing to forge");
    };
    // Right todo, wrong work: claim a different hash.
    forged.result = api::expected_result("forged", &forged.result);
    let submitter = runner.worker(&target)?.staking_public_key()?;
    let payload = AuditPayload::new(runner, worker, submitter, forged)?;

    let verdict: AuditVerdict =
        api::post_signed(runner, worker, worker, &format!("/audit/{round}"), &payload)
            .await?
            .json()?;
    ensure!(
        !verdict.valid,
        "worker1 accepted {target}'s submission with a forged result"
    );
    let reason = verdict.reason.context("an invalid audit should say why")?;
    ensure!(
        reason.contains("result"),
        "the forged audit failed for an unexpected reason: {reason}"
    );
    Ok(())
}

/// Sends the audit to the auditor's own server and expects `valid: true`.
async fn expect_valid(
    runner: &Runner,
    auditor: &Worker,
    payload: &AuditPayload,
) -> anyhow::Result<()> {
    let path = format!("/audit/{}", payload.round_number);
    let verdict: AuditVerdict = api::post_signed(runner, auditor, auditor, &path, payload)
        .await?
        .json()?;
    ensure!(
        verdict.valid,
        "{} found the honest submission of todo {} invalid: {}",
        auditor.name(),
        payload.submission.todo_id,
        verdict.reason.as_deref().unwrap_or("no reason given")
    );
    Ok(())
}
