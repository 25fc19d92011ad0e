//! The workers' calls to the outside world on tape. Real clients in real
//! worker processes — Python's `requests` and `httpx`, the Anthropic SDK
//! streaming, Node's `fetch` (through undici's proxy agent) and `git clone`
//! over HTTPS — reach a fake HTTPS upstream by its made-up name through the
//! recording proxy (`recording.upstreams`). A run records; with the
//! upstream stopped a second run replays offline with the same answers and
//! the same outputs; a changed prompt fails its step naming the difference;
//! a secret of the run never reaches a cassette.
//!
//! The clients come from `scripts/lib/clients.sh` (`PROMETHEUS_TEST_CLIENTS_*`);
//! without them the tests skip, and fail under CI.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use prometheus_test::__private::{StepDef, StepFuture};
use prometheus_test::{Exit, Runner, Worker};
use serde_json::json;

use crate::support::{SuiteDir, free_port, step};

/// The made-up host of the outside world; `recording.upstreams` sends it to
/// the fake upstream.
const HOST: &str = "upstream.example.test";

/// The run's secret: a mapped variable the workers send as `x-api-key`.
const API_KEY: &str = "sk-live-0123456789abcdef";

/// The Python with the clients, and the folder whose `node_modules` holds
/// undici; `None` (skipped, failing under CI) when not installed.
fn clients() -> Option<(String, String)> {
    let python = std::env::var("PROMETHEUS_TEST_CLIENTS_PYTHON").ok();
    let node = std::env::var("PROMETHEUS_TEST_CLIENTS_NODE").ok();
    match (python, node) {
        (Some(python), Some(node)) if Path::new(&python).exists() => Some((python, node)),
        _ => {
            let why = "no HTTP clients: scripts/lib/clients.sh ensure_http_clients installs them \
                       (PROMETHEUS_TEST_CLIENTS_PYTHON, PROMETHEUS_TEST_CLIENTS_NODE)";
            let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false");
            assert!(!ci, "{why}; under CI the recording tests must run");
            eprintln!("ignored: {why}");
            None
        }
    }
}

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/outbound")
        .join(name)
        .display()
        .to_string()
}

/// The fake upstream on a port of its own, with its CA and a bare git
/// repository to clone; stopped when dropped.
struct Upstream {
    child: Child,
    port: u16,
    ca: PathBuf,
    _files: tempfile::TempDir,
}

impl Upstream {
    fn start(python: &str) -> Self {
        let files = tempfile::tempdir().unwrap();
        make_repository(&files.path().join("repo.git"));
        let certs = files.path().join("certs");
        let port = free_port();
        let mut child = Command::new(python)
            .arg(fixture("upstream.py"))
            .args(["--port", &port.to_string(), "--host", HOST])
            .arg("--certs")
            .arg(&certs)
            .arg("--files")
            .arg(files.path())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the fake upstream");
        let mut ready = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut ready,
        )
        .unwrap();
        assert_eq!(ready.trim(), "ready", "the fake upstream did not start");
        Self {
            child,
            port,
            ca: certs.join("ca.pem"),
            _files: files,
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A bare repository at `bare` with one commit (a README), ready for git's
/// dumb HTTP protocol.
fn make_repository(bare: &Path) {
    let work = tempfile::tempdir().unwrap();
    let git = |dir: &Path, args: &[&str]| {
        let done = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .output()
            .expect("run git");
        assert!(done.status.success(), "git {args:?}: {done:?}");
    };
    git(work.path(), &["init", "-q"]);
    std::fs::write(work.path().join("README"), "the cloned repository\n").unwrap();
    git(work.path(), &["add", "README"]);
    git(work.path(), &["commit", "-q", "-m", "one"]);
    git(
        work.path(),
        &["clone", "-q", "--bare", ".", &bare.display().to_string()],
    );
    git(bare, &["update-server-info"]);
}

/// A suite of two workers, worker1 (Python, every Python client and git)
/// and worker2 (Node's fetch, undici from `NODE_MODULES` of the run's
/// environment), recording as `mode` through `upstream`.
fn suite(python: &str, upstream: &Upstream, mode: &str) -> SuiteDir {
    let suite = SuiteDir::empty();
    suite.write(
        "config.yaml",
        &format!(
            "task_id: recording\nmax_rounds: 1\nhttp_ca_file: {ca}\n\
             recording:\n  mode: {mode}\n  upstreams:\n    {HOST}: 127.0.0.1:{port}\n\
             snapshots:\n  keep_rounds: 1\n\
             answers: {answers}\nprompt: Summarise the todo of round one for the auditors\n",
            ca = upstream.ca.display(),
            port = upstream.port,
            answers = suite.path().join("answers").display(),
        ),
    );
    suite.write(
        "workers.json",
        &json!({
            "worker1": {"port": free_port(), "command": [python, fixture("worker.py")],
                        "health_path": "/health", "env_vars": {"LLM_API_KEY": "API_KEY"}},
            "worker2": {"port": free_port(), "command": ["node", fixture("worker.mjs")],
                        "health_path": "/health", "env_vars": {"NODE_PATH": "NODE_MODULES"}},
        })
        .to_string(),
    );
    suite
}

/// The run's environment: the API key, and where undici is.
fn env(node: &str) -> [(&'static str, String); 2] {
    [
        ("API_KEY", API_KEY.to_owned()),
        ("NODE_MODULES", format!("{node}/node_modules")),
    ]
}

/// `env` as `SuiteDir::run` takes it.
fn pairs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect()
}

/// Asks `worker` to call the outside world with `client` (the prompt from
/// config.yaml); keeps the answer in the answers folder under the step's name.
async fn call(runner: &Runner, worker: &Worker, client: &str, path: &str) -> anyhow::Result<()> {
    let prompt: String = runner.config_value("prompt")?;
    let url = format!("https://{HOST}{path}");
    let reply = runner
        .http()
        .post(format!("{}/call", worker.url()))
        .json(&json!({"client": client, "url": url, "prompt": prompt}))
        .send()
        .await?;
    let status = reply.status();
    let text = reply.text().await?;
    anyhow::ensure!(status == 200, "{} answered {status}: {text}", worker.name());
    let answers: String = runner.config_value("answers")?;
    std::fs::create_dir_all(&answers)?;
    std::fs::write(Path::new(&answers).join(client), text)?;
    Ok(())
}

fn with_requests<'a>(runner: &'a Runner, worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(call(runner, worker, "requests", "/v1/messages"))
}

fn with_httpx<'a>(runner: &'a Runner, worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(call(runner, worker, "httpx", "/v1/messages"))
}

fn with_anthropic<'a>(runner: &'a Runner, worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(call(runner, worker, "anthropic", "/v1/messages"))
}

fn with_git<'a>(runner: &'a Runner, worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(call(runner, worker, "git", "/files/repo.git"))
}

fn with_fetch<'a>(runner: &'a Runner, worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(call(runner, worker, "fetch", "/v1/messages"))
}

fn steps() -> Vec<&'static StepDef> {
    vec![
        step("with_requests", 1, with_requests).build(),
        step("with_httpx", 2, with_httpx).build(),
        step("with_anthropic", 3, with_anthropic).build(),
        step("with_git", 4, with_git).build(),
        step("with_fetch", 5, with_fetch)
            .workers(&["worker2"])
            .build(),
    ]
}

/// Every answer the steps kept, by client.
fn answers(suite: &SuiteDir) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = std::fs::read_dir(suite.path().join("answers"))
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let text = std::fs::read_to_string(entry.path()).unwrap();
            (entry.file_name().to_string_lossy().into_owned(), text)
        })
        .collect();
    found.sort();
    found
}

/// Every cassette file's path (relative) and text.
fn cassettes(suite: &SuiteDir) -> Vec<(String, String)> {
    let root = suite.path().join("cassettes");
    let mut found = Vec::new();
    let mut folders = vec![root.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                let relative = path.strip_prefix(&root).unwrap().display().to_string();
                found.push((relative, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    found.sort();
    found
}

#[test]
fn a_recorded_run_replays_offline_with_the_same_answers_and_outputs() {
    let Some((python, node)) = clients() else {
        return;
    };
    let mut upstream = Upstream::start(&python);
    let suite = suite(&python, &upstream, "record");
    let env = env(&node);
    let recorded = suite.run(&steps(), &[], &pairs(&env));
    assert_eq!(recorded.conclusion.exit, Exit::Passed, "{recorded:#?}");
    let first = answers(&suite);
    let names: Vec<&str> = first.iter().map(|(client, _)| client.as_str()).collect();
    assert_eq!(names, ["anthropic", "fetch", "git", "httpx", "requests"]);
    let summary = "Summary: Summarise the todo of round one for the auditors";
    for (client, text) in &first {
        if client != "git" {
            assert_eq!(text, summary, "{client}");
        }
    }
    assert!(first[2].1.ends_with(" the cloned repository"), "{first:?}");
    let tapes = cassettes(&suite);
    let files: Vec<&str> = tapes.iter().map(|(file, _)| file.as_str()).collect();
    assert_eq!(
        files,
        [
            "round-001/steps.with_anthropic.json",
            "round-001/steps.with_fetch[worker2].json",
            "round-001/steps.with_git.json",
            "round-001/steps.with_httpx.json",
            "round-001/steps.with_requests.json",
        ]
    );
    for (file, text) in &tapes {
        assert!(!text.contains(API_KEY), "{file} holds the API key");
    }
    let anthropic = &tapes[0].1;
    assert!(
        anthropic.contains(r#""authorization": "[not recorded: authorization]""#),
        "{anthropic}"
    );
    let requests = &tapes[4].1;
    assert!(
        requests.contains(r#""x-api-key": "[not recorded: x-api-key]""#),
        "{requests}"
    );

    upstream.stop();
    std::fs::remove_dir_all(suite.path().join("answers")).unwrap();
    let replayed = suite.run(&steps(), &["--reset", "--record", "replay"], &pairs(&env));
    assert_eq!(replayed.conclusion.exit, Exit::Passed, "{replayed:#?}");
    assert_eq!(answers(&suite), first, "the same answers, offline");
    assert_eq!(replayed.out, recorded.out, "the same libtest output");
    assert_eq!(cassettes(&suite), tapes, "replay writes nothing");
}

/// The `requests` step alone.
fn one_step() -> Vec<&'static StepDef> {
    vec![step("with_requests", 1, with_requests).build()]
}

#[test]
fn a_changed_prompt_fails_its_step_in_replay_naming_the_difference() {
    let Some((python, node)) = clients() else {
        return;
    };
    let mut upstream = Upstream::start(&python);
    let suite = suite(&python, &upstream, "record");
    let env = env(&node);
    let recorded = suite.run(&one_step(), &[], &pairs(&env));
    assert_eq!(recorded.conclusion.exit, Exit::Passed, "{recorded:#?}");
    upstream.stop();
    let mut changed = pairs(&env);
    changed.push((
        "PROMETHEUS_TEST_SET_PROMPT",
        "Summarise the todo of round two",
    ));
    let replayed = suite.run(&one_step(), &["--reset", "--record", "replay"], &changed);
    assert_eq!(replayed.conclusion.exit, Exit::Failed, "{replayed:#?}");
    let failure = "Error: step `with_requests` on worker1 at tests/suite.rs:1 failed: \
        worker1 POST https://upstream.example.test/v1/messages matches no unused entry of \
        cassette round-001/steps.with_requests.json; the closest, entry 1 (worker1 POST \
        https://upstream.example.test/v1/messages), differs in:\n  \
        body /messages/0/content: \"Summarise the todo of round two\" ≠ recorded \
        \"Summarise the todo of round one for the auditors\"\n\n\
        the step's own error: worker1 answered 502 Bad Gateway: requests call failed: 599";
    assert!(
        replayed.out.contains(failure),
        "the failure names what differs:\n{}",
        replayed.out
    );
    assert!(
        replayed.notes.contains(
            "prometheus-test: recording (replay): 1 call of the workers (1 not on tape), \
             1 cassette in DIR/cassettes\n"
        ),
        "{}",
        replayed.notes
    );
}

#[test]
fn a_secret_of_the_run_in_a_call_keeps_its_cassette_from_being_written() {
    let Some((python, node)) = clients() else {
        return;
    };
    let upstream = Upstream::start(&python);
    let suite = suite(&python, &upstream, "record");
    let workers = std::fs::read_to_string(suite.path().join("workers.json")).unwrap();
    suite.write(
        "workers.json",
        &workers.replace(
            r#""env_vars":{"LLM_API_KEY":"API_KEY"}"#,
            r#""env_vars":{"LLM_API_KEY":"API_KEY","LLM_USER":"API_KEY"}"#,
        ),
    );
    let ran = suite.run(&one_step(), &[], &pairs(&env(&node)));
    assert_eq!(ran.conclusion.exit, Exit::Failed, "{ran:#?}");
    assert!(
        ran.out.contains(
            "failed: cassette round-001/steps.with_requests.json not written: entry 1 (worker1 \
             POST https://upstream.example.test/v1/messages) holds a secret of the run in its \
             request body /metadata/user_id\n"
        ),
        "{}",
        ran.out
    );
    assert!(!suite.path().join("cassettes/round-001").exists());
    for output in [&ran.out, &ran.notes] {
        assert!(!output.contains(API_KEY), "{output}");
    }
    let report = std::fs::read_to_string(suite.data().join("report.html")).unwrap();
    assert!(!report.contains(API_KEY), "the report holds the key");
}

/// The three Python clients' steps.
fn three_steps() -> Vec<&'static StepDef> {
    vec![
        step("with_requests", 1, with_requests).build(),
        step("with_httpx", 2, with_httpx).build(),
        step("with_anthropic", 3, with_anthropic).build(),
    ]
}

#[test]
fn a_resumed_and_a_rewound_run_replay_from_the_cassette_of_the_step_they_start_at() {
    let Some((python, node)) = clients() else {
        return;
    };
    let mut upstream = Upstream::start(&python);
    let suite = suite(&python, &upstream, "record");
    let env = env(&node);
    let recorded = suite.run(&three_steps(), &[], &pairs(&env));
    assert_eq!(recorded.conclusion.exit, Exit::Passed, "{recorded:#?}");
    upstream.stop();
    let first = answers(&suite);
    std::fs::remove_dir_all(suite.path().join("answers")).unwrap();
    // The IDE's run button on the first step: the run stops after it ...
    let until = suite.run(
        &three_steps(),
        &["--reset", "--record", "replay", "with_requests"],
        &pairs(&env),
    );
    assert_eq!(until.conclusion.exit, Exit::Passed, "{until:#?}");
    assert_eq!(answers(&suite).len(), 1);
    // ... and the next run resumes at the second, from its own cassette.
    let resumed = suite.run(&three_steps(), &["--record", "replay"], &pairs(&env));
    assert_eq!(resumed.conclusion.exit, Exit::Passed, "{resumed:#?}");
    assert!(
        resumed.out.starts_with("\nrunning 2 tests\n"),
        "{}",
        resumed.out
    );
    assert_eq!(answers(&suite), first);
    std::fs::remove_dir_all(suite.path().join("answers")).unwrap();
    let rewound = suite.run(
        &three_steps(),
        &[
            "--record",
            "replay",
            "--from",
            "round 1 steps::with_anthropic",
        ],
        &pairs(&env),
    );
    assert_eq!(rewound.conclusion.exit, Exit::Passed, "{rewound:#?}");
    assert_eq!(
        answers(&suite),
        vec![first[0].clone()],
        "only the rewound step played"
    );
    assert!(
        rewound
            .notes
            .contains("recording (replay): 1 call of the workers (1 replayed)"),
        "{}",
        rewound.notes
    );
}
