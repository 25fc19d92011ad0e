//! libtest-shaped output on stdout: `pretty`, `terse` and `json`, so cargo,
//! CI log readers and IDEs understand it. Progress notes go to stderr.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{Duration, Instant};

use serde_json::json;

use super::cli::Format;

/// How one step execution ended, as reported.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Passed, at its `attempts`-th attempt (1 unless the step has `retries`).
    Passed {
        attempts: u32,
    },
    Skipped(String),
    Failed {
        message: String,
        logs: Vec<String>,
    },
}

impl Verdict {
    pub(crate) fn is_failure(&self) -> bool {
        matches!(self, Self::Failed { .. })
    }
}

/// Prints results as they come and the closing summary to one output (the
/// process's stdout, or a buffer in tests).
pub(crate) struct Reporter {
    out: Box<dyn std::io::Write>,
    format: Format,
    started: Instant,
    passed: usize,
    ignored: usize,
    failures: Vec<(String, u32, String)>,
    filtered_out: usize,
    /// The HTML report's path, printed under the summary.
    report_paths: Vec<std::path::PathBuf>,
}

impl Reporter {
    pub(crate) fn new(format: Format, out: Box<dyn std::io::Write>) -> Self {
        Self {
            out,
            format,
            started: Instant::now(),
            passed: 0,
            ignored: 0,
            failures: Vec::new(),
            filtered_out: 0,
            report_paths: Vec::new(),
        }
    }

    /// Prints `name: test` lines, libtest's `--list` output.
    pub(crate) fn list(&mut self, names: &[String]) {
        let mut out = String::new();
        for name in names {
            let _ = writeln!(out, "{name}: test");
        }
        if self.format == Format::Pretty {
            let _ = writeln!(out, "\n{} tests, 0 benchmarks", names.len());
        }
        self.print(&out);
    }

    pub(crate) fn suite_started(&mut self, planned: usize, filtered_out: usize) {
        self.filtered_out = filtered_out;
        self.started = Instant::now();
        match self.format {
            Format::Json => {
                self.emit(&json!({"type": "suite", "event": "started", "test_count": planned}));
            }
            _ => self.print(&format!("\nrunning {planned} test{}\n", plural(planned))),
        }
    }

    pub(crate) fn step_started(&mut self, name: &str, round: u32) {
        match self.format {
            Format::Json => self.emit(&json!({"type": "test", "event": "started", "name": name})),
            Format::Pretty => self.print(&format!("test [round {round}] {name} ... ")),
            Format::Terse => {}
        }
    }

    pub(crate) fn step_finished(
        &mut self,
        name: &str,
        round: u32,
        verdict: Verdict,
        elapsed: Duration,
    ) {
        let secs = elapsed.as_secs_f64();
        match (&verdict, self.format) {
            (Verdict::Passed { attempts: 1 }, Format::Json) => {
                self.emit(&json!({"type": "test", "name": name, "event": "ok", "exec_time": secs}));
            }
            (Verdict::Passed { attempts }, Format::Json) => {
                self.emit(&json!({"type": "test", "name": name, "event": "ok", "exec_time": secs, "attempts": attempts}));
            }
            (Verdict::Skipped(reason), Format::Json) => {
                self.emit(
                    &json!({"type": "test", "name": name, "event": "ignored", "message": reason}),
                );
            }
            (Verdict::Failed { message, logs }, Format::Json) => {
                let stdout = failure_text(message, logs);
                self.emit(&json!({"type": "test", "name": name, "event": "failed", "exec_time": secs, "stdout": stdout}));
            }
            (Verdict::Passed { attempts: 1 }, Format::Pretty) => {
                self.print(&format!("ok ({secs:.2}s)\n"));
            }
            (Verdict::Passed { attempts }, Format::Pretty) => {
                self.print(&format!(
                    "ok, passed after {attempts} attempts ({secs:.2}s)\n"
                ));
            }
            (Verdict::Skipped(reason), Format::Pretty) => {
                self.print(&format!("ignored, {reason}\n"));
            }
            (Verdict::Failed { .. }, Format::Pretty) => self.print("FAILED\n"),
            (Verdict::Passed { .. }, Format::Terse) => self.print("."),
            (Verdict::Skipped(_), Format::Terse) => self.print("i"),
            (Verdict::Failed { .. }, Format::Terse) => self.print("F"),
        }
        match verdict {
            Verdict::Passed { .. } => self.passed += 1,
            Verdict::Skipped(_) => self.ignored += 1,
            Verdict::Failed { message, logs } => {
                self.failures
                    .push((name.to_owned(), round, failure_text(&message, &logs)));
            }
        }
    }

    /// With `--format json`, one `{"type":"http","event":"exchange",…}` line
    /// per HTTP exchange the step made through `runner.http()` (already
    /// redacted), before the step's result line.
    pub(crate) fn step_exchanges(
        &mut self,
        name: &str,
        round: u32,
        worker: &str,
        exchanges: &[crate::record::model::Exchange],
    ) {
        if self.format != Format::Json {
            return;
        }
        let mut out = String::new();
        for exchange in exchanges {
            out.push_str(&crate::record::events::exchange_event(
                name, round, worker, exchange,
            ));
            out.push('\n');
        }
        self.print(&out);
    }

    /// Where the HTML report was written, to print under the summary:
    /// `report: /abs/path/report.html`, each on a line of its own (on stderr
    /// with `--format json`, whose stdout holds JSON lines only).
    pub(crate) fn report_paths(&mut self, paths: Vec<std::path::PathBuf>) {
        self.report_paths = paths;
    }

    /// Records a failure of the run itself (such as a state file that
    /// cannot be saved between two steps), so the summary says FAILED.
    pub(crate) fn run_error(&mut self, message: &str) {
        note(&format!("error: {message}"));
        self.failures
            .push(("(the run)".to_owned(), 0, format!("Error: {message}\n")));
    }

    /// Prints the failures and the `test result:` line; true when all passed.
    pub(crate) fn finish(mut self) -> bool {
        let ok = self.failures.is_empty();
        let failed = self.failures.len();
        let secs = self.started.elapsed().as_secs_f64();
        if self.format == Format::Json {
            self.emit(&json!({
                "type": "suite", "event": if ok { "ok" } else { "failed" },
                "passed": self.passed, "failed": failed, "ignored": self.ignored,
                "measured": 0, "filtered_out": self.filtered_out, "exec_time": secs,
            }));
            for path in &self.report_paths {
                note(&format!("report: {}", path.display()));
            }
            return ok;
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
        for path in &self.report_paths {
            let _ = writeln!(out, "report: {}", path.display());
        }
        self.print(&out);
        ok
    }
}

fn failure_text(message: &str, logs: &[String]) -> String {
    let mut text = format!("Error: {message}\n");
    if !logs.is_empty() {
        text.push_str("\nworker output during the step:\n");
        for line in logs {
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

impl Reporter {
    fn emit(&mut self, event: &serde_json::Value) {
        self.print(&format!("{event}\n"));
    }

    fn print(&mut self, text: &str) {
        write_flush(&mut self.out, text);
    }
}

impl std::fmt::Debug for Reporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reporter")
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

fn write_flush(out: &mut dyn std::io::Write, text: &str) {
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// A progress note on stderr, kept apart from the libtest output.
pub(crate) fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "prometheus-test: {text}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::harness::tests::{Sink, normalise_times};

    fn run(format: Format) -> (bool, String) {
        let sink = Sink::default();
        let mut r = Reporter::new(format, Box::new(sink.clone()));
        r.suite_started(3, 2);
        r.step_started("steps::task", 1);
        r.step_finished(
            "steps::task",
            1,
            Verdict::Passed { attempts: 1 },
            Duration::from_millis(5),
        );
        r.step_started("steps::extra", 1);
        r.step_finished(
            "steps::extra",
            1,
            Verdict::Skipped("no todo left".into()),
            Duration::ZERO,
        );
        r.step_started("steps::audit", 2);
        let logs = vec!["[worker2 ERR] boom".to_owned()];
        r.step_finished(
            "steps::audit",
            2,
            Verdict::Failed {
                message: "bad audit".into(),
                logs,
            },
            Duration::ZERO,
        );
        let ok = r.finish();
        (ok, sink.text())
    }

    #[test]
    fn pretty_output_reads_like_libtest() {
        let (ok, text) = run(Format::Pretty);
        assert!(!ok);
        assert_eq!(
            normalise_times(&text),
            "\nrunning 3 tests\n\
             test [round 1] steps::task ... ok (T.TTs)\n\
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
             test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 2 filtered out; finished in T.TTs\n\
             \n"
        );
    }

    #[test]
    fn terse_output_is_one_character_per_step() {
        let (_, terse) = run(Format::Terse);
        assert_eq!(
            normalise_times(&terse),
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
             test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 2 filtered out; finished in T.TTs\n\
             \n"
        );
    }

    #[test]
    fn json_output_is_libtest_json() {
        let (_, json) = run(Format::Json);
        assert_eq!(
            normalise_times(&json),
            concat!(
                r#"{"type":"suite","event":"started","test_count":3}"#,
                "\n",
                r#"{"type":"test","event":"started","name":"steps::task"}"#,
                "\n",
                r#"{"type":"test","name":"steps::task","event":"ok","exec_time":0}"#,
                "\n",
                r#"{"type":"test","event":"started","name":"steps::extra"}"#,
                "\n",
                r#"{"type":"test","name":"steps::extra","event":"ignored","message":"no todo left"}"#,
                "\n",
                r#"{"type":"test","event":"started","name":"steps::audit"}"#,
                "\n",
                r#"{"type":"test","name":"steps::audit","event":"failed","exec_time":0,"stdout":"Error: bad audit\n\nworker output during the step:\n[worker2 ERR] boom\n"}"#,
                "\n",
                r#"{"type":"suite","event":"failed","passed":1,"failed":1,"ignored":1,"measured":0,"filtered_out":2,"exec_time":0}"#,
                "\n",
            )
        );
    }

    #[test]
    fn list_output_is_libtests() {
        let sink = Sink::default();
        Reporter::new(Format::Pretty, Box::new(sink.clone()))
            .list(&["steps::a".to_owned(), "steps::b".to_owned()]);
        let terse = Sink::default();
        Reporter::new(Format::Terse, Box::new(terse.clone())).list(&["steps::a".to_owned()]);
        assert_eq!(
            (sink.text(), terse.text()),
            (
                "steps::a: test\nsteps::b: test\n\n2 tests, 0 benchmarks\n".to_owned(),
                "steps::a: test\n".to_owned()
            )
        );
    }

    #[test]
    fn a_run_error_fails_the_summary() {
        let sink = Sink::default();
        let mut r = Reporter::new(Format::Pretty, Box::new(sink.clone()));
        r.suite_started(1, 0);
        r.run_error("cannot save the state");
        assert!(!r.finish());
        assert_eq!(
            normalise_times(&sink.text()),
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
             test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in T.TTs\n\
             \n"
        );
    }
}
