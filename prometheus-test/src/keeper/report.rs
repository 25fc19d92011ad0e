//! What an attached run tells its keeper as it ends: the steps it played,
//! the restore it began with and the time its steps took, gathered from the
//! run's events.

use std::time::Duration;

use super::client::Link;
use super::protocol::{Outcome as Ended, Played, Report, Restored};
use crate::events::{Event, Outcome, Writer};

/// The writer that gathers a [`Report`] and sends it at the run's end.
pub(crate) struct Reporting {
    link: Link,
    report: Report,
    steps: Duration,
}

impl Reporting {
    pub(crate) fn new(link: Link) -> Self {
        Self {
            link,
            report: Report::default(),
            steps: Duration::ZERO,
        }
    }
}

impl Writer for Reporting {
    fn handle(&mut self, event: &Event) {
        match event {
            Event::WorldRestored(restored) => {
                self.report.restored = Some(Restored {
                    before: restored.before.clone(),
                    ms: millis(restored.elapsed),
                });
            }
            Event::StepFinished(finished) => {
                self.steps += finished.elapsed;
                self.report.played.push(Played {
                    round: finished.step.round,
                    name: finished.step.name.clone(),
                    outcome: match finished.outcome {
                        Outcome::Passed { .. } => Ended::Passed,
                        Outcome::Skipped { .. } => Ended::Skipped,
                        Outcome::Failed { .. } | Outcome::Interrupted { .. } => Ended::Failed,
                    },
                });
            }
            Event::SnapshotsKept(_) => self.report.snapshots = true,
            Event::RunFinished(_) => {
                self.report.steps_ms = millis(self.steps);
                // A keeper that is gone has nothing to print it with.
                let _ = self.link.report(std::mem::take(&mut self.report));
            }
            _ => {}
        }
    }
}

fn millis(elapsed: Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}
