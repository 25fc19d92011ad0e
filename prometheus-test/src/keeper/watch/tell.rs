//! The loop's lines: what a play kept, started again, restored and took.

use std::time::Duration;

use crate::harness::counted;
use crate::keeper::host::{Attachment, Got};
use crate::keeper::protocol::Outcome;

/// What a play did: kept processes (with `mongod`, the keeper's), started
/// ones and why, the restore, and the time from the change to the result.
pub(super) fn played(
    attachment: &Attachment,
    mongod: Option<u32>,
    (rebuild, took): (Duration, Duration),
    exit: Option<i32>,
) -> Vec<String> {
    let mut lines = Vec::new();
    let mut handed = attachment.handed.clone();
    handed.sort_by(|a, b| a.name.cmp(&b.name));
    let kept = with_pids(
        mongod,
        handed
            .iter()
            .filter(|handed| handed.got == Got::Kept)
            .map(|handed| (handed.name.clone(), handed.pid)),
    );
    if !kept.is_empty() {
        lines.push(format!("kept {}", kept.join(", ")));
    }
    for handed in &handed {
        match &handed.got {
            Got::Kept => {}
            Got::Started => lines.push(format!("started {} (PID {})", handed.name, handed.pid)),
            Got::Replaced(why) => lines.push(format!(
                "started {} again (PID {}): {why}",
                handed.name, handed.pid
            )),
        }
    }
    let report = attachment.report.clone().unwrap_or_default();
    if let Some(restored) = &report.restored {
        lines.push(format!(
            "restored the world before {} ({} ms)",
            restored.before, restored.ms
        ));
    }
    let count = |outcome: Outcome| {
        report
            .played
            .iter()
            .filter(|played| played.outcome == outcome)
            .count()
    };
    let result = if report.played.is_empty() && exit == Some(0) {
        "no step played (the command line selects none: a step renamed or removed?)".to_owned()
    } else if report.played.is_empty() {
        "no step played".to_owned()
    } else {
        format!(
            "{} played ({} passed, {} failed, {} skipped)",
            counted(report.played.len(), "step"),
            count(Outcome::Passed),
            count(Outcome::Failed),
            count(Outcome::Skipped)
        )
    };
    let steps = Duration::from_millis(report.steps_ms);
    let restore = Duration::from_millis(report.restored.as_ref().map_or(0, |r| r.ms));
    lines.push(format!(
        "{result} in {}: rebuild {}, restore {}, steps {}, the rest {} (start, attach, reports){}",
        seconds(rebuild + took),
        seconds(rebuild),
        seconds(restore),
        seconds(steps),
        seconds(took.saturating_sub(steps + restore)),
        exit.filter(|code| *code != 0)
            .map_or_else(String::new, |code| format!("; the run exited with {code}"))
    ));
    lines
}

/// What a run started elsewhere (the IDE's button) did with the world.
pub(super) fn other_run(attachment: &Attachment) -> Vec<String> {
    let mut lines: Vec<String> = attachment
        .handed
        .iter()
        .filter_map(|handed| match &handed.got {
            Got::Replaced(why) => Some(format!(
                "run PID {} started {} again (PID {}): {why}",
                attachment.pid, handed.name, handed.pid
            )),
            Got::Kept | Got::Started => None,
        })
        .collect();
    let kept = attachment
        .handed
        .iter()
        .filter(|handed| handed.got == Got::Kept)
        .count();
    let played = attachment
        .report
        .as_ref()
        .map_or(0, |report| report.played.len());
    lines.push(format!(
        "run PID {} used the kept world ({kept} of {} processes kept, {} played)",
        attachment.pid,
        attachment.handed.len(),
        counted(played, "step")
    ));
    lines
}

/// The processes running now (`mongod` first), for a line.
pub(super) fn running(
    mongod: Option<u32>,
    processes: impl IntoIterator<Item = (String, u32)>,
) -> String {
    let running = with_pids(mongod, processes);
    if running.is_empty() {
        "nothing runs".to_owned()
    } else {
        running.join(", ")
    }
}

/// `mongod (PID 7)`, then `name (PID n)` for each of `processes`.
fn with_pids(
    mongod: Option<u32>,
    processes: impl IntoIterator<Item = (String, u32)>,
) -> Vec<String> {
    mongod
        .map(|pid| ("mongod".to_owned(), pid))
        .into_iter()
        .chain(processes)
        .map(|(name, pid)| format!("{name} (PID {pid})"))
        .collect()
}

fn seconds(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keeper::host::Handed;
    use crate::keeper::protocol::{Played, Report, Restored};

    #[test]
    fn a_play_says_what_it_kept_started_restored_and_took() {
        let handed = |name: &str, pid, got| Handed {
            name: name.to_owned(),
            pid,
            got,
        };
        let attachment = Attachment {
            pid: 9,
            handed: vec![
                handed(
                    "worker2",
                    22,
                    Got::Replaced("worker2.py changed".to_owned()),
                ),
                handed("worker1", 21, Got::Kept),
                handed("middle", 20, Got::Kept),
            ],
            report: Some(Report {
                played: vec![Played {
                    round: 1,
                    name: "steps::a".to_owned(),
                    outcome: Outcome::Passed,
                }],
                restored: Some(Restored {
                    before: "round 1 steps::a".to_owned(),
                    ms: 6,
                }),
                steps_ms: 20,
                snapshots: true,
            }),
            ..Attachment::default()
        };
        let lines = played(
            &attachment,
            Some(7),
            (Duration::from_millis(1500), Duration::from_millis(300)),
            Some(0),
        );
        assert_eq!(
            lines,
            [
                "kept mongod (PID 7), middle (PID 20), worker1 (PID 21)",
                "started worker2 again (PID 22): worker2.py changed",
                "restored the world before round 1 steps::a (6 ms)",
                "1 step played (1 passed, 0 failed, 0 skipped) in 1.80 s: rebuild 1.50 s, \
                 restore 0.01 s, steps 0.02 s, the rest 0.27 s (start, attach, reports)"
            ]
        );
        assert_eq!(
            other_run(&attachment),
            [
                "run PID 9 started worker2 again (PID 22): worker2.py changed",
                "run PID 9 used the kept world (2 of 3 processes kept, 1 step played)"
            ]
        );
        assert_eq!(running(None, []), "nothing runs");
    }
}
