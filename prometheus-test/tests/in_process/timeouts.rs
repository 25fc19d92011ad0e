//! Time limits of async steps, with the watchdog watching (issue 18, defect
//! 1): the watchdog ends the run only when an attempt outlives its own limit
//! (the step's `timeout`, else `step_timeout`) by its grace of 2 s. Each test
//! takes a few seconds of real time.

use std::time::Duration;

use prometheus_test::__private::StepFuture;
use prometheus_test::{Exit, Runner, Worker};

use crate::support::{SuiteDir, step};

/// The first notes of a fresh run of task `timeouts` with `worker1`, its
/// one step to play in round 1.
const FRESH_RUN: &str = "prometheus-test: fresh run: starting at round 1\n\
     prometheus-test: worker1: no `keypairs` in workers.json, using generated keypairs in \
     DIR/data/keys (staking 75wzorQgdcr5SgCjgfVqz66p8WESCpTKWiabGcj5oAmr, \
     main HBTmXQei6kCcXAuCCMF47yjcCntQ18yLqHGwYCoAZtc7)\n\
     prometheus-test: 1 worker ready in 0.00s; 1 step to play in round 1\n";

/// One round, one external worker, `step_timeout: {step_timeout}`.
fn one_round(step_timeout: u32) -> SuiteDir {
    let suite = SuiteDir::empty();
    suite.write(
        "config.yaml",
        &format!("task_id: timeouts\nmax_rounds: 1\nstep_timeout: {step_timeout}\n"),
    );
    suite.write(
        "workers.json",
        r#"{"worker1": {"url": "http://127.0.0.1:9"}}"#,
    );
    suite
}

/// Waits 4 s without blocking its thread.
fn four_seconds<'a>(_runner: &'a Runner, _worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async {
        tokio::time::sleep(Duration::from_secs(4)).await;
        Ok(())
    })
}

#[test]
fn a_steps_own_timeout_above_step_timeout_lets_it_finish() {
    let suite = one_round(1);
    let steps = [step("four_seconds", 1, four_seconds)
        .timeout(Duration::from_secs(5))
        .build()];
    assert_eq!(
        suite.run(&steps, &[], &[]).whole(),
        (
            Exit::Passed,
            "\nrunning 1 test\n\
             test [round 1] steps::four_seconds ... ok (0.00s)\n\
             \n\
             test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\
             \nreport: DIR/data/report.html\n",
            FRESH_RUN,
        ),
        "the watchdog watches the step's own 5 s, not `step_timeout`'s 1 s"
    );
}

/// Its first attempt waits 3 s (past its 2 s `timeout`), its second 1.5 s.
fn slow_then_quick<'a>(runner: &'a Runner, _worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        let attempt = runner.try_get::<u32>("attempt")?.unwrap_or(0) + 1;
        runner.set("attempt", &attempt)?;
        let wait = if attempt == 1 { 3000 } else { 1500 };
        tokio::time::sleep(Duration::from_millis(wait)).await;
        Ok(())
    })
}

#[test]
fn each_attempt_of_a_retried_step_gets_its_own_time_limit() {
    // Attempt 1 times out at 2 s, the retry follows 1 s later and ends 1.5 s
    // after that: 4.5 s in all, past the 2 s limit and its 2 s grace, which
    // would end the run if the watchdog watched the whole step.
    let suite = one_round(2);
    let steps = [step("slow_then_quick", 1, slow_then_quick)
        .retries(1)
        .retry_delay(Duration::from_secs(1))
        .timeout(Duration::from_secs(2))
        .build()];
    assert_eq!(
        suite.run(&steps, &[], &[]).whole(),
        (
            Exit::Passed,
            "\nrunning 1 test\n\
             test [round 1] steps::slow_then_quick ... attempt 1 of 2 failed, retrying\n\
             test [round 1] steps::slow_then_quick ... ok, passed after 2 attempts (0.00s)\n\
             \n\
             test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\
             \nreport: DIR/data/report.html\n",
            [
                FRESH_RUN,
                "prometheus-test: step `steps::slow_then_quick` attempt 1 of 2 failed: the step did \
                 not finish within 2s (its `timeout`); retrying in 1s\n\
                 prometheus-test: step `steps::slow_then_quick` passed after 2 attempts\n"
            ]
            .concat()
            .as_str(),
        )
    );
    assert_eq!(
        suite.state()["rounds"]["1"]["_attempts"],
        serde_json::json!({"slow_then_quick": 2})
    );
}
