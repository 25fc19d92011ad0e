//! Plain runs, failures and resumes, filters, `--list` and `--help`, and
//! steps that run once per worker.

use prometheus_test::__private::{StepDef, StepFuture};
use prometheus_test::{Exit, Runner, Skip, Worker};

use crate::support::{FRESH, SuiteDir, TWO_WORKERS, step};

/// The note of `worker1`'s generated keypairs in task `in-process`.
const WORKER1_KEYS: &str = "prometheus-test: worker1: no `keypairs` in workers.json, using \
     generated keypairs in DIR/data/keys (staking 5hkSWi2FFeLua3y5GGugqhtPWewh8ohPR2qoeaY3YRB1, \
     main DWE5DjKpoiuAjLokRwRcmXsN5X34aiHxrF2MCw85YzUC)\n";

/// The note of `worker2`'s generated keypairs in task `in-process`.
const WORKER2_KEYS: &str = "prometheus-test: worker2: no `keypairs` in workers.json, using \
     generated keypairs in DIR/data/keys (staking 6kApLfv8nHNNqHggQ8PGkANuMvgzQoyGCQ5WWneXc7wK, \
     main 6g3usvphCxcQuk2XjP9NMTC9TPTiWWRvzyGEtR7B66zJ)\n";

/// Stores the round it ran in.
fn work<'a>(runner: &'a Runner, _worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move { runner.set("worked_in", &runner.current_round()) })
}

/// Checks what `work` stored; fails in config.yaml's `fail_in_round`;
/// skips round 2.
fn check<'a>(runner: &'a Runner, _worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        let round = runner.current_round();
        let worked_in: u32 = runner.get("worked_in")?;
        anyhow::ensure!(worked_in == round, "work ran in round {worked_in}");
        let fail_in: u32 = runner.config_value("fail_in_round")?;
        anyhow::ensure!(fail_in != round, "asked to fail in round {round}");
        if round == 2 {
            return Err(Skip::new("nothing to check in round 2").into());
        }
        Ok(())
    })
}

/// Stores that it ran against its worker; fails on a worker whose
/// workers.json entry says `"fail": true`.
fn visit<'a>(runner: &'a Runner, worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        let fail: bool = worker.get("fail").unwrap_or(false);
        anyhow::ensure!(!fail, "asked to fail on {}", worker.name());
        runner.set(&format!("visited_{}", worker.name()), &true)
    })
}

/// `work`, then `check`.
fn work_and_check() -> Vec<&'static StepDef> {
    vec![
        step("work", 1, work)
            .description("Stores the round it ran in.")
            .line(10)
            .build(),
        step("check", 2, check)
            .description("Checks what `work` stored.")
            .line(20)
            .build(),
    ]
}

/// `visit_listed` on worker2 then worker1, `work`, `check`, then `visit`
/// on every worker.
fn with_multi_worker_steps() -> Vec<&'static StepDef> {
    let mut steps = work_and_check();
    steps.push(
        step("visit_listed", 0, visit)
            .workers(&["worker2", "worker1"])
            .line(5)
            .build(),
    );
    steps.push(step("visit", 3, visit).every_worker().line(30).build());
    steps
}

#[test]
fn a_plain_run_plays_every_round_and_says_so() {
    let suite = SuiteDir::two_rounds("in-process", 0);
    assert_eq!(
        suite.run(&work_and_check(), &[], &[]).whole(),
        (
            Exit::Passed,
            "\nrunning 4 tests\n\
             test [round 1] steps::work ... ok (0.00s)\n\
             test [round 1] steps::check ... ok (0.00s)\n\
             test [round 2] steps::work ... ok (0.00s)\n\
             test [round 2] steps::check ... ignored, nothing to check in round 2\n\
             \n\
             test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\
             \nreport: DIR/data/report.html\n",
            [
                FRESH,
                WORKER1_KEYS,
                "prometheus-test: 1 worker ready in 0.00s; 4 steps to play in rounds 1 to 2\n"
            ]
            .concat()
            .as_str(),
        )
    );
    assert_eq!(
        suite.state(),
        serde_json::json!({
            "rounds": {"1": {"worked_in": 1}, "2": {"worked_in": 2}},
            "global": {},
            "current_round": 2,
            "last_completed_step": "check",
        })
    );
    assert!(
        suite.data().join("keys").is_dir(),
        "a worker without keypairs gets generated ones"
    );
}

#[test]
fn help_prints_the_usage_and_a_bad_flag_stops_before_anything_is_touched() {
    let suite = SuiteDir::two_rounds("in-process", 0);
    let steps = work_and_check();
    assert_eq!(
        suite.run(&steps, &["--help"], &[]).whole(),
        (Exit::Passed, USAGE, "")
    );
    assert_eq!(
        suite.run(&steps, &["--shuffle"], &[]).whole(),
        (
            Exit::SetupFailed,
            "",
            "prometheus-test: error: unrecognized option `--shuffle` (`--help` lists the options)\n"
        ),
        "the error is a note and nothing runs"
    );
    assert_eq!(
        suite.run(&steps, &["--format", "xml"], &[]).whole(),
        (
            Exit::SetupFailed,
            "",
            "prometheus-test: error: `--format` is `xml`, expected pretty, terse or json\n"
        ),
        "a bad value of a known flag is an error too"
    );
    assert!(!suite.data().exists(), "no run touched the data folder");
}

/// What `--help` prints.
const USAGE: &str = "\
Usage: <suite binary> [OPTIONS] [FILTERS...]

Plays the suite's steps in order; a FILTER runs the steps whose names contain it
(the whole name with --exact) and stops after the last of them.

Options of this harness:
    --reset             Start a fresh run: re-import the fixtures, forget the saved state
    --junit PATH        Also write a JUnit XML report to PATH
    --report PATH       Also write the HTML report to PATH (data_dir/report.html is
                        always written)
    --from POINT        Rewind: restore the world before a step of a round, then play
                        on from there (POINT like 'round 2 steps::audit::check[worker3]')
    --no-restore        Resume in the world the last run left, not in the snapshot
                        taken before the step it stopped at
    --list-snapshots    List the snapshots --from can rewind to, with sizes, and exit
    --record MODE       The workers' calls to the outside world: replay (from the
                        cassettes only), record (tape what is missing), all (tape
                        everything again) or off
    --seed N            Draw the faults of config.yaml's `faults` from seed N (a run
                        prints its seed; the same seed draws the same faults)
    --watch             The edit loop: keep MongoDB, the services and the workers up,
                        play the selected steps, and on every change to the suite's
                        sources, config or fixtures rebuild and play them again in
                        the world restored from before them (q + Enter stops)

libtest's options:
    --exact             Match filters against whole step names
    --skip FILTER       Leave out the steps that FILTER matches (repeatable)
    --list              List the steps and exit
    --nocapture         Stream worker output live instead of capturing it per step
                        (also --no-capture)
    --format pretty|terse|json
                        Output format (-q is terse)
    -q, --quiet         One character per step
    --ignored           Run only ignored tests (no step is ignored)
    -h, --help          Show this help

Accepted and without effect (steps run one at a time, in order): --include-ignored,
--test, --bench, --show-output, --report-time, --ensure-time, --exclude-should-panic,
--force-run-in-process, --test-threads N, --color auto|always|never, --logfile PATH,
-Z unstable-options.
";

#[test]
fn a_failed_step_stops_the_run_and_the_next_run_resumes_at_it() {
    let suite = SuiteDir::two_rounds("in-process", 1);
    let steps = work_and_check();
    assert_eq!(
        suite.run(&steps, &[], &[]).whole(),
        (
            Exit::Failed,
            "\nrunning 4 tests\n\
             test [round 1] steps::work ... ok (0.00s)\n\
             test [round 1] steps::check ... FAILED\n\
             \n\
             failures:\n\
             \n\
             ---- steps::check [round 1] ----\n\
             Error: step `check` (Checks what `work` stored.) on worker1 at tests/suite.rs:20 failed: asked to fail in round 1\n\
             \n\
             \n\
             failures:\n    steps::check\n\
             \n\
             test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\
             \nreport: DIR/data/report.html\n",
            [
                FRESH,
                WORKER1_KEYS,
                "prometheus-test: 1 worker ready in 0.00s; 4 steps to play in rounds 1 to 2\n\
                 prometheus-test: the next run resumes at round 1 `steps::check`; to start over, \
                 run with `--reset` (`cargo test --test <suite> -- --reset`)\n"
            ]
            .concat()
            .as_str(),
        )
    );
    assert_eq!(suite.state()["last_completed_step"], "work");
    suite.write(
        "config.yaml",
        "task_id: in-process\nmax_rounds: 2\nfail_in_round: 0\n",
    );
    assert_eq!(
        suite
            .run(&steps, &["--format=json", "-Z", "unstable-options"], &[])
            .whole(),
        (
            Exit::Passed,
            concat!(
                r#"{"type":"suite","event":"started","test_count":3}"#,
                "\n",
                r#"{"type":"test","event":"started","name":"steps::check","round":1}"#,
                "\n",
                r#"{"type":"test","name":"steps::check","round":1,"event":"ok","exec_time":0.0}"#,
                "\n",
                r#"{"type":"test","event":"started","name":"steps::work","round":2}"#,
                "\n",
                r#"{"type":"test","name":"steps::work","round":2,"event":"ok","exec_time":0.0}"#,
                "\n",
                r#"{"type":"test","event":"started","name":"steps::check","round":2}"#,
                "\n",
                r#"{"type":"test","name":"steps::check","round":2,"event":"ignored","message":"nothing to check in round 2"}"#,
                "\n",
                r#"{"type":"suite","event":"ok","passed":2,"failed":0,"ignored":1,"measured":0,"filtered_out":0,"exec_time":0.0}"#,
                "\n",
            ),
            [
                "prometheus-test: resuming round 1 after step `work`\n",
                WORKER1_KEYS,
                "prometheus-test: 1 worker ready in 0.00s; 3 steps to play in rounds 1 to 2\n\
                 prometheus-test: report: DIR/data/report.html\n"
            ]
            .concat()
            .as_str(),
        )
    );
}

#[test]
fn a_step_failing_in_round_2_says_the_next_run_resumes_there() {
    let suite = SuiteDir::two_rounds("in-process", 2);
    let ran = suite.run(&work_and_check(), &["-q"], &[]);
    assert_eq!(
        ran.whole(),
        (
            Exit::Failed,
            "\nrunning 4 tests\n...F\n\
             \n\
             failures:\n\
             \n\
             ---- steps::check [round 2] ----\n\
             Error: step `check` (Checks what `work` stored.) on worker1 at tests/suite.rs:20 failed: asked to fail in round 2\n\
             \n\
             \n\
             failures:\n    steps::check\n\
             \n\
             test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\
             \nreport: DIR/data/report.html\n",
            [
                FRESH,
                WORKER1_KEYS,
                "prometheus-test: 1 worker ready in 0.00s; 4 steps to play in rounds 1 to 2\n\
                 prometheus-test: the next run resumes at round 2 `steps::check`; to start over, \
                 run with `--reset` (`cargo test --test <suite> -- --reset`)\n"
            ]
            .concat()
            .as_str(),
        )
    );
    assert_eq!(
        (
            ran.conclusion.passed,
            ran.conclusion.failed,
            ran.conclusion.skipped
        ),
        (3, 1, 0)
    );
    assert_eq!(suite.state()["current_round"], 2);
    assert_eq!(suite.state()["last_completed_step"], "work");
}

#[test]
fn an_exact_filter_runs_one_step_and_counts_the_other_as_filtered_out() {
    let suite = SuiteDir::two_rounds("in-process", 0);
    let ran = suite.run(&work_and_check(), &["steps::work", "--exact", "-q"], &[]);
    assert_eq!(
        ran.whole(),
        (
            Exit::Passed,
            "\nrunning 1 test\n.\n\
             \n\
             test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 1 filtered out; finished in 0.00s\n\
             \nreport: DIR/data/report.html\n",
            [
                FRESH,
                WORKER1_KEYS,
                "prometheus-test: 1 worker ready in 0.00s; 1 step to play in round 1\n"
            ]
            .concat()
            .as_str(),
        )
    );
    assert_eq!(ran.conclusion.filtered_out, 1);
    assert_eq!(suite.state()["last_completed_step"], "work");
}

#[test]
fn list_prints_the_steps_and_reads_no_file() {
    let suite = SuiteDir::two_rounds("in-process", 0);
    std::fs::remove_file(suite.path().join("config.yaml")).unwrap();
    assert_eq!(
        suite.run(&work_and_check(), &["--list"], &[]).whole(),
        (
            Exit::Passed,
            "steps::work: test\nsteps::check: test\n\n2 tests, 0 benchmarks\n",
            ""
        )
    );
    assert!(!suite.data().exists());
}

#[test]
fn a_configuration_error_is_one_note_and_no_libtest_output() {
    let suite = SuiteDir::two_rounds("in-process", 0);
    suite.write("workers.json", "{}");
    assert_eq!(
        suite.run(&work_and_check(), &[], &[]).whole(),
        (
            Exit::SetupFailed,
            "",
            "prometheus-test: error: DIR/workers.json: no workers defined\n"
        )
    );
    assert!(
        !suite.data().exists(),
        "nothing is written before the checks pass"
    );
}

#[test]
fn a_multi_worker_step_plays_one_instance_per_worker_in_order() {
    let suite = SuiteDir::two_rounds("in-process", 0);
    suite.write("workers.json", TWO_WORKERS);
    let steps = with_multi_worker_steps();
    assert_eq!(
        suite.run(&steps, &["-q"], &[]).whole(),
        (
            Exit::Passed,
            "\nrunning 12 tests\n.........i..\n\
             \n\
             test result: ok. 11 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\
             \nreport: DIR/data/report.html\n",
            [
                FRESH,
                WORKER1_KEYS,
                WORKER2_KEYS,
                "prometheus-test: 2 workers ready in 0.00s; 12 steps to play in rounds 1 to 2\n"
            ]
            .concat()
            .as_str(),
        )
    );
    assert_eq!(
        suite.run(&steps, &["--list"], &[]).whole(),
        (
            Exit::Passed,
            "steps::visit_listed[worker2]: test\nsteps::visit_listed[worker1]: test\n\
             steps::work: test\nsteps::check: test\n\
             steps::visit[worker1]: test\nsteps::visit[worker2]: test\n\n6 tests, 0 benchmarks\n",
            ""
        )
    );
    let state = suite.state();
    assert_eq!(state["last_completed_step"], "visit[worker2]");
    assert_eq!(
        state["rounds"]["2"],
        serde_json::json!({"visited_worker1": true, "visited_worker2": true, "worked_in": 2})
    );
}

#[test]
fn an_instance_that_fails_is_resumed_by_its_own_name() {
    let suite = SuiteDir::two_rounds("in-process", 0);
    suite.write(
        "workers.json",
        r#"{"worker1": {"url": "http://127.0.0.1:9"}, "worker2": {"url": "http://127.0.0.1:9", "fail": true}}"#,
    );
    let steps = with_multi_worker_steps();
    assert_eq!(
        suite.run(&steps, &[], &[]).whole(),
        (
            Exit::Failed,
            "\nrunning 12 tests\n\
             test [round 1] steps::visit_listed[worker2] ... FAILED\n\
             \n\
             failures:\n\
             \n\
             ---- steps::visit_listed[worker2] [round 1] ----\n\
             Error: step `visit_listed[worker2]` on worker2 at tests/suite.rs:5 failed: asked to fail on worker2\n\
             \n\
             \n\
             failures:\n    steps::visit_listed[worker2]\n\
             \n\
             test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\
             \nreport: DIR/data/report.html\n",
            [
                FRESH,
                WORKER1_KEYS,
                WORKER2_KEYS,
                "prometheus-test: 2 workers ready in 0.00s; 12 steps to play in rounds 1 to 2\n\
                 prometheus-test: the next run resumes at round 1 `steps::visit_listed[worker2]`; \
                 to start over, run with `--reset` (`cargo test --test <suite> -- --reset`)\n"
            ]
            .concat()
            .as_str(),
        )
    );
    suite.write("workers.json", TWO_WORKERS);
    // Run until the first instance of `visit`: the state names the instance.
    assert_eq!(
        suite
            .run(&steps, &["steps::visit[worker1]", "--exact"], &[])
            .whole(),
        (
            Exit::Passed,
            "\nrunning 5 tests\n\
             test [round 1] steps::visit_listed[worker2] ... ok (0.00s)\n\
             test [round 1] steps::visit_listed[worker1] ... ok (0.00s)\n\
             test [round 1] steps::work ... ok (0.00s)\n\
             test [round 1] steps::check ... ok (0.00s)\n\
             test [round 1] steps::visit[worker1] ... ok (0.00s)\n\
             \n\
             test result: ok. 5 passed; 0 failed; 0 ignored; 0 measured; 1 filtered out; finished in 0.00s\n\
             \nreport: DIR/data/report.html\n",
            [
                "prometheus-test: resuming round 1 at its first step\n",
                WORKER1_KEYS,
                WORKER2_KEYS,
                "prometheus-test: 2 workers ready in 0.00s; 5 steps to play in round 1\n"
            ]
            .concat()
            .as_str(),
        )
    );
    assert_eq!(suite.state()["last_completed_step"], "visit[worker1]");
    assert_eq!(
        suite.run(&steps, &["-q"], &[]).whole(),
        (
            Exit::Passed,
            "\nrunning 7 tests\n....i..\n\
             \n\
             test result: ok. 6 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\
             \nreport: DIR/data/report.html\n",
            [
                "prometheus-test: resuming round 1 after step `visit[worker1]`\n",
                WORKER1_KEYS,
                WORKER2_KEYS,
                "prometheus-test: 2 workers ready in 0.00s; 7 steps to play in rounds 1 to 2\n"
            ]
            .concat()
            .as_str(),
        ),
        "resumes at `visit[worker2]`"
    );
}

#[test]
fn an_exact_function_path_runs_every_instance() {
    let suite = SuiteDir::two_rounds("in-process", 0);
    suite.write("workers.json", TWO_WORKERS);
    assert_eq!(
        suite
            .run(
                &with_multi_worker_steps(),
                &["steps::visit_listed", "--exact"],
                &[]
            )
            .whole(),
        (
            Exit::Passed,
            "\nrunning 2 tests\n\
             test [round 1] steps::visit_listed[worker2] ... ok (0.00s)\n\
             test [round 1] steps::visit_listed[worker1] ... ok (0.00s)\n\
             \n\
             test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 4 filtered out; finished in 0.00s\n\
             \nreport: DIR/data/report.html\n",
            [
                FRESH,
                WORKER1_KEYS,
                WORKER2_KEYS,
                "prometheus-test: 2 workers ready in 0.00s; 2 steps to play in round 1\n"
            ]
            .concat()
            .as_str(),
        )
    );
    assert_eq!(
        suite.state()["last_completed_step"],
        "visit_listed[worker1]"
    );
}

#[test]
fn list_falls_back_to_the_function_path_without_workers_json() {
    let suite = SuiteDir::two_rounds("in-process", 0);
    suite.write("workers.json", "{ not json");
    let steps = with_multi_worker_steps();
    assert_eq!(
        suite.run(&steps, &["--list", "visit"], &[]).whole(),
        (
            Exit::Passed,
            "steps::visit_listed[worker2]: test\nsteps::visit_listed[worker1]: test\n\
             steps::visit: test\n\n3 tests, 0 benchmarks\n",
            ""
        )
    );
    assert!(!suite.data().exists());
    assert_eq!(
        suite.run(&steps, &[], &[]).whole(),
        (
            Exit::SetupFailed,
            "",
            "prometheus-test: error: DIR/workers.json: not valid JSON: key must be a string at line 1 column 3\n"
        ),
        "a run reports the file"
    );
}

#[test]
fn a_run_button_after_a_completed_run_starts_a_fresh_run() {
    let suite = SuiteDir::two_rounds("in-process", 0);
    let steps = work_and_check();
    assert_eq!(
        suite.run(&steps, &["-q"], &[]).conclusion.exit,
        Exit::Passed
    );
    assert_eq!(suite.state()["current_round"], 2);
    assert_eq!(
        suite.run(&steps, &["steps::work", "--exact"], &[]).whole(),
        (
            Exit::Passed,
            "\nrunning 1 test\n\
             test [round 1] steps::work ... ok (0.00s)\n\
             \n\
             test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 1 filtered out; finished in 0.00s\n\
             \nreport: DIR/data/report.html\n",
            [
                "prometheus-test: the previous run completed: starting a fresh run\n",
                FRESH,
                WORKER1_KEYS,
                "prometheus-test: 1 worker ready in 0.00s; 1 step to play in round 1\n"
            ]
            .concat()
            .as_str(),
        )
    );
    assert_eq!(
        suite.state(),
        serde_json::json!({
            "rounds": {"1": {"worked_in": 1}},
            "global": {},
            "current_round": 1,
            "last_completed_step": "work",
        })
    );
}
