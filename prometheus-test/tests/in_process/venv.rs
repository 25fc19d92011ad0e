//! A Python worker whose server needs a package that only the project's
//! `.venv` holds starts.

use std::process::Command;

use prometheus_test::__private::StepFuture;
use prometheus_test::{Exit, Runner, Worker};

use crate::support::{SuiteDir, free_port, step};

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

/// The project's `main.py`: answers every GET with `only_in_venv.ANSWER`.
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

#[test]
fn a_worker_needing_a_package_of_the_projects_venv_starts() {
    let project = SuiteDir::empty();
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
    std::fs::write(
        site_packages.join("only_in_venv.py"),
        "ANSWER = \"from the venv\"\n",
    )
    .unwrap();
    project.write("main.py", SERVER);
    project.write(
        "tests/config.yaml",
        &format!("task_id: venv\nmax_rounds: 1\nbase_port: {}\n", free_port()),
    );
    project.write("tests/workers.json", r#"{"worker1": {}}"#);
    let suite = project.suite_at(
        "tests/config.yaml",
        &[step("ask", 1, ask).file("tests/e2e.rs").build()],
    );
    assert_eq!(
        project.run_suite(&suite, &[], &[]).whole(),
        (
            Exit::Passed,
            "\nrunning 1 test\n\
             test [round 1] steps::ask ... ok (0.00s)\n\
             \n\
             test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\
             \nreport: DIR/tests/data/report.html\n",
            "prometheus-test: fresh run: starting at round 1\n\
             prometheus-test: worker1: no `keypairs` in workers.json, using generated keypairs in \
             DIR/tests/data/keys (staking c9Y6XQi6qtVzQXVRUHRXVpVt8Xfc1AXT87d19cYowSh, \
             main DnwUauf9vcKCDxamoTtytmjBe91xSjw3R3e2m7hp8FG8)\n\
             prometheus-test: 1 worker ready in 0.00s; 1 step to play in round 1\n",
        )
    );
}
