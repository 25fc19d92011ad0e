//! Phase 0 of a round: a worker's server must refuse requests it cannot
//! trust, before any of them can claim a todo.

use anyhow::ensure;
use prometheus_test::{Runner, Worker, step};
use serde_json::json;

use super::api::{self, RoundPayload, SignedBody};

/// worker3 refuses forged signatures and misdirected payloads.
///
/// Misdirected: signed correctly, but for another round, task or endpoint.
#[step(worker = "worker3", order = 1)]
async fn worker3_refuses_untrusted_requests(
    runner: &Runner,
    worker: &Worker,
) -> anyhow::Result<()> {
    let round = runner.current_round();
    let path = format!("/task/{round}");
    let honest = RoundPayload::new(runner, worker, "task")?;
    let impostor = runner.worker("worker1")?;

    // worker1 signs a payload that claims to come from worker3.
    let forged = SignedBody {
        signature: impostor.sign_staking(&honest)?,
        staking_key: worker.staking_public_key()?,
        pub_key: worker.main_public_key()?,
    };
    let reply = api::post(runner, worker, &path, &forged).await?;
    ensure!(
        reply.status == 401,
        "a payload signed with another worker's key got {} instead of 401: {}",
        reply.status,
        reply.message()
    );

    // Correctly signed, but not for this request.
    let next_round = RoundPayload {
        round_number: round + 1,
        ..honest.clone()
    };
    let other_task = RoundPayload {
        task_id: "another-task".to_owned(),
        ..honest.clone()
    };
    let other_action = RoundPayload {
        action: "audit",
        ..honest.clone()
    };
    for (payload, field) in [
        (next_round, "roundNumber"),
        (other_task, "taskId"),
        (other_action, "action"),
    ] {
        let reply = api::post_signed(runner, worker, worker, &path, &payload).await?;
        ensure!(
            reply.status == 400 && reply.message().contains(field),
            "a payload with the wrong `{field}` got {} instead of 400 naming it: {}",
            reply.status,
            reply.message()
        );
    }

    let reply = api::post(runner, worker, &path, &json!({ "signature": 42 })).await?;
    ensure!(
        reply.status == 400,
        "a malformed body got {} instead of 400: {}",
        reply.status,
        reply.message()
    );
    Ok(())
}
