//! A running fleet: crashes, per-step logs, shutdown of whole process groups,
//! and guarded children.

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::Command;
use tokio::time::timeout;

use super::support::{
    MARKER_VAR, assert_no_process_left, free_port, marked_processes, new_marker, python_spec,
    start_one_good_worker,
};
use crate::process::fleet::WorkerExited;
use crate::process::{Fleet, LogMode, spawn_guarded, stop_guarded};

const GONE: Duration = Duration::from_secs(1);

async fn get(port: u16, path: &str) -> Result<reqwest::Response, reqwest::Error> {
    crate::http_client::install_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .build()?
        .get(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await
}

/// Waits up to 5 s until a line of worker1's tail contains `needle`.
async fn wait_for_tail_line(fleet: &Fleet, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !fleet
        .tail_of("worker1")
        .iter()
        .any(|line| line.contains(needle))
    {
        assert!(
            Instant::now() < deadline,
            "{needle:?} never logged: {:?}",
            fleet.tail_of("worker1")
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The harness returns `WorkerExited` through `anyhow` and `select!`.
fn assert_is_error<E: std::error::Error + Send + Sync + 'static>(_: &E) {}

#[tokio::test]
async fn a_worker_killed_mid_run_resolves_any_exit_with_signal_and_output() {
    let marker = new_marker("crash-after");
    let mut crashing = python_spec("worker2", "crash_after.py", free_port(), &marker);
    crashing
        .env
        .push(("CRASH_AFTER".to_owned(), "0.5".to_owned()));
    let specs = vec![
        python_spec("worker1", "good_server.py", free_port(), &marker),
        crashing,
    ];
    let fleet = Fleet::start(specs, LogMode::Capture).await.unwrap();
    let exited: WorkerExited = timeout(Duration::from_secs(10), fleet.any_exit())
        .await
        .expect("no exit seen");
    assert_is_error(&exited);
    assert_eq!(exited.name, "worker2");
    assert_eq!(exited.status.to_string(), "signal 9 SIGKILL");
    let text = exited.to_string();
    assert!(
        text.starts_with("worker2 exited (signal 9 SIGKILL)\n  last output of worker2:"),
        "{text}"
    );
    assert!(text.contains("[worker2 ERR] about to crash"), "{text}");
    // A second call reports the same exit at once.
    let again = timeout(Duration::from_secs(1), fleet.any_exit())
        .await
        .expect("exit is remembered");
    assert_eq!(again.name, "worker2");
    fleet.shutdown().await;
    assert_no_process_left(&marker, GONE).await;
}

#[tokio::test]
async fn a_worker_crashing_on_a_request_reports_its_exit_status() {
    let (fleet, port, marker) = start_one_good_worker("crash-request").await;
    let exited = {
        let mut exit = std::pin::pin!(fleet.any_exit());
        assert!(
            timeout(Duration::from_millis(200), &mut exit)
                .await
                .is_err(),
            "exited before the request"
        );
        assert!(
            get(port, "/crash").await.is_err(),
            "the server answered instead of crashing"
        );
        timeout(Duration::from_secs(10), exit)
            .await
            .expect("no exit seen")
    };
    assert_eq!(exited.status.to_string(), "status 3");
    assert!(
        exited
            .tail
            .contains(&"[worker1 ERR] crash requested, exiting with status 3".to_owned()),
        "{exited}"
    );
    fleet.shutdown().await;
    assert_no_process_left(&marker, GONE).await;
}

/// A line the worker wrote before it answered belongs to the step that got
/// the answer, however late the reader would have come to it: the step's
/// capture catches up with the pipes before it ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_written_before_the_answer_is_in_the_step_that_got_it() {
    let (fleet, port, marker) = start_one_good_worker("catch-up").await;
    wait_for_tail_line(&fleet, "listening on port").await;
    for step in 0..30 {
        fleet.begin_capture();
        let path = format!("/step-{step}");
        // http.server logs the request to stderr before it sends the answer.
        assert!(get(port, &path).await.unwrap().status().is_success());
        let captured = fleet.take_captured().await;
        assert!(
            captured
                .iter()
                .any(|line| line.text.contains(&format!("\"GET {path} HTTP/1.1\" 200"))),
            "step {step}: {captured:?}"
        );
    }
    fleet.shutdown().await;
    assert_no_process_left(&marker, GONE).await;
}

#[tokio::test]
async fn lines_are_captured_per_step_and_start_up_lines_only_in_the_tail() {
    let (fleet, port, marker) = start_one_good_worker("capture").await;
    let listening = format!("[worker1] listening on port {port}");
    // The port may accept before the reader has seen the start-up line: wait for it,
    // so that it is read before the step begins on a busy machine too.
    wait_for_tail_line(&fleet, &listening).await;
    fleet.begin_capture();
    assert!(get(port, "/step-one").await.unwrap().status().is_success());
    // http.server logs each request to stderr; wait until the reader saw it.
    wait_for_tail_line(&fleet, "GET /step-one").await;
    let captured = fleet.take_captured().await;
    assert_eq!(captured.len(), 1, "{captured:?}");
    assert!(
        captured[0].to_string().starts_with("[worker1 ERR] ")
            && captured[0].text.contains("\"GET /step-one HTTP/1.1\" 200"),
        "{captured:?}"
    );
    assert!(
        fleet.take_captured().await.is_empty(),
        "the step was not ended"
    );
    assert!(
        fleet.tail_of("worker1").contains(&listening),
        "{:?}",
        fleet.tail_of("worker1")
    );
    fleet.shutdown().await;
    assert_no_process_left(&marker, GONE).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_kills_forked_children_and_workers_that_ignore_sigterm() {
    let marker = new_marker("groups");
    let mut stubborn = python_spec("worker2", "good_server.py", free_port(), &marker);
    stubborn
        .env
        .push(("IGNORE_TERM".to_owned(), "1".to_owned()));
    let specs = vec![
        python_spec("worker1", "forking_server.py", free_port(), &marker),
        stubborn,
        python_spec("worker3", "good_server.py", free_port(), &marker),
    ];
    let fleet = Fleet::start(specs, LogMode::Capture).await.unwrap();
    // worker1, its forked child, worker2 and worker3.
    let running = marked_processes(&marker);
    assert_eq!(running.len(), 4, "{running:?}");
    let started = Instant::now();
    fleet.shutdown().await;
    let took = started.elapsed();
    assert!(
        marked_processes(&marker).is_empty(),
        "{:?}",
        marked_processes(&marker)
    );
    // Both stubborn processes need SIGKILL after the 2 s grace, in parallel.
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(4),
        "{took:?}"
    );
}

#[tokio::test]
async fn shutdown_of_well_behaved_workers_does_not_wait_for_the_grace() {
    let marker = new_marker("quick-stop");
    let specs = (1..=3)
        .map(|n| {
            python_spec(
                &format!("worker{n}"),
                "good_server.py",
                free_port(),
                &marker,
            )
        })
        .collect();
    let fleet = Fleet::start(specs, LogMode::Capture).await.unwrap();
    let started = Instant::now();
    fleet.shutdown().await;
    let took = started.elapsed();
    // The grace is 2 s: well-behaved workers must not wait for it.
    assert!(took < Duration::from_millis(1500), "{took:?}");
    assert_no_process_left(&marker, GONE).await;
}

#[tokio::test]
async fn a_dropped_fleet_kills_its_workers() {
    let marker = new_marker("dropped");
    let specs = vec![python_spec(
        "worker1",
        "forking_server.py",
        free_port(),
        &marker,
    )];
    let fleet = Fleet::start(specs, LogMode::Capture).await.unwrap();
    drop(fleet);
    assert_no_process_left(&marker, GONE).await;
}

#[tokio::test]
async fn a_guarded_child_is_stopped_with_its_whole_group() {
    let marker = new_marker("guarded");
    let mut command = Command::new("sh");
    command
        .args(["-c", "trap '' TERM; sleep 1000 & sleep 1000 & wait"])
        .env(MARKER_VAR, &marker)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = spawn_guarded(&mut command).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while marked_processes(&marker).len() < 3 {
        assert!(Instant::now() < deadline, "{:?}", marked_processes(&marker));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop_guarded(&mut child, Duration::from_millis(300)).await;
    assert!(
        child.try_wait().unwrap().is_some(),
        "the child was not waited for"
    );
    assert_no_process_left(&marker, GONE).await;
}
