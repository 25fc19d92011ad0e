//! The worker's HTTP API as the suite speaks it: typed payloads, Koii signing
//! and a reply type that keeps the status next to the JSON body.

use std::time::Duration;

use anyhow::{Context as _, bail};
use prometheus_test::{RequestBuilder, Runner, Worker};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::churn;

/// The payload of `POST /task/{round}` and `POST /submission/{round}`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RoundPayload {
    pub(crate) task_id: String,
    pub(crate) round_number: u32,
    pub(crate) action: &'static str,
    pub(crate) staking_key: String,
    pub(crate) pub_key: String,
}

impl RoundPayload {
    /// `worker`'s payload for `action` in the current round.
    pub(crate) fn new(
        runner: &Runner,
        worker: &Worker,
        action: &'static str,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            task_id: runner.task_id().to_owned(),
            round_number: runner.current_round(),
            action,
            staking_key: worker.staking_public_key()?.to_owned(),
            pub_key: worker.main_public_key()?.to_owned(),
        })
    }
}

/// The payload of `POST /audit/{round}`: whose submission, and the submission.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AuditPayload {
    pub(crate) task_id: String,
    pub(crate) round_number: u32,
    pub(crate) action: &'static str,
    pub(crate) staking_key: String,
    pub(crate) pub_key: String,
    pub(crate) submitter_key: String,
    pub(crate) submission: Submission,
}

impl AuditPayload {
    /// `auditor`'s request to audit `submission`, made by the worker whose
    /// staking key is `submitter_key`, in the current round.
    pub(crate) fn new(
        runner: &Runner,
        auditor: &Worker,
        submitter_key: &str,
        submission: Submission,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            task_id: runner.task_id().to_owned(),
            round_number: runner.current_round(),
            action: "audit",
            staking_key: auditor.staking_public_key()?.to_owned(),
            pub_key: auditor.main_public_key()?.to_owned(),
            submitter_key: submitter_key.to_owned(),
            submission,
        })
    }
}

/// What `POST /task/{round}` answers.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskDone {
    pub(crate) todo_id: String,
    pub(crate) result: String,
    /// The LLM's summary of the todo, from a worker with `LLM_URL`.
    #[serde(default)]
    pub(crate) summary: Option<String>,
}

/// A worker's submission for a round; kept in the runner for the auditors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Submission {
    pub(crate) round_number: u32,
    pub(crate) todo_id: String,
    pub(crate) result: String,
    pub(crate) staking_key: String,
}

/// What `POST /audit/{round}` answers.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct AuditVerdict {
    pub(crate) valid: bool,
    #[serde(default)]
    pub(crate) reason: Option<String>,
}

/// The body every POST carries: the signed payload and the sender's keys.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SignedBody<'a> {
    pub(crate) signature: String,
    pub(crate) staking_key: &'a str,
    pub(crate) pub_key: &'a str,
}

/// A worker's answer: status and body (JSON, or the raw text as a string).
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) what: String,
    pub(crate) status: u16,
    pub(crate) body: Value,
}

impl Reply {
    /// The body as `T` when the status is 200; otherwise an error that
    /// shows the status and the server's message.
    pub(crate) fn json<T: DeserializeOwned>(self) -> anyhow::Result<T> {
        if self.status != 200 {
            bail!("{} answered {}: {}", self.what, self.status, self.message());
        }
        serde_json::from_value(self.body.clone())
            .with_context(|| format!("{} answered an unexpected body: {}", self.what, self.body))
    }

    /// The server's `error` message, or the whole body.
    pub(crate) fn message(&self) -> String {
        match self.body.get("error").and_then(Value::as_str) {
            Some(error) => error.to_owned(),
            None => self.body.to_string(),
        }
    }
}

/// Signs `payload` with `sender`'s staking key and POSTs it to `path` on `to`.
pub(crate) async fn post_signed(
    runner: &Runner,
    sender: &Worker,
    to: &Worker,
    path: &str,
    payload: &impl Serialize,
) -> anyhow::Result<Reply> {
    let body = SignedBody {
        signature: sender.sign_staking(payload)?,
        staking_key: sender.staking_public_key()?,
        pub_key: sender.main_public_key()?,
    };
    post(runner, to, path, &body).await
}

/// GETs `path` on `to`.
pub(crate) async fn get(runner: &Runner, to: &Worker, path: &str) -> anyhow::Result<Reply> {
    let what = format!("{} GET {path}", to.name());
    let url = format!("{}{path}", to.url());
    send(runner, to, what, || runner.http().get(&url)).await
}

/// POSTs `body` as JSON to `path` on `to`.
pub(crate) async fn post(
    runner: &Runner,
    to: &Worker,
    path: &str,
    body: &impl Serialize,
) -> anyhow::Result<Reply> {
    let what = format!("{} POST {path}", to.name());
    let url = format!("{}{path}", to.url());
    send(runner, to, what, || runner.http().post(&url).json(body)).await
}

/// How often a request is sent before a failure of the network fails the
/// step.
const SENDS: u64 = 6;

/// Sends the request `build` makes, again when the network lost it (a
/// reset connection, an answer cut short, a worker that crashed), as a
/// node's client would: every request of the API is safe to repeat (the
/// worker answers a repeated task with the work it recorded, replaces an
/// audit, and counts a signed receipt once). A crashed worker is started
/// again first, as its node's supervisor would; one that a step stopped
/// on purpose (`churn`) is not, and its caller sees the failure.
async fn send(
    runner: &Runner,
    to: &Worker,
    what: String,
    build: impl Fn() -> RequestBuilder,
) -> anyhow::Result<Reply> {
    let mut sent = 1;
    loop {
        let error = match exchange(&what, build()).await {
            Ok(reply) => return Ok(reply),
            Err(error) => error,
        };
        if sent == SENDS || churn::went_away(runner, to.name())? {
            return Err(error);
        }
        eprintln!("{error:#}; sending it again");
        if to.is_stopped() {
            eprintln!(
                "{} is down: starting it again, as its supervisor would",
                to.name()
            );
            to.start()
                .await
                .with_context(|| format!("{what}: cannot start {} again", to.name()))?;
        }
        tokio::time::sleep(Duration::from_millis(100 * sent)).await;
        sent += 1;
    }
}

/// Sends `request` and reads the status and JSON body (or text).
async fn exchange(what: &str, request: RequestBuilder) -> anyhow::Result<Reply> {
    let response = request
        .send()
        .await
        .with_context(|| format!("{what}: no answer"))?;
    let status = response.status().as_u16();
    let text = response
        .text()
        .await
        .with_context(|| format!("{what}: cannot read the answer"))?;
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Ok(Reply {
        what: what.to_owned(),
        status,
        body,
    })
}

/// The work a todo asks for, computed independently of the server:
/// hex SHA-256 of the title, a newline and the description.
pub(crate) fn expected_result(title: &str, description: &str) -> String {
    let digest = Sha256::new()
        .chain_update(title)
        .chain_update("\n")
        .chain_update(description)
        .finalize();
    digest
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            hex.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
            hex.push(char::from_digit(u32::from(byte & 0xf), 16).unwrap_or('0'));
            hex
        })
}
