//! What may stop a run before its first step, each with its own message:
//! the run lock, a saved round past the run's rounds, a taken port, config
//! overrides, a `post_load` hook without MongoDB, a `mongodb+srv://` URI
//! without the `mongodb-srv` feature, a missing config.yaml;
//! and the environment a run sees.

use std::net::{Ipv4Addr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use prometheus_test::__private::{StepDef, StepFuture};
use prometheus_test::{Exit, Runner, Worker, mongodb};

use crate::support::{FRESH, SuiteDir, step};

/// The note of `worker1`'s generated keypairs in task `reliability`.
const WORKER1_KEYS: &str = "prometheus-test: worker1: no `keypairs` in workers.json, using \
     generated keypairs in DIR/data/keys (staking 6t2rmeq3PVYS1VHGfFqMN6bcskBs7eD4ooa62Q8PCuQY, \
     main 7ZPUivngBKH78Ye2G9Z3hzDNS1zpU8KQLY4WU3eUg76r)\n";

/// The note of `PROMETHEUS_TEST_SET_MAX_ROUNDS=1`.
const ONE_ROUND: &str =
    "prometheus-test: config overrides: max_rounds=1 (PROMETHEUS_TEST_SET_MAX_ROUNDS)\n";

fn first<'a>(runner: &'a Runner, _worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move { runner.set("first_in", &runner.current_round()) })
}

/// Fails in the round config.yaml's `fail_in_round` names; checks that the
/// run's environment (which a worker's falls back to) holds `PT_GIVEN` and
/// not the process's own `PATH`.
fn second<'a>(runner: &'a Runner, worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        anyhow::ensure!(
            worker.env("PT_GIVEN") == Some("given"),
            "the given variable is missing"
        );
        anyhow::ensure!(
            worker.env("PATH").is_none(),
            "the process environment leaked into the run"
        );
        let fail_in: u32 = runner.config_value("fail_in_round")?;
        anyhow::ensure!(fail_in != runner.current_round(), "asked to fail");
        Ok(())
    })
}

/// `first`, then `second`.
fn steps() -> Vec<&'static StepDef> {
    vec![
        step("first", 1, first).build(),
        step("second", 2, second).line(2).build(),
    ]
}

/// Two rounds, one external worker, `second` failing in `fail_in_round`.
fn suite_dir(fail_in_round: u32) -> SuiteDir {
    SuiteDir::two_rounds("reliability", fail_in_round)
}

/// The environment of every run here, and `extra`.
fn env<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut env = vec![("PT_GIVEN", "given")];
    env.extend_from_slice(extra);
    env
}

#[test]
fn a_saved_round_past_max_rounds_is_an_error_not_a_fresh_start() {
    let suite = suite_dir(2);
    let steps = steps();
    assert_eq!(
        suite.run(&steps, &[], &env(&[])).conclusion.exit,
        Exit::Failed,
        "`second` fails in round 2"
    );
    let saved = suite.state_text();
    assert_eq!(suite.state()["current_round"], 2);
    assert_eq!(suite.state()["last_completed_step"], "first");

    assert_eq!(
        suite
            .run(
                &steps,
                &[],
                &env(&[("PROMETHEUS_TEST_SET_MAX_ROUNDS", "1")])
            )
            .whole(),
        (
            Exit::SetupFailed,
            "",
            [
                ONE_ROUND,
                "prometheus-test: error: the saved run stopped in round 2 (after step `first`), \
                 but this run has only 1 round(s) (`max_rounds` of DIR/config.yaml): set \
                 `max_rounds` to at least 2 to resume it, or run with --reset to discard it and \
                 start over (DIR/data/test_state.json)\n"
            ]
            .concat()
            .as_str()
        ),
        "the suite cannot start"
    );
    assert_eq!(suite.state_text(), saved, "the resumable run is kept");
    assert!(!suite.data().join("test_state.prev.json").exists());

    let mut edited = suite.state();
    edited["current_round"] = 99.into();
    edited["last_completed_step"] = serde_json::Value::Null;
    let edited = edited.to_string();
    std::fs::write(suite.data().join("test_state.json"), &edited).unwrap();
    assert_eq!(
        suite.run(&steps, &[], &env(&[])).whole(),
        (
            Exit::SetupFailed,
            "",
            "prometheus-test: error: the saved run stopped in round 99 (before its first step), \
             but this run has only 2 round(s) (`max_rounds` of DIR/config.yaml): set \
             `max_rounds` to at least 99 to resume it, or run with --reset to discard it and \
             start over (DIR/data/test_state.json)\n"
        ),
    );
    assert_eq!(
        suite.state_text(),
        edited,
        "a hand-edited round is kept too"
    );

    let fresh = suite.run(
        &steps,
        &["--reset", "-q"],
        &env(&[("PROMETHEUS_TEST_SET_FAIL_IN_ROUND", "0")]),
    );
    assert_eq!(
        fresh.whole(),
        (
            Exit::Passed,
            "\nrunning 4 tests\n....\n\
             \n\
             test result: ok. 4 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\
             \nreport: DIR/data/report.html\n",
            [
                "prometheus-test: config overrides: fail_in_round=0 \
                 (PROMETHEUS_TEST_SET_FAIL_IN_ROUND)\n",
                FRESH,
                WORKER1_KEYS,
                "prometheus-test: 1 worker ready in 0.00s; 4 steps to play in rounds 1 to 2\n"
            ]
            .concat()
            .as_str(),
        )
    );
    assert_eq!(suite.state()["current_round"], 2);
}

#[test]
fn a_completed_run_past_lowered_rounds_still_starts_fresh() {
    let suite = suite_dir(0);
    let steps = steps();
    assert_eq!(
        suite.run(&steps, &["-q"], &env(&[])).conclusion.exit,
        Exit::Passed
    );
    assert_eq!(
        suite
            .run(
                &steps,
                &[],
                &env(&[("PROMETHEUS_TEST_SET_MAX_ROUNDS", "1")])
            )
            .whole(),
        (
            Exit::Passed,
            "\nrunning 2 tests\n\
             test [round 1] steps::first ... ok (0.00s)\n\
             test [round 1] steps::second ... ok (0.00s)\n\
             \n\
             test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\
             \nreport: DIR/data/report.html\n",
            [
                ONE_ROUND,
                "prometheus-test: the previous run completed: starting a fresh run\n",
                FRESH,
                WORKER1_KEYS,
                "prometheus-test: 1 worker ready in 0.00s; 2 steps to play in round 1\n"
            ]
            .concat()
            .as_str(),
        )
    );
    assert_eq!(suite.state()["current_round"], 1);
}

/// Set by `hold` once it runs.
static HOLDING: AtomicBool = AtomicBool::new(false);
/// Lets `hold` finish.
static RELEASED: AtomicBool = AtomicBool::new(false);

/// Waits (yielding) until the test releases it.
fn hold<'a>(_runner: &'a Runner, _worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        HOLDING.store(true, Ordering::SeqCst);
        while !RELEASED.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(())
    })
}

#[test]
fn a_second_run_fails_at_once_while_a_run_holds_the_lock_and_list_needs_no_lock() {
    let suite = suite_dir(0);
    let mut steps = steps();
    steps.push(step("hold", 3, hold).line(3).build());
    let env = env(&[]);
    std::thread::scope(|scope| {
        let holder = scope.spawn(|| suite.run(&steps, &["steps::hold", "--exact", "-q"], &env));
        let deadline = Instant::now() + Duration::from_secs(60);
        while !HOLDING.load(Ordering::SeqCst) {
            if Instant::now() > deadline || holder.is_finished() {
                RELEASED.store(true, Ordering::SeqCst);
                panic!("the first run never reached `hold`: {:?}", holder.join());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let saved = suite.state_text();
        let second = suite.run(&steps, &["--reset"], &env);
        let listed = suite.run(&steps, &["--list"], &env);
        RELEASED.store(true, Ordering::SeqCst);
        assert_eq!(
            second.whole(),
            (
                Exit::SetupFailed,
                "",
                format!(
                    "prometheus-test: error: another run of this suite is going (PID {}, holding \
                     DIR/data/.lock): wait for it to finish or stop it; two runs would share one \
                     state file, database and ports\n",
                    std::process::id()
                )
                .as_str()
            )
        );
        assert_eq!(
            suite.state_text(),
            saved,
            "the running suite's state is untouched"
        );
        assert_eq!(
            listed.whole(),
            (
                Exit::Passed,
                "steps::first: test\nsteps::second: test\nsteps::hold: test\n\n3 tests, 0 benchmarks\n",
                ""
            )
        );
        assert_eq!(
            holder.join().expect("the first run ends").conclusion.exit,
            Exit::Passed
        );
    });
    assert_eq!(
        suite.run(&steps, &["-q"], &env).whole(),
        (
            Exit::Passed,
            "\nrunning 3 tests\n...\n\
             \n\
             test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\
             \nreport: DIR/data/report.html\n",
            [
                "prometheus-test: resuming at round 2 (round 1 is done)\n",
                WORKER1_KEYS,
                "prometheus-test: 1 worker ready in 0.00s; 3 steps to play in round 2\n"
            ]
            .concat()
            .as_str(),
        ),
        "a released lock is free"
    );
}

#[test]
fn a_taken_port_stops_a_reset_before_anything_is_deleted() {
    let suite = suite_dir(0);
    let steps = steps();
    assert_eq!(
        suite
            .run(&steps, &["steps::first", "--exact", "-q"], &env(&[]))
            .conclusion
            .exit,
        Exit::Passed
    );
    let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = taken.local_addr().unwrap().port();
    suite.write(
        "workers.json",
        &format!(r#"{{"worker1": {{"port": {port}, "command": ["sleep", "30"]}}}}"#),
    );
    let db = suite.data().join("database_worker1.db");
    std::fs::write(&db, "kept").unwrap();
    let saved = suite.state_text();
    assert_eq!(
        suite.run(&steps, &["--reset"], &env(&[])).whole(),
        (
            Exit::SetupFailed,
            "",
            format!(
                "prometheus-test: error: port {port} of worker1 is already in use by another \
                 process: stop that process or give worker1 another port (nothing was reset)\n"
            )
            .as_str()
        )
    );
    assert_eq!(suite.state_text(), saved);
    assert!(db.exists(), "no database is deleted");
    assert!(!suite.data().join("test_state.prev.json").exists());
}

#[test]
fn overrides_change_the_run_and_a_bad_one_stops_it() {
    let suite = suite_dir(0);
    let steps = steps();
    assert_eq!(
        suite
            .run(
                &steps,
                &["-q"],
                &env(&[("PROMETHEUS_TEST_SET_MAX_ROUNDS", "1")])
            )
            .whole(),
        (
            Exit::Passed,
            "\nrunning 2 tests\n..\n\
             \n\
             test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\
             \nreport: DIR/data/report.html\n",
            [
                ONE_ROUND,
                FRESH,
                WORKER1_KEYS,
                "prometheus-test: 1 worker ready in 0.00s; 2 steps to play in round 1\n"
            ]
            .concat()
            .as_str(),
        )
    );
    assert_eq!(suite.state()["current_round"], 1);
    assert_eq!(
        suite
            .run(
                &steps,
                &["--reset"],
                &env(&[("PROMETHEUS_TEST_SET_MAX_ROUNDS", "[")])
            )
            .whole(),
        (
            Exit::SetupFailed,
            "",
            "prometheus-test: error: PROMETHEUS_TEST_SET_MAX_ROUNDS: not a YAML value for \
             `max_rounds`: did not find expected node content at line 2 column 1, while parsing \
             a flow node\n"
        )
    );
    assert_eq!(
        suite
            .run(
                &steps,
                &["--reset"],
                &env(&[("PROMETHEUS_TEST_SET_MAX_ROUNDS", "0")])
            )
            .whole(),
        (
            Exit::SetupFailed,
            "",
            "prometheus-test: config overrides: max_rounds=0 (PROMETHEUS_TEST_SET_MAX_ROUNDS)\n\
             prometheus-test: error: PROMETHEUS_TEST_SET_MAX_ROUNDS (overriding DIR/config.yaml): \
             `max_rounds` must be an integer from 1 to 4294967295, found 0\n"
        )
    );
}

async fn hook(_db: &mongodb::Database, _runner: &Runner) -> anyhow::Result<()> {
    Ok(())
}

#[test]
fn a_post_load_hook_without_a_mongodb_section_cannot_start() {
    let suite = suite_dir(0);
    let with_hook = suite.suite(&steps()).post_load(hook);
    assert_eq!(
        suite.run_suite(&with_hook, &[], &env(&[])).whole(),
        (
            Exit::SetupFailed,
            "",
            "prometheus-test: error: DIR/config.yaml: a post_load hook needs a `mongodb` section \
             with `database` in config.yaml\n"
        )
    );
    assert!(!suite.data().exists(), "nothing is written");
}

#[test]
#[cfg_attr(
    feature = "mongodb-srv",
    ignore = "with `mongodb-srv` a `mongodb+srv://` URI is resolved, not refused"
)]
fn a_mongodb_srv_uri_without_the_feature_names_its_source_and_the_feature() {
    let suite = SuiteDir::empty();
    suite.write(
        "tests/config.yaml",
        "task_id: reliability\nmax_rounds: 1\nmongodb:\n  database: db\n",
    );
    suite.write(
        "tests/workers.json",
        r#"{"worker1": {"url": "http://127.0.0.1:9"}}"#,
    );
    let srv = "mongodb+srv://alice:s3cret@cluster.example/db";
    let refused = |from: &str| {
        format!(
            "prometheus-test: error: MONGO_URI {from} is a `mongodb+srv://` URI, whose servers \
             are found through DNS, and this build of prometheus-test has no DNS resolver for \
             MongoDB: enable the `mongodb-srv` feature (`prometheus-test = {{ version = \"0.1\", \
             features = [\"mongodb-srv\"] }}` in Cargo.toml) or give a `mongodb://host:port` URI\n"
        )
    };
    let run = |env: &[(&str, &str)]| {
        let ran = suite.run_suite(&suite.suite_at("tests/config.yaml", &steps()), &[], env);
        assert!(!ran.notes.contains("s3cret"), "{}", ran.notes);
        ran
    };

    assert_eq!(
        run(&env(&[("MONGO_URI", srv)])).whole(),
        (
            Exit::SetupFailed,
            "",
            refused("of the environment").as_str()
        )
    );
    suite.write("tests/.env", &format!("MONGO_URI={srv}\n"));
    assert_eq!(
        run(&env(&[])).whole(),
        (Exit::SetupFailed, "", refused("of DIR/tests/.env").as_str())
    );
    assert!(
        !suite.path().join("tests/data").exists(),
        "nothing is written"
    );
}

#[test]
fn a_failing_step_fails_the_run_and_a_missing_config_cannot_start() {
    let suite = suite_dir(1);
    let steps = steps();
    assert_eq!(
        suite.run(&steps, &["-q"], &env(&[])).whole(),
        (
            Exit::Failed,
            "\nrunning 4 tests\n.F\n\
             \n\
             failures:\n\
             \n\
             ---- steps::second [round 1] ----\n\
             Error: step `second` on worker1 at tests/suite.rs:2 failed: asked to fail\n\
             \n\
             \n\
             failures:\n    steps::second\n\
             \n\
             test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\
             \nreport: DIR/data/report.html\n",
            [
                FRESH,
                WORKER1_KEYS,
                "prometheus-test: 1 worker ready in 0.00s; 4 steps to play in rounds 1 to 2\n\
                 prometheus-test: the next run resumes at round 1 `steps::second`; to start over, \
                 run with `--reset` (`cargo test --test <suite> -- --reset`)\n"
            ]
            .concat()
            .as_str(),
        )
    );
    std::fs::remove_file(suite.path().join("config.yaml")).unwrap();
    assert_eq!(
        suite.run(&steps, &[], &env(&[])).whole(),
        (
            Exit::SetupFailed,
            "",
            "prometheus-test: error: DIR/config.yaml: cannot read the config file: No such file \
             or directory (os error 2)\n"
        )
    );
}

#[test]
fn a_bad_http_ca_file_stops_the_run_before_anything_is_touched() {
    let suite = suite_dir(0);
    let config = std::fs::read_to_string(suite.path().join("config.yaml")).unwrap();
    suite.write(
        "config.yaml",
        &format!("{config}http_ca_file: missing.pem\n"),
    );
    assert_eq!(
        suite.run(&steps(), &[], &env(&[])).whole(),
        (
            Exit::SetupFailed,
            "",
            "prometheus-test: error: DIR/config.yaml: `http_ca_file`: cannot read DIR/missing.pem: \
             No such file or directory (os error 2)\n"
        )
    );
    assert!(!suite.data().exists(), "nothing is written");
}
