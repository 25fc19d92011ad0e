//! A Python worker whose server needs a package that only the project's
//! `.venv` holds starts, through a whole in-process run.

use std::path::Path;
use std::process::Command;

use super::MainOptions;
use super::cli::ProcessEnv;
use super::tests::run_in_process;
use crate::step::{StepDef, StepFuture};
use crate::{Runner, Worker};

/// Asks the worker's server for the answer its venv-only module gives.
fn ask<'a>(runner: &'a Runner, worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        let text = runner
            .http()
            .get(format!("{}/", worker.url()))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        anyhow::ensure!(text == "from the venv", "unexpected answer {text:?}");
        Ok(())
    })
}

static ASK: StepDef = StepDef {
    name: "ask",
    fn_name: "ask",
    description: "",
    module: "suite::steps",
    workers: crate::step::StepWorkers::One("worker1"),
    order: 1,
    file: "tests/e2e.rs",
    line: 1,
    retries: 0,
    retry_delay: std::time::Duration::ZERO,
    timeout: None,
    run: ask,
};

const SERVER: &str = r#"
import http.server, os
import only_in_venv

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = only_in_venv.ANSWER.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"#;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_worker_needing_a_package_of_the_projects_venv_starts() {
    let project = tempfile::tempdir().unwrap();
    let venv = project.path().join(".venv");
    let made = Command::new("python3")
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .status()
        .expect("run python3 -m venv");
    assert!(made.success(), "python3 -m venv failed");
    let site_packages = std::fs::read_dir(venv.join("lib"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|entry| entry.path().join("site-packages"))
        .find(|path| path.is_dir())
        .expect("the venv has a site-packages folder");
    write(
        &site_packages.join("only_in_venv.py"),
        "ANSWER = \"from the venv\"\n",
    );
    write(&project.path().join("main.py"), SERVER);
    let port = crate::process::free_port().unwrap();
    let tests = project.path().join("tests");
    write(
        &tests.join("config.yaml"),
        &format!("task_id: venv\nmax_rounds: 1\nbase_port: {port}\n"),
    );
    write(&tests.join("workers.json"), r#"{"worker1": {}}"#);

    let options = MainOptions {
        source_file: "tests/e2e.rs",
        manifest_dir: "/nonexistent",
        config: None,
        post_load: None,
    };
    let config = tests.join("config.yaml");
    let env = ProcessEnv::from_pairs([("PROMETHEUS_TEST_CONFIG", config.as_os_str())]);
    let (code, out) = run_in_process(&options, &[&ASK], &[], &env);
    assert_eq!(code, 0, "{out}");
}
