//! Phase 1 of a round: every worker does the task. Its server claims the
//! oldest todo the worker has not done yet and hashes it; the step checks the
//! claim and the result against MongoDB and remembers the todo for later steps.
//! A worker with an LLM (`LLM_URL`: worker1's) also answers the LLM's summary
//! of the todo, which the recording proxy replays from `cassettes/`.

use anyhow::{bail, ensure};
use prometheus_test::{Runner, Worker, skip, step};

use super::api::{self, RoundPayload, TaskDone};
use super::db::{self, Todo};

/// How the LLM's summary of a todo starts: the fake LLM echoes the prompt's
/// first words after `Summary: `, and the prompt starts with this.
const SUMMARY_START: &str = "Summary: Summarise this todo in one line:";

/// Builds the worker's task payload before the step runs.
#[expect(
    clippy::unused_async,
    reason = "prepare functions are async; this one needs no I/O"
)]
async fn task_request(runner: &Runner, worker: &Worker) -> anyhow::Result<RoundPayload> {
    RoundPayload::new(runner, worker, "task")
}

/// Each worker claims the next todo and does its work (payload from `prepare`).
#[step(workers = "*", order = 2, prepare = task_request)]
async fn does_the_task(
    runner: &Runner,
    worker: &Worker,
    payload: RoundPayload,
) -> anyhow::Result<()> {
    if do_task(runner, worker, &payload).await?.is_none() {
        skip!(
            "{} has done every todo: nothing to claim in round {}",
            worker.name(),
            runner.current_round()
        );
    }
    Ok(())
}

/// Sends `payload` to `POST /task/{round}` and checks the answer against
/// MongoDB. `None` when the server rightly has no todo for the worker (409).
async fn do_task(
    runner: &Runner,
    worker: &Worker,
    payload: &RoundPayload,
) -> anyhow::Result<Option<TaskDone>> {
    let name = worker.name();
    let round = runner.current_round();
    let key = worker.staking_public_key()?;

    // Which todo should the server hand out? The one it already claimed for
    // the worker this round (a repeated or resumed step), else the oldest open one.
    let expected = match db::todo_claimed_in(runner, key, round).await? {
        Some(todo) => Some(todo),
        None => db::next_open_todo(runner, key).await?,
    };

    let reply =
        api::post_signed(runner, worker, worker, &format!("/task/{round}"), payload).await?;
    let Some(todo) = expected else {
        ensure!(
            reply.status == 409,
            "no todo is open for {name}, so {} should answer 409; it answered {}: {}",
            reply.what,
            reply.status,
            reply.message()
        );
        return Ok(None);
    };
    if reply.status == 409 {
        bail!(
            "{} answered 409 ({}), but todo {} is still open for {name}",
            reply.what,
            reply.message(),
            todo.id
        );
    }
    let done: TaskDone = reply.json()?;

    ensure!(
        done.todo_id == todo.id.to_hex(),
        "{name} claimed todo {}, but the oldest todo open for it is {} ({:?})",
        done.todo_id,
        todo.id,
        todo.title
    );
    let claimed = db::todo_by_id(runner, &done.todo_id).await?;
    ensure!(
        claimed.assigned_to(key, round),
        "todo {} does not list {name} as assignee for round {round}: {:?}",
        done.todo_id,
        claimed.assignees
    );
    let expected_result = api::expected_result(&claimed.title, &claimed.description);
    ensure!(
        done.result == expected_result,
        "{name}'s result for todo {} ({:?}) is {}, expected {expected_result}",
        done.todo_id,
        claimed.title,
        done.result
    );
    check_summary(worker, &claimed, done.summary.as_deref())?;

    runner.set(&format!("todos.{name}"), &done.todo_id)?;
    Ok(Some(done))
}

/// A worker whose server has `LLM_URL` answers a summary that starts with
/// [`SUMMARY_START`] and names the todo's title; the others answer none.
fn check_summary(worker: &Worker, todo: &Todo, summary: Option<&str>) -> anyhow::Result<()> {
    let name = worker.name();
    match (worker.env("LLM_URL"), summary) {
        (Some(_), Some(summary)) => ensure!(
            summary.starts_with(SUMMARY_START) && summary.contains(&todo.title),
            "{name}'s summary of todo {} is {summary:?}; expected one starting with \
             {SUMMARY_START:?} and naming its title {:?}",
            todo.id,
            todo.title
        ),
        (Some(url), None) => bail!(
            "{name} has an LLM ({url}), but its task answer has no `summary` for todo {}",
            todo.id
        ),
        (None, Some(summary)) => {
            bail!("{name} has no LLM_URL, but its task answer has a summary: {summary:?}")
        }
        (None, None) => {}
    }
    Ok(())
}
