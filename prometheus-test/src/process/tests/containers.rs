//! Container workers on a real Docker Engine: the fixture servers run in an
//! image built here from the host's python3 (`scripts/lib/docker.sh`'s
//! `build_binary_image`, no registry). When no engine answers at
//! `DOCKER_HOST` (or the default socket) each test fails under CI and skips
//! with a notice elsewhere; `scripts/test.sh` provides one.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::time::timeout;

use super::support::{fixtures, free_port, new_marker};
use crate::config::EnvMap;
use crate::config::docker_host_in;
use crate::process::{
    Built, ContainerSpec, Engine, Fleet, LaunchSpec, Life, LineFilter, LogMode, StopHow,
};
use crate::test_support::unavailable;

/// The image the fixture servers run in.
const IMAGE: &str = "prometheus-test-fixtures:local";
/// The suite label of the containers these tests start.
const SUITE: &str = "prometheus-test-process-tests";

/// The run's environment as far as the engine goes: this process's `DOCKER_HOST`.
fn engine_env() -> EnvMap {
    EnvMap::from_pairs(std::env::var("DOCKER_HOST").map(|host| ("DOCKER_HOST", host)))
}

/// The engine's address: `DOCKER_HOST`, else the default socket.
fn docker_host() -> String {
    docker_host_in(&engine_env())
}

/// The engine, with the fixture image built on it; `None` when no engine
/// answers (see [`unavailable`]).
async fn engine() -> Option<Arc<Engine>> {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let engine = match Engine::connect_to(docker_host()).await {
        Ok(engine) => engine,
        Err(error) => {
            unavailable(
                &error.to_string(),
                "scripts/test.sh starts one (scripts/lib/docker.sh ensure_docker)",
            );
            return None;
        }
    };
    let built = tokio::task::spawn_blocking(|| BUILT.get_or_init(build_image).clone())
        .await
        .unwrap();
    if let Err(error) = built {
        panic!("cannot build the fixture image: {error}");
    }
    Some(engine)
}

/// The host's python3 (its real binary) and its standard library: the
/// system's `/usr/bin/python3` when there is one (a small standard library,
/// no site-packages), else the first on PATH.
fn python() -> (String, String) {
    let system = std::path::Path::new("/usr/bin/python3");
    let program = if system.exists() {
        system.as_os_str()
    } else {
        "python3".as_ref()
    };
    let output = Command::new(program)
        .args([
            "-c",
            "import os, sys, sysconfig; print(os.path.realpath(sys.executable)); \
             print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .expect("run python3");
    let text = String::from_utf8(output.stdout).unwrap();
    let mut lines = text.lines().map(str::to_owned);
    (lines.next().unwrap(), lines.next().unwrap())
}

fn build_image() -> Result<(), String> {
    let (python, stdlib) = python();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/lib/docker.sh");
    let output = Command::new("bash")
        .args([
            "-c",
            r#"source "$1" && shift && build_binary_image "$@""#,
            "build",
        ])
        .arg(&script)
        .args([IMAGE, &python, &stdlib])
        .arg(fixtures())
        .output()
        .map_err(|error| error.to_string())?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// Starts `specs` on the engine at `DOCKER_HOST`, their lines passed through `filter`.
async fn start(specs: Vec<LaunchSpec>, filter: Option<LineFilter>) -> anyhow::Result<Fleet> {
    Fleet::start_filtered((specs, &engine_env()), LogMode::Capture, filter).await
}

/// A fixture server `script` as container worker `name`, labelled with `run`.
fn container_spec(name: &str, script: &str, port: u16, run: &str) -> LaunchSpec {
    let (python, _) = python();
    LaunchSpec {
        name: name.to_owned(),
        command: vec![python.into(), fixtures().join(script).into()],
        cwd: fixtures(),
        env: vec![
            ("PORT".to_owned(), port.to_string()),
            ("API_TOKEN".to_owned(), "s3cret-token".to_owned()),
        ],
        port,
        health_url: None,
        start_timeout: Duration::from_secs(30),
        container: Some(ContainerSpec {
            image: IMAGE.to_owned(),
            mounts: Vec::new(),
            labels: vec![
                ("prometheus-test.suite".to_owned(), SUITE.to_owned()),
                ("prometheus-test.run".to_owned(), run.to_owned()),
                ("prometheus-test.worker".to_owned(), name.to_owned()),
            ],
        }),
    }
}

/// The ids of the containers labelled with run `run`, running or not.
fn containers_of(run: &str) -> Vec<String> {
    let output = Command::new("docker")
        .args([
            "ps",
            "-aq",
            "--filter",
            &format!("label=prometheus-test.run={run}"),
        ])
        .output()
        .expect("run docker ps");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// GET `/` on `port` of the runner's loopback: its body, or the kind of failure.
async fn get(port: u16) -> Result<String, String> {
    get_from(Ipv4Addr::LOCALHOST, port).await
}

/// GET `/` on `port` of `host`: its body, or the kind of failure.
async fn get_from(host: Ipv4Addr, port: u16) -> Result<String, String> {
    crate::http_client::install_crypto_provider();
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    match client.get(format!("http://{host}:{port}/")).send().await {
        Ok(response) => Ok(response.text().await.unwrap_or_default()),
        Err(error) if error.is_connect() => Err("connection refused".to_owned()),
        Err(error) if error.is_timeout() => Err("timed out".to_owned()),
        Err(error) => Err(error.to_string()),
    }
}

#[tokio::test]
async fn a_container_worker_serves_logs_redacted_churns_and_leaves_nothing() {
    let Some(_engine) = engine().await else {
        return;
    };
    let run = new_marker("container-life");
    let port = free_port();
    let filter: LineFilter =
        Arc::new(|line: &str| line.replace("s3cret-token", "[redacted: API_TOKEN]"));
    let fleet = start(
        vec![container_spec("worker1", "good_server.py", port, &run)],
        Some(filter),
    )
    .await
    .unwrap();
    assert_eq!(get(port).await, Ok("ok\n".to_owned()));
    assert_eq!(containers_of(&run).len(), 1);
    let worker = fleet.member("worker1").unwrap();

    worker.pause().await.unwrap();
    assert_eq!(get(port).await, Err("timed out".to_owned()));
    worker.resume().await.unwrap();
    assert_eq!(get(port).await, Ok("ok\n".to_owned()));

    let exit = worker.stop(StopHow::Stop).await.unwrap();
    assert_eq!(
        exit.map(|exit| exit.to_string()).as_deref(),
        Some("status 143")
    );
    assert_eq!(get(port).await, Err("connection refused".to_owned()));
    assert!(
        containers_of(&run).is_empty(),
        "a stopped container is removed"
    );
    if let Ok(exited) = timeout(Duration::from_millis(300), fleet.any_exit()).await {
        panic!("a stop is no crash: {exited}");
    }
    worker.start().await.unwrap();
    assert_eq!(worker.life(), Life::Running);
    assert_eq!(get(port).await, Ok("ok\n".to_owned()));
    let exit = worker.stop(StopHow::Kill).await.unwrap();
    assert_eq!(
        exit.map(|exit| exit.to_string()).as_deref(),
        Some("status 137")
    );
    worker.start().await.unwrap();

    // The engine streams the logs a little after the port answers.
    let listening = format!("[worker1] listening on port {port}");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let tail = fleet.tail_of("worker1");
        let seen = tail.iter().filter(|line| **line == listening).count();
        if seen == 3 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "each container's output is followed: {tail:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    fleet.shutdown().await;
    assert!(
        containers_of(&run).is_empty(),
        "shutdown removes the container"
    );
}

#[tokio::test]
async fn a_container_workers_output_is_redacted_like_a_process() {
    let Some(_engine) = engine().await else {
        return;
    };
    let run = new_marker("container-redact");
    let port = free_port();
    let (python, _) = python();
    let mut spec = container_spec("worker1", "good_server.py", port, &run);
    spec.command = vec![
        python.into(),
        "-c".into(),
        "import os, sys; print('using token', os.environ['API_TOKEN']); sys.exit(2)".into(),
    ];
    let filter: LineFilter =
        Arc::new(|line: &str| line.replace("s3cret-token", "[redacted: API_TOKEN]"));
    let error = start(vec![spec], Some(filter))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        format!(
            "worker1 (port {port}) exited during start-up (status 2) before it was ready \
             (waiting for port {port} to accept TCP connections)\n  last output of worker1:\n    \
             [worker1] using token [redacted: API_TOKEN]"
        )
    );
    assert!(
        containers_of(&run).is_empty(),
        "a failed start removes the container"
    );
}

#[tokio::test]
async fn a_container_exiting_at_start_names_its_exit_code_and_last_lines() {
    let Some(_engine) = engine().await else {
        return;
    };
    let run = new_marker("container-exit");
    let port = free_port();
    let (python, _) = python();
    let mut spec = container_spec("worker1", "good_server.py", port, &run);
    spec.command = vec![
        python.into(),
        "-c".into(),
        "import sys; print('loading the model', file=sys.stderr); print('no model file', file=sys.stderr); sys.exit(3)".into(),
    ];
    let error = start(vec![spec], None).await.unwrap_err().to_string();
    assert_eq!(
        error,
        format!(
            "worker1 (port {port}) exited during start-up (status 3) before it was ready \
             (waiting for port {port} to accept TCP connections)\n  last output of worker1:\n    \
             [worker1 ERR] loading the model\n    [worker1 ERR] no model file"
        )
    );
    assert!(
        containers_of(&run).is_empty(),
        "a failed start removes the container"
    );
}

#[tokio::test]
async fn a_container_whose_command_is_not_in_its_image_is_the_error_of_that_worker() {
    let Some(_engine) = engine().await else {
        return;
    };
    let run = new_marker("container-no-command");
    let (port, bad_port) = (free_port(), free_port());
    let mut process = container_spec("worker1", "good_server.py", port, &run);
    process.container = None;
    let mut spec = container_spec("worker3", "good_server.py", bad_port, &run);
    spec.command = vec!["/no/such/program".into(), "--serve".into()];
    let error = start(vec![process, spec], None)
        .await
        .unwrap_err()
        .to_string();
    // tini names its child's PID, which varies with the engine: `tini (N)`.
    let error = match error.split_once("[FATAL tini (") {
        Some((head, tail)) => format!(
            "{head}[FATAL tini (N{}",
            tail.trim_start_matches(|c: char| c.is_ascii_digit())
        ),
        None => error,
    };
    assert_eq!(
        error,
        format!(
            "worker3 (port {bad_port}) exited during start-up (status 127) before it was ready \
             (waiting for port {bad_port} to accept TCP connections)\n  last output of worker3:\n    \
             [worker3 ERR] [FATAL tini (N)] exec /no/such/program failed: No such file or directory"
        )
    );
    assert!(
        containers_of(&run).is_empty(),
        "a failed start removes the container"
    );
}

#[tokio::test]
async fn a_missing_image_and_a_silent_engine_are_one_clear_error_each() {
    let Some(engine) = engine().await else {
        return;
    };
    assert_eq!(
        engine
            .check_images(&[("worker2", "no-such-image:local")])
            .await
            .unwrap_err()
            .to_string(),
        format!(
            "image `no-such-image:local` (worker2) is not present on the Docker Engine at {}: \
             build or load it there first (`docker build -t no-such-image:local …`, `docker \
             load`, `docker import`); the harness never pulls images",
            docker_host()
        )
    );
    assert_eq!(
        engine
            .check_images(&[
                ("worker1", IMAGE),
                ("worker2", "no-such-image:local"),
                ("worker3", "other-missing:local"),
                ("worker4", "no-such-image:local"),
            ])
            .await
            .unwrap_err()
            .to_string(),
        format!(
            "image `no-such-image:local` (worker2, worker4) and image `other-missing:local` \
             (worker3) are not present on the Docker Engine at {}: build or load them there \
             first (`docker build -t no-such-image:local …`, `docker load`, `docker import`); \
             the harness never pulls images",
            docker_host()
        ),
        "every missing image, with every worker using it, in one error"
    );
    engine.check_images(&[("worker1", IMAGE)]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let socket = format!("unix://{}/docker.sock", dir.path().display());
    let error = Engine::connect_to(socket.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!("no Docker Engine answers at {socket} (")),
        "{error}"
    );
    assert!(
        error.ends_with(
            "): start one (e.g. `dockerd` as root), or set DOCKER_HOST to an engine that runs"
        ),
        "{error}"
    );
}

/// A run's `DOCKER_HOST` is read from its environment, never from the process's.
#[tokio::test]
async fn the_container_workers_run_on_the_engine_of_the_runs_environment() {
    let dir = tempfile::tempdir().unwrap();
    let socket = format!("unix://{}/docker.sock", dir.path().display());
    let env = EnvMap::from_pairs([("DOCKER_HOST", socket.as_str())]);
    let spec = container_spec("worker1", "good_server.py", free_port(), "unused");
    let error = Fleet::start_filtered((vec![spec], &env), LogMode::Capture, None)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        format!(
            "no Docker Engine answers at {socket} (Socket not found: {}/docker.sock): start one \
             (e.g. `dockerd` as root), or set DOCKER_HOST to an engine that runs",
            dir.path().display()
        )
    );
}

#[tokio::test]
async fn a_container_left_by_an_earlier_run_is_removed_and_named() {
    let Some(engine) = engine().await else {
        return;
    };
    let suite = new_marker("container-leftover-suite");
    let run = new_marker("container-leftover");
    let (python, _) = python();
    let started = Command::new("docker")
        .args(["run", "-d", "--name", &run])
        .args(["--label", &format!("prometheus-test.suite={suite}")])
        .args(["--label", &format!("prometheus-test.run={run}")])
        .args(["--label", "prometheus-test.worker=worker3"])
        .args([IMAGE, &python, "-c", "import time; time.sleep(60)"])
        .output()
        .unwrap();
    assert!(started.status.success(), "{started:?}");
    assert_eq!(
        engine.remove_leftovers(&suite).await.unwrap(),
        [format!(
            "removed container {run} (worker worker3) left by an earlier run ({run}) of this suite"
        )]
    );
    assert!(containers_of(&run).is_empty());
    assert_eq!(
        engine.remove_leftovers(&suite).await.unwrap(),
        Vec::<String>::new()
    );
}

/// An IPv4 address of this machine other than loopback: the one its default
/// route leaves from (a UDP `connect` picks it and sends nothing).
fn non_loopback_address() -> Option<Ipv4Addr> {
    let socket = std::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    socket.connect((Ipv4Addr::new(198, 51, 100, 1), 9)).ok()?;
    match socket.local_addr().ok()?.ip() {
        IpAddr::V4(ip) if !ip.is_loopback() && !ip.is_unspecified() => Some(ip),
        _ => None,
    }
}

/// The engine at unix socket `socket`, served over TCP on `address` (a port
/// of its own) as a remote engine would be: the listening port, and the task
/// that forwards each connection (aborted when dropped).
async fn engine_over_tcp(address: Ipv4Addr, socket: PathBuf) -> (u16, AbortOnDrop) {
    let listener = tokio::net::TcpListener::bind((address, 0)).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let socket = socket.clone();
            tokio::spawn(async move {
                if let Ok(mut engine) = tokio::net::UnixStream::connect(&socket).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut engine).await;
                }
            });
        }
    });
    (port, AbortOnDrop(task))
}

/// Aborts its task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// `docker inspect` of a container labelled with run `run`: its network mode
/// and port bindings.
fn network_of(run: &str) -> String {
    let id = containers_of(run).pop().expect("the run's container");
    let output = Command::new("docker")
        .args([
            "inspect",
            "-f",
            "{{.HostConfig.NetworkMode}} {{json .HostConfig.PortBindings}}",
            &id,
        ])
        .output()
        .expect("run docker inspect");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[tokio::test]
async fn a_worker_on_a_remote_engine_is_published_probed_and_reached_on_its_host() {
    if engine().await.is_none() {
        return;
    }
    let Some(socket) = docker_host().strip_prefix("unix://").map(PathBuf::from) else {
        return unavailable(
            &format!("the engine at {} is not on a unix socket", docker_host()),
            "the test serves one over TCP; scripts/test.sh starts one on a unix socket",
        );
    };
    let Some(address) = non_loopback_address() else {
        return unavailable(
            "this machine has no IPv4 address but loopback",
            "the test reaches the engine as a remote one at such an address",
        );
    };
    let (engine_port, _forwarding) = engine_over_tcp(address, socket).await;
    let engine = Engine::connect_to(format!("tcp://{address}:{engine_port}"))
        .await
        .unwrap();
    assert_eq!(engine.remote_host(), Some(address.to_string().as_str()));
    let run = new_marker("container-remote");
    let port = free_port();

    // A worker listening on the container's loopback is never reached.
    let mut on_loopback = container_spec("worker1", "good_server.py", port, &run);
    on_loopback.start_timeout = Duration::from_secs(2);
    let error = Fleet::start_on(
        Some(Arc::clone(&engine)),
        (vec![vec![on_loopback]], &EnvMap::default()),
        LogMode::Capture,
        None,
        None,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        error.starts_with(&format!(
            "worker1 (port {port}) was not ready after 2s: waited for port {port} of {address} \
             to accept TCP connections; last attempt: "
        )) && error.contains(
            "; a worker in a container on a remote engine must listen on all interfaces \
             (0.0.0.0), not on 127.0.0.1: its port is published from the container's own network"
        ),
        "{error}"
    );
    assert!(containers_of(&run).is_empty());

    let mut on_all = container_spec("worker1", "good_server.py", port, &run);
    on_all.env.push(("HOST".to_owned(), "0.0.0.0".to_owned()));
    let fleet = Fleet::start_on(
        Some(engine),
        (vec![vec![on_all]], &EnvMap::default()),
        LogMode::Capture,
        None,
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        network_of(&run),
        format!(r#"default {{"{port}/tcp":[{{"HostIp":"0.0.0.0","HostPort":"{port}"}}]}}"#),
        "a remote engine's container publishes its port"
    );
    // Ready means answering on the engine's host, at the first request.
    assert_eq!(get_from(address, port).await, Ok("ok\n".to_owned()));
    let worker = fleet.member("worker1").unwrap();
    worker.stop(StopHow::Stop).await.unwrap();
    assert!(containers_of(&run).is_empty());
    worker.start().await.unwrap();
    assert_eq!(get_from(address, port).await, Ok("ok\n".to_owned()));
    fleet.shutdown().await;
    assert!(
        containers_of(&run).is_empty(),
        "shutdown removes the container"
    );
}

/// Set in the child runner's environment: the run label of its container.
const CHILD_RUN_VAR: &str = "PT_CONTAINER_CHILD_RUN";
/// Printed by the child runner once its container worker is ready.
const CHILD_READY: &str = "PT_CONTAINER_CHILD_READY";

/// The child runner: starts one container worker, says so, and waits to be
/// killed. Does nothing unless started by the test below.
#[tokio::test]
#[ignore = "run as a child process by a_runner_killed_with_sigkill_leaves_no_container"]
async fn container_child_runner() {
    let Ok(run) = std::env::var(CHILD_RUN_VAR) else {
        return;
    };
    let fleet = start(
        vec![container_spec(
            "worker1",
            "good_server.py",
            free_port(),
            &run,
        )],
        None,
    )
    .await
    .expect("the child runner's fleet starts");
    println!("{CHILD_READY}");
    std::future::pending::<()>().await;
    drop(fleet);
}

#[tokio::test]
async fn a_runner_killed_with_sigkill_leaves_no_container() {
    use tokio::io::AsyncBufReadExt as _;

    if engine().await.is_none() {
        return;
    }
    let run = new_marker("container-sigkill");
    let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "process::tests::containers::container_child_runner",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env(CHILD_RUN_VAR, &run)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = stdout.next_line().await {
            if line == CHILD_READY {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(
        ready,
        Ok(true),
        "the child runner's container did not start"
    );
    assert_eq!(containers_of(&run).len(), 1);
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !containers_of(&run).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the killed runner's container is still there"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// For `scripts/bench-containers.sh`: 10 container workers started and
/// ready through the fleet, then one restarted; prints `fleet_ms=` and
/// `restart_ms=`.
#[tokio::test]
#[ignore = "a benchmark, run by scripts/bench-containers.sh"]
async fn bench_ten_container_workers() {
    if engine().await.is_none() {
        return;
    }
    let run = new_marker("container-bench");
    let specs = (1..=10)
        .map(|n| container_spec(&format!("worker{n}"), "good_server.py", free_port(), &run))
        .collect();
    let started = std::time::Instant::now();
    let fleet = start(specs, None).await.unwrap();
    println!("fleet_ms={}", started.elapsed().as_millis());
    let worker = fleet.member("worker1").unwrap();
    let restarted = std::time::Instant::now();
    worker.stop(StopHow::Stop).await.unwrap();
    worker.start().await.unwrap();
    println!("restart_ms={}", restarted.elapsed().as_millis());
    fleet.shutdown().await;
}

/// A build context on the fixture image, adding `server.py` (`good_server.py`)
/// at /app, and its spec.
fn build_context(dockerfile: &str) -> (tempfile::TempDir, crate::config::BuildSpec) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
    std::fs::copy(
        fixtures().join("good_server.py"),
        dir.path().join("server.py"),
    )
    .unwrap();
    let spec = crate::config::BuildSpec {
        context: dir.path().to_owned(),
        dockerfile: "Dockerfile".to_owned(),
        args: vec![("BASE".to_owned(), IMAGE.to_owned())],
        target: None,
    };
    (dir, spec)
}

#[tokio::test]
async fn an_image_is_built_from_a_dockerfile_once_per_context_and_runs() {
    let Some(engine) = engine().await else {
        return;
    };
    let run = new_marker("build");
    let tag = crate::config::built_tag(&run, "middle");
    let (dir, spec) = build_context("ARG BASE\nFROM ${BASE}\nCOPY server.py /app/server.py\n");
    assert_eq!(
        engine.build("middle", &spec, &tag).await.unwrap(),
        Built::Fresh
    );
    assert_eq!(
        engine.build("middle", &spec, &tag).await.unwrap(),
        Built::Cached
    );
    // The image runs: a container of it serves.
    let port = free_port();
    let (python, _) = python();
    let mut container = container_spec("middle", "good_server.py", port, &run);
    container.command = vec![python.into(), "/app/server.py".into()];
    container.container.as_mut().unwrap().image.clone_from(&tag);
    let fleet = start(vec![container], None).await.unwrap();
    assert_eq!(get(port).await, Ok("ok\n".to_owned()));
    fleet.shutdown().await;
    // A changed context is built again.
    std::fs::write(dir.path().join("notes.txt"), "new").unwrap();
    assert_eq!(
        engine.build("middle", &spec, &tag).await.unwrap(),
        Built::Fresh
    );
    let _ = Command::new("docker").args(["rmi", "-f", &tag]).output();
}

#[tokio::test]
async fn a_failed_build_names_its_step_and_shows_the_last_lines_of_its_log() {
    let Some(engine) = engine().await else {
        return;
    };
    let tag = crate::config::built_tag(&new_marker("build-fails"), "middle");
    let (_dir, spec) = build_context("ARG BASE\nFROM ${BASE}\nCOPY missing.txt /app/\n");
    let error = engine
        .build("middle", &spec, &tag)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("middle: building "), "{error}");
    assert!(error.contains("missing.txt"), "{error}");
    assert!(error.contains("last lines of the build:"), "{error}");

    let (_dir, offline) = build_context("FROM prometheus-test-no-such-image:never\n");
    let error = engine
        .build("middle", &offline, &tag)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("`FROM` names an image the engine does not have and cannot pull"),
        "{error}"
    );
    let (_dir, mut no_file) = build_context("FROM scratch\n");
    no_file.dockerfile = "middle.Dockerfile".to_owned();
    let error = engine
        .build("middle", &no_file, &tag)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("middle: `build`: no Dockerfile at "),
        "{error}"
    );
}

/// For `scripts/bench-containers.sh`: the build of an image whose context
/// did not change (the example's middle server's folder), after a first
/// build; prints `cached_build_ms=` for each of 5 and `fresh_build_ms=`.
#[tokio::test]
#[ignore = "a benchmark, run by scripts/bench-containers.sh"]
async fn bench_cached_build() {
    let Some(engine) = engine().await else {
        return;
    };
    let context = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/todo-task/middle");
    let spec = crate::config::BuildSpec {
        context,
        dockerfile: "Dockerfile".to_owned(),
        args: vec![("BASE".to_owned(), IMAGE.to_owned())],
        target: None,
    };
    let tag = crate::config::built_tag(&new_marker("bench-build"), "middle");
    let started = std::time::Instant::now();
    assert_eq!(
        engine.build("middle", &spec, &tag).await.unwrap(),
        Built::Fresh
    );
    println!("fresh_build_ms={}", started.elapsed().as_millis());
    for _ in 0..5 {
        let started = std::time::Instant::now();
        assert_eq!(
            engine.build("middle", &spec, &tag).await.unwrap(),
            Built::Cached
        );
        println!("cached_build_ms={}", started.elapsed().as_millis());
    }
    let _ = Command::new("docker").args(["rmi", "-f", &tag]).output();
}
