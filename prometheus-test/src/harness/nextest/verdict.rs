//! A test's verdict from the run's results: one line per round its step
//! plays in (the outcome and its time; a failure's message, HTTP excerpt and
//! worker lines under it), the rounds it was not run in or that were not
//! played and why, and whether the test passed.
//!
//! A test fails when its step failed in a round, or when the run stopped
//! before it in the round where the run stopped (`not run: …`). Rounds the
//! run never reached count against no test (`not played, …`).

use std::fmt::{self, Write as _};
use std::path::Path;

use super::results::RunResults;
use crate::Exit;
use crate::events::{Outcome, Resumed, StepFinished};
use crate::harness::writers::failure_text;

/// What a test process knows besides the results.
#[derive(Debug, Clone, Copy)]
pub(super) struct Context<'a> {
    /// nextest's attempt at this test (`--retries`), from 1.
    pub(super) attempt: u32,
    /// The coordinator's log.
    pub(super) log: &'a Path,
    /// The coordinator is gone and did not close the run (killed, crashed).
    pub(super) coordinator_gone: bool,
}

/// Where a test stands.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Its step has rounds still to play, or it was the run's last step
    /// and the coordinator has not stopped everything and written the
    /// reports yet.
    Waiting,
    Done(Report),
}

/// What a test prints, and whether it passed.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Report {
    /// stdout: the rounds.
    pub(super) out: String,
    /// stderr: where the suite played, a retry, and the run's notes when it
    /// ended without a failed step.
    pub(super) notes: String,
    pub(super) passed: bool,
}

/// Why the run stopped before playing everything it planned.
#[derive(Debug)]
enum Stop<'a> {
    /// A step failed (or was interrupted); the run stopped after it.
    Failed { test: &'a str, round: u32 },
    /// The run ended without a failed step (it could not start, could not
    /// save its state, or the coordinator died).
    Ended(String),
}

impl fmt::Display for Stop<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Failed { test, round } => write!(f, "{test} failed in round {round}"),
            Self::Ended(why) => f.write_str(why),
        }
    }
}

/// The verdict of test `test`.
pub(super) fn verdict(results: &RunResults, test: &str, cx: &Context<'_>) -> Verdict {
    let stop = stop(results, cx);
    let mut report = Report {
        out: String::new(),
        notes: header(results, cx),
        passed: true,
    };
    let Some(plan) = &results.plan else {
        let Some(stop) = stop else {
            return Verdict::Waiting;
        };
        report.fail(&format!("not run: {stop}"), results);
        return Verdict::Done(report);
    };
    let Some(index) = plan.step_index(test) else {
        report.passed = false;
        let _ = writeln!(
            report.out,
            "not run: the suite this nextest run plays (coordinator PID {}) has no step {test}; \
             do two test binaries share one data_dir?",
            results.coordinator
        );
        return Verdict::Done(report);
    };
    if let Some(Resumed { round, at }) = &plan.resumed {
        let _ = match at {
            Some(first) => writeln!(
                report.out,
                "this run resumed in round {round} at {first}; what came before was played by an earlier run"
            ),
            None => writeln!(
                report.out,
                "this run resumed after round {round}, which an earlier run completed"
            ),
        };
    }
    let executions = &plan.executions;
    let first_unplayed = executions.iter().find(|&&execution| {
        results
            .played(plan.test_name(execution), execution.round)
            .is_none()
    });
    for round in executions
        .iter()
        .filter(|execution| execution.step == index)
        .map(|execution| execution.round)
    {
        if let Some(played) = results.played(test, round) {
            report.round(played);
            continue;
        }
        let Some(stop) = &stop else {
            return Verdict::Waiting;
        };
        let stopped_in = match stop {
            Stop::Failed { round, .. } => *round,
            Stop::Ended(_) => first_unplayed.map_or(round, |execution| execution.round),
        };
        if round == stopped_in {
            report.fail(&format!("round {round}: not run: {stop}"), results);
        } else {
            let _ = writeln!(
                report.out,
                "round {round}: not played, the run stopped: {stop}"
            );
        }
    }
    let over = stop.is_some() || first_unplayed.is_none();
    let played_last = results.played.last().is_some_and(|p| p.step.name == test);
    if over && played_last && results.closed.is_none() && !cx.coordinator_gone {
        return Verdict::Waiting;
    }
    Verdict::Done(report)
}

/// Whether the run has played every step execution it planned (or it
/// finished): nothing a test waits for is left to play.
pub(super) fn played_out(results: &RunResults) -> bool {
    results.finished.is_some()
        || results.plan.as_ref().is_some_and(|plan| {
            plan.executions.iter().all(|&execution| {
                results
                    .played(plan.test_name(execution), execution.round)
                    .is_some()
            })
        })
}

/// Why the run stopped early, once it has: its first failed step, else how
/// it ended.
fn stop<'a>(results: &'a RunResults, cx: &Context<'_>) -> Option<Stop<'a>> {
    if let Some(failed) = results.played.iter().find(|p| p.outcome.is_failure()) {
        return Some(Stop::Failed {
            test: &failed.step.name,
            round: failed.step.round,
        });
    }
    if let Some(code) = results.closed.or(results.finished) {
        return Some(Stop::Ended(ended(code)));
    }
    cx.coordinator_gone.then(|| {
        Stop::Ended(format!(
            "the coordinator (PID {}) ended before the run did",
            results.coordinator
        ))
    })
}

fn ended(code: u8) -> String {
    match Exit::from_code(code) {
        Some(Exit::SetupFailed) => "the suite could not start".to_owned(),
        Some(Exit::Interrupted) => "the run was interrupted by SIGINT".to_owned(),
        Some(Exit::Terminated) => "the run was stopped by SIGTERM".to_owned(),
        Some(Exit::Failed) => "the run failed".to_owned(),
        Some(Exit::Passed) | None => format!("the run ended with exit code {code}"),
    }
}

/// Where the suite played, and what a retry gets.
fn header(results: &RunResults, cx: &Context<'_>) -> String {
    let mut notes = format!(
        "prometheus-test: the suite plays once per nextest run, in its coordinator (PID {}); its log: {}\n",
        results.coordinator,
        cx.log.display()
    );
    if cx.attempt > 1 {
        let _ = writeln!(
            notes,
            "prometheus-test: attempt {}: the step is not played again in the same nextest run; \
             this is the outcome recorded when it played",
            cx.attempt
        );
    }
    notes
}

impl Report {
    fn round(&mut self, played: &StepFinished) {
        let round = played.step.round;
        let secs = played.elapsed.as_secs_f64();
        let _ = match &played.outcome {
            Outcome::Passed { attempts: 1 } => writeln!(self.out, "round {round}: ok ({secs:.2}s)"),
            Outcome::Passed { attempts } => writeln!(
                self.out,
                "round {round}: ok, passed after {attempts} attempts ({secs:.2}s)"
            ),
            Outcome::Skipped { reason } => writeln!(self.out, "round {round}: skipped, {reason}"),
            Outcome::Failed { .. } | Outcome::Interrupted { .. } => {
                self.passed = false;
                let message = played.outcome.failure().unwrap_or_default();
                writeln!(
                    self.out,
                    "round {round}: FAILED ({secs:.2}s)\n{}",
                    failure_text(&message, &played.logs)
                )
            }
        };
    }

    /// A line that fails the test; a run that ended without a failed step
    /// also shows its notes.
    fn fail(&mut self, line: &str, results: &RunResults) {
        if self.passed && !results.played.iter().any(|p| p.outcome.is_failure()) {
            for note in &results.notes {
                let _ = writeln!(self.notes, "prometheus-test: {note}");
            }
        }
        self.passed = false;
        self.out.push_str(line);
        self.out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::events::testing::id;
    use crate::events::{Execution, LogLine, Plan};
    use crate::harness::plan::{Position, announced, plan};
    use crate::harness::select::Selection;
    use crate::process::Stream;

    const ORDER: [&str; 3] = ["steps::a", "steps::b[worker2]", "steps::c"];

    fn order() -> Vec<String> {
        ORDER.iter().map(|s| (*s).to_owned()).collect()
    }

    /// The plan the run announces for `rounds` from `resumed` (a round and
    /// the step it resumes at) with `selected` chosen (`None`: all).
    fn plan_of(rounds: &[u32], resumed: Option<(u32, &str)>, selected: Option<&[String]>) -> Plan {
        let from = match resumed {
            None => Position { round: 1, done: 0 },
            Some((round, at)) => Position {
                round,
                done: ORDER.iter().position(|name| *name == at).unwrap(),
            },
        };
        let selection = Selection::of_names(selected, &order());
        let max_rounds = rounds.last().copied().unwrap_or(0);
        let actions = plan(ORDER.len(), from, max_rounds, &selection);
        announced(&actions, order(), from, &selection)
    }

    fn results(rounds: &[u32], played: Vec<StepFinished>) -> RunResults {
        RunResults {
            coordinator: 42,
            plan: Some(plan_of(rounds, None, None)),
            played,
            ..RunResults::default()
        }
    }

    fn ok(test: &str, round: u32) -> StepFinished {
        StepFinished {
            step: id(test, round),
            outcome: Outcome::Passed { attempts: 1 },
            elapsed: Duration::from_millis(12),
            logs: Vec::new(),
        }
    }

    fn failed(test: &str, round: u32) -> StepFinished {
        StepFinished {
            step: id(test, round),
            outcome: Outcome::Failed {
                message: "asked to fail".to_owned(),
                excerpt: Some("  GET /x -> 500".to_owned()),
            },
            elapsed: Duration::from_millis(31),
            logs: vec![LogLine::new("worker2", Stream::Stderr, "boom")],
        }
    }

    fn executions(plan: &Plan) -> Vec<(u32, usize)> {
        plan.executions
            .iter()
            .map(|&Execution { round, step }| (round, step))
            .collect()
    }

    fn cx() -> Context<'static> {
        Context {
            attempt: 1,
            log: Path::new("/d/.nextest/run.log"),
            coordinator_gone: false,
        }
    }

    const WHERE: &str = "prometheus-test: the suite plays once per nextest run, in its coordinator \
                         (PID 42); its log: /d/.nextest/run.log\n";

    fn done(out: &str, notes: &str, passed: bool) -> Verdict {
        Verdict::Done(Report {
            out: out.to_owned(),
            notes: format!("{WHERE}{notes}"),
            passed,
        })
    }

    #[test]
    fn a_step_done_in_every_round_passes_with_one_line_per_round_and_its_skip_reasons() {
        let skipped = StepFinished {
            outcome: Outcome::Skipped {
                reason: "nothing to check in round 2".to_owned(),
            },
            ..ok("steps::b[worker2]", 2)
        };
        let retried = StepFinished {
            outcome: Outcome::Passed { attempts: 3 },
            ..ok("steps::b[worker2]", 1)
        };
        let run = results(
            &[1, 2],
            vec![ok("steps::a", 1), retried, ok("steps::a", 2), skipped],
        );
        assert_eq!(
            verdict(&run, "steps::b[worker2]", &cx()),
            done(
                "round 1: ok, passed after 3 attempts (0.01s)\nround 2: skipped, nothing to check in round 2\n",
                "",
                true
            )
        );
        assert_eq!(
            verdict(&run, "steps::a", &cx()),
            done("round 1: ok (0.01s)\nround 2: ok (0.01s)\n", "", true)
        );
    }

    #[test]
    fn a_step_with_rounds_to_play_waits_and_the_run_s_last_step_waits_for_the_close() {
        let going = results(&[1, 2], vec![ok("steps::a", 1), ok("steps::b[worker2]", 1)]);
        assert_eq!(verdict(&going, "steps::a", &cx()), Verdict::Waiting);
        let mut all = results(
            &[1],
            vec![
                ok("steps::a", 1),
                ok("steps::b[worker2]", 1),
                ok("steps::c", 1),
            ],
        );
        assert_eq!(verdict(&all, "steps::c", &cx()), Verdict::Waiting);
        assert_eq!(
            verdict(&all, "steps::a", &cx()),
            done("round 1: ok (0.01s)\n", "", true),
            "a step played before the last one ends at once"
        );
        all.finished = Some(0);
        assert_eq!(verdict(&all, "steps::c", &cx()), Verdict::Waiting);
        all.closed = Some(0);
        assert_eq!(
            verdict(&all, "steps::c", &cx()),
            done("round 1: ok (0.01s)\n", "", true)
        );
    }

    #[test]
    fn a_failure_in_round_2_fails_that_step_and_the_later_ones_of_the_round_only() {
        let run = results(
            &[1, 2, 3],
            vec![
                ok("steps::a", 1),
                ok("steps::b[worker2]", 1),
                ok("steps::c", 1),
                ok("steps::a", 2),
                failed("steps::b[worker2]", 2),
            ],
        );
        let not_played =
            "round 3: not played, the run stopped: steps::b[worker2] failed in round 2\n";
        assert_eq!(
            verdict(&run, "steps::a", &cx()),
            done(
                &format!("round 1: ok (0.01s)\nround 2: ok (0.01s)\n{not_played}"),
                "",
                true
            )
        );
        assert_eq!(
            verdict(&run, "steps::c", &cx()),
            done(
                &format!(
                    "round 1: ok (0.01s)\nround 2: not run: steps::b[worker2] failed in round 2\n{not_played}"
                ),
                "",
                false
            )
        );
        assert_eq!(
            verdict(&run, "steps::b[worker2]", &cx()),
            Verdict::Waiting,
            "the failed step was the run's last: its test waits for the reports"
        );
        let closed = RunResults {
            closed: Some(101),
            ..run
        };
        assert_eq!(
            verdict(
                &closed,
                "steps::b[worker2]",
                &Context { attempt: 2, ..cx() }
            ),
            done(
                &format!(
                    "round 1: ok (0.01s)\nround 2: FAILED (0.03s)\nError: asked to fail\n\n  GET /x -> 500\n\n\
                     worker output during the step:\n[worker2 ERR] boom\n\n{not_played}"
                ),
                "prometheus-test: attempt 2: the step is not played again in the same nextest run; \
                 this is the outcome recorded when it played\n",
                false
            )
        );
    }

    #[test]
    fn a_run_is_played_out_once_every_planned_execution_ended_or_it_finished() {
        let mut run = results(&[1], vec![ok("steps::a", 1), ok("steps::b[worker2]", 1)]);
        assert!(!played_out(&run));
        run.played.push(ok("steps::c", 1));
        assert!(played_out(&run));
        let starting = RunResults::default();
        assert!(!played_out(&starting));
        assert!(played_out(&RunResults {
            finished: Some(2),
            ..starting
        }));
    }

    #[test]
    fn a_failure_at_the_end_of_a_round_leaves_the_next_round_not_played_for_everyone() {
        let run = RunResults {
            closed: Some(101),
            ..results(
                &[1, 2],
                vec![
                    ok("steps::a", 1),
                    ok("steps::b[worker2]", 1),
                    failed("steps::c", 1),
                ],
            )
        };
        assert_eq!(
            verdict(&run, "steps::a", &cx()),
            done(
                "round 1: ok (0.01s)\nround 2: not played, the run stopped: steps::c failed in round 1\n",
                "",
                true
            )
        );
    }

    #[test]
    fn the_events_of_a_run_make_the_verdicts() {
        use crate::events::{Event, Outcome as StepOutcome};
        let finished = |name: &str, round, outcome| {
            Event::StepFinished(StepFinished {
                step: id(name, round),
                outcome,
                elapsed: Duration::from_millis(40),
                logs: vec![LogLine::new("worker2", Stream::Stdout, "GET /x")],
            })
        };
        let mut run = RunResults::new(42);
        for event in [
            Event::RunStarted(plan_of(&[1, 2], None, None)),
            finished("steps::a", 1, StepOutcome::Passed { attempts: 1 }),
            finished(
                "steps::b[worker2]",
                1,
                StepOutcome::Skipped {
                    reason: "later".to_owned(),
                },
            ),
            finished("steps::c", 1, StepOutcome::Passed { attempts: 1 }),
            finished(
                "steps::a",
                2,
                StepOutcome::Failed {
                    excerpt: None,
                    message: "boom".to_owned(),
                },
            ),
            Event::RunFinished(Exit::Failed),
        ] {
            run.apply(&event);
        }
        run.closed = Some(101);
        assert_eq!(
            verdict(&run, "steps::b[worker2]", &cx()),
            done(
                "round 1: skipped, later\nround 2: not run: steps::a failed in round 2\n",
                "",
                false
            )
        );
        assert_eq!(
            verdict(&run, "steps::a", &cx()),
            done(
                "round 1: ok (0.04s)\nround 2: FAILED (0.04s)\nError: boom\n\n\
                 worker output during the step:\n[worker2] GET /x\n\n",
                "",
                false
            )
        );
    }

    #[test]
    fn a_test_the_coordinator_does_not_know_fails_at_once() {
        let run = results(&[1], Vec::new());
        assert_eq!(
            verdict(&run, "steps::gone", &cx()),
            done(
                "not run: the suite this nextest run plays (coordinator PID 42) has no step steps::gone; \
                 do two test binaries share one data_dir?\n",
                "",
                false
            )
        );
    }

    #[test]
    fn a_resumed_run_plays_the_rest_of_its_first_round() {
        let mut run = results(&[2, 3], vec![ok("steps::c", 2), ok("steps::a", 3)]);
        run.plan = Some(plan_of(&[2, 3], Some((2, "steps::c")), None));
        assert_eq!(
            verdict(&run, "steps::a", &cx()),
            done(
                "this run resumed in round 2 at steps::c; what came before was played by an earlier run\n\
                 round 3: ok (0.01s)\n",
                "",
                true
            )
        );
        assert_eq!(verdict(&run, "steps::c", &cx()), Verdict::Waiting);
    }

    #[test]
    fn a_filtered_run_is_played_out_after_its_last_selected_step_whose_test_waits_for_the_close() {
        let selected = vec!["steps::b[worker2]".to_owned()];
        let mut run = RunResults {
            selected: Some(selected.clone()),
            plan: Some(plan_of(&[1], None, Some(&selected))),
            ..results(&[1], vec![ok("steps::a", 1)])
        };
        assert_eq!(executions(run.plan.as_ref().unwrap()), [(1, 0), (1, 1)]);
        assert!(!played_out(&run));
        assert_eq!(verdict(&run, "steps::b[worker2]", &cx()), Verdict::Waiting);
        run.played.push(ok("steps::b[worker2]", 1));
        assert!(
            played_out(&run),
            "nothing selected is left: nextest may end"
        );
        assert_eq!(verdict(&run, "steps::b[worker2]", &cx()), Verdict::Waiting);
        run.closed = Some(0);
        assert_eq!(
            verdict(&run, "steps::b[worker2]", &cx()),
            done("round 1: ok (0.01s)\n", "", true)
        );
        let replayed = plan_of(&[2], Some((2, "steps::c")), Some(&["steps::a".to_owned()]));
        assert_eq!(
            executions(&replayed),
            [(2, 0)],
            "a selected step done this round plays again alone"
        );
    }

    #[test]
    fn a_suite_that_could_not_start_fails_every_test_with_its_notes() {
        let run = RunResults {
            coordinator: 42,
            notes: vec!["error: config.yaml: `task_id` is missing".to_owned()],
            closed: Some(2),
            ..RunResults::default()
        };
        assert_eq!(
            verdict(&run, "steps::a", &cx()),
            done(
                "not run: the suite could not start\n",
                "prometheus-test: error: config.yaml: `task_id` is missing\n",
                false
            )
        );
        let starting = RunResults {
            closed: None,
            ..run
        };
        assert_eq!(verdict(&starting, "steps::a", &cx()), Verdict::Waiting);
    }

    #[test]
    fn a_coordinator_gone_mid_run_fails_the_steps_of_its_round_still_to_play() {
        let run = RunResults {
            notes: vec!["fresh run: starting at round 1".to_owned()],
            ..results(&[1, 2], vec![ok("steps::a", 1)])
        };
        let gone = Context {
            coordinator_gone: true,
            ..cx()
        };
        let stopped = "the coordinator (PID 42) ended before the run did";
        assert_eq!(
            verdict(&run, "steps::c", &gone),
            done(
                &format!(
                    "round 1: not run: {stopped}\nround 2: not played, the run stopped: {stopped}\n"
                ),
                "prometheus-test: fresh run: starting at round 1\n",
                false
            )
        );
        assert_eq!(
            verdict(&run, "steps::a", &gone),
            done(
                &format!("round 1: ok (0.01s)\nround 2: not played, the run stopped: {stopped}\n"),
                "",
                true
            )
        );
    }
}
