//! Notes for the person running the suite, one `prometheus-test: …` line
//! each, kept apart from the libtest output (stderr by default).

use std::fmt::Write as _;

use super::super::wording::{counted, size};
use crate::Exit;
use crate::events::{
    AttemptFailed, Clock, Event, Outcome, Plan, SnapshotsKept, StepId, WorkersReady, WorldRestored,
    Writer,
};

/// Prints notes, warnings, retries and run errors; with `--format json`
/// (whose stdout holds JSON lines only) also the reports' paths.
pub(crate) struct Notes {
    out: Box<dyn std::io::Write + Send>,
    json: bool,
    clock: Clock,
    /// The step that failed, for the closing line of a failed run.
    failed: Option<StepId>,
    /// The last snapshot the run leaves, when it leaves any.
    last_kept: Option<String>,
    /// The workers are up: said with the plan that follows.
    ready: Option<WorkersReady>,
}

impl Notes {
    pub(crate) fn new(out: Box<dyn std::io::Write + Send>, json: bool, clock: Clock) -> Self {
        Self {
            out,
            json,
            clock,
            failed: None,
            last_kept: None,
            ready: None,
        }
    }

    fn line(&mut self, text: &str) {
        let _ = writeln!(self.out, "prometheus-test: {text}");
        let _ = self.out.flush();
    }
}

impl Writer for Notes {
    fn handle(&mut self, event: &Event) {
        match event {
            Event::Note(text) => self.line(text),
            Event::WorkersReady(ready) => self.ready = Some(ready.clone()),
            Event::RunStarted(plan) => {
                if let Some(ready) = self.ready.take() {
                    self.line(&ready_line(&ready, plan, self.clock));
                }
            }
            Event::AttemptFailed(failed) => self.line(&retry_line(failed)),
            Event::StepFinished(finished) => match finished.outcome {
                Outcome::Passed { attempts } if attempts > 1 => self.line(&format!(
                    "step `{}` passed after {attempts} attempts",
                    finished.step.name
                )),
                Outcome::Failed { .. } | Outcome::Interrupted { .. } => {
                    self.failed = Some(finished.step.clone());
                }
                _ => {}
            },
            Event::RunFinished(Exit::Failed) => {
                if let Some(step) = self.failed.take() {
                    let line = resume_line(&step, self.last_kept.as_deref());
                    self.line(&line);
                }
            }
            Event::RunError(message) => self.line(&format!("error: {message}")),
            Event::WorldRestored(restored) => self.line(&restored_line(restored, self.clock)),
            Event::SnapshotsKept(kept) => {
                self.last_kept = Some(kept.last.clone());
                self.line(&kept_line(kept, self.clock));
            }
            Event::ReportWritten(path) if self.json => {
                self.line(&format!("report: {}", path.display()));
            }
            _ => {}
        }
    }
}

/// `3 workers ready in 0.12s; 12 steps to play in rounds 1 to 3`.
fn ready_line(ready: &WorkersReady, plan: &Plan, clock: Clock) -> String {
    let mut line = format!(
        "{} ready in {:.2}s; {} to play",
        counted(ready.workers, "worker"),
        clock.show(ready.elapsed).as_secs_f64(),
        counted(plan.executions.len(), "step"),
    );
    match plan.rounds().as_slice() {
        [] => {}
        [round] => {
            let _ = write!(line, " in round {round}");
        }
        [first, .., last] => {
            let _ = write!(line, " in rounds {first} to {last}");
        }
    }
    line
}

/// Where the next run resumes after `step` failed. Snapshots are taken in
/// order, so the one before `step` is kept when it is the last kept; when
/// it is not, the way back is a rewind to the last kept one.
fn resume_line(step: &StepId, last_kept: Option<&str>) -> String {
    let point = format!("round {} {}", step.round, step.name);
    let back = match last_kept {
        Some(last) if last != point => format!(
            " in the world this run left, as no snapshot before it is kept; to go back to the \
             last kept one, run with `--from '{last}'`"
        ),
        _ => String::new(),
    };
    format!(
        "the next run resumes at round {} `{}`{back}; to start over, run with `--reset` \
         (`cargo test --test <suite> -- --reset`)",
        step.round, step.name
    )
}

/// `restored the world before round 2 steps::audit (1 collection, 3 files) in 14 ms`,
/// or, when nothing differed, `the world before … was already as kept: nothing to restore`.
fn restored_line(restored: &WorldRestored, clock: Clock) -> String {
    let line = if restored.collections == 0 && restored.files == 0 {
        format!(
            "the world before {} was already as kept: nothing to restore",
            restored.before
        )
    } else {
        format!(
            "restored the world before {} ({}, {}) in {} ms",
            restored.before,
            counted(restored.collections, "collection"),
            counted(restored.files, "file"),
            clock.show(restored.elapsed).as_millis()
        )
    };
    if restored.recovered {
        format!("completed the restore a stopped run left unfinished: {line}")
    } else {
        line
    }
}

/// `snapshots: 8 kept (from … to …), 1.2 MB in DIR; 29 taken, 1.4 ms each (median)`.
fn kept_line(kept: &SnapshotsKept, clock: Clock) -> String {
    format!(
        "snapshots: {} kept (from {} to {}), {} in {}; {} taken, {:.1} ms each (median)",
        kept.kept,
        kept.first,
        kept.last,
        size(kept.bytes),
        kept.dir.display(),
        kept.taken,
        clock.show(kept.median).as_secs_f64() * 1e3
    )
}

fn retry_line(failed: &AttemptFailed) -> String {
    let delay = match failed.delay {
        std::time::Duration::ZERO => String::new(),
        delay => format!(" in {delay:?}"),
    };
    format!(
        "step `{}` attempt {} of {} failed: {}; retrying{delay}",
        failed.step.name, failed.attempt, failed.total, failed.error
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::events::testing::{Sink, feed, finished, id, plan};

    fn notes(json: bool, events: &[Event]) -> String {
        let sink = Sink::default();
        feed(
            &mut Notes::new(Box::new(sink.clone()), json, Clock::Real),
            events,
        );
        sink.text()
    }

    #[test]
    fn notes_say_what_the_run_does_and_where_a_failed_run_resumes() {
        let events = [
            Event::Note("warning: x".to_owned()),
            Event::WorkersReady(WorkersReady {
                workers: 1,
                elapsed: Duration::from_millis(120),
            }),
            Event::RunStarted(plan(&["steps::task"], &[(2, 0)])),
            Event::AttemptFailed(AttemptFailed {
                step: id("steps::task", 2),
                attempt: 1,
                total: 3,
                error: "not yet".to_owned(),
                delay: Duration::from_millis(500),
            }),
            finished("steps::task", 2, Outcome::Passed { attempts: 2 }, &[]),
            finished(
                "steps::audit",
                2,
                Outcome::Failed {
                    excerpt: None,
                    message: "m".into(),
                },
                &[],
            ),
            Event::RunError("cannot save".to_owned()),
            Event::ReportWritten("/d/report.html".into()),
            Event::RunFinished(Exit::Failed),
        ];
        assert_eq!(
            notes(false, &events),
            "prometheus-test: warning: x\n\
             prometheus-test: 1 worker ready in 0.12s; 1 step to play in round 2\n\
             prometheus-test: step `steps::task` attempt 1 of 3 failed: not yet; retrying in 500ms\n\
             prometheus-test: step `steps::task` passed after 2 attempts\n\
             prometheus-test: error: cannot save\n\
             prometheus-test: the next run resumes at round 2 `steps::audit`; to start over, run \
             with `--reset` (`cargo test --test <suite> -- --reset`)\n"
        );
    }

    #[test]
    fn a_failed_step_whose_snapshot_is_not_kept_names_the_way_back() {
        let kept = |last: &str| {
            Event::SnapshotsKept(SnapshotsKept {
                kept: 2,
                first: "round 1 steps::task".to_owned(),
                last: last.to_owned(),
                bytes: 1_000,
                dir: "/d/.snapshots".into(),
                taken: 2,
                median: Duration::ZERO,
            })
        };
        let failed = finished(
            "steps::audit",
            2,
            Outcome::Failed {
                excerpt: None,
                message: "m".into(),
            },
            &[],
        );
        let kept_line = "prometheus-test: snapshots: 2 kept (from round 1 steps::task to LAST), \
                         1.0 KB in /d/.snapshots; 2 taken, 0.0 ms each (median)\n";
        let not_kept = notes(
            false,
            &[
                failed.clone(),
                kept("round 2 steps::task"),
                Event::RunFinished(Exit::Failed),
            ],
        );
        assert_eq!(
            not_kept,
            format!(
                "{}prometheus-test: the next run resumes at round 2 `steps::audit` in the world \
                 this run left, as no snapshot before it is kept; to go back to the last kept \
                 one, run with `--from 'round 2 steps::task'`; to start over, run with `--reset` \
                 (`cargo test --test <suite> -- --reset`)\n",
                kept_line.replace("LAST", "round 2 steps::task")
            )
        );
        let kept_there = notes(
            false,
            &[
                failed,
                kept("round 2 steps::audit"),
                Event::RunFinished(Exit::Failed),
            ],
        );
        assert_eq!(
            kept_there,
            format!(
                "{}prometheus-test: the next run resumes at round 2 `steps::audit`; to start \
                 over, run with `--reset` (`cargo test --test <suite> -- --reset`)\n",
                kept_line.replace("LAST", "round 2 steps::audit")
            )
        );
    }

    #[test]
    fn a_restore_that_changed_nothing_says_so() {
        let unchanged = WorldRestored {
            before: "round 2 steps::audit".to_owned(),
            collections: 0,
            files: 0,
            elapsed: Duration::from_millis(3),
            recovered: false,
        };
        let events = [
            Event::WorldRestored(unchanged.clone()),
            Event::WorldRestored(WorldRestored {
                recovered: true,
                ..unchanged
            }),
        ];
        assert_eq!(
            notes(false, &events),
            "prometheus-test: the world before round 2 steps::audit was already as kept: \
             nothing to restore\n\
             prometheus-test: completed the restore a stopped run left unfinished: the world \
             before round 2 steps::audit was already as kept: nothing to restore\n"
        );
    }

    #[test]
    fn restores_and_kept_snapshots_are_one_line_each_with_times_as_the_clock_shows_them() {
        let restored = WorldRestored {
            before: "round 2 steps::audit[worker3]".to_owned(),
            collections: 1,
            files: 3,
            elapsed: Duration::from_micros(14_900),
            recovered: false,
        };
        let events = [
            Event::WorldRestored(WorldRestored {
                recovered: true,
                collections: 2,
                files: 1,
                ..restored.clone()
            }),
            Event::WorldRestored(restored),
            Event::SnapshotsKept(SnapshotsKept {
                kept: 8,
                first: "round 2 steps::a".to_owned(),
                last: "round 3 steps::b".to_owned(),
                bytes: 136_500,
                dir: "/d/.snapshots".into(),
                taken: 29,
                median: Duration::from_micros(1_450),
            }),
        ];
        assert_eq!(
            notes(false, &events),
            "prometheus-test: completed the restore a stopped run left unfinished: restored the \
             world before round 2 steps::audit[worker3] (2 collections, 1 file) in 14 ms\n\
             prometheus-test: restored the world before round 2 steps::audit[worker3] \
             (1 collection, 3 files) in 14 ms\n\
             prometheus-test: snapshots: 8 kept (from round 2 steps::a to round 3 steps::b), \
             136.5 KB in /d/.snapshots; 29 taken, 1.4 ms each (median)\n"
        );
        let sink = Sink::default();
        feed(
            &mut Notes::new(Box::new(sink.clone()), false, Clock::Frozen),
            &events[1..2],
        );
        assert_eq!(
            sink.text(),
            "prometheus-test: restored the world before round 2 steps::audit[worker3] \
             (1 collection, 3 files) in 0 ms\n"
        );
    }

    #[test]
    fn json_runs_name_their_reports_here_and_passed_runs_say_nothing_more() {
        let ready = Event::WorkersReady(WorkersReady {
            workers: 3,
            elapsed: Duration::from_secs(2),
        });
        let twelve: Vec<(u32, usize)> = (1..=3)
            .flat_map(|round| (0..4).map(move |step| (round, step)))
            .collect();
        let events = [
            ready,
            Event::RunStarted(plan(&["a", "b", "c", "d"], &twelve)),
            Event::ReportWritten("/d/report.html".into()),
            Event::RunFinished(Exit::Passed),
        ];
        assert_eq!(
            notes(true, &events),
            "prometheus-test: 3 workers ready in 2.00s; 12 steps to play in rounds 1 to 3\n\
             prometheus-test: report: /d/report.html\n"
        );
        assert_eq!(
            notes(false, &events),
            "prometheus-test: 3 workers ready in 2.00s; 12 steps to play in rounds 1 to 3\n"
        );
    }
}
