//! The results of a nextest run, kept by the coordinator for the test
//! processes: the plan the run announced, every step execution's outcome as the writers after the recording stage
//! see it (a failure's message redacted, with its HTTP excerpt and log
//! lines), the notes, and how the run ended. The [`Results`] writer rewrites
//! the file atomically (a temporary file renamed over it) after each change;
//! test processes [`read`] it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::events::{Event, Plan, StepFinished, Writer};

/// The results file's content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct RunResults {
    /// The coordinator's PID.
    pub(super) coordinator: u32,
    /// The tests nextest selected, which the coordinator plays up to (with
    /// `--exact`); `None`: every test, the whole suite.
    pub(super) selected: Option<Vec<String>>,
    /// What the run plays, once its workers are up: the plan it announced.
    pub(super) plan: Option<Plan>,
    /// Every step execution that ended, in order; a passed or skipped one
    /// without the worker lines (only a failure shows them).
    pub(super) played: Vec<StepFinished>,
    /// The run's notes (warnings, errors, where it resumed).
    pub(super) notes: Vec<String>,
    /// The exit code of the finished run (its reports are written).
    pub(super) finished: Option<u8>,
    /// The coordinator's exit code once it stopped everything it started.
    pub(super) closed: Option<u8>,
}

impl RunResults {
    pub(super) fn new(coordinator: u32) -> Self {
        Self {
            coordinator,
            ..Self::default()
        }
    }

    /// Takes in what `event` says; whether the results changed.
    pub(super) fn apply(&mut self, event: &Event) -> bool {
        match event {
            Event::RunStarted(plan) => {
                self.plan = Some(plan.clone());
                true
            }
            Event::StepFinished(finished) => {
                let mut kept = finished.clone();
                if !kept.outcome.is_failure() {
                    kept.logs = Vec::new();
                }
                self.played.push(kept);
                true
            }
            Event::Note(text) => {
                self.notes.push(text.clone());
                true
            }
            Event::RunError(message) => {
                self.notes.push(format!("error: {message}"));
                true
            }
            Event::RunFinished(exit) => {
                self.finished = Some(exit.code());
                true
            }
            _ => false,
        }
    }

    /// The execution of step `test` in `round`, once it ended.
    pub(super) fn played(&self, test: &str, round: u32) -> Option<&StepFinished> {
        self.played
            .iter()
            .find(|p| p.step.name == test && p.step.round == round)
    }
}

/// The writer that keeps the results and writes them to `path` after each
/// change; the coordinator shares them to close the run.
pub(super) struct Results {
    shared: Arc<Mutex<RunResults>>,
    path: PathBuf,
}

impl Results {
    pub(super) fn new(shared: Arc<Mutex<RunResults>>, path: PathBuf) -> Self {
        Self { shared, path }
    }

    /// Writes the results as they are now.
    pub(super) fn save(&self) -> std::io::Result<()> {
        let results = self.shared.lock().unwrap_or_else(PoisonError::into_inner);
        write(&self.path, &results)
    }

    /// Changes the results with `change` and writes them.
    pub(super) fn update(&self, change: impl FnOnce(&mut RunResults)) -> std::io::Result<()> {
        change(&mut self.shared.lock().unwrap_or_else(PoisonError::into_inner));
        self.save()
    }
}

impl Writer for Results {
    fn handle(&mut self, event: &Event) {
        let changed = self
            .shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .apply(event);
        if changed && let Err(err) = self.save() {
            eprintln!(
                "prometheus-test: warning: cannot write the nextest results to {}: {err}",
                self.path.display()
            );
        }
    }
}

/// Writes `results` to `path` through a temporary file renamed over it, so
/// that a reader never sees half a file.
pub(super) fn write(path: &Path, results: &RunResults) -> std::io::Result<()> {
    let text = serde_json::to_vec(results).map_err(std::io::Error::other)?;
    let temp = path.with_extension(format!("json.{}.tmp", std::process::id()));
    crate::atomic_file::write_atomic(
        path,
        &temp,
        &text,
        crate::atomic_file::FileSync::Nothing,
        None,
    )
}

/// The results at `path`; `None` while there are none.
pub(super) fn read(path: &Path) -> Option<RunResults> {
    let text = std::fs::read(path).ok()?;
    serde_json::from_slice(&text).ok()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::Exit;
    use crate::events::testing::{feed, id};
    use crate::events::{Execution, LogLine, Outcome, Resumed};
    use crate::process::Stream;

    fn finished(name: &str, round: u32, outcome: Outcome) -> StepFinished {
        StepFinished {
            step: id(name, round),
            outcome,
            elapsed: Duration::from_millis(7),
            logs: vec![LogLine::new("worker1", Stream::Stdout, "line")],
        }
    }

    #[test]
    fn the_writer_keeps_the_plan_the_outcomes_the_notes_and_the_end_in_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.json");
        let shared = Arc::new(Mutex::new(RunResults::new(42)));
        let mut writer = Results::new(shared, path.clone());
        let plan = Plan {
            steps: vec!["a".to_owned(), "b".to_owned()],
            executions: [(2, 1), (3, 0), (3, 1)]
                .map(|(round, step)| Execution { round, step })
                .to_vec(),
            resumed: Some(Resumed {
                round: 2,
                at: Some("b".to_owned()),
            }),
            ..Plan::default()
        };
        let skipped = finished(
            "b",
            2,
            Outcome::Skipped {
                reason: "not today".to_owned(),
            },
        );
        let passed = finished("a", 3, Outcome::Passed { attempts: 2 });
        let failed = finished("b", 3, Outcome::failed("boom"));
        feed(
            &mut writer,
            &[
                Event::Note("resuming round 2 after step `a`".to_owned()),
                Event::RunStarted(plan.clone()),
                Event::RoundStarted { round: 2 },
                Event::StepFinished(skipped.clone()),
                Event::StepFinished(passed.clone()),
                Event::StepFinished(failed.clone()),
                Event::RunError("cannot save".to_owned()),
                Event::RunFinished(Exit::Failed),
            ],
        );
        let without_logs = |mut step: StepFinished| {
            step.logs.clear();
            step
        };
        assert_eq!(
            read(&path).unwrap(),
            RunResults {
                coordinator: 42,
                selected: None,
                plan: Some(plan),
                played: vec![without_logs(skipped), without_logs(passed), failed],
                notes: vec![
                    "resuming round 2 after step `a`".to_owned(),
                    "error: cannot save".to_owned()
                ],
                finished: Some(101),
                closed: None,
            }
        );
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left: {left:?}");
    }
}
