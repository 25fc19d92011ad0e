//! The results of a nextest run, kept by the coordinator for the test
//! processes: the plan (the step executions the run plays, the rounds they
//! span and where it resumed),
//! every step execution's outcome as the writers after the recording stage
//! see it (a failure's message redacted, with its HTTP excerpt and log
//! lines), the notes, and how the run ended. The [`Results`] writer rewrites
//! the file atomically (a temporary file renamed over it) after each change;
//! test processes [`read`] it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::super::plan::{Action, Position, plan};
use super::super::select::Selection;
use crate::events::{Event, StepFinished, Verdict, Writer};

/// The results file's content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct RunResults {
    /// The coordinator's PID.
    pub(super) coordinator: u32,
    /// The tests nextest selected, which the coordinator plays up to (with
    /// `--exact`); `None`: every test, the whole suite.
    pub(super) selected: Option<Vec<String>>,
    /// Every step's test name, in plan order (known with the plan).
    pub(super) step_order: Vec<String>,
    /// What the run plays, once its workers are up.
    pub(super) plan: Option<Plan>,
    /// Every step execution that ended, in order.
    pub(super) played: Vec<Played>,
    /// The run's notes (warnings, errors, where it resumed).
    pub(super) notes: Vec<String>,
    /// The exit code of the finished run (its reports are written).
    pub(super) finished: Option<u8>,
    /// The coordinator's exit code once it stopped everything it started.
    pub(super) closed: Option<u8>,
    /// The rounds announced with the workers, until the plan is complete.
    #[serde(skip)]
    pub(super) rounds: Vec<u32>,
}

/// What a run plays, and where it resumed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Plan {
    pub(super) rounds: Vec<u32>,
    /// The round a resumed run starts in, and the step it starts at (`None`:
    /// that round was done); `None` for a fresh run.
    pub(super) resumed: Option<(u32, Option<String>)>,
    /// The step executions, in order: `(round, index in step_order)`.
    pub(super) executions: Vec<(u32, usize)>,
}

impl Plan {
    /// The plan of a run over `rounds` from `resumed` with the steps
    /// `step_order`, of which `selected` (`None`: all) were selected: the
    /// run's own plan ([`plan`]), worked out again from what its events say.
    pub(super) fn new(
        rounds: Vec<u32>,
        resumed: Option<(u32, Option<String>)>,
        step_order: &[String],
        selected: Option<&[String]>,
    ) -> Self {
        let total = step_order.len();
        let from = match &resumed {
            None => Position { round: 1, done: 0 },
            Some((round, at)) => Position {
                round: *round,
                done: at
                    .as_ref()
                    .and_then(|at| step_order.iter().position(|name| name == at))
                    .unwrap_or(total),
            },
        };
        let max_rounds = rounds.last().copied().unwrap_or(0);
        let selection = Selection::of_names(selected, step_order);
        let executions = plan(total, from, max_rounds, &selection)
            .into_iter()
            .filter_map(|action| match action {
                Action::Step { round, index, .. } => Some((round, index)),
                Action::NextRound => None,
            })
            .collect();
        Self {
            rounds,
            resumed,
            executions,
        }
    }
}

/// One step execution that ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Played {
    pub(super) test: String,
    pub(super) round: u32,
    pub(super) elapsed: Duration,
    pub(super) outcome: Outcome,
}

/// How a step execution ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Outcome {
    Passed {
        attempts: u32,
    },
    Skipped {
        reason: String,
    },
    Failed {
        /// Redacted, with the failure excerpt.
        message: String,
        /// The worker lines captured while the step ran, redacted.
        logs: Vec<String>,
    },
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
            Event::WorkersReady(ready) => {
                self.rounds.clone_from(&ready.rounds);
                false
            }
            Event::RunStarted(run) => {
                self.step_order.clone_from(&run.step_order);
                self.plan = Some(Plan::new(
                    std::mem::take(&mut self.rounds),
                    run.resumed.clone(),
                    &run.step_order,
                    self.selected.as_deref(),
                ));
                true
            }
            Event::StepFinished(finished) => {
                self.played.push(Played::from(finished));
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
}

impl From<&StepFinished> for Played {
    fn from(finished: &StepFinished) -> Self {
        Self {
            test: finished.step.name.clone(),
            round: finished.step.round,
            elapsed: finished.elapsed,
            outcome: match &finished.verdict {
                Verdict::Passed { attempts } => Outcome::Passed {
                    attempts: *attempts,
                },
                Verdict::Skipped(reason) => Outcome::Skipped {
                    reason: reason.clone(),
                },
                Verdict::Failed { message } => Outcome::Failed {
                    message: message.clone(),
                    logs: finished.logs.clone(),
                },
            },
        }
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
    use super::*;
    use crate::Exit;
    use crate::events::testing::feed;
    use crate::events::{RunStarted, StepId, WorkersReady};

    fn finished(name: &str, round: u32, verdict: Verdict) -> Event {
        Event::StepFinished(StepFinished {
            step: StepId {
                name: name.to_owned(),
                round,
                worker: "worker1".to_owned(),
            },
            verdict,
            elapsed: Duration::from_millis(7),
            logs: vec!["[worker1] line".to_owned()],
        })
    }

    #[test]
    fn the_writer_keeps_the_plan_the_outcomes_the_notes_and_the_end_in_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.json");
        let shared = Arc::new(Mutex::new(RunResults::new(42)));
        let mut writer = Results::new(shared, path.clone());
        feed(
            &mut writer,
            &[
                Event::Note("resuming round 2 after step `a`".to_owned()),
                Event::WorkersReady(WorkersReady {
                    workers: 1,
                    elapsed: Duration::ZERO,
                    executions: 3,
                    rounds: vec![2, 3],
                }),
                Event::RunStarted(RunStarted {
                    executions: 3,
                    filtered_out: 0,
                    done_before_resume: 0,
                    resumed: Some((2, Some("b".to_owned()))),
                    step_order: vec!["a".to_owned(), "b".to_owned()],
                }),
                Event::RoundStarted { round: 2 },
                finished("b", 2, Verdict::Skipped("not today".to_owned())),
                finished("a", 3, Verdict::Passed { attempts: 2 }),
                finished(
                    "b",
                    3,
                    Verdict::Failed {
                        message: "boom".to_owned(),
                    },
                ),
                Event::RunError("cannot save".to_owned()),
                Event::RunFinished(Exit::Failed),
            ],
        );
        let played = |test: &str, round, outcome| Played {
            test: test.to_owned(),
            round,
            elapsed: Duration::from_millis(7),
            outcome,
        };
        assert_eq!(
            read(&path).unwrap(),
            RunResults {
                coordinator: 42,
                selected: None,
                step_order: vec!["a".to_owned(), "b".to_owned()],
                plan: Some(Plan {
                    rounds: vec![2, 3],
                    resumed: Some((2, Some("b".to_owned()))),
                    executions: vec![(2, 1), (3, 0), (3, 1)],
                }),
                played: vec![
                    played(
                        "b",
                        2,
                        Outcome::Skipped {
                            reason: "not today".to_owned()
                        }
                    ),
                    played("a", 3, Outcome::Passed { attempts: 2 }),
                    played(
                        "b",
                        3,
                        Outcome::Failed {
                            message: "boom".to_owned(),
                            logs: vec!["[worker1] line".to_owned()]
                        }
                    ),
                ],
                notes: vec![
                    "resuming round 2 after step `a`".to_owned(),
                    "error: cannot save".to_owned()
                ],
                finished: Some(101),
                closed: None,
                rounds: Vec::new(),
            }
        );
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left: {left:?}");
    }
}
