//! The suite's view of MongoDB: the documents the workers read and write,
//! typed, and the queries the steps check them with.

use anyhow::Context as _;
use prometheus_test::Runner;
use prometheus_test::mongodb::Collection;
use prometheus_test::mongodb::bson::{doc, oid::ObjectId};
use serde::Deserialize;

/// A document of `todos`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Todo {
    #[serde(rename = "_id")]
    pub(crate) id: ObjectId,
    pub(crate) title: String,
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) assignees: Vec<Assignment>,
}

impl Todo {
    /// Whether the worker with `staking_key` claimed this todo in `round`.
    pub(crate) fn assigned_to(&self, staking_key: &str, round: u32) -> bool {
        self.assignees
            .iter()
            .any(|a| a.staking_key == staking_key && a.round == round)
    }
}

/// One worker's claim on a todo.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Assignment {
    pub(crate) staking_key: String,
    pub(crate) round: u32,
}

/// A document of `audits`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Audit {
    pub(crate) auditor: String,
    pub(crate) submitter: String,
    pub(crate) todo_id: String,
    pub(crate) valid: bool,
}

pub(crate) fn todos(runner: &Runner) -> anyhow::Result<Collection<Todo>> {
    Ok(runner.db()?.collection("todos"))
}

pub(crate) fn audits(runner: &Runner) -> anyhow::Result<Collection<Audit>> {
    Ok(runner.db()?.collection("audits"))
}

/// The todo the queue should hand `staking_key` next: the oldest pending
/// todo of the task it has not claimed yet.
pub(crate) async fn next_open_todo(
    runner: &Runner,
    staking_key: &str,
) -> anyhow::Result<Option<Todo>> {
    todos(runner)?
        .find_one(doc! {
            "taskId": runner.task_id(),
            "status": "pending",
            "assignees.stakingKey": { "$ne": staking_key },
        })
        .sort(doc! { "createdAt": 1, "_id": 1 })
        .await
        .context("cannot read todos")
}

/// The todo `staking_key` claimed in `round`, if any.
pub(crate) async fn todo_claimed_in(
    runner: &Runner,
    staking_key: &str,
    round: u32,
) -> anyhow::Result<Option<Todo>> {
    todos(runner)?
        .find_one(doc! {
            "taskId": runner.task_id(),
            "assignees": { "$elemMatch": { "stakingKey": staking_key, "round": i64::from(round) } },
        })
        .await
        .context("cannot read todos")
}

/// The todo with the hex id `todo_id`.
pub(crate) async fn todo_by_id(runner: &Runner, todo_id: &str) -> anyhow::Result<Todo> {
    let id = ObjectId::parse_str(todo_id)
        .with_context(|| format!("todo id {todo_id:?} is not an ObjectId"))?;
    todos(runner)?
        .find_one(doc! { "_id": id, "taskId": runner.task_id() })
        .await
        .context("cannot read todos")?
        .with_context(|| {
            format!(
                "todo {todo_id} is not in `todos` for task {}",
                runner.task_id()
            )
        })
}
