//! The texts a step hands back (a failure, a skip reason, its description,
//! a retried attempt's error) reach every output redacted, and the run's
//! last note names the mapped variables it redacted.

use prometheus_test::__private::{StepDef, StepFuture};
use prometheus_test::{Exit, Runner, Skip, Worker};

use crate::support::{FRESH, SuiteDir, step};

/// The secret value of `API_TOKEN`, mapped into worker1's server.
const TOKEN: &str = "tok-s3cr3t-0123456789";

/// config.yaml with one round, and workers.json whose worker1 maps
/// `API_TOKEN` and `PEER` (whose value, `worker2`, is a worker's name).
fn suite() -> SuiteDir {
    let suite = SuiteDir::empty();
    suite.write("config.yaml", "task_id: in-process\nmax_rounds: 1\n");
    suite.write(
        "workers.json",
        r#"{"worker1": {"url": "http://127.0.0.1:9", "env_vars": {"TOKEN": "API_TOKEN", "PEER_NAME": "PEER"}},
            "worker2": {"url": "http://127.0.0.1:9"}}"#,
    );
    suite
}

/// The run's environment.
const ENV: &[(&str, &str)] = &[("API_TOKEN", TOKEN), ("PEER", "worker2")];

/// Skips with a reason that holds the token.
fn waits<'a>(_runner: &'a Runner, _worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move { Err(Skip::new(format!("token {TOKEN} is not valid yet")).into()) })
}

/// Fails with a message that holds the token and the peer's name.
fn audits<'a>(_runner: &'a Runner, _worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move { anyhow::bail!("worker2 refused {TOKEN}") })
}

fn steps() -> Vec<&'static StepDef> {
    vec![
        step("waits", 1, waits).line(10).build(),
        step("audits", 2, audits)
            .description("Audits the submission of worker2.")
            .retries(1)
            .line(20)
            .build(),
    ]
}

/// The notes of worker1's and worker2's generated keypairs in task `in-process`.
const KEYS: &str = "prometheus-test: worker1: no `keypairs` in workers.json, using \
     generated keypairs in DIR/data/keys (staking 5hkSWi2FFeLua3y5GGugqhtPWewh8ohPR2qoeaY3YRB1, \
     main DWE5DjKpoiuAjLokRwRcmXsN5X34aiHxrF2MCw85YzUC)\n\
     prometheus-test: worker2: no `keypairs` in workers.json, using \
     generated keypairs in DIR/data/keys (staking 6kApLfv8nHNNqHggQ8PGkANuMvgzQoyGCQ5WWneXc7wK, \
     main 6g3usvphCxcQuk2XjP9NMTC9TPTiWWRvzyGEtR7B66zJ)\n";

#[test]
fn skip_reasons_failures_and_descriptions_are_redacted_in_the_libtest_output() {
    let suite = suite();
    assert_eq!(
        suite.run(&steps(), &[], ENV).whole(),
        (
            Exit::Failed,
            "\nrunning 2 tests\n\
             test [round 1] steps::waits ... ignored, token [redacted: env API_TOKEN] is not valid yet\n\
             test [round 1] steps::audits ... attempt 1 of 2 failed, retrying\n\
             test [round 1] steps::audits ... FAILED\n\
             \n\
             failures:\n\
             \n\
             ---- steps::audits [round 1] ----\n\
             Error: step `audits` (Audits the submission of [redacted: env PEER].) on worker1 at \
             tests/suite.rs:20 failed after 2 attempts: [redacted: env PEER] refused [redacted: env API_TOKEN]\n  \
             attempt 1 failed: [redacted: env PEER] refused [redacted: env API_TOKEN]\n\
             \n\
             \n\
             failures:\n    steps::audits\n\
             \n\
             test result: FAILED. 0 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\
             \nreport: DIR/data/report.html\n",
            [
                FRESH,
                KEYS,
                "prometheus-test: 2 workers ready in 0.00s; 2 steps to play in round 1\n\
                 prometheus-test: step `steps::audits` attempt 1 of 2 failed: [redacted: env PEER] \
                 refused [redacted: env API_TOKEN]; retrying\n",
                REDACTED_NOTE,
                "prometheus-test: the next run resumes at round 1 `steps::audits`; to start over, \
                 run with `--reset` (`cargo test --test <suite> -- --reset`)\n",
            ]
            .concat()
            .as_str(),
        )
    );
}

#[test]
fn skip_reasons_and_failures_are_redacted_in_the_json_stream() {
    let suite = suite();
    let ran = suite.run(
        &steps(),
        &["--format", "json", "-Z", "unstable-options"],
        ENV,
    );
    assert_eq!(
        (ran.conclusion.exit, ran.out.as_str()),
        (
            Exit::Failed,
            concat!(
                r#"{"type":"suite","event":"started","test_count":2}"#,
                "\n",
                r#"{"type":"test","event":"started","name":"steps::waits","round":1}"#,
                "\n",
                r#"{"type":"test","name":"steps::waits","round":1,"event":"ignored","message":"token [redacted: env API_TOKEN] is not valid yet"}"#,
                "\n",
                r#"{"type":"test","event":"started","name":"steps::audits","round":1}"#,
                "\n",
                r#"{"type":"test","name":"steps::audits","round":1,"event":"failed","exec_time":0.0,"stdout":"Error: step `audits` (Audits the submission of [redacted: env PEER].) on worker1 at tests/suite.rs:20 failed after 2 attempts: [redacted: env PEER] refused [redacted: env API_TOKEN]\n  attempt 1 failed: [redacted: env PEER] refused [redacted: env API_TOKEN]\n"}"#,
                "\n",
                r#"{"type":"suite","event":"failed","passed":0,"failed":1,"ignored":1,"measured":0,"filtered_out":0,"exec_time":0.0}"#,
                "\n",
            )
        )
    );
    assert_eq!(
        ran.notes,
        [
            FRESH,
            KEYS,
            "prometheus-test: 2 workers ready in 0.00s; 2 steps to play in round 1\n\
             prometheus-test: step `steps::audits` attempt 1 of 2 failed: [redacted: env PEER] \
             refused [redacted: env API_TOKEN]; retrying\n",
            REDACTED_NOTE,
            "prometheus-test: report: DIR/data/report.html\n\
             prometheus-test: the next run resumes at round 1 `steps::audits`; to start over, \
             run with `--reset` (`cargo test --test <suite> -- --reset`)\n",
        ]
        .concat()
    );
}

/// The run's last note: what it redacted, and `plain_env` for the name.
const REDACTED_NOTE: &str = "prometheus-test: redacted as secrets in this run's outputs: the \
     values of API_TOKEN, PEER (mapped by workers.json `env_vars`); PEER looks like a name, not a \
     secret: if so, list it in config.yaml's `plain_env` (`plain_env: [PEER]`) to show it as \
     written\n";
