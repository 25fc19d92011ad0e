//! config.yaml's `services` in whole runs, with real python3 processes
//! (`tests/fixtures/servers/stack_service.py`): started before the workers
//! in the order `depends_on` gives (a service that finds what it needs down
//! exits), their `exports` in the workers' environment, reached and churned
//! by steps through `runner.service`, their data folder in the snapshots,
//! and a service's crash failing the running step.

use prometheus_test::__private::StepFuture;
use prometheus_test::{Exit, Runner, Worker};
use serde_json::json;

use crate::support::{SuiteDir, fixture_server, free_port, step};

fn fixture() -> String {
    fixture_server("stack_service.py")
}

/// A suite of `chain`, then `middle` (which needs `chain` up to start and
/// exports its URL), then worker1, over `rounds` rounds.
fn stack(rounds: u32) -> SuiteDir {
    let suite = SuiteDir::empty();
    let (chain, middle) = (free_port(), free_port());
    let server = fixture();
    suite.write(
        "config.yaml",
        &format!(
            "task_id: stack\nmax_rounds: {rounds}\nservices:\n  \
             middle:\n    command: [python3, \"{server}\"]\n    port: {middle}\n    \
             health_path: /health\n    depends_on: [chain]\n    \
             env: {{ NEEDS: \"http://localhost:{chain}/health\" }}\n    \
             exports: {{ MIDDLE_URL: \"{{url}}\" }}\n    data_dir: middle\n  \
             chain:\n    command: [python3, \"{server}\"]\n    port: {chain}\n"
        ),
    );
    suite.write(
        "workers.json",
        &json!({"worker1": {"port": free_port(), "command": ["python3", &server], "health_path": "/health"}})
            .to_string(),
    );
    suite
}

/// GETs `path` of `url` and answers the body.
async fn get(runner: &Runner, url: &str, path: &str) -> anyhow::Result<String> {
    Ok(runner
        .http()
        .get(format!("{url}{path}"))
        .send()
        .await?
        .text()
        .await?)
}

/// What worker1 and the middle service see: stored as `seen`.
fn looks_around<'a>(runner: &'a Runner, worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        let middle = runner.service("middle")?;
        let exported = get(runner, worker.url(), "/env?name=MIDDLE_URL").await?;
        let data_dir = get(runner, middle.url(), "/env?name=DATA_DIR").await?;
        let port = get(runner, middle.url(), "/env?name=PORT").await?;
        runner.set(
            "seen",
            &json!({
                "exported": exported,
                "url": middle.url(),
                "env": middle.env("MIDDLE_URL"),
                "data_dir_is_a_folder": std::path::Path::new(&data_dir).is_dir(),
                "port_matches": port == middle.port().to_string(),
                "unknown": runner.service("nope").unwrap_err().to_string(),
            }),
        )
    })
}

#[test]
fn services_start_before_the_workers_in_order_and_export_their_urls() {
    let suite = stack(1);
    let ran = suite.run(&[step("looks", 1, looks_around).build()], &[], &[]);
    ran.assert_exit(Exit::Passed);
    let seen = &suite.state()["rounds"]["1"]["seen"];
    let url = seen["url"].as_str().unwrap();
    assert!(url.starts_with("http://localhost:"), "{seen}");
    assert_eq!(seen["exported"], url);
    assert_eq!(seen["env"], url);
    assert_eq!(seen["data_dir_is_a_folder"], true);
    assert_eq!(seen["port_matches"], true);
    assert_eq!(
        seen["unknown"],
        "no service `nope`; config.yaml's `services` are chain, middle"
    );
}

#[test]
fn a_services_port_taken_stops_the_run_before_any_step() {
    let suite = stack(1);
    let config = std::fs::read_to_string(suite.path().join("config.yaml")).unwrap();
    let chain_port: u16 = config
        .rsplit("port: ")
        .next()
        .and_then(|rest| rest.lines().next())
        .and_then(|port| port.trim().parse().ok())
        .unwrap();
    let holder = std::net::TcpListener::bind(("127.0.0.1", chain_port)).unwrap();
    let ran = suite.run(&[step("looks", 1, looks_around).build()], &[], &[]);
    drop(holder);
    ran.assert_exit(Exit::SetupFailed);
    assert!(
        ran.notes
            .contains(&format!("port {chain_port} of chain is already in use")),
        "{}",
        ran.notes
    );
    assert!(!ran.out.contains("looks"), "no step ran: {}", ran.out);
}

/// Stops middle, asks it, starts it again: stored as `churned`.
fn churns_middle<'a>(runner: &'a Runner, _: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        let middle = runner.service("middle")?;
        middle.stop().await?;
        let stopped = middle.is_stopped();
        let refused = get(runner, middle.url(), "/health").await.is_err();
        middle.start().await?;
        let back = get(runner, middle.url(), "/health").await?;
        runner.set(
            "churned",
            &json!([stopped, refused, back, middle.is_stopped()]),
        )
    })
}

#[test]
fn a_step_stops_and_starts_a_service() {
    let suite = stack(1);
    let ran = suite.run(&[step("churns", 1, churns_middle).build()], &[], &[]);
    ran.assert_exit(Exit::Passed);
    assert_eq!(
        suite.state()["rounds"]["1"]["churned"],
        json!([true, true, "ok", false])
    );
}

/// Asks middle to crash.
fn crashes_middle<'a>(runner: &'a Runner, _: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        let middle = runner.service("middle")?;
        let _ = get(runner, middle.url(), "/crash").await;
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        Ok(())
    })
}

#[test]
fn a_service_that_crashes_fails_the_running_step() {
    let suite = stack(1);
    let ran = suite.run(&[step("crashes", 1, crashes_middle).build()], &[], &[]);
    ran.assert_exit(Exit::Failed);
    assert!(
        ran.out.contains("middle exited (status 3)"),
        "{}{}",
        ran.out,
        ran.notes
    );
}

/// Visits middle (its count is kept in its data folder), and fails once
/// after the visit of round 2 when `FAIL_ONCE` names a file that does not
/// exist yet (creating it).
fn visits<'a>(runner: &'a Runner, _: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        let middle = runner.service("middle")?;
        let count: u32 = get(runner, middle.url(), "/count").await?.parse()?;
        runner.set("count", &count)?;
        let marker = runner.data_dir().join("failed-once");
        if runner.current_round() == 2 && !marker.exists() {
            std::fs::write(&marker, "")?;
            anyhow::bail!("failing once after the visit");
        }
        Ok(())
    })
}

#[test]
fn a_resumed_run_restores_a_services_data_folder() {
    let suite = stack(2);
    let config = std::fs::read_to_string(suite.path().join("config.yaml")).unwrap();
    // The support turns snapshots off unless the file names them.
    suite.write(
        "config.yaml",
        &config.replace("snapshots: off\n", "snapshots:\n  keep_rounds: 2\n"),
    );
    let steps = [step("visits", 1, visits).build()];
    let failed = suite.run(&steps, &[], &[]);
    assert_eq!(failed.conclusion.exit, Exit::Failed, "{}", failed.notes);
    let visits = suite.data().join("middle/visits");
    assert_eq!(std::fs::read_to_string(&visits).unwrap(), "2");
    let resumed = suite.run(&steps, &[], &[]);
    resumed.assert_exit(Exit::Passed);
    // The snapshot before round 2's step had 1 visit: counted again, 2.
    assert_eq!(suite.state()["rounds"]["2"]["count"], 2);
    assert_eq!(std::fs::read_to_string(&visits).unwrap(), "2");
}

#[test]
fn a_service_named_like_a_worker_is_refused() {
    let suite = stack(1);
    let config = std::fs::read_to_string(suite.path().join("config.yaml")).unwrap();
    suite.write(
        "config.yaml",
        &config
            .replace("  chain:", "  worker1:")
            .replace("[chain]", "[worker1]"),
    );
    let ran = suite.run(&[step("looks", 1, looks_around).build()], &[], &[]);
    ran.assert_exit(Exit::SetupFailed);
    assert!(
        ran.notes
            .contains("service `worker1` has the name of a worker of"),
        "{}",
        ran.notes
    );
}
