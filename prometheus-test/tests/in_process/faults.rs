//! Faults drawn from a seed on the runner's calls to a real python3 worker
//! (`runner->worker1`: resets half the time, a latency otherwise): the same
//! `--seed` draws the same `faults.jsonl` and the same outputs, another
//! seed another history; a reset reaches the step as a failed call; a step
//! partitions and heals a worker itself; a worker's outside call meets its
//! fault with recording off; drawn crashes and pauses reach the workers;
//! `always` and `sometimes` are summed up; a `faults` entry naming no link
//! stops the run before it starts, at its line.

use prometheus_test::__faults::same_faults;
use prometheus_test::__private::{StepDef, StepFuture};
use prometheus_test::{Exit, Runner, Worker};
use serde_json::json;

use crate::support::{SuiteDir, fixture_server, fixture_workers, free_port, step};

/// How many calls each round's step makes.
const CALLS: u32 = 6;

/// A suite of one python3 fixture server, worker1, with `faults`.
fn suite(faults: &str) -> SuiteDir {
    let suite = SuiteDir::empty();
    let server = fixture_server("good_server.py");
    suite.write(
        "config.yaml",
        &format!("task_id: faults\nmax_rounds: 3\nfaults:\n{faults}"),
    );
    suite.write(
        "workers.json",
        &json!({"worker1": {"port": free_port(), "command": ["python3", server]}}).to_string(),
    );
    suite
}

const RESETS_AND_LATENCY: &str = "  - link: \"runner->worker1\"
    probability: 0.5
    reset: {}
  - link: \"runner->worker1\"
    latency: { ms: 20, jitter_ms: 10 }
";

/// Calls worker1 [`CALLS`] times through `runner.http()`; each call either
/// fails before any answer (a reset) or is answered `ok`. Adds the failed
/// calls to `failed` in the global state.
fn calls<'a>(runner: &'a Runner, worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        let mut failed: u32 = runner.try_get("failed")?.unwrap_or(0);
        for _ in 0..CALLS {
            match runner.http().get(format!("{}/", worker.url())).send().await {
                Ok(response) => {
                    let body = response.text().await?;
                    runner.always("an answered call says ok", body == "ok\n");
                }
                Err(error) => {
                    let sent = error
                        .chain()
                        .find_map(|cause| cause.downcast_ref::<reqwest::Error>());
                    anyhow::ensure!(
                        sent.is_some_and(|sent| !sent.is_timeout() && sent.status().is_none()),
                        "a reset is a failed call, no timeout and no status: {error:#}"
                    );
                    runner.sometimes("a call is reset", true);
                    failed += 1;
                }
            }
        }
        runner.set_global("failed", &failed)
    })
}

/// Partitions worker1: a call fails; healed, the same call is answered.
fn scripted<'a>(runner: &'a Runner, worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        let url = format!("{}/health", worker.url());
        runner.faults().partition("worker1")?;
        anyhow::ensure!(runner.http().get(&url).send().await.is_err());
        runner.faults().heal("worker1")?;
        // The schedule still draws on the link: retry past its resets.
        for _ in 0..20 {
            if runner.http().get(&url).send().await.is_ok() {
                return Ok(());
            }
        }
        anyhow::bail!("worker1 stayed cut off after it was healed")
    })
}

fn steps() -> Vec<&'static StepDef> {
    vec![
        step("calls", 1, calls).build(),
        step("scripted", 2, scripted).build(),
    ]
}

/// A fresh run with `--seed seed`: what it printed and its `faults.jsonl`.
fn run(suite: &SuiteDir, seed: &str) -> (Exit, String, String, String) {
    let ran = suite.run(&steps(), &["--reset", "--seed", seed], &[]);
    let history = std::fs::read_to_string(suite.data().join("faults.jsonl"))
        .unwrap_or_else(|err| panic!("the fault history: {err}\n{}{}", ran.out, ran.notes));
    (ran.conclusion.exit, ran.out, ran.notes, history)
}

#[test]
fn the_same_seed_draws_the_same_faults_and_another_seed_others() {
    let suite = suite(RESETS_AND_LATENCY);
    let first = run(&suite, "7");
    assert_eq!(first.0, Exit::Passed, "{}{}", first.1, first.2);
    assert!(
        first
            .2
            .contains("prometheus-test: faults: seed 7 (from --seed); replay with --seed 7 (under nextest: PROMETHEUS_TEST_SEED=7)\n"),
        "{}",
        first.2
    );
    let resets = first
        .3
        .lines()
        .filter(|l| l.contains("\"outcome\":\"reset\""))
        .count();
    let failed: u32 = serde_json::from_value(suite.state()["global"]["failed"].clone())
        .expect("the step counted its failed calls");
    let scheduled_resets = first
        .3
        .lines()
        .filter(|l| {
            l.contains("\"fault\":\"reset\"") && l.contains("\"outcome\"") && l.contains("calls")
        })
        .count();
    assert!(
        failed > 0 && failed < 3 * CALLS,
        "{failed} of {}",
        3 * CALLS
    );
    assert_eq!(
        usize::try_from(failed).unwrap(),
        scheduled_resets,
        "every reset drawn for `calls` is a failed call:\n{}",
        first.3
    );
    assert!(
        resets > scheduled_resets,
        "the partition resets too:\n{}",
        first.3
    );
    assert!(first.3.contains("\"by\":\"script\""), "{}", first.3);
    assert!(first.3.contains("\"fault\":\"latency "), "{}", first.3);

    let again = run(&suite, "7");
    assert_eq!(same_faults(&first.3, &again.3), Ok(()));
    assert_eq!(
        (again.0, &again.1, &again.2),
        (first.0, &first.1, &first.2),
        "the same seed, the same outputs"
    );

    let other = run(&suite, "8");
    assert_eq!(other.0, Exit::Passed, "{}{}", other.1, other.2);
    assert!(
        same_faults(&first.3, &other.3).is_err(),
        "seed 8 drew as 7 did"
    );
}

#[test]
fn a_fault_naming_no_link_stops_the_run_at_its_line() {
    let suite = suite(
        "  - link: \"runner->worker1\"\n    reset: {}\n  - link: \"runner->wrker1\"\n    reset: {}\n",
    );
    let ran = suite.run(&steps(), &["--seed", "1"], &[]);
    assert_eq!(ran.conclusion.exit, Exit::SetupFailed, "{}", ran.notes);
    assert_eq!(
        ran.notes,
        "prometheus-test: error: DIR/config.yaml: line 6: `faults[1].link` `runner->wrker1` names no \
         link: `wrker1` is no worker or service (the workers are `worker1`) and no host (a host \
         has a dot)\n"
    );
    assert!(!suite.data().join("faults.jsonl").exists());
}

/// Whether worker2 answers (asked directly, not through the fault proxy);
/// stored in round data as `up`.
fn look<'a>(runner: &'a Runner, _: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(std::time::Duration::from_millis(500))
            .build()?;
        let url = format!("{}/", runner.worker("worker2")?.url());
        let up = client.get(url).send().await.is_ok();
        runner.set("up", &up)
    })
}

/// A suite of two python3 fixture servers with `faults`, and the step
/// `look` on worker1 in each of `rounds` rounds.
fn two_servers(rounds: u32, faults: &str) -> SuiteDir {
    let suite = SuiteDir::empty();
    suite.write(
        "config.yaml",
        &format!("task_id: churn\nmax_rounds: {rounds}\nfaults:\n{faults}"),
    );
    suite.write(
        "workers.json",
        &fixture_workers(&["worker1", "worker2"], "good_server.py"),
    );
    suite
}

/// Whether `look` found worker2 up, round by round.
fn seen_up(suite: &SuiteDir, rounds: u32) -> Vec<bool> {
    let state = suite.state();
    (1..=rounds)
        .map(|round| {
            state["rounds"][round.to_string()]["up"]
                .as_bool()
                .expect("the step looked")
        })
        .collect()
}

/// The history's lines without their times.
fn timeless(suite: &SuiteDir) -> Vec<String> {
    std::fs::read_to_string(suite.data().join("faults.jsonl"))
        .unwrap()
        .lines()
        .map(|line| line.rsplit_once(",\"at_ms\"").unwrap().0.to_owned())
        .collect()
}

#[test]
fn a_crash_drawn_for_round_2_kills_the_worker_before_that_rounds_step() {
    let suite = two_servers(3, "  - worker: worker2\n    rounds: 2\n    crash: {}\n");
    let ran = suite.run(&[step("look", 1, look).build()], &["--seed", "3"], &[]);
    ran.assert_exit(Exit::Passed);
    assert_eq!(
        seen_up(&suite, 3),
        [true, false, false],
        "a crashed worker stays down"
    );
    assert_eq!(
        timeless(&suite),
        [r#"{"round":2,"step":"steps::look","worker":"worker2","fault":"crash""#]
    );
}

#[test]
fn a_drawn_pause_ends_with_its_step() {
    let suite = two_servers(
        2,
        "  - worker: worker2\n    rounds: 1\n    pause: { ms: 1500 }\n",
    );
    let ran = suite.run(&[step("look", 1, look).build()], &["--seed", "3"], &[]);
    ran.assert_exit(Exit::Passed);
    assert_eq!(seen_up(&suite, 2), [false, true], "paused in round 1 only");
    assert!(
        !suite.state_text().contains("held_workers"),
        "no step ends with worker2 held paused: {}",
        suite.state_text()
    );
    assert_eq!(
        timeless(&suite),
        [r#"{"round":1,"step":"steps::look","worker":"worker2","fault":"pause 1500ms""#]
    );
}

/// Asks worker1 to call a made-up outside host; its answer must be the
/// fault's `503 busy`.
fn outside<'a>(runner: &'a Runner, worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        let url = format!("{}/call?url=http://upstream.example.test/v1", worker.url());
        let answer = runner.http().get(url).send().await?.text().await?;
        anyhow::ensure!(answer == "503 busy", "worker1 got {answer:?}");
        Ok(())
    })
}

#[test]
fn a_workers_outside_call_meets_its_fault_with_recording_off() {
    let suite = SuiteDir::empty();
    let server = fixture_server("calling_server.py");
    suite.write(
        "config.yaml",
        "task_id: outside\nmax_rounds: 1\nfaults:\n  - link: \"worker1->upstream.example.test\"\n    \
         error: { status: 503, body: busy }\n",
    );
    suite.write(
        "workers.json",
        &json!({"worker1": {"port": free_port(), "command": ["python3", server]}}).to_string(),
    );
    let ran = suite.run(
        &[step("outside", 1, outside).build()],
        &["--seed", "1"],
        &[],
    );
    ran.assert_exit(Exit::Passed);
    assert_eq!(
        timeless(&suite),
        [
            r#"{"round":1,"step":"steps::outside","link":"worker1->upstream.example.test","n":0,"request":"GET /v1","fault":"error 503""#,
            r#"{"round":1,"step":"steps::outside","link":"worker1->upstream.example.test","n":0,"request":"GET /v1","fault":"error 503","outcome":"responded 503""#,
        ]
    );
}

/// States a property that never holds and one never true.
fn claims<'a>(runner: &'a Runner, _: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        runner.always("two plus two is five", false);
        runner.sometimes("pigs fly", false);
        Ok(())
    })
}

#[test]
fn a_failed_always_fails_the_run_with_its_seed_and_a_sometimes_never_true_is_listed() {
    let suite = suite("  []\n");
    let ran = suite.run(&[step("claims", 1, claims).build()], &["--seed", "5"], &[]);
    ran.assert_exit(Exit::Failed);
    let ending: Vec<&str> = ran.notes.lines().rev().take(3).collect();
    assert_eq!(
        ending,
        [
            "prometheus-test: faults: rerun with --seed 5 (under nextest: PROMETHEUS_TEST_SEED=5)",
            "prometheus-test: sometimes `pigs fly` was never true (3 checks)",
            "prometheus-test: error: always `two plus two is five` failed 3 of 3 times, first in \
             round 1 steps::claims; rerun with --seed 5 (under nextest: PROMETHEUS_TEST_SEED=5)",
        ],
        "{}",
        ran.notes
    );
    assert!(
        ran.notes
            .contains("prometheus-test: faults: seed 5 (from --seed); replay with --seed 5 (under nextest: PROMETHEUS_TEST_SEED=5)\n"),
        "{}",
        ran.notes
    );
}
