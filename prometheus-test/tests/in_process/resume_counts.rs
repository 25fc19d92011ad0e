//! The libtest summary of a resumed run: the steps done before the resume
//! point are not "filtered out"; they are said on a line of their own.

use prometheus_test::__private::{StepDef, StepFuture};
use prometheus_test::{Exit, Runner, Worker};

use crate::support::{SuiteDir, step};

/// Passes.
fn passes<'a>(_runner: &'a Runner, _worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move { Ok(()) })
}

/// Fails in config.yaml's `fail_in_round`.
fn checks<'a>(runner: &'a Runner, _worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        let fail_in: u32 = runner.config_value("fail_in_round")?;
        anyhow::ensure!(fail_in != runner.current_round(), "asked to fail");
        Ok(())
    })
}

/// `first` and `second` pass, `third` checks.
fn steps() -> Vec<&'static StepDef> {
    vec![
        step("first", 1, passes).build(),
        step("second", 2, passes).build(),
        step("third", 3, checks).build(),
    ]
}

/// The note of `worker1`'s generated keypairs in task `in-process`.
const WORKER1_KEYS: &str = "prometheus-test: worker1: no `keypairs` in workers.json, using \
     generated keypairs in DIR/data/keys (staking 5hkSWi2FFeLua3y5GGugqhtPWewh8ohPR2qoeaY3YRB1, \
     main DWE5DjKpoiuAjLokRwRcmXsN5X34aiHxrF2MCw85YzUC)\n";

#[test]
fn a_run_resumed_in_its_last_round_filters_nothing_out_and_says_what_was_done() {
    let suite = SuiteDir::two_rounds("in-process", 2);
    assert_eq!(
        suite.run(&steps(), &["-q"], &[]).conclusion.exit,
        Exit::Failed
    );
    suite.write(
        "config.yaml",
        "task_id: in-process\nmax_rounds: 2\nfail_in_round: 0\n",
    );
    let ran = suite.run(&steps(), &[], &[]);
    assert_eq!(
        ran.whole(),
        (
            Exit::Passed,
            "\nrunning 1 test\n\
             test [round 2] steps::third ... ok (0.00s)\n\
             \n\
             test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\
             \n\
             2 steps done before the resume point\n\
             report: DIR/data/report.html\n",
            [
                "prometheus-test: resuming round 2 after step `second`\n",
                WORKER1_KEYS,
                "prometheus-test: 1 worker ready in 0.00s; 1 step to play in round 2\n",
            ]
            .concat()
            .as_str(),
        )
    );
    assert_eq!(ran.conclusion.filtered_out, 0);
    suite.write(
        "config.yaml",
        "task_id: in-process\nmax_rounds: 2\nfail_in_round: 2\n",
    );
    // The same resume with a filter: `first` is done, `second` is filtered out.
    assert_eq!(
        suite.run(&steps(), &["--reset", "-q"], &[]).conclusion.exit,
        Exit::Failed
    );
    let ran = suite.run(
        &steps(),
        &[
            "--format=json",
            "-Z",
            "unstable-options",
            "steps",
            "--skip",
            "second",
        ],
        &[],
    );
    assert_eq!(
        ran.out,
        concat!(
            r#"{"type":"suite","event":"started","test_count":1}"#,
            "\n",
            r#"{"type":"test","event":"started","name":"steps::third","round":2}"#,
            "\n",
            r#"{"type":"test","name":"steps::third","round":2,"event":"failed","exec_time":0.0,"stdout":"Error: step `third` on worker1 at tests/suite.rs:1 failed: asked to fail\n"}"#,
            "\n",
            r#"{"type":"suite","event":"failed","passed":0,"failed":1,"ignored":0,"measured":0,"filtered_out":1,"exec_time":0.0,"done_before_resume":1}"#,
            "\n",
        )
    );
}
