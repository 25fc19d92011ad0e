//! The harness side of the run record: each step's start and end, the worker
//! lines captured while it ran, its failure output, and the reports written
//! when the run ends.

use std::path::{Path, PathBuf};

use super::execute::Executed;
use super::plan::Position;
use super::report::{self, Verdict};
use crate::Runner;
use crate::record::excerpt::{ExcerptLimits, failure_excerpt};
use crate::record::model::{Exchange, Outcome, RunStart, Stream, WorkerEventKind};

/// Where the HTML report goes when `--report` is not given: `data_dir/report.html`.
pub(super) const DEFAULT_REPORT_FILE: &str = "report.html";

/// Notes how the run began.
pub(super) fn start(runner: &Runner, position: Position, step_names: &[String]) {
    let start = if position.round <= 1 && position.done == 0 {
        RunStart::Fresh
    } else {
        RunStart::Resumed {
            round: position.round,
            step: step_names.get(position.done).cloned(),
        }
    };
    runner.recorder().with(|r| r.set_start(start));
}

/// Notes that every worker's process started and answered.
pub(super) fn workers_started(runner: &Runner) {
    let recorder = runner.recorder();
    let at = recorder.now_ms();
    recorder.with(|r| {
        for worker in runner.workers() {
            r.worker_event(worker.name(), at, WorkerEventKind::Started);
        }
    });
}

/// Puts each worker's exit (`status 1`, `signal 15 SIGTERM`, as the fleet
/// describes it) on the timeline, at the time the fleet stopped.
pub(super) fn workers_stopped(runner: &Runner, exits: &[(String, Option<String>)]) {
    let recorder = runner.recorder();
    let at = recorder.now_ms();
    recorder.with(|r| {
        for (worker, status) in exits {
            let number = |prefix: &str| {
                status
                    .as_deref()
                    .and_then(|s| s.strip_prefix(prefix))
                    .and_then(|rest| rest.split_whitespace().next())
                    .and_then(|n| n.parse().ok())
            };
            let kind = WorkerEventKind::Exited {
                code: number("status "),
                signal: number("signal "),
            };
            r.worker_event(worker, at, kind);
        }
    });
}

/// Marks the start of step `name` on `worker` in `round` (a new round when
/// `round` differs from the previous step's).
pub(super) fn begin_step(
    runner: &Runner,
    previous_round: Option<u32>,
    round: u32,
    name: &str,
    worker: &str,
) {
    let recorder = runner.recorder();
    let at = recorder.now_ms();
    recorder.with(|r| {
        if previous_round != Some(round) {
            r.begin_round(round);
        }
        r.begin_step(name, worker, at);
    });
}

/// Ends the running step with `executed`'s verdict: feeds the captured
/// worker lines in, and turns a failure's message into the redacted message
/// followed by the step's last exchanges and log lines (the raw captured
/// lines, which may hold secrets, are dropped). Returns the step's
/// exchanges, for the JSON event stream.
pub(super) fn finish_step(runner: &Runner, executed: &mut Executed) -> Vec<Exchange> {
    let recorder = runner.recorder();
    let at = recorder.now_ms();
    let outcome = match &executed.verdict {
        Verdict::Passed { .. } => Outcome::Passed,
        Verdict::Skipped(reason) => Outcome::Skipped {
            reason: reason.clone(),
        },
        Verdict::Failed { message, .. } => Outcome::Failed {
            message: message.clone(),
        },
    };
    let logs = match &mut executed.verdict {
        Verdict::Failed { logs, .. } => std::mem::take(logs),
        _ => std::mem::take(&mut executed.logs),
    };
    let finished = recorder.with(|r| {
        for line in &logs {
            let (worker, stream, text) = split_captured(line);
            r.worker_log(worker, stream, at, text);
        }
        r.finish_step(outcome, at);
        r.record()
            .rounds
            .last()
            .and_then(|round| round.steps.last())
            .cloned()
    });
    let Some(Some(step)) = finished else {
        return Vec::new();
    };
    if let (Verdict::Failed { message, .. }, Outcome::Failed { message: redacted }) =
        (&mut executed.verdict, &step.outcome)
    {
        let excerpt = failure_excerpt(&step, ExcerptLimits::default());
        *message = if excerpt.is_empty() {
            redacted.clone()
        } else {
            format!("{redacted}\n\n{}", excerpt.trim_end())
        };
    }
    step.exchanges
}

/// `[worker1] text` / `[worker1 ERR] text` as the fleet captures them.
fn split_captured(line: &str) -> (&str, Stream, &str) {
    let Some(rest) = line.strip_prefix('[') else {
        return ("", Stream::Stdout, line);
    };
    let Some((tag, text)) = rest.split_once("] ") else {
        return ("", Stream::Stdout, line);
    };
    match tag.strip_suffix(" ERR") {
        Some(name) => (name, Stream::Stderr, text),
        None => (tag, Stream::Stdout, text),
    }
}

/// Writes the reports of the finished run: the HTML report to
/// `data_dir/report.html` and, when given, to `html` too; the `JUnit` XML to
/// `junit` when given. Returns the HTML reports' absolute paths; a report
/// that cannot be written is a note on stderr, not a failed run.
pub(super) fn write_reports(
    runner: &Runner,
    html: Option<&Path>,
    junit: Option<&Path>,
) -> Vec<PathBuf> {
    let Some(record) = runner.recorder().take() else {
        return Vec::new();
    };
    if let Some(path) = junit {
        write(path, &crate::record::junit::render(&record), "JUnit report");
    }
    let page = crate::record::html::render(&record);
    let default = runner.data_dir().join(DEFAULT_REPORT_FILE);
    std::iter::once(default.as_path())
        .chain(html)
        .filter(|path| write(path, &page, "HTML report"))
        .map(|path| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
        .collect()
}

fn write(path: &Path, text: &str, what: &str) -> bool {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Err(err) = std::fs::create_dir_all(dir)
    {
        report::note(&format!(
            "cannot write the {what} to {}: {err}",
            path.display()
        ));
        return false;
    }
    match std::fs::write(path, text) {
        Ok(()) => true,
        Err(err) => {
            report::note(&format!(
                "cannot write the {what} to {}: {err}",
                path.display()
            ));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_lines_split_into_worker_stream_and_text() {
        assert_eq!(
            split_captured("[worker1] up"),
            ("worker1", Stream::Stdout, "up")
        );
        assert_eq!(
            split_captured("[worker2 ERR] boom] x"),
            ("worker2", Stream::Stderr, "boom] x")
        );
        assert_eq!(
            split_captured("[... 3 earlier lines not kept]"),
            ("", Stream::Stdout, "[... 3 earlier lines not kept]")
        );
    }
}
