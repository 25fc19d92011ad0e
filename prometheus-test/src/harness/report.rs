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
    Passed,
    Skipped(String),
    Failed { message: String, logs: Vec<String> },
}

/// Prints results as they come and the closing summary.
pub(crate) struct Reporter {
    out: Box<dyn std::io::Write>,
    format: Format,
    started: Instant,
    passed: usize,
    ignored: usize,
    failures: Vec<(String, u32, String)>,
    filtered_out: usize,
}

impl Reporter {
    pub(crate) fn new(format: Format) -> Self {
        Self::to(format, Box::new(std::io::stdout()))
    }

    pub(crate) fn to(format: Format, out: Box<dyn std::io::Write>) -> Self {
        Self {
            out,
            format,
            started: Instant::now(),
            passed: 0,
            ignored: 0,
            failures: Vec::new(),
            filtered_out: 0,
        }
    }

    /// Prints `name: test` lines, libtest's `--list` output.
    pub(crate) fn list(format: Format, names: &[String]) {
        let mut out = String::new();
        for name in names {
            let _ = writeln!(out, "{name}: test");
        }
        if format == Format::Pretty {
            let _ = writeln!(out, "\n{} tests, 0 benchmarks", names.len());
        }
        write_flush(&mut std::io::stdout().lock(), &out);
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
            (Verdict::Passed, Format::Json) => {
                self.emit(&json!({"type": "test", "name": name, "event": "ok", "exec_time": secs}));
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
            (Verdict::Passed, Format::Pretty) => self.print(&format!("ok ({secs:.2}s)\n")),
            (Verdict::Skipped(reason), Format::Pretty) => {
                self.print(&format!("ignored, {reason}\n"));
            }
            (Verdict::Failed { .. }, Format::Pretty) => self.print("FAILED\n"),
            (Verdict::Passed, Format::Terse) => self.print("."),
            (Verdict::Skipped(_), Format::Terse) => self.print("i"),
            (Verdict::Failed { .. }, Format::Terse) => self.print("F"),
        }
        match verdict {
            Verdict::Passed => self.passed += 1,
            Verdict::Skipped(_) => self.ignored += 1,
            Verdict::Failed { message, logs } => {
                self.failures
                    .push((name.to_owned(), round, failure_text(&message, &logs)));
            }
        }
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
    use std::cell::RefCell;
    use std::rc::Rc;

    #[derive(Clone, Default)]
    struct Sink(Rc<RefCell<Vec<u8>>>);

    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn run(format: Format) -> (bool, String) {
        let sink = Sink::default();
        let mut r = Reporter::to(format, Box::new(sink.clone()));
        r.suite_started(3, 2);
        r.step_started("steps::task", 1);
        r.step_finished("steps::task", 1, Verdict::Passed, Duration::from_millis(5));
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
        let text = String::from_utf8(sink.0.borrow().clone()).unwrap();
        (ok, text)
    }

    #[test]
    fn pretty_output_reads_like_libtest() {
        let (ok, text) = run(Format::Pretty);
        assert!(!ok);
        assert!(text.contains("\nrunning 3 tests\n"), "{text}");
        assert!(
            text.contains("test [round 1] steps::task ... ok ("),
            "{text}"
        );
        assert!(
            text.contains("test [round 1] steps::extra ... ignored, no todo left\n"),
            "{text}"
        );
        assert!(
            text.contains("test [round 2] steps::audit ... FAILED\n"),
            "{text}"
        );
        assert!(
            text.contains("---- steps::audit [round 2] ----\nError: bad audit\n"),
            "{text}"
        );
        assert!(text.contains("[worker2 ERR] boom"), "{text}");
        assert!(text.contains("\nfailures:\n    steps::audit\n"), "{text}");
        assert!(text.contains("test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 2 filtered out; finished in "), "{text}");
    }

    #[test]
    fn terse_and_json_formats() {
        let (_, terse) = run(Format::Terse);
        assert!(terse.contains(".iF\n"), "{terse}");
        let (_, json) = run(Format::Json);
        let events: Vec<serde_json::Value> = json
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            events[0],
            json!({"type": "suite", "event": "started", "test_count": 3})
        );
        assert_eq!(events[4]["event"], "ignored");
        assert_eq!(events[4]["message"], "no todo left");
        assert_eq!(events[6]["event"], "failed");
        let last = events.last().unwrap();
        assert_eq!(
            (
                last["event"].as_str(),
                last["passed"].as_u64(),
                last["filtered_out"].as_u64()
            ),
            (Some("failed"), Some(1), Some(2))
        );
    }
}
