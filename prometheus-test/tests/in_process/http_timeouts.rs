//! A worker that never answers (paused with SIGSTOP, a real python3 server)
//! fails the request after config.yaml's `http_timeout`, with the limit and
//! where it was set in the step's error; a step that runs long is noted
//! every `slow_step` and not ended.

use std::time::Duration;

use prometheus_test::__private::StepFuture;
use prometheus_test::{Exit, Runner, Worker};
use serde_json::json;

use crate::support::{FRESH, SuiteDir, fixture_server, free_port, step};

/// Pauses its worker, then GETs `/` from it through `runner.http()`.
fn ask_a_paused_worker<'a>(runner: &'a Runner, worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        worker.pause().await?;
        runner
            .http()
            .get(format!("{}/", worker.url()))
            .send()
            .await?;
        Ok(())
    })
}

#[test]
fn a_request_to_a_paused_worker_fails_after_http_timeout_naming_it() {
    let suite = SuiteDir::empty();
    let server = fixture_server("good_server.py");
    let port = free_port();
    suite.write(
        "config.yaml",
        "task_id: http-timeouts\nmax_rounds: 1\nhttp_timeout: 0.5\n",
    );
    suite.write(
        "workers.json",
        &json!({"worker1": {"port": port, "command": ["python3", server]}}).to_string(),
    );
    let steps = [step("ask_a_paused_worker", 1, ask_a_paused_worker).build()];
    let ran = suite.run(&steps, &[], &[]);
    let url = format!("http://localhost:{port}/");
    assert_eq!(
        (
            ran.conclusion.exit,
            without_durations(&ran.out.replace(&url, "URL")).as_str(),
            ran.notes.as_str()
        ),
        (
            Exit::Failed,
            "\nrunning 1 test\n\
             test [round 1] steps::ask_a_paused_worker ... FAILED\n\
             \n\
             failures:\n\
             \n\
             ---- steps::ask_a_paused_worker [round 1] ----\n\
             Error: step `ask_a_paused_worker` on worker1 at tests/suite.rs:1 failed: GET URL \
             timed out after 500ms (config.yaml `http_timeout`): error sending request for url \
             (URL): operation timed out\n\
             \n  \
             HTTP exchanges (1, newest first):\n    \
             GET URL -> failed: error sending request for url (URL): operation timed out \
             (N ms)\n\
             \n\
             \n\
             failures:\n    \
             steps::ask_a_paused_worker\n\
             \n\
             test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; \
             finished in 0.00s\n\
             \n\
             report: DIR/data/report.html\n",
            "prometheus-test: fresh run: starting at round 1\n\
             prometheus-test: worker1: no `keypairs` in workers.json, using generated keypairs \
             in DIR/data/keys (staking 3Q2YjLdWCuJZH1rLDavoU6GzYT3qVdUiufcqs5XMUNZC, main \
             4zokmhXbnGWjtKyjSb1eyhFYkvd1iqHZdERuFeh2XYcf)\n\
             prometheus-test: 1 worker ready in 0.00s; 1 step to play in round 1\n\
             prometheus-test: the next run resumes at round 1 `steps::ask_a_paused_worker`; to \
             start over, run with `--reset` (`cargo test --test <suite> -- --reset`)\n"
        )
    );
}

/// `text` with each exchange's measured duration, `(502 ms)`, written `(N ms)`.
fn without_durations(text: &str) -> String {
    let mut shown = String::new();
    let mut rest = text;
    while let Some(end) = rest.find(" ms)") {
        let start = rest[..end].rfind('(').unwrap_or(end);
        if rest[start + 1..end].bytes().all(|b| b.is_ascii_digit()) && start < end {
            shown.push_str(&rest[..start]);
            shown.push_str("(N ms)");
        } else {
            shown.push_str(&rest[..end + 4]);
        }
        rest = &rest[end + 4..];
    }
    shown.push_str(rest);
    shown
}

/// Waits 1.5 s without blocking its thread.
fn a_second_and_a_half<'a>(_runner: &'a Runner, _worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        Ok(())
    })
}

#[test]
fn a_step_running_past_slow_step_is_noted_and_not_ended() {
    let suite = SuiteDir::empty();
    suite.write(
        "config.yaml",
        "task_id: timeouts\nmax_rounds: 1\nslow_step: 1\n",
    );
    suite.write(
        "workers.json",
        r#"{"worker1": {"url": "http://127.0.0.1:9"}}"#,
    );
    let steps = [step("a_second_and_a_half", 1, a_second_and_a_half).build()];
    let ran = suite.run(&steps, &[], &[]);
    assert_eq!(
        ran.whole(),
        (
            Exit::Passed,
            "\nrunning 1 test\n\
             test [round 1] steps::a_second_and_a_half ... ok (0.00s)\n\
             \n\
             test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; \
             finished in 0.00s\n\
             \n\
             report: DIR/data/report.html\n",
            format!(
                "{FRESH}\
                 prometheus-test: worker1: no `keypairs` in workers.json, using generated \
                 keypairs in DIR/data/keys (staking 75wzorQgdcr5SgCjgfVqz66p8WESCpTKWiabGcj5oAmr, \
                 main HBTmXQei6kCcXAuCCMF47yjcCntQ18yLqHGwYCoAZtc7)\n\
                 prometheus-test: 1 worker ready in 0.00s; 1 step to play in round 1\n\
                 prometheus-test: step `a_second_and_a_half` on worker1 in round 1 is still \
                 running after 1s\n"
            )
            .as_str(),
        )
    );
}
