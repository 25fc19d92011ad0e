//! The task's shared data in Mongo: the `todos` queue and the `audits`
//! record, plus the work itself ([`work_result`]).
//!
//! Every worker of the task works through the same queue: a claim adds the
//! worker to the oldest open todo it has not done yet (`assignees`), so in each
//! round all workers do the same todo and can audit each other by recomputing it.

use std::fmt::Write as _;

use anyhow::Context as _;
use mongodb::bson::{self, doc, oid::ObjectId};
use mongodb::options::{ClientOptions, ReturnDocument};
use mongodb::{Client, Collection};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// A todo as the worker reads it (other fields are ignored).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Todo {
    #[serde(rename = "_id")]
    pub(crate) id: ObjectId,
    pub(crate) title: String,
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) assignees: Vec<Assignment>,
}

/// One worker's claim on a todo.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Assignment {
    pub(crate) staking_key: String,
    pub(crate) round: u32,
}

/// What a worker submits for a round, and what auditors check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Submission {
    pub(crate) round_number: u32,
    pub(crate) todo_id: String,
    pub(crate) result: String,
    pub(crate) staking_key: String,
}

/// The work a todo asks for: hex SHA-256 of `title`, a newline, `description`.
pub(crate) fn work_result(title: &str, description: &str) -> String {
    let digest = Sha256::new()
        .chain_update(title.as_bytes())
        .chain_update(b"\n")
        .chain_update(description.as_bytes())
        .finalize();
    let mut hex = String::with_capacity(64);
    for byte in digest {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// Why a submission fails its audit, given the todo it names (if found).
pub(crate) fn audit_submission(
    submission: &Submission,
    submitter: &str,
    round: u32,
    todo: Option<&Todo>,
) -> Result<(), String> {
    if submission.staking_key != submitter {
        return Err("the submission's stakingKey is not the submitter's key".to_owned());
    }
    if submission.round_number != round {
        return Err(format!(
            "the submission is for round {}, the audit for round {round}",
            submission.round_number
        ));
    }
    let Some(todo) = todo else {
        return Err(format!(
            "todo {} does not exist in this task",
            submission.todo_id
        ));
    };
    let assigned = todo
        .assignees
        .iter()
        .any(|a| a.staking_key == submitter && a.round == round);
    if !assigned {
        return Err(format!(
            "todo {} was not assigned to the submitter in round {round}",
            submission.todo_id
        ));
    }
    if submission.result != work_result(&todo.title, &todo.description) {
        return Err(format!(
            "the result does not match todo {}",
            submission.todo_id
        ));
    }
    Ok(())
}

/// The `todos` and `audits` collections of one task.
#[derive(Debug, Clone)]
pub(crate) struct TaskData {
    todos: Collection<Todo>,
    audits: Collection<bson::Document>,
    task_id: String,
}

impl TaskData {
    /// Connects lazily: the first query reaches the server (within 5 s or fails).
    pub(crate) async fn connect(uri: &str, database: &str, task_id: &str) -> anyhow::Result<Self> {
        let mut options = ClientOptions::parse(uri)
            .await
            .context("MONGO_URI: not a valid MongoDB connection string")?;
        options.server_selection_timeout = Some(std::time::Duration::from_secs(5));
        options.app_name = Some("todo-task".to_owned());
        let db = Client::with_options(options)?.database(database);
        Ok(Self {
            todos: db.collection("todos"),
            audits: db.collection("audits"),
            task_id: task_id.to_owned(),
        })
    }

    /// Atomically adds `staking_key` to the oldest pending todo it has not
    /// claimed yet, for `round`. `None` when there is no such todo.
    pub(crate) async fn claim(
        &self,
        staking_key: &str,
        round: u32,
    ) -> anyhow::Result<Option<Todo>> {
        self.todos
            .find_one_and_update(
                doc! {
                    "taskId": &self.task_id,
                    "status": "pending",
                    "assignees.stakingKey": { "$ne": staking_key },
                },
                doc! { "$push": { "assignees": {
                    "stakingKey": staking_key,
                    "round": i64::from(round),
                    "assignedAt": bson::DateTime::now(),
                } } },
            )
            .sort(doc! { "createdAt": 1, "_id": 1 })
            .return_document(ReturnDocument::After)
            .await
            .context("cannot claim a todo in MongoDB")
    }

    /// The todo of this task whose `_id` is `id` (hex), if any.
    pub(crate) async fn todo(&self, id: &str) -> anyhow::Result<Option<Todo>> {
        let Ok(id) = ObjectId::parse_str(id) else {
            return Ok(None);
        };
        self.todos
            .find_one(doc! { "_id": id, "taskId": &self.task_id })
            .await
            .context("cannot read todos from MongoDB")
    }

    /// Checks a submission against Mongo and records the verdict in
    /// `audits` (one record per task, round, auditor and submitter, with
    /// `_id` `task:round:auditor:submitter`).
    pub(crate) async fn audit(
        &self,
        auditor: &str,
        submitter: &str,
        round: u32,
        submission: &Submission,
    ) -> anyhow::Result<Result<(), String>> {
        let todo = self.todo(&submission.todo_id).await?;
        let verdict = audit_submission(submission, submitter, round, todo.as_ref());
        // Keyed by what it is about, so an audit made again replaces itself
        // and two runs that make the same audits hold the same documents.
        let id = format!("{}:{round}:{auditor}:{submitter}", self.task_id);
        self.audits
            .update_one(
                doc! { "_id": id },
                doc! {
                    "$set": {
                        "todoId": &submission.todo_id,
                        "valid": verdict.is_ok(),
                        "reason": verdict.as_ref().err(),
                        "auditedAt": bson::DateTime::now(),
                    },
                    "$setOnInsert": {
                        "taskId": &self.task_id,
                        "round": i64::from(round),
                        "auditor": auditor,
                        "submitter": submitter,
                    },
                },
            )
            .upsert(true)
            .await
            .context("cannot write the audit to MongoDB")?;
        Ok(verdict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn todo() -> Todo {
        Todo {
            id: ObjectId::parse_str("65a000000000000000000001").unwrap(),
            title: "Write docs".to_owned(),
            description: "Explain the audit".to_owned(),
            assignees: vec![Assignment {
                staking_key: "Alice".to_owned(),
                round: 2,
            }],
        }
    }

    fn submission() -> Submission {
        Submission {
            round_number: 2,
            todo_id: "65a000000000000000000001".to_owned(),
            result: work_result("Write docs", "Explain the audit"),
            staking_key: "Alice".to_owned(),
        }
    }

    #[test]
    fn work_result_is_sha256_of_title_newline_description() {
        // printf 'a\nb' | sha256sum
        assert_eq!(
            work_result("a", "b"),
            "7e18f737311b2dc3b2f269dd78396b0351f14fb66efa879f768cb23181883c78"
        );
    }

    #[test]
    fn honest_submission_passes() {
        assert_eq!(
            audit_submission(&submission(), "Alice", 2, Some(&todo())),
            Ok(())
        );
    }

    #[test]
    fn each_cheat_is_caught() {
        let mut wrong_result = submission();
        wrong_result.result = work_result("Write docs", "something else");
        let mut other_round = submission();
        other_round.round_number = 1;
        let cases = [
            (submission(), "Bob", Some(todo()), "stakingKey"),
            (wrong_result, "Alice", Some(todo()), "result does not match"),
            (other_round, "Alice", Some(todo()), "is for round 1"),
            (submission(), "Alice", None, "does not exist"),
        ];
        for (submission, submitter, todo, needle) in cases {
            let err = audit_submission(&submission, submitter, 2, todo.as_ref()).unwrap_err();
            assert!(err.contains(needle), "{err:?} should mention {needle}");
        }
    }

    #[test]
    fn work_done_in_another_round_is_not_this_rounds_work() {
        let mut todo = todo();
        todo.assignees[0].round = 1;
        let err = audit_submission(&submission(), "Alice", 2, Some(&todo)).unwrap_err();
        assert!(
            err.contains("not assigned to the submitter in round 2"),
            "{err}"
        );
    }
}
