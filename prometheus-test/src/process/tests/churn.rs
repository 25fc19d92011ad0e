//! A step's operations on a running worker with real processes and signals:
//! stop, kill, start, pause and resume, what each leaves behind, and the one
//! error for each operation that does not fit the worker's state.

use std::time::Duration;

use tokio::time::timeout;

use super::support::{
    assert_no_process_left, free_port, marked_processes, new_marker, python_spec,
};
use crate::process::{Fleet, Life, LogMode, StopHow};

const GONE: Duration = Duration::from_secs(1);

/// GET `/` of the worker on `port`: its body, or the kind of failure.
async fn get(port: u16) -> Result<String, String> {
    crate::http_client::install_crypto_provider();
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    match client.get(format!("http://127.0.0.1:{port}/")).send().await {
        Ok(response) => Ok(response.text().await.unwrap_or_default()),
        Err(error) if error.is_connect() => Err("connection refused".to_owned()),
        Err(error) if error.is_timeout() => Err("timed out".to_owned()),
        Err(error) => Err(error.to_string()),
    }
}

/// A fleet of two good fixture servers; worker2's port.
async fn two_workers(marker: &str) -> (Fleet, u16) {
    let port = free_port();
    let fleet = Fleet::start(
        vec![
            python_spec("worker1", "good_server.py", free_port(), marker),
            python_spec("worker2", "good_server.py", port, marker),
        ],
        LogMode::Capture,
    )
    .await
    .unwrap();
    (fleet, port)
}

/// Fails if the fleet reports a crash within 300 ms.
async fn assert_no_crash(fleet: &Fleet) {
    if let Ok(exited) = timeout(Duration::from_millis(300), fleet.any_exit()).await {
        panic!("a crash was reported: {exited}");
    }
}

#[tokio::test]
async fn a_stopped_worker_is_no_crash_and_starts_again_on_its_port_with_its_logs() {
    let marker = new_marker("churn-stop");
    let (fleet, port) = two_workers(&marker).await;
    let worker2 = fleet.member("worker2").unwrap();
    let exit = worker2.stop(StopHow::Stop).await.unwrap();
    assert_eq!(
        exit.map(|exit| exit.to_string()).as_deref(),
        Some("signal 15 SIGTERM")
    );
    assert_eq!(worker2.life(), Life::Stopped);
    assert_eq!(get(port).await, Err("connection refused".to_owned()));
    assert_no_crash(&fleet).await;
    assert_eq!(marked_processes(&marker).len(), 1, "worker1 runs on");

    worker2.start().await.unwrap();
    assert_eq!(worker2.life(), Life::Running);
    assert_eq!(get(port).await, Ok("ok\n".to_owned()));
    let listening = format!("[worker2] listening on port {port}");
    assert_eq!(
        fleet
            .tail_of("worker2")
            .iter()
            .filter(|line| **line == listening)
            .count(),
        2,
        "both processes' output is followed: {:?}",
        fleet.tail_of("worker2")
    );
    assert_no_crash(&fleet).await;
    let exits = fleet.shutdown_with_exits().await;
    assert_eq!(
        exits
            .iter()
            .map(|(name, exit)| format!(
                "{name} {}",
                exit.map(|e| e.to_string()).unwrap_or_default()
            ))
            .collect::<Vec<_>>(),
        ["worker1 signal 15 SIGTERM", "worker2 signal 15 SIGTERM"]
    );
    assert_no_process_left(&marker, GONE).await;
}

#[tokio::test]
async fn a_killed_worker_ends_by_sigkill_and_a_paused_one_answers_only_once_resumed() {
    let marker = new_marker("churn-pause");
    let (fleet, port) = two_workers(&marker).await;
    let worker2 = fleet.member("worker2").unwrap();
    worker2.pause().await.unwrap();
    assert_eq!(worker2.life(), Life::Paused);
    assert_eq!(get(port).await, Err("timed out".to_owned()));
    worker2.resume().await.unwrap();
    assert_eq!(get(port).await, Ok("ok\n".to_owned()));

    let exit = worker2.stop(StopHow::Kill).await.unwrap();
    assert_eq!(
        exit.map(|exit| exit.to_string()).as_deref(),
        Some("signal 9 SIGKILL")
    );
    assert_no_crash(&fleet).await;
    assert_eq!(marked_processes(&marker).len(), 1, "only worker1 is left");
    fleet.shutdown().await;
    assert_no_process_left(&marker, GONE).await;
}

#[tokio::test]
async fn a_paused_worker_is_stopped_at_the_end_and_a_restarted_one_that_crashes_is_a_crash() {
    let marker = new_marker("churn-crash");
    let (fleet, port) = two_workers(&marker).await;
    let worker2 = fleet.member("worker2").unwrap();
    worker2.stop(StopHow::Stop).await.unwrap();
    worker2.start().await.unwrap();
    // GET /crash makes the fixture exit with status 3.
    let _ = reqwest::Client::builder()
        .no_proxy()
        .build()
        .unwrap()
        .get(format!("http://127.0.0.1:{port}/crash"))
        .send()
        .await;
    let exited = timeout(Duration::from_secs(5), fleet.any_exit())
        .await
        .expect("the crash is seen");
    assert_eq!(
        (exited.name.as_str(), exited.status.to_string()),
        ("worker2", "status 3".to_owned())
    );

    fleet.member("worker1").unwrap().pause().await.unwrap();
    let exits = fleet.shutdown_with_exits().await;
    assert_eq!(
        exits
            .iter()
            .map(|(name, exit)| format!(
                "{name} {}",
                exit.map(|e| e.to_string()).unwrap_or_default()
            ))
            .collect::<Vec<_>>(),
        ["worker1 signal 15 SIGTERM", "worker2 status 3"],
        "a paused worker still ends by its SIGTERM"
    );
    assert_no_process_left(&marker, GONE).await;
}

#[tokio::test]
async fn an_operation_that_does_not_fit_the_workers_state_is_one_clear_error() {
    let marker = new_marker("churn-errors");
    let (fleet, _) = two_workers(&marker).await;
    let worker2 = fleet.member("worker2").unwrap();
    let message = |result: anyhow::Result<()>| result.unwrap_err().to_string();
    assert_eq!(
        message(worker2.start().await),
        "cannot start worker2: it is running; stop it first, or call `restart` to stop and start it"
    );
    assert_eq!(
        message(worker2.resume().await),
        "cannot resume worker2: it is running, not paused"
    );
    worker2.pause().await.unwrap();
    assert_eq!(
        message(worker2.pause().await),
        "cannot pause worker2: it is paused already"
    );
    worker2.stop(StopHow::Stop).await.unwrap();
    assert_eq!(
        message(worker2.pause().await),
        "cannot pause worker2: it is stopped, not running"
    );
    assert_eq!(
        message(worker2.stop(StopHow::Kill).await.map(drop)),
        "cannot kill worker2: it is stopped"
    );
    assert_eq!(
        worker2.life(),
        Life::Stopped,
        "a refused operation changes nothing"
    );
    fleet.shutdown().await;
    assert_no_process_left(&marker, GONE).await;
}
