//! Round reports, computed in the background: `POST /report/{round}` accepts
//! the request at once (202) and the report appears a moment later at
//! `GET /report/{round}` (404 until then), the way a task node's audit
//! verdicts or aggregates arrive some time after the request that caused them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::sync::Mutex;

use crate::error::ApiError;
use crate::routes::AppState;

/// How long a report takes to compute.
const REPORT_DELAY: Duration = Duration::from_millis(400);

/// The reports of every round asked for: `None` while it is being computed.
#[derive(Debug, Default)]
pub(crate) struct Reports {
    rounds: Mutex<HashMap<u32, Option<Value>>>,
}

/// Starts computing the report of a round whose work is recorded.
pub(crate) async fn request_report(
    State(state): State<Arc<AppState>>,
    Path(round): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let round = parse_round(&round)?;
    let work = state
        .work(round)
        .await?
        .ok_or_else(|| ApiError::conflict(format!("no work recorded for round {round}")))?;
    let mut rounds = state.reports().rounds.lock().await;
    if let std::collections::hash_map::Entry::Vacant(slot) = rounds.entry(round) {
        slot.insert(None);
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            tokio::time::sleep(REPORT_DELAY).await;
            let digest = Sha256::digest(work.result.as_bytes());
            let report = json!({
                "round": round,
                "todoId": work.todo_id,
                "resultDigest": format!("{digest:x}"),
            });
            state
                .reports()
                .rounds
                .lock()
                .await
                .insert(round, Some(report));
        });
    }
    Ok((StatusCode::ACCEPTED, Json(json!({ "status": "accepted" }))))
}

/// The report of a round: 200 once computed, 404 while it is computed, 409
/// when nobody asked for it.
pub(crate) async fn report(
    State(state): State<Arc<AppState>>,
    Path(round): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let round = parse_round(&round)?;
    match state.reports().rounds.lock().await.get(&round) {
        Some(Some(report)) => Ok(Json(report.clone())),
        Some(None) => Err(ApiError::not_found(format!(
            "the report of round {round} is not ready yet"
        ))),
        None => Err(ApiError::conflict(format!(
            "no report was requested for round {round}: POST /report/{round} first"
        ))),
    }
}

fn parse_round(round: &str) -> Result<u32, ApiError> {
    round.parse().map_err(|_| {
        ApiError::bad_request(format!("round {round:?}: expected a non-negative integer"))
    })
}
