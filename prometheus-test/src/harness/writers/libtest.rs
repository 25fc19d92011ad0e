//! libtest-shaped output on stdout: `pretty`, `terse` and `json`, so cargo,
//! CI log readers and IDEs understand it.

use std::fmt::Write as _;
use std::time::Instant;

use serde_json::json;

use super::super::cli::Format;
use super::super::wording::counted;
use crate::events::{Clock, Event, LogLine, Outcome, StepFinished, StepId, Writer};

/// Prints results as they come and the closing summary to one output (the
/// process's stdout, or a buffer in tests).
pub(crate) struct Libtest {
    out: Box<dyn std::io::Write + Send>,
    format: Format,
    clock: Clock,
    /// Set once the `running N tests` header is printed: the summary follows
    /// only a started run (a run that could not start prints none).
    started: Option<Instant>,
    passed: usize,
    ignored: usize,
    failures: Vec<(String, u32, String)>,
    filtered_out: usize,
    /// The selected steps a resumed run had done before its resume point.
    done_before_resume: usize,
    /// The HTML reports' paths, printed under the summary.
    report_paths: Vec<std::path::PathBuf>,
    /// The pretty `test … ... ` line is waiting for its result.
    line_open: bool,
    /// The step running now, which a worker change belongs to.
    current: Option<StepId>,
}

impl Libtest {
    pub(crate) fn new(format: Format, out: Box<dyn std::io::Write + Send>, clock: Clock) -> Self {
        Self {
            out,
            format,
            clock,
            started: None,
            passed: 0,
            ignored: 0,
            failures: Vec::new(),
            filtered_out: 0,
            done_before_resume: 0,
            report_paths: Vec::new(),
            line_open: false,
            current: None,
        }
    }

    /// Prints `name: test` lines, libtest's `--list` output.
    fn list(&mut self, names: &[String]) {
        let mut out = String::new();
        for name in names {
            let _ = writeln!(out, "{name}: test");
        }
        if self.format == Format::Pretty {
            let _ = writeln!(out, "\n{} tests, 0 benchmarks", names.len());
        }
        self.print(&out);
    }

    fn started(&mut self, planned: usize, filtered_out: usize) {
        self.filtered_out = filtered_out;
        self.started = Some(Instant::now());
        match self.format {
            Format::Json => {
                self.emit(&json!({"type": "suite", "event": "started", "test_count": planned}));
            }
            _ => self.print(&format!("\nrunning {}\n", counted(planned, "test"))),
        }
    }

    fn step_started(&mut self, step: &StepId) {
        self.current = Some(step.clone());
        match self.format {
            Format::Json => self.emit(
                &json!({"type": "test", "event": "started", "name": step.name, "round": step.round}),
            ),
            Format::Pretty => {
                self.print(&line_prefix(step));
                self.line_open = true;
            }
            Format::Terse => {}
        }
    }

    /// A retry note goes to stderr: the pretty line is ended first, so the
    /// note stands on a line of its own and the result on the next one.
    fn attempt_failed(&mut self, attempt: u32, total: u32) {
        if self.format == Format::Pretty && self.line_open {
            self.print(&format!("attempt {attempt} of {total} failed, retrying\n"));
            self.line_open = false;
        }
    }

    fn step_finished(&mut self, finished: &StepFinished) {
        let StepFinished {
            step,
            outcome,
            elapsed,
            logs,
        } = finished;
        self.current = None;
        let secs = self.clock.show(*elapsed).as_secs_f64();
        let (name, round) = (step.name.as_str(), step.round);
        if self.format == Format::Pretty && !self.line_open {
            self.print(&line_prefix(step));
        }
        self.line_open = false;
        match (outcome, self.format) {
            (Outcome::Passed { attempts: 1 }, Format::Json) => {
                self.emit(&json!({"type": "test", "name": name, "round": round, "event": "ok", "exec_time": secs}));
            }
            (Outcome::Passed { attempts }, Format::Json) => {
                self.emit(&json!({"type": "test", "name": name, "round": round, "event": "ok", "exec_time": secs, "attempts": attempts}));
            }
            (Outcome::Skipped { reason }, Format::Json) => {
                self.emit(&json!({"type": "test", "name": name, "round": round, "event": "ignored", "message": reason}));
            }
            (Outcome::Passed { attempts: 1 }, Format::Pretty) => {
                self.print(&format!("ok ({secs:.2}s)\n"));
            }
            (Outcome::Passed { attempts }, Format::Pretty) => {
                self.print(&format!(
                    "ok, passed after {attempts} attempts ({secs:.2}s)\n"
                ));
            }
            (Outcome::Skipped { reason }, Format::Pretty) => {
                self.print(&format!("ignored, {reason}\n"));
            }
            (Outcome::Passed { .. }, Format::Terse) => self.print("."),
            (Outcome::Skipped { .. }, Format::Terse) => self.print("i"),
            (Outcome::Failed { .. } | Outcome::Interrupted { .. }, _) => {
                let message = outcome.failure().unwrap_or_default();
                return self.failed(step, secs, failure_text(&message, logs));
            }
        }
        match outcome {
            Outcome::Skipped { .. } => self.ignored += 1,
            _ => self.passed += 1,
        }
    }

    /// A failed (or interrupted) step's result line, kept for the summary.
    fn failed(&mut self, step: &StepId, secs: f64, text: String) {
        let (name, round) = (step.name.as_str(), step.round);
        match self.format {
            Format::Json => {
                self.emit(&json!({"type": "test", "name": name, "round": round, "event": "failed", "exec_time": secs, "stdout": text}));
            }
            Format::Pretty => self.print("FAILED\n"),
            Format::Terse => self.print("F"),
        }
        self.failures.push((name.to_owned(), round, text));
    }

    /// With `--format json`, one `{"type":"http","event":"exchange",…}` line
    /// per HTTP exchange (already redacted), before the step's result line.
    fn exchange(&mut self, step: &StepId, exchange: &crate::record::model::Exchange) {
        if self.format != Format::Json {
            return;
        }
        let mut line =
            crate::record::events::exchange_event(&step.name, step.round, &step.worker, exchange);
        line.push('\n');
        self.print(&line);
    }

    /// With `--format json`, one `{"type":"worker","event":…}` line per
    /// change a step made to a worker (`stopped`, `started`, `paused`,
    /// `resumed`), naming the step, before the step's result line. A change
    /// between the run's start and its first step (a resumed run holding a
    /// worker as the steps before its resume point left it) names no step
    /// (`"name":null`). The workers' start at the run's beginning is not a line.
    fn worker_change(&mut self, worker: &str, change: &str, details: serde_json::Value) {
        if self.format != Format::Json || self.started.is_none() {
            return;
        }
        let mut line = match &self.current {
            Some(step) => json!({
                "type": "worker", "event": change, "worker": worker,
                "name": step.name, "round": step.round,
            }),
            None => json!({"type": "worker", "event": change, "worker": worker, "name": null}),
        };
        if let (Some(line), serde_json::Value::Object(details)) = (line.as_object_mut(), details) {
            line.extend(details);
        }
        self.emit(&line);
    }

    /// Prints the failures and the `test result:` line, and under it the
    /// steps a resumed run had done before its resume point: on a line of
    /// their own (a JSON field of the last event), as tools parse the
    /// `test result:` line and its counts are libtest's.
    fn finish(&mut self) {
        let Some(started) = self.started.take() else {
            return;
        };
        let ok = self.failures.is_empty();
        let failed = self.failures.len();
        let secs = self.clock.show(started.elapsed()).as_secs_f64();
        if self.format == Format::Json {
            let mut summary = json!({
                "type": "suite", "event": if ok { "ok" } else { "failed" },
                "passed": self.passed, "failed": failed, "ignored": self.ignored,
                "measured": 0, "filtered_out": self.filtered_out, "exec_time": secs,
            });
            if self.done_before_resume > 0 {
                summary["done_before_resume"] = self.done_before_resume.into();
            }
            self.emit(&summary);
            return;
        }
        let mut out = String::new();
        if self.format == Format::Terse {
            out.push('\n');
        }
        if !ok {
            out.push_str("\nfailures:\n");
            for (name, round, text) in &self.failures {
                let _ = write!(out, "\n---- {name} [round {round}] ----\n{text}\n");
            }
            out.push_str("\nfailures:\n");
            for (name, _, _) in &self.failures {
                let _ = writeln!(out, "    {name}");
            }
        }
        let _ = writeln!(
            out,
            "\ntest result: {}. {} passed; {failed} failed; {} ignored; 0 measured; {} filtered out; finished in {secs:.2}s\n",
            if ok { "ok" } else { "FAILED" },
            self.passed,
            self.ignored,
            self.filtered_out,
        );
        if self.done_before_resume > 0 {
            let done = counted(self.done_before_resume, "step");
            let _ = writeln!(out, "{done} done before the resume point");
        }
        for path in &self.report_paths {
            let _ = writeln!(out, "report: {}", path.display());
        }
        self.print(&out);
    }

    fn emit(&mut self, event: &serde_json::Value) {
        self.print(&format!("{event}\n"));
    }

    fn print(&mut self, text: &str) {
        let _ = self.out.write_all(text.as_bytes());
        let _ = self.out.flush();
    }
}

impl Writer for Libtest {
    fn handle(&mut self, event: &Event) {
        match event {
            Event::Listed(names) => self.list(names),
            Event::RunStarted(plan) => {
                self.done_before_resume = plan.done_before_resume;
                self.started(plan.executions.len(), plan.filtered_out);
            }
            Event::StepStarted(step) => self.step_started(step),
            Event::AttemptFailed(failed) => self.attempt_failed(failed.attempt, failed.total),
            Event::StepFinished(finished) => self.step_finished(finished),
            Event::Exchange { step, exchange } => self.exchange(step, exchange),
            Event::RunError(message) => {
                self.failures
                    .push(("(the run)".to_owned(), 0, format!("Error: {message}\n")));
            }
            Event::ReportWritten(path) => self.report_paths.push(path.clone()),
            Event::WorkerStarted { worker } => self.worker_change(worker, "started", json!({})),
            Event::WorkerStopped { worker, how, exit } => self.worker_change(
                worker,
                "stopped",
                json!({"how": how, "exit": exit.map(|exit| exit.to_string())}),
            ),
            Event::WorkerPaused { worker } => self.worker_change(worker, "paused", json!({})),
            Event::WorkerResumed { worker } => self.worker_change(worker, "resumed", json!({})),
            Event::RunFinished(_) => self.finish(),
            Event::Note(_)
            | Event::WorldRestored(_)
            | Event::SnapshotsKept(_)
            | Event::WorkersReady(_)
            | Event::WorkerExited { .. }
            | Event::RoundStarted { .. }
            | Event::Recording { .. }
            | Event::HttpSending { .. }
            | Event::HttpExchanged(_)
            | Event::InFlight(_)
            | Event::Fault(_) => {}
        }
    }
}

fn line_prefix(step: &StepId) -> String {
    format!("test [round {}] {} ... ", step.round, step.name)
}

/// What libtest shows under a failed test: the error, then the worker
/// output captured while the step ran.
pub(crate) fn failure_text(message: &str, logs: &[LogLine]) -> String {
    let mut text = format!("Error: {message}\n");
    if !logs.is_empty() {
        text.push_str("\nworker output during the step:\n");
        for line in logs {
            let _ = writeln!(text, "{line}");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::Exit;
    use crate::events::Plan;
    use crate::events::testing::{Sink, feed, finished, id, plan};

    /// A run of three steps (passed, skipped, failed) with a retry, a
    /// report path and a run that ends failed.
    fn run_events() -> Vec<Event> {
        vec![
            Event::Note("ignored by this writer".to_owned()),
            Event::RunStarted(Plan {
                filtered_out: 2,
                ..plan(&["steps::task"], &[(1, 0), (1, 0), (1, 0)])
            }),
            Event::RoundStarted { round: 1 },
            Event::StepStarted(id("steps::task", 1)),
            Event::AttemptFailed(crate::events::AttemptFailed {
                step: id("steps::task", 1),
                attempt: 1,
                total: 2,
                error: "not yet".to_owned(),
                delay: Duration::ZERO,
            }),
            finished("steps::task", 1, Outcome::Passed { attempts: 2 }, &[]),
            Event::StepStarted(id("steps::extra", 1)),
            finished(
                "steps::extra",
                1,
                Outcome::Skipped {
                    reason: "no todo left".into(),
                },
                &[],
            ),
            Event::RoundStarted { round: 2 },
            Event::StepStarted(id("steps::audit", 2)),
            finished(
                "steps::audit",
                2,
                Outcome::Failed {
                    excerpt: None,
                    message: "bad audit".into(),
                },
                &[LogLine::new(
                    "worker2",
                    crate::process::Stream::Stderr,
                    "boom",
                )],
            ),
            Event::ReportWritten("/data/report.html".into()),
            Event::RunFinished(Exit::Failed),
        ]
    }

    fn output(format: Format, events: &[Event]) -> String {
        let sink = Sink::default();
        feed(
            &mut Libtest::new(format, Box::new(sink.clone()), Clock::Frozen),
            events,
        );
        sink.text()
    }

    #[test]
    fn pretty_output_reads_like_libtest_with_retries_on_their_own_line() {
        assert_eq!(
            output(Format::Pretty, &run_events()),
            "\nrunning 3 tests\n\
             test [round 1] steps::task ... attempt 1 of 2 failed, retrying\n\
             test [round 1] steps::task ... ok, passed after 2 attempts (0.00s)\n\
             test [round 1] steps::extra ... ignored, no todo left\n\
             test [round 2] steps::audit ... FAILED\n\
             \n\
             failures:\n\
             \n\
             ---- steps::audit [round 2] ----\n\
             Error: bad audit\n\
             \n\
             worker output during the step:\n\
             [worker2 ERR] boom\n\
             \n\
             \n\
             failures:\n    steps::audit\n\
             \n\
             test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 2 filtered out; finished in 0.00s\n\
             \n\
             report: /data/report.html\n"
        );
    }

    #[test]
    fn terse_output_is_one_character_per_step() {
        assert_eq!(
            output(Format::Terse, &run_events()),
            "\nrunning 3 tests\n.iF\n\
             \n\
             failures:\n\
             \n\
             ---- steps::audit [round 2] ----\n\
             Error: bad audit\n\
             \n\
             worker output during the step:\n\
             [worker2 ERR] boom\n\
             \n\
             \n\
             failures:\n    steps::audit\n\
             \n\
             test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 2 filtered out; finished in 0.00s\n\
             \n\
             report: /data/report.html\n"
        );
    }

    #[test]
    fn json_output_is_libtest_json_with_the_round_of_each_test_event() {
        assert_eq!(
            output(Format::Json, &run_events()),
            concat!(
                r#"{"type":"suite","event":"started","test_count":3}"#,
                "\n",
                r#"{"type":"test","event":"started","name":"steps::task","round":1}"#,
                "\n",
                r#"{"type":"test","name":"steps::task","round":1,"event":"ok","exec_time":0.0,"attempts":2}"#,
                "\n",
                r#"{"type":"test","event":"started","name":"steps::extra","round":1}"#,
                "\n",
                r#"{"type":"test","name":"steps::extra","round":1,"event":"ignored","message":"no todo left"}"#,
                "\n",
                r#"{"type":"test","event":"started","name":"steps::audit","round":2}"#,
                "\n",
                r#"{"type":"test","name":"steps::audit","round":2,"event":"failed","exec_time":0.0,"stdout":"Error: bad audit\n\nworker output during the step:\n[worker2 ERR] boom\n"}"#,
                "\n",
                r#"{"type":"suite","event":"failed","passed":1,"failed":1,"ignored":1,"measured":0,"filtered_out":2,"exec_time":0.0}"#,
                "\n",
            )
        );
    }

    #[test]
    fn list_output_is_libtests() {
        let names = Event::Listed(vec!["steps::a".to_owned(), "steps::b".to_owned()]);
        assert_eq!(
            (
                output(Format::Pretty, std::slice::from_ref(&names)),
                output(Format::Terse, &[names])
            ),
            (
                "steps::a: test\nsteps::b: test\n\n2 tests, 0 benchmarks\n".to_owned(),
                "steps::a: test\nsteps::b: test\n".to_owned()
            )
        );
    }

    #[test]
    fn a_run_error_fails_the_summary() {
        let events = [
            Event::RunStarted(plan(&["steps::task"], &[(1, 0)])),
            Event::RunError("cannot save the state".to_owned()),
            Event::RunFinished(Exit::Failed),
        ];
        assert_eq!(
            output(Format::Pretty, &events),
            "\nrunning 1 test\n\
             \n\
             failures:\n\
             \n\
             ---- (the run) [round 0] ----\n\
             Error: cannot save the state\n\
             \n\
             \n\
             failures:\n    (the run)\n\
             \n\
             test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\
             \n"
        );
    }

    #[test]
    fn a_run_that_never_started_prints_no_summary() {
        assert_eq!(
            output(
                Format::Pretty,
                &[
                    Event::Note("error: x".to_owned()),
                    Event::RunFinished(Exit::SetupFailed)
                ]
            ),
            ""
        );
    }
}
