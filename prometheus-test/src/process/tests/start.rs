//! Start-up: parallel readiness, timeouts, early exits, port and spawn errors.

use std::time::{Duration, Instant};

use super::support::{
    assert_no_process_left, failed_start, free_port, marked_processes, new_marker, python_spec,
};
use crate::process::{Fleet, LaunchSpec, LogMode};

const GONE: Duration = Duration::from_secs(1);

fn with_env(mut spec: LaunchSpec, key: &str, value: &str) -> LaunchSpec {
    spec.env.push((key.to_owned(), value.to_owned()));
    spec
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_start_in_parallel_and_are_ready_as_soon_as_they_listen() {
    let marker = new_marker("parallel");
    let specs = (1..=3)
        .map(|n| {
            let spec = python_spec(&format!("worker{n}"), "slow_boot.py", free_port(), &marker);
            with_env(spec, "BOOT_DELAY", "2")
        })
        .collect();
    let started = Instant::now();
    let fleet = Fleet::start(specs, LogMode::Capture).await.unwrap();
    let elapsed = started.elapsed();
    // One by one, three 2 s boots would take at least 6 s; the bound leaves
    // a busy machine room for interpreter start-up.
    assert!(
        elapsed >= Duration::from_secs(2),
        "ready before the workers listened: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_millis(5500),
        "start took {elapsed:?}"
    );
    assert_eq!(marked_processes(&marker).len(), 3);
    fleet.shutdown().await;
    assert_no_process_left(&marker, GONE).await;
}

#[tokio::test]
async fn a_worker_that_never_listens_times_out_naming_worker_port_and_output() {
    let marker = new_marker("never-listens");
    let port = free_port();
    let mut spec = python_spec("worker1", "never_listens.py", port, &marker);
    // Long enough for python3 to print its first line on a busy machine.
    spec.start_timeout = Duration::from_secs(2);
    let (text, elapsed) = failed_start(vec![spec]).await;
    assert!(
        text.starts_with(&format!(
            "worker1 (port {port}) was not ready after 2s: waited for port {port} to accept TCP connections; last attempt: "
        )),
        "{text}"
    );
    assert!(
        text.contains("[worker1 ERR] booting, but I will never listen"),
        "{text}"
    );
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    assert_no_process_left(&marker, GONE).await;
}

#[tokio::test]
async fn a_worker_exiting_at_start_is_reported_at_once_with_status_and_output() {
    let marker = new_marker("exits-at-once");
    let good = python_spec("worker1", "good_server.py", free_port(), &marker);
    let bad_port = free_port();
    let bad = python_spec("worker2", "exits_at_once.py", bad_port, &marker);
    let (text, elapsed) = failed_start(vec![good, bad]).await;
    assert!(
        text.starts_with(&format!(
            "worker2 (port {bad_port}) exited during start-up (status 2) before it was ready"
        )),
        "{text}"
    );
    assert!(text.contains("[worker2] loading configuration"), "{text}");
    assert!(
        text.contains("[worker2 ERR] fatal: DATABASE_URL is not set"),
        "{text}"
    );
    // The start timeout is 30 s: the exit must not wait for it.
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    // The good worker that had started is stopped too.
    assert_no_process_left(&marker, GONE).await;
}

#[tokio::test]
async fn a_taken_port_is_an_error_before_anything_starts() {
    let marker = new_marker("taken-port");
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let taken = listener.local_addr().unwrap().port();
    let specs = vec![
        python_spec("worker1", "good_server.py", free_port(), &marker),
        python_spec("worker2", "good_server.py", taken, &marker),
    ];
    let (text, _) = failed_start(specs).await;
    assert!(
        text.contains(&format!("port {taken} of worker2 is already in use")),
        "{text}"
    );
    assert!(marked_processes(&marker).is_empty(), "a worker was started");
}

#[tokio::test]
async fn two_workers_on_one_port_are_named_in_the_error() {
    let marker = new_marker("shared-port");
    let port = free_port();
    let specs = vec![
        python_spec("worker1", "good_server.py", port, &marker),
        python_spec("worker2", "good_server.py", port, &marker),
    ];
    let (text, _) = failed_start(specs).await;
    assert_eq!(
        text,
        format!("worker1 and worker2 are both given port {port}: each needs a port of its own")
    );
    assert!(marked_processes(&marker).is_empty());
}

#[tokio::test]
async fn a_health_url_must_answer_2xx() {
    let marker = new_marker("health");
    let healthy_port = free_port();
    let mut healthy = python_spec("worker1", "good_server.py", healthy_port, &marker);
    healthy.health_url = Some(format!("http://127.0.0.1:{healthy_port}/health"));
    let fleet = Fleet::start(vec![healthy], LogMode::Capture).await.unwrap();
    fleet.shutdown().await;

    let sick_port = free_port();
    let url = format!("http://127.0.0.1:{sick_port}/health");
    let mut sick = with_env(
        python_spec("worker2", "good_server.py", sick_port, &marker),
        "HEALTH_STATUS",
        "503",
    );
    sick.health_url = Some(url.clone());
    // Long enough for python3 to boot and answer 503 on a busy machine.
    sick.start_timeout = Duration::from_secs(3);
    let (text, _) = failed_start(vec![sick]).await;
    assert!(
        text.starts_with(&format!(
            "worker2 (port {sick_port}) was not ready after 3s: waited for GET {url} to answer 2xx; last attempt: answered 503 Service Unavailable"
        )),
        "{text}"
    );
    assert_no_process_left(&marker, GONE).await;
}

#[tokio::test]
async fn a_missing_program_is_named_and_started_workers_are_stopped() {
    let marker = new_marker("missing-program");
    let good = python_spec("worker1", "good_server.py", free_port(), &marker);
    let mut missing = python_spec("worker2", "good_server.py", free_port(), &marker);
    missing.command = vec!["/nonexistent/server-binary".into()];
    let (text, _) = failed_start(vec![good, missing]).await;
    assert!(
        text.starts_with("worker2: could not start `/nonexistent/server-binary` in "),
        "{text}"
    );
    assert_no_process_left(&marker, GONE).await;
}
