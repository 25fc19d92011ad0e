//! A run with faults, as its HTML report and `JUnit` file show them: each
//! fault with the step that met it, a request's path redacted like the rest
//! of the reports.

use std::fmt::Write as _;
use std::path::Path;

use prometheus_test::__private::StepFuture;
use prometheus_test::Exit;
use prometheus_test::{Runner, Worker};
use serde_json::{Value, json};

use crate::support::{SuiteDir, fixture_server, free_port, step};

/// A token the step sends in a request's path and query.
const TOKEN: &str = "tok-5c1d9e7a3b";

/// Every request of the runner to worker1 is slowed; worker1 is paused
/// once a step.
const SCHEDULE: &str = "  - link: \"runner->worker1\"
    latency: { ms: 5, jitter_ms: 0 }
  - worker: worker1
    pause: { ms: 20 }
";

/// Marks [`TOKEN`] secret, sends it to worker1 while a partition cuts it
/// off, heals, and calls worker1 once more.
fn partitioned<'a>(runner: &'a Runner, worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        runner.secret("token", TOKEN);
        runner.faults().partition("worker1")?;
        let cut = format!("{}/audit/{TOKEN}?key={TOKEN}", worker.url());
        anyhow::ensure!(runner.http().get(cut).send().await.is_err());
        runner.faults().heal("worker1")?;
        runner
            .http()
            .get(format!("{}/", worker.url()))
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    })
}

/// One round of [`partitioned`] on a python3 fixture server.
fn suite() -> SuiteDir {
    let suite = SuiteDir::empty();
    let server = fixture_server("good_server.py");
    suite.write(
        "config.yaml",
        &format!("task_id: fault-reports\nmax_rounds: 1\nfaults:\n{SCHEDULE}"),
    );
    suite.write(
        "workers.json",
        &json!({"worker1": {"port": free_port(), "command": ["python3", server]}}).to_string(),
    );
    suite
}

/// The data a report embeds.
fn report_data(path: &Path) -> Value {
    let html = std::fs::read_to_string(path).expect("the HTML report");
    let open = "<script type=\"application/json\" id=\"run-data\">";
    let start = html.find(open).expect("the data element") + open.len();
    let end = start + html[start..].find("</script>").expect("its end");
    serde_json::from_str(&html[start..end]).expect("JSON data")
}

/// `faults` as `fault (step)` lines, times left out (the clock is frozen).
fn lines(faults: &Value) -> Vec<String> {
    faults
        .as_array()
        .into_iter()
        .flatten()
        .map(|fault| {
            let field = |name: &str| fault[name].as_str().unwrap_or_default().to_owned();
            let mut line = format!("{} ", field("step"));
            line += &[
                field("link"),
                field("worker"),
                field("request"),
                field("fault"),
            ]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
            if let Some(by) = fault["by"].as_str() {
                let _ = write!(line, " by {by}");
            }
            if let Some(outcome) = fault["outcome"].as_str() {
                let _ = write!(line, ", ended {outcome}");
            }
            line
        })
        .collect()
}

#[test]
fn the_reports_show_each_fault_with_its_step_and_no_secret() {
    let suite = suite();
    let junit = suite.path().join("junit.xml");
    let report = suite.path().join("out/report.html");
    let ran = suite.run(
        &[step("partitioned", 1, partitioned).build()],
        &[
            "--reset",
            "--seed",
            "3",
            "--junit",
            junit.to_str().expect("a UTF-8 path"),
            "--report",
            report.to_str().expect("a UTF-8 path"),
        ],
        &[],
    );
    ran.assert_exit(Exit::Passed);
    let data = report_data(&report);
    let redacted = "[redacted: token]";
    assert_eq!(
        lines(&data["rounds"][0]["steps"][0]["faults"]),
        [
            "steps::partitioned worker1 pause 20ms".to_owned(),
            format!(
                "steps::partitioned runner->worker1 GET /audit/{redacted} partition by script, ended reset"
            ),
            "steps::partitioned runner->worker1 GET / latency 5ms, ended forwarded 200".to_owned(),
        ]
    );
    // Faults outside the step (none here: the harness's own health checks
    // do not go through the runner's proxy) would be listed apart.
    let between = lines(&data["faults_between_steps"]);
    let marks = data["view"]["fault_marks"].as_array().expect("the marks");
    assert_eq!(marks.len(), 3 + between.len());
    assert!(
        marks.iter().all(|mark| mark["worker"] == "worker1"),
        "{marks:?}"
    );
    let xml = std::fs::read_to_string(&junit).expect("the JUnit file");
    let case = &xml[xml.find("<testcase ").expect("the testcase")..];
    let case = &case[..case.find("</testcase>").expect("its end")];
    let faults: Vec<&str> = case
        .lines()
        .filter(|line| line.starts_with("fault"))
        .collect();
    assert_eq!(
        faults,
        [
            "fault: worker1 pause 20ms".to_owned(),
            format!(
                "fault: runner-&gt;worker1 GET /audit/{redacted} partition (scripted), ended reset"
            ),
            "fault: runner-&gt;worker1 GET / latency 5ms, ended forwarded 200".to_owned(),
        ]
    );
    for (name, text) in [
        ("the HTML report", std::fs::read_to_string(&report).unwrap()),
        ("the JUnit file", xml.clone()),
        (
            "faults.jsonl",
            std::fs::read_to_string(suite.data().join("faults.jsonl")).unwrap(),
        ),
    ] {
        assert!(!text.contains(TOKEN), "{name} holds the token");
    }
}
