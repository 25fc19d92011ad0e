//! The HTTP API: `GET /health`, the signed `POST /task/{round}` (with a
//! summary from the LLM, when the worker has one),
//! `POST /submission/{round}` and `POST /audit/{round}`, the round's
//! receipts kept in `DATABASE_PATH` (signed `POST`, and `GET
//! /receipt/{round}`), and the round
//! reports computed in the background (`POST`/`GET /report/{round}`, see
//! [`reports`](crate::reports)).

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use sha2::{Digest as _, Sha256};

use crate::config::PlantedBug;
use crate::error::ApiError;
use crate::llm::Llm;
use crate::middle::Middle;
use crate::reports::{Reports, report, request_report};
use crate::signing::{Expected, SignedRequest};
use crate::store::{Work, WorkStore};
use crate::todos::{Submission, TaskData, work_result};

/// What every handler shares.
#[derive(Debug)]
pub(crate) struct AppState {
    task_id: String,
    data: TaskData,
    /// Held across claim and record, so one round never claims twice.
    store: Mutex<WorkStore>,
    reports: Reports,
    /// The LLM that summarises each claimed todo, if the worker has one.
    llm: Option<Llm>,
    /// The middle server told of each submission, if the task has one.
    middle: Option<Middle>,
    /// A bug planted on purpose, for the suite's faults to find.
    planted_bug: Option<PlantedBug>,
}

impl AppState {
    pub(crate) fn new(
        task_id: String,
        data: TaskData,
        store: WorkStore,
        llm: Option<Llm>,
        middle: Option<Middle>,
        planted_bug: Option<PlantedBug>,
    ) -> Self {
        Self {
            task_id,
            data,
            store: Mutex::new(store),
            reports: Reports::default(),
            llm,
            middle,
            planted_bug,
        }
    }

    /// The work recorded for `round`, if any.
    pub(crate) async fn work(&self, round: u32) -> anyhow::Result<Option<Work>> {
        Ok(self.store().await?.get(round).cloned())
    }

    /// The store, as its file holds it now (read again at every request).
    async fn store(&self) -> anyhow::Result<tokio::sync::MutexGuard<'_, WorkStore>> {
        let mut store = self.store.lock().await;
        store.reload()?;
        Ok(store)
    }

    pub(crate) fn reports(&self) -> &Reports {
        &self.reports
    }

    /// Parses the round and the body, verifies the signature and checks the payload.
    fn verify(&self, round: &str, action: &str, body: &Bytes) -> Result<Verified, ApiError> {
        let round: u32 = round.parse().map_err(|_| {
            ApiError::bad_request(format!("round {round:?}: expected a non-negative integer"))
        })?;
        let request: SignedRequest = serde_json::from_slice(body).map_err(|err| {
            ApiError::bad_request(format!(
                "request body: expected {{\"signature\", \"stakingKey\", \"pubKey\"}} ({err})"
            ))
        })?;
        let payload = request.verify(&Expected {
            task_id: &self.task_id,
            round,
            action,
        })?;
        Ok(Verified {
            round,
            request,
            payload,
        })
    }
}

/// A request that passed the signature and payload checks.
struct Verified {
    round: u32,
    request: SignedRequest,
    payload: Value,
}

/// The worker's router, with one log line per request.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/task/{round}", post(task))
        .route("/submission/{round}", post(submission))
        .route("/audit/{round}", post(audit))
        .route("/report/{round}", post(request_report).get(report))
        .route("/receipt/{round}", post(add_receipt).get(receipts))
        .layer(middleware::from_fn(log_request))
        .with_state(Arc::new(state))
}

async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let line = format!("{} {}", request.method(), request.uri().path());
    let response = next.run(request).await;
    println!(
        "{line} -> {} ({} ms)",
        response.status().as_u16(),
        started.elapsed().as_millis()
    );
    response
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Does this round's work: claims a todo, records the result and, with an
/// LLM, its summary. A repeated request returns the recorded work.
async fn task(
    State(state): State<Arc<AppState>>,
    Path(round): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let Verified { round, request, .. } = state.verify(&round, "task", &body)?;
    let mut store = state.store().await?;
    let (mut work, claimed) = match store.get(round).cloned() {
        // A retried request gets the same answer; the round's todo is not claimed twice.
        Some(work) if work.staking_key != request.staking_key => {
            return Err(ApiError::conflict(format!(
                "round {round}'s work was done for another staking key"
            )));
        }
        Some(work) => (work, None),
        None => {
            let Some(todo) = state.data.claim(&request.staking_key, round).await? else {
                return Err(ApiError::conflict("no pending todo"));
            };
            let work = Work {
                todo_id: todo.id.to_hex(),
                result: work_result(&todo.title, &todo.description),
                staking_key: request.staking_key,
                receipts: 0,
                receipt_ids: Vec::new(),
                summary: None,
            };
            // Recorded before the LLM is asked: after a failed call, a retry
            // asks again about the same todo instead of claiming another.
            store.record(round, work.clone())?;
            (work, Some(todo))
        }
    };
    if let (Some(llm), None) = (&state.llm, &work.summary) {
        let todo = match claimed {
            Some(todo) => todo,
            None => state.data.todo(&work.todo_id).await?.ok_or_else(|| {
                ApiError::conflict(format!("todo {} is gone from MongoDB", work.todo_id))
            })?,
        };
        let summary = llm
            .summarise(&todo.title, &todo.description)
            .await
            .map_err(|err| {
                ApiError::bad_gateway(format!("the LLM at {} failed: {err:#}", llm.url()))
            })?;
        work.summary = Some(summary);
        store.record(round, work.clone())?;
    }
    Ok(Json(task_answer(&work)))
}

/// `POST /task/{round}`'s answer: `{"todoId", "result"}`, and `"summary"`
/// when the LLM wrote one.
fn task_answer(work: &Work) -> Value {
    let mut answer = json!({ "todoId": work.todo_id, "result": work.result });
    if let Some(summary) = &work.summary {
        answer["summary"] = json!(summary);
    }
    answer
}

/// Acknowledges the round's work: one more receipt in `DATABASE_PATH`. A
/// receipt sent again (a client's retry: the same signed request) is
/// counted once, unless the planted bug `double-count-retries` is on.
async fn add_receipt(
    State(state): State<Arc<AppState>>,
    Path(round): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let Verified { round, request, .. } = state.verify(&round, "receipt", &body)?;
    let id = format!("{:x}", Sha256::digest(request.signature.as_bytes()));
    let mut store = state.store().await?;
    let repeated = store.has_receipt(round, &id);
    let receipts = if repeated && state.planted_bug != Some(PlantedBug::DoubleCountRetries) {
        store.get(round).map(|work| work.receipts)
    } else {
        store.add_receipt(round, &id)?
    };
    let receipts = receipts
        .ok_or_else(|| ApiError::conflict(format!("no work recorded for round {round}")))?;
    Ok(Json(json!({ "receipts": receipts })))
}

/// How often the round's work was acknowledged (0 without work).
async fn receipts(
    State(state): State<Arc<AppState>>,
    Path(round): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let round: u32 = round.parse().map_err(|_| {
        ApiError::bad_request(format!("round {round:?}: expected a non-negative integer"))
    })?;
    let store = state.store().await?;
    Ok(Json(
        json!({ "receipts": store.get(round).map_or(0, |work| work.receipts) }),
    ))
}

/// Returns the work recorded for the round, after telling the middle
/// server of it (when the task has one; 502 when it fails).
async fn submission(
    State(state): State<Arc<AppState>>,
    Path(round): Path<String>,
    body: Bytes,
) -> Result<Json<Submission>, ApiError> {
    let Verified { round, .. } = state.verify(&round, "submission", &body)?;
    let submission = {
        let store = state.store().await?;
        let work = store
            .get(round)
            .ok_or_else(|| ApiError::conflict(format!("no work recorded for round {round}")))?;
        Submission {
            round_number: round,
            todo_id: work.todo_id.clone(),
            result: work.result.clone(),
            staking_key: work.staking_key.clone(),
        }
    };
    if let Some(middle) = &state.middle {
        middle.submit(&submission).await.map_err(|err| {
            ApiError::bad_gateway(format!(
                "the middle server at {} failed: {err:#}",
                middle.url()
            ))
        })?;
    }
    Ok(Json(submission))
}

/// Audits another worker's submission and records the verdict.
async fn audit(
    State(state): State<Arc<AppState>>,
    Path(round): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let Verified {
        round,
        request,
        payload,
    } = state.verify(&round, "audit", &body)?;
    let submitter = payload
        .get("submitterKey")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("payload `submitterKey`: expected a string"))?;
    if submitter == request.staking_key {
        return Err(ApiError::bad_request(
            "a worker cannot audit its own submission",
        ));
    }
    let submission: Submission = payload
        .get("submission")
        .map(|value| serde_json::from_value(value.clone()))
        .transpose()
        .map_err(|err| {
            ApiError::bad_request(format!(
                "payload `submission`: expected {{\"roundNumber\", \"todoId\", \"result\", \"stakingKey\"}} ({err})"
            ))
        })?
        .ok_or_else(|| ApiError::bad_request("payload `submission` is missing"))?;
    let verdict = state
        .data
        .audit(&request.staking_key, submitter, round, &submission)
        .await?;
    Ok(Json(match verdict {
        Ok(()) => json!({ "valid": true }),
        Err(reason) => json!({ "valid": false, "reason": reason }),
    }))
}
