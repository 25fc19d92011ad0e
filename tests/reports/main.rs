//! The run's reports as users and CI read them, from real runs of the
//! `report-suite` binary (`tests/report_suite`: one python worker, three
//! steps, the last rejected with a 500): the failure output with the HTTP
//! exchange and its decoded signed payload, the `JUnit` file validated
//! against Jenkins' schema and read by a CI-style parser, the HTML report in
//! headless Chromium, the JSON event stream, and planted secrets searched for
//! in every output and every file the runs leave. These runs skip the
//! suite's `wide` steps, which [`wide`] plays alone.

#[path = "../common/mod.rs"]
mod common;
mod faults;
mod tools;
mod wide;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

use tools::{artifact_dir, ensure, repo_root, run, unavailable};

const LIMIT: Duration = Duration::from_secs(120);

/// The planted secrets.
const API_TOKEN: &str = "tok-3f9a1c7e5b2d4f60aa";
const MONGO_PASSWORD: &str = "pw-8c41d07e2b9f";
const SESSION: &str = "sess-51e0c2a9d7b34f18";
const SEED: [u8; 32] = [
    201, 7, 33, 91, 140, 12, 250, 66, 8, 177, 54, 19, 222, 3, 98, 145, 61, 200, 17, 76, 5, 188,
    240, 39, 120, 81, 14, 230, 67, 156, 93, 2,
];

/// The suite's configuration in `dir`, on a free port, with the planted
/// secrets in its environment.
struct Suite {
    dir: PathBuf,
    staking_public_key: String,
}

impl Suite {
    fn new(dir: PathBuf) -> Self {
        let port = prometheus_test::__bench::free_port().expect("a free port");
        let worker = repo_root().join("tests/report_suite/worker.py");
        std::fs::write(
            dir.join("config.yaml"),
            format!(
                "task_id: reports\nmax_rounds: 1\nhealth_path: /health\nserver_entrypoint: {}\nsecret_headers: [x-session]\n",
                worker.display()
            ),
        )
        .expect("config.yaml");
        std::fs::write(
            dir.join("workers.json"),
            format!(
                r#"{{"worker1": {{"port": {port}, "keypairs": {{"staking": "REPORT_STAKING"}}, "env_vars": {{"API_TOKEN": "REPORT_API_TOKEN", "TASK_ID": "REPORT_TASK_ID", "MONGO_URI": "MONGO_URI"}}}}}}"#
            ),
        )
        .expect("workers.json");
        let keypair = prometheus_test::Keypair::from_seed(SEED);
        std::fs::write(dir.join("staking.json"), keypair.to_keypair_file_json())
            .expect("the keypair file");
        Self {
            dir,
            staking_public_key: keypair.public_key().to_owned(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[])
    }

    /// [`run`](Self::run) with `extra` environment variables.
    fn run_with(&self, args: &[&str], extra: &[(&str, &str)]) -> Output {
        let args: Vec<&str> = ["--skip", "wide::"].iter().chain(args).copied().collect();
        self.play(&args, extra)
    }

    /// A fresh run of every step `args` select, the `wide` ones included.
    fn play(&self, args: &[&str], extra: &[(&str, &str)]) -> Output {
        let _ = std::fs::remove_file(self.dir.join("data/test_state.json"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_report-suite"));
        command
            .args(args)
            .env_clear()
            .envs(
                ["PATH", "HOME", "TMPDIR"]
                    .iter()
                    .filter_map(|&name| Some((name, std::env::var_os(name)?))),
            )
            .env("PROMETHEUS_TEST_CONFIG", self.dir.join("config.yaml"))
            .env("REPORT_STAKING", self.dir.join("staking.json"))
            .env("REPORT_API_TOKEN", API_TOKEN)
            .env("REPORT_TASK_ID", "reports")
            .env(
                "MONGO_URI",
                format!("mongodb://reporter:{MONGO_PASSWORD}@127.0.0.1:1/reports"),
            )
            .env("REPORT_SESSION", SESSION)
            .envs(extra.iter().copied());
        run(&mut command, LIMIT)
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A pretty run with `--junit` and `--report`: (stdout, stderr, suite).
fn failing_run(name: &str) -> (String, String, Suite) {
    let dir = artifact_dir(name);
    let suite = Suite::new(dir.clone());
    let junit = dir.join("junit.xml");
    let html = dir.join("out/report.html");
    let out = suite.run(&[
        "--junit",
        junit.to_str().unwrap(),
        &format!("--report={}", html.display()),
    ]);
    assert_eq!(out.status.code(), Some(101), "{}", text(&out.stderr));
    (text(&out.stdout), text(&out.stderr), suite)
}

#[test]
fn a_failing_step_prints_its_exchange_with_the_decoded_signed_payload() {
    let (stdout, _, suite) = failing_run("output");
    let failure = &stdout[stdout
        .find("---- steps::audit [round 1] ----")
        .expect(&stdout)..];
    assert!(
        failure.contains("500 Internal Server Error"),
        "the step's error first: {failure}"
    );
    assert!(
        failure.contains("HTTP exchanges (1, newest first):"),
        "{failure}"
    );
    assert!(failure.contains("/audit -> 500 ("), "{failure}");
    let signer = format!(
        "signed payload at request/signature (verified, signed by worker1 ({})): {{\"action\":\"audit\",\"round\":1,\"session\":\"[redacted: session]\"}}",
        suite.staking_public_key
    );
    assert!(failure.contains(&signer), "{failure}");
    assert!(
        failure.contains(r#"response body: {"error": "audit rejected", "round": 1}"#),
        "{failure}"
    );
    assert!(
        failure.contains("err| audit: submission signature does not match the round"),
        "the worker's log lines: {failure}"
    );
    assert!(
        failure.contains(
            "out| audit rejected; token [redacted: env REPORT_API_TOKEN], database mongodb://[redacted: MONGO_URI credentials]@127.0.0.1:1/reports"
        ),
        "{failure}"
    );
    // Both HTML reports are named on lines of their own, after the summary.
    let default = std::path::absolute(suite.dir.join("data/report.html")).unwrap();
    let given = std::path::absolute(suite.dir.join("out/report.html")).unwrap();
    let tail = &stdout[stdout.find("test result: FAILED.").expect(&stdout)..];
    assert!(
        tail.contains(&format!("\nreport: {}\n", default.display())),
        "{tail}"
    );
    assert!(
        tail.contains(&format!("\nreport: {}\n", given.display())),
        "{tail}"
    );
    assert_eq!(
        std::fs::read(&default).unwrap(),
        std::fs::read(&given).unwrap()
    );
}

#[test]
fn the_junit_file_validates_and_a_ci_reader_sees_the_failure() {
    let (_, _, suite) = failing_run("junit");
    let junit = suite.dir.join("junit.xml");
    match ensure("ensure_xmllint", "PROMETHEUS_TEST_XMLLINT") {
        Ok(xmllint) => {
            let out = run(
                Command::new(xmllint)
                    .arg("--noout")
                    .arg("--schema")
                    .arg(repo_root().join("tests/reports/jenkins-junit-4.xsd"))
                    .arg(&junit),
                LIMIT,
            );
            assert!(out.status.success(), "{}", text(&out.stderr));
        }
        Err(why) => unavailable("the JUnit schema check", &why),
    }
    let out = run(
        Command::new("python3")
            .arg(repo_root().join("tests/reports/junit_consumer.py"))
            .arg(&junit),
        LIMIT,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let read: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(read["declared"]["tests"], 3);
    assert_eq!(read["declared"]["failures"], 1);
    assert_eq!(
        read["counted"],
        read["declared"]
            .as_object()
            .map(|d| {
                let mut d = d.clone();
                d.remove("errors");
                Value::Object(d)
            })
            .unwrap()
    );
    let cases = read["cases"].as_array().unwrap();
    let names: Vec<&str> = cases.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["steps::login", "steps::submit", "steps::audit"]);
    let audit = &cases[2];
    assert_eq!(audit["status"], "failed");
    assert_eq!(audit["classname"], "round 1");
    let out = audit["system_out"].as_str().unwrap_or_default().to_owned()
        + audit["message"].as_str().unwrap_or_default();
    assert!(out.contains("\"action\":\"audit\""), "{out}");
    assert!(
        out.contains(&format!("signed by worker1 ({})", suite.staking_public_key)),
        "{out}"
    );
    assert!(out.contains("audit rejected"), "{out}");
}

/// The DOM of `file` once its script ran, opened at `#fragment`.
/// The step panel (`<aside id="detail">`) of a dumped report.
fn step_panel(dom: &str) -> &str {
    let start = dom.find("<aside id=\"detail\"").expect("the step panel");
    &dom[start..start + dom[start..].find("</aside>").expect("the panel's end")]
}

fn dump_dom(chromium: &Path, file: &Path, fragment: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = run(
        browser(chromium, profile.path())
            .arg("--dump-dom")
            .arg(format!("file://{}#{fragment}", file.display())),
        LIMIT,
    );
    assert!(out.status.success(), "chromium: {}", text(&out.stderr));
    text(&out.stdout)
}

fn browser(chromium: &Path, profile: &Path) -> Command {
    let mut command = Command::new(chromium);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()));
    command
}

#[test]
fn the_html_report_shows_the_failed_step_in_a_real_browser() {
    let chromium = match ensure("ensure_chromium", "PROMETHEUS_TEST_CHROMIUM") {
        Ok(path) => path,
        Err(why) => {
            return unavailable(
                "the_html_report_shows_the_failed_step_in_a_real_browser",
                &format!("no headless Chromium: {why}"),
            );
        }
    };
    let (_, _, suite) = failing_run("html");
    let file = suite.dir.join("data/report.html");
    let fragment = "step=round1/steps::audit[worker1]";
    let dom = dump_dom(&chromium, &file, fragment);
    assert!(
        dom.contains("data-ready=\"true\""),
        "the script ran to its end"
    );
    assert_eq!(dom.matches("<td class=\"cell pass\"").count(), 2, "{dom}");
    assert_eq!(
        dom.matches("<td class=\"cell fail selected\" data-step=\"round1/steps::audit[worker1]\"")
            .count(),
        1
    );
    let panel = step_panel(&dom);
    assert!(panel.contains("500 Internal Server Error"), "{panel}");
    assert!(
        panel.contains("<span class=\"status bad\">500</span> POST http://"),
        "{panel}"
    );
    assert!(
        panel.contains(&format!(
            "signed payload at request/signature — verified: signed by worker1 ({})",
            suite.staking_public_key
        )),
        "{panel}"
    );
    assert!(
        panel.contains("&quot;action&quot;: &quot;audit&quot;")
            || panel.contains("\"action\": \"audit\""),
        "{panel}"
    );
    assert!(panel.contains("audit rejected"), "{panel}");
    let png = suite.dir.join("audit.png");
    let profile = tempfile::tempdir().unwrap();
    let out = run(
        browser(&chromium, profile.path())
            .arg(format!("--screenshot={}", png.display()))
            .arg("--window-size=1400,900")
            .arg("--hide-scrollbars")
            .arg(format!("file://{}#{fragment}", file.display())),
        LIMIT,
    );
    assert!(out.status.success(), "chromium: {}", text(&out.stderr));
    let bytes = std::fs::read(&png).expect("the screenshot");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    eprintln!("screenshot: {}", png.display());
}

#[test]
fn a_long_runs_older_round_shows_its_exchange_from_the_file_beside_the_report() {
    let chromium = match ensure("ensure_chromium", "PROMETHEUS_TEST_CHROMIUM") {
        Ok(path) => path,
        Err(why) => {
            return unavailable(
                "a_long_runs_older_round_shows_its_exchange_from_the_file_beside_the_report",
                &format!("no headless Chromium: {why}"),
            );
        }
    };
    // Ten passing rounds: the recorder keeps the latest eight in memory, so
    // rounds 1 and 2 have their exchanges and log lines in report-data/.
    let suite = Suite::new(artifact_dir("long"));
    let out = suite.run_with(
        &["--skip", "audit"],
        &[("PROMETHEUS_TEST_SET_MAX_ROUNDS", "10")],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let detail = suite.dir.join("data/report-data");
    let mut files: Vec<String> = std::fs::read_dir(&detail)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["round-000001.js", "round-000002.js"]);
    let file = suite.dir.join("data/report.html");
    let dom = dump_dom(&chromium, &file, "step=round1/steps::submit[worker1]");
    assert!(
        dom.contains("data-ready=\"true\""),
        "the script ran to its end"
    );
    let panel = step_panel(&dom);
    assert!(
        panel.contains("<h3>HTTP exchanges (1)</h3>"),
        "round 1's exchange, loaded from its file: {panel}"
    );
    assert!(
        panel.contains("<span class=\"status ok\">200</span> POST http://localhost:"),
        "{panel}"
    );
    assert!(panel.contains("/submit · "), "{panel}");
}

#[test]
fn json_output_carries_the_exchanges_before_each_result() {
    let suite = Suite::new(artifact_dir("json"));
    let out = suite.run(&["--format=json", "-Z", "unstable-options"]);
    let events: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let kinds: Vec<String> = events
        .iter()
        .map(|e| {
            format!(
                "{}:{}:{}",
                e["type"].as_str().unwrap(),
                e["event"].as_str().unwrap(),
                e["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "suite:started:",
            "test:started:steps::login",
            "http:exchange:steps::login",
            "test:ok:steps::login",
            "test:started:steps::submit",
            "http:exchange:steps::submit",
            "test:ok:steps::submit",
            "test:started:steps::audit",
            "http:exchange:steps::audit",
            "test:failed:steps::audit",
            "suite:failed:",
        ]
    );
    let audit = &events[8];
    assert_eq!(audit["status"], 500);
    assert_eq!(audit["method"], "POST");
    assert_eq!(audit["signatures"][0]["signer"]["worker"], "worker1");
    assert_eq!(audit["signatures"][0]["payload"]["action"], "audit");
    let submit = &events[5];
    let headers = &submit["request"]["headers"];
    assert!(
        headers
            .to_string()
            .contains(r#"["x-session","[redacted]"]"#),
        "{headers}"
    );
    assert!(
        headers
            .to_string()
            .contains(r#"["authorization","[redacted]"]"#),
        "{headers}"
    );
    assert!(
        text(&out.stderr).contains("prometheus-test: report: "),
        "the report's path goes to stderr with --format json"
    );
}

/// `bytes` as standard base64 with padding.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Each planted secret, with the forms it is searched in.
fn planted_forms() -> Vec<(String, String)> {
    let keypair = prometheus_test::Keypair::from_seed(SEED);
    let secret_key = keypair.signing_key().to_keypair_bytes();
    let mut secrets: Vec<(&str, Vec<u8>)> = vec![
        ("API token", API_TOKEN.as_bytes().to_vec()),
        ("Mongo password", MONGO_PASSWORD.as_bytes().to_vec()),
        ("session", SESSION.as_bytes().to_vec()),
        ("seed", SEED.to_vec()),
        ("secret key", secret_key.to_vec()),
    ];
    secrets.push(("seed as a key file", Vec::new()));
    let mut forms = Vec::new();
    for (name, bytes) in secrets {
        if bytes.is_empty() {
            let list: Vec<String> = SEED.iter().map(u8::to_string).collect();
            forms.push((format!("{name} (decimal list)"), list.join(",")));
            continue;
        }
        if let Ok(raw) = std::str::from_utf8(&bytes) {
            forms.push((format!("{name} (raw)"), raw.to_owned()));
        }
        let hex = bytes.iter().fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        });
        forms.push((format!("{name} (hex)"), hex));
        forms.push((
            format!("{name} (base58)"),
            bs58::encode(&bytes).into_string(),
        ));
        forms.push((
            format!("{name} (base64)"),
            base64(&bytes).trim_end_matches('=').to_owned(),
        ));
    }
    forms
}

fn leaks(haystack: &str) -> Vec<String> {
    planted_forms()
        .into_iter()
        .filter(|(_, form)| haystack.contains(form.as_str()))
        .map(|(name, _)| name)
        .collect()
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn a_task_id_passed_to_the_server_stays_readable_while_the_token_is_redacted() {
    let dir = artifact_dir("plain");
    let suite = Suite::new(dir.clone());
    let junit = dir.join("junit.xml");
    let out = suite.run(&["--junit", junit.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(101), "{}", text(&out.stderr));
    let junit = text(&std::fs::read(&junit).unwrap());
    assert!(
        junit.contains(r#"<testsuites name="reports""#)
            && junit.contains(r#"<testsuite name="reports""#),
        "the suite is named by its task id: {junit}"
    );
    assert!(
        junit.contains("&quot;taskId&quot;:&quot;reports&quot;"),
        "the decoded payload shows the task id: {junit}"
    );
    assert!(
        junit.contains("[redacted: env REPORT_API_TOKEN]") && !junit.contains(API_TOKEN),
        "the token stays redacted: {junit}"
    );
    // (The audit's payload holds the session, a secret: that one stays hidden.)
    let html = text(&std::fs::read(dir.join("data/report.html")).unwrap());
    assert!(
        !html.contains("redacted: env REPORT_TASK_ID") && !junit.contains("REPORT_TASK_ID"),
        "the task id is not treated as a secret"
    );
}

#[test]
fn planted_secrets_reach_no_output_and_no_report() {
    let dir = artifact_dir("secrets");
    let suite = Suite::new(dir.clone());
    let mut outputs = Vec::new();
    let path = |file: &str| dir.join(file).display().to_string();
    let runs = [
        vec![
            "--junit".to_owned(),
            path("junit-pretty.xml"),
            "--report".to_owned(),
            path("pretty.html"),
        ],
        vec![
            "--format=json".to_owned(),
            "-Z".to_owned(),
            "unstable-options".to_owned(),
            format!("--junit={}", path("junit-json.xml")),
        ],
        vec![
            "--format=terse".to_owned(),
            "--report".to_owned(),
            path("terse.html"),
        ],
        // Worker output streamed live passes through the same redaction.
        vec!["--nocapture".to_owned()],
    ];
    for (i, args) in runs.iter().enumerate() {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = suite.run(&args);
        assert_eq!(out.status.code(), Some(101), "{}", text(&out.stderr));
        outputs.push((format!("stdout of run {i}"), text(&out.stdout)));
        outputs.push((format!("stderr of run {i}"), text(&out.stderr)));
    }
    let mut files = Vec::new();
    files_under(&dir, &mut files);
    let key_file = dir.join("staking.json");
    for file in files.iter().filter(|f| **f != key_file) {
        outputs.push((
            file.display().to_string(),
            text(&std::fs::read(file).unwrap()),
        ));
    }
    for report in [
        "junit-pretty.xml",
        "pretty.html",
        "junit-json.xml",
        "terse.html",
        "data/report.html",
    ] {
        assert!(dir.join(report).is_file(), "{report} was written");
    }
    // The redacted places name their source.
    let all: String = outputs.iter().map(|(_, t)| t.as_str()).collect();
    for label in [
        "[redacted: session]",
        "[redacted: MONGO_URI credentials]",
        "[redacted: env REPORT_API_TOKEN]",
        "[redacted]",
    ] {
        assert!(all.contains(label), "no {label} anywhere");
    }
    // With --nocapture (run 3) worker lines are shown as they come: the
    // session, marked secret by a step only after the worker printed it,
    // cannot be taken back (documented); every other secret is known before
    // the workers start.
    let live = format!("stderr of run {}", runs.len() - 1);
    let found: Vec<String> = outputs
        .iter()
        .flat_map(|(place, text)| {
            let live = *place == live;
            leaks(text)
                .into_iter()
                .filter(move |l| !(live && l.starts_with("session")))
                .map(move |l| format!("{l} in {place}"))
        })
        .collect();
    assert!(found.is_empty(), "secrets leaked: {found:#?}");
    // The search finds what it looks for: the key file holds the seed.
    let key_text = text(&std::fs::read(&key_file).unwrap());
    assert_eq!(leaks(&key_text), ["seed as a key file (decimal list)"]);
    let planted = format!("{API_TOKEN} {MONGO_PASSWORD} {SESSION}");
    assert_eq!(leaks(&planted).len(), 3);
}
