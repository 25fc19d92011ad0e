//! The seed of a run's faults is kept in its state: a resumed run given no
//! `--seed` draws from the seed of the run it continues, and an explicit
//! `--seed` still wins.

use prometheus_test::__private::StepFuture;
use prometheus_test::{Exit, Runner, Worker};

use crate::support::{SuiteDir, one_fixture_worker, step};

/// Calls worker1 once; fails once in round 2 (the marker file).
fn calls_once<'a>(runner: &'a Runner, worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        runner
            .http()
            .get(format!("{}/", worker.url()))
            .send()
            .await?;
        let marker = runner.data_dir().join("failed-once");
        if runner.current_round() == 2 && !marker.exists() {
            std::fs::write(&marker, "")?;
            anyhow::bail!("failing once in round 2");
        }
        Ok(())
    })
}

fn suite() -> SuiteDir {
    let suite = SuiteDir::empty();
    suite.write(
        "config.yaml",
        "task_id: seeds\nmax_rounds: 2\nfaults:\n  - link: \"runner->worker1\"\n    \
         latency: { ms: 1 }\n",
    );
    suite.write("workers.json", &one_fixture_worker("good_server.py"));
    suite
}

#[test]
fn a_resumed_run_without_a_seed_draws_from_the_seed_of_the_run_it_continues() {
    let suite = suite();
    let steps = [step("calls", 1, calls_once).build()];
    let failed = suite.run(&steps, &["--seed", "7"], &[]);
    assert_eq!(failed.conclusion.exit, Exit::Failed, "{}", failed.notes);
    assert_eq!(suite.state()["fault_seed"], 7);
    let resumed = suite.run(&steps, &[], &[]);
    resumed.assert_exit(Exit::Passed);
    assert!(
        resumed
            .notes
            .contains("faults: seed 7 (the resumed run's); replay with --seed 7"),
        "{}",
        resumed.notes
    );
    // A fresh run draws a fresh seed; an explicit one wins over the kept one.
    let fresh = suite.run(&steps, &["--reset", "--seed", "9"], &[]);
    assert!(
        fresh.notes.contains("faults: seed 9 (from --seed)"),
        "{}",
        fresh.notes
    );
    assert_eq!(suite.state()["fault_seed"], 9);
}
