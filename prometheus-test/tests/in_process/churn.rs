//! Nodes that come and go: steps stop, kill, start, pause and resume a
//! worker the run started (real python3 servers and real signals); each
//! change is a `--format json` line and a mark on the report's timeline,
//! and a stopped worker is no crash.

use std::time::Duration;

use prometheus_test::__private::StepFuture;
use prometheus_test::{Exit, Runner, Worker};
use serde_json::{Value, json};

use crate::support::{SuiteDir, fixture_server, free_port, step};

/// A suite of two python3 fixture servers, worker1 and worker2.
fn two_servers() -> SuiteDir {
    let suite = SuiteDir::empty();
    let server = fixture_server("good_server.py");
    suite.write("config.yaml", "task_id: churn\nmax_rounds: 1\n");
    suite.write(
        "workers.json",
        &json!({
            "worker1": {"port": free_port(), "command": ["python3", server]},
            "worker2": {"port": free_port(), "command": ["python3", server]},
        })
        .to_string(),
    );
    suite
}

/// GET `/` of `worker` (not through `runner.http()`, so no exchange is
/// recorded): its body, or the kind of failure.
async fn get(worker: &Worker) -> Result<String, String> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(500))
        .build()
        .map_err(|error| error.to_string())?;
    match client.get(format!("{}/", worker.url())).send().await {
        Ok(response) => Ok(response.text().await.unwrap_or_default()),
        Err(error) if error.is_connect() => Err("connection refused".to_owned()),
        Err(error) if error.is_timeout() => Err("timed out".to_owned()),
        Err(error) => Err(error.to_string()),
    }
}

/// Stops worker2; it refuses connections, and cannot be paused.
fn go_away<'a>(runner: &'a Runner, _: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        let worker2 = runner.worker("worker2")?;
        worker2.stop().await?;
        anyhow::ensure!(get(worker2).await == Err("connection refused".to_owned()));
        let paused = worker2.pause().await.map_err(|error| error.to_string());
        anyhow::ensure!(
            paused == Err("cannot pause worker2: it is stopped, not running".to_owned()),
            "{paused:?}"
        );
        Ok(())
    })
}

/// Starts worker2 again, pauses and resumes it, kills and restarts it.
fn come_back<'a>(runner: &'a Runner, _: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        let worker2 = runner.worker("worker2")?;
        worker2.start().await?;
        anyhow::ensure!(get(worker2).await == Ok("ok\n".to_owned()));
        worker2.pause().await?;
        anyhow::ensure!(get(worker2).await == Err("timed out".to_owned()));
        worker2.resume().await?;
        anyhow::ensure!(get(worker2).await == Ok("ok\n".to_owned()));
        worker2.kill().await?;
        worker2.restart().await?;
        anyhow::ensure!(get(worker2).await == Ok("ok\n".to_owned()));
        Ok(())
    })
}

/// Starts worker1, which runs.
fn start_running<'a>(_: &'a Runner, worker: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move { worker.start().await })
}

/// The run data the HTML report of `suite` embeds.
fn report_data(suite: &SuiteDir) -> Value {
    let html = std::fs::read_to_string(suite.data().join("report.html")).unwrap();
    let open = "<script type=\"application/json\" id=\"run-data\">";
    let start = html.find(open).unwrap() + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

/// Worker `index`'s timeline events, without their times.
fn timeline(data: &Value, index: usize) -> Vec<Value> {
    data["workers"][index]["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["kind"].clone())
        .collect()
}

#[test]
fn steps_stop_start_pause_and_kill_a_worker_and_every_change_is_recorded() {
    let suite = two_servers();
    let steps = [
        step("go_away", 1, go_away).build(),
        step("come_back", 2, come_back).build(),
    ];
    let ran = suite.run(&steps, &["--format=json", "-Z", "unstable-options"], &[]);
    assert_eq!(ran.conclusion.exit, Exit::Passed, "{}", ran.notes);
    let worker_line = |step: &str, event: &str, extra: &str| {
        format!(
            r#"{{"type":"worker","event":"{event}","worker":"worker2","name":"steps::{step}","round":1{extra}}}"#
        )
    };
    let stopped = |step: &str, how: &str, exit: &str| {
        worker_line(
            step,
            "stopped",
            &format!(r#","how":"{how}","exit":"{exit}""#),
        )
    };
    assert_eq!(
        ran.out.lines().collect::<Vec<_>>(),
        [
            r#"{"type":"suite","event":"started","test_count":2}"#.to_owned(),
            r#"{"type":"test","event":"started","name":"steps::go_away","round":1}"#.to_owned(),
            stopped("go_away", "stop", "signal 15 SIGTERM"),
            r#"{"type":"test","name":"steps::go_away","round":1,"event":"ok","exec_time":0.0}"#
                .to_owned(),
            r#"{"type":"test","event":"started","name":"steps::come_back","round":1}"#.to_owned(),
            worker_line("come_back", "started", ""),
            worker_line("come_back", "paused", ""),
            worker_line("come_back", "resumed", ""),
            stopped("come_back", "kill", "signal 9 SIGKILL"),
            worker_line("come_back", "started", ""),
            r#"{"type":"test","name":"steps::come_back","round":1,"event":"ok","exec_time":0.0}"#
                .to_owned(),
            r#"{"type":"suite","event":"ok","passed":2,"failed":0,"ignored":0,"measured":0,"filtered_out":0,"exec_time":0.0}"#
                .to_owned(),
        ]
    );
    let data = report_data(&suite);
    let exited = json!({"kind": "exited", "code": null, "signal": 15});
    assert_eq!(
        timeline(&data, 0),
        [json!({"kind": "started"}), exited.clone()]
    );
    assert_eq!(
        timeline(&data, 1),
        [
            json!({"kind": "started"}),
            json!({"kind": "stopped", "how": "stop", "code": null, "signal": 15}),
            json!({"kind": "started"}),
            json!({"kind": "paused"}),
            json!({"kind": "resumed"}),
            json!({"kind": "stopped", "how": "kill", "code": null, "signal": 9}),
            json!({"kind": "started"}),
            exited,
        ]
    );
}

#[test]
fn starting_a_running_worker_fails_the_step_with_one_clear_error() {
    let suite = two_servers();
    let steps = [step("start_running", 1, start_running).build()];
    let ran = suite.run(&steps, &["-q"], &[]);
    assert_eq!(ran.conclusion.exit, Exit::Failed, "{}", ran.notes);
    assert_eq!(
        ran.out,
        "\nrunning 1 test\nF\n\
         \nfailures:\n\
         \n---- steps::start_running [round 1] ----\n\
         Error: step `start_running` on worker1 at tests/suite.rs:1 failed: cannot start worker1: it \
         is running; stop it first, or call `restart` to stop and start it\n\
         \n\nfailures:\n    steps::start_running\n\
         \ntest result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; \
         finished in 0.00s\n\
         \nreport: DIR/data/report.html\n"
    );
}

/// Fails the first time it runs after worker2 went away (a marker file in
/// the data folder), then checks that worker2 is still away.
fn checks_it_is_away<'a>(runner: &'a Runner, _: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        let worker2 = runner.worker("worker2")?;
        anyhow::ensure!(
            get(worker2).await == Err("connection refused".to_owned()),
            "worker2 answers, but the step before this one stopped it"
        );
        let marker = runner.data_dir().join("fail-once");
        if marker.exists() {
            std::fs::remove_file(marker)?;
            anyhow::bail!("failing once on purpose");
        }
        Ok(())
    })
}

/// Starts worker2 again.
fn brings_it_back<'a>(runner: &'a Runner, _: &'a Worker) -> StepFuture<'a> {
    Box::pin(async move {
        let worker2 = runner.worker("worker2")?;
        worker2.start().await?;
        anyhow::ensure!(get(worker2).await == Ok("ok\n".to_owned()));
        Ok(())
    })
}

#[test]
fn a_run_resumed_inside_a_churn_window_holds_the_worker_as_the_steps_left_it() {
    let suite = two_servers();
    std::fs::create_dir_all(suite.data()).unwrap();
    std::fs::write(suite.data().join("fail-once"), "").unwrap();
    let steps = [
        step("goes_away", 1, |runner, _| {
            Box::pin(async move { runner.worker("worker2")?.stop().await })
        })
        .build(),
        step("checks_it_is_away", 2, checks_it_is_away).build(),
        step("brings_it_back", 3, brings_it_back).build(),
    ];
    let failed = suite.run(&steps, &["-q"], &[]);
    assert_eq!(failed.conclusion.exit, Exit::Failed, "{}", failed.notes);

    let resumed = suite.run(&steps, &["--format=json", "-Z", "unstable-options"], &[]);
    assert_eq!(resumed.conclusion.exit, Exit::Passed, "{}", resumed.notes);
    assert!(
        resumed
            .notes
            .contains("held worker2 stopped as the steps before the resume point left it\n"),
        "{}",
        resumed.notes
    );
    assert_eq!(
        resumed.out.lines().collect::<Vec<_>>(),
        [
            r#"{"type":"suite","event":"started","test_count":2}"#,
            r#"{"type":"worker","event":"stopped","worker":"worker2","name":null,"how":"stop","exit":"signal 15 SIGTERM"}"#,
            r#"{"type":"test","event":"started","name":"steps::checks_it_is_away","round":1}"#,
            r#"{"type":"test","name":"steps::checks_it_is_away","round":1,"event":"ok","exec_time":0.0}"#,
            r#"{"type":"test","event":"started","name":"steps::brings_it_back","round":1}"#,
            r#"{"type":"worker","event":"started","worker":"worker2","name":"steps::brings_it_back","round":1}"#,
            r#"{"type":"test","name":"steps::brings_it_back","round":1,"event":"ok","exec_time":0.0}"#,
            r#"{"type":"suite","event":"ok","passed":2,"failed":0,"ignored":0,"measured":0,"filtered_out":0,"exec_time":0.0,"done_before_resume":1}"#,
        ]
    );
    let data = report_data(&suite);
    assert_eq!(
        timeline(&data, 1),
        [
            json!({"kind": "started"}),
            json!({"kind": "stopped", "how": "stop", "code": null, "signal": 15}),
            json!({"kind": "started"}),
            json!({"kind": "exited", "code": null, "signal": 15}),
        ]
    );
}
