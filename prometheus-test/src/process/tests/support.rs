//! Fixture paths, free ports, finding the processes a test started, and
//! what a test does when what it tests is missing here.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::process::{Fleet, LaunchSpec, LogMode};

/// The environment variable that marks every process a test started.
pub(super) const MARKER_VAR: &str = "PT_TEST_MARKER";

/// The directory of the fixture servers.
pub(super) fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/servers")
}

/// A port nobody listens on right now.
pub(super) fn free_port() -> u16 {
    crate::process::free_port().expect("bind an ephemeral port")
}

/// A marker value unique to this test.
pub(super) fn new_marker(test: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!(
        "{test}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A python3 fixture server as worker `name`, marked with `marker`.
pub(super) fn python_spec(name: &str, script: &str, port: u16, marker: &str) -> LaunchSpec {
    LaunchSpec {
        name: name.to_owned(),
        command: vec!["python3".into(), fixtures().join(script).into()],
        cwd: fixtures(),
        env: vec![
            ("PORT".to_owned(), port.to_string()),
            (MARKER_VAR.to_owned(), marker.to_owned()),
        ],
        port,
        health_url: None,
        start_timeout: Duration::from_secs(30),
        container: None,
    }
}

/// A fleet of one good fixture server, `worker1`, marked with a new marker for
/// `test`; returns the fleet, its port and the marker.
pub(super) async fn start_one_good_worker(test: &str) -> (Fleet, u16, String) {
    let marker = new_marker(test);
    let port = free_port();
    let fleet = Fleet::start(
        vec![python_spec("worker1", "good_server.py", port, &marker)],
        LogMode::Capture,
    )
    .await
    .unwrap();
    (fleet, port, marker)
}

/// Starts `specs`, which must fail; returns the error's text and how long the start took.
pub(super) async fn failed_start(specs: Vec<LaunchSpec>) -> (String, Duration) {
    let started = Instant::now();
    let error = Fleet::start(specs, LogMode::Capture).await.unwrap_err();
    (error.to_string(), started.elapsed())
}

/// `pid cmdline` of every live process whose environment holds `PT_TEST_MARKER=<marker>`.
pub(super) fn marked_processes(marker: &str) -> Vec<String> {
    let wanted = format!("{MARKER_VAR}={marker}");
    let Ok(entries) = std::fs::read_dir("/proc") else {
        panic!("these tests need /proc to find leftover processes");
    };
    entries
        .flatten()
        .filter(|entry| {
            entry
                .file_name()
                .to_str()
                .is_some_and(|name| name.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter(|entry| {
            // A zombie has an empty environ: it is gone for our purpose.
            std::fs::read(entry.path().join("environ")).is_ok_and(|environ| {
                environ
                    .split(|byte| *byte == 0)
                    .any(|var| var == wanted.as_bytes())
            })
        })
        .map(|entry| {
            let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            format!(
                "{} {}",
                entry.file_name().to_string_lossy(),
                cmdline.trim_end()
            )
        })
        .collect()
}

/// Fails unless every process marked with `marker` is gone within `within`.
pub(super) async fn assert_no_process_left(marker: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let left = marked_processes(marker);
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "processes left after {within:?}:\n  {}",
            left.join("\n  ")
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
