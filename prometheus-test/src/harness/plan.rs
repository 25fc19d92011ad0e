//! What a run does, worked out before anything starts: which step runs in
//! which round, from the saved resume point to the end of the run, or up to
//! the last selected step when the command line filters (the IDE's run
//! button: "run until here").

use anyhow::bail;

use super::select::Selection;
use crate::events::{Execution, Plan, Resumed};

/// One thing the run does, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Runs step `index` in `round`; `record` moves the resume point past it.
    Step {
        round: u32,
        index: usize,
        record: bool,
    },
    /// Moves the state to the next round.
    NextRound,
}

/// The saved resume point: a round, and how many steps of it are done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    pub(crate) round: u32,
    pub(crate) done: usize,
}

impl Position {
    /// The position after `last_completed_step` in `round`.
    pub(crate) fn from_state(
        round: u32,
        last: Option<&str>,
        names: &[&str],
    ) -> anyhow::Result<Self> {
        let done = match last {
            None => 0,
            Some(last) => match names.iter().position(|n| *n == last) {
                Some(i) => i + 1,
                None => bail!(
                    "the saved state says step `{last}` completed last, but no step has that name any more; \
                     run with --reset to start over"
                ),
            },
        };
        Ok(Self { round, done })
    }

    /// Whether the run is over: every step of the last round is done, or
    /// the saved round lies past the rounds the run has now.
    pub(crate) fn is_complete(self, total: usize, max_rounds: u32) -> bool {
        self.round > max_rounds || (self.round == max_rounds && self.done >= total)
    }
}

/// The run's actions for `total` steps from `from`, honouring `selection`;
/// steps `--skip` names are left out wherever they would run.
pub(crate) fn plan(
    total: usize,
    from: Position,
    max_rounds: u32,
    selection: &Selection,
) -> Vec<Action> {
    let mut actions = if selection.is_filtered() {
        until_selected(total, from, selection)
    } else {
        to_the_end(total, from, max_rounds)
    };
    actions.retain(|action| match action {
        Action::Step { index, .. } => !selection.is_skipped(*index),
        Action::NextRound => true,
    });
    actions
}

/// Every remaining step of every remaining round.
fn to_the_end(total: usize, from: Position, max_rounds: u32) -> Vec<Action> {
    let mut actions = Vec::new();
    let Position {
        mut round,
        mut done,
    } = from;
    while round <= max_rounds {
        actions.extend((done..total).map(|index| Action::Step {
            round,
            index,
            record: true,
        }));
        if round == max_rounds {
            break;
        }
        actions.push(Action::NextRound);
        round += 1;
        done = 0;
    }
    actions
}

/// The IDE's run button: from the resume point through the last selected
/// step of the current round. When that step is already done this round
/// (a finished round stays current until a plain run moves on), the selected
/// steps run again alone. A completed run never gets here: setup starts a
/// fresh one, so the button plays round 1 up to the step.
fn until_selected(total: usize, from: Position, selection: &Selection) -> Vec<Action> {
    let Some(last) = selection.last() else {
        return Vec::new();
    };
    let Position { round, done } = from;
    if done <= last {
        (done..=last)
            .map(|index| Action::Step {
                round,
                index,
                record: true,
            })
            .collect()
    } else {
        replay(total, round, selection)
    }
}

/// Selected steps that already completed this round run again, alone, with
/// the round's saved data; the resume point stays where it is.
fn replay(total: usize, round: u32, selection: &Selection) -> Vec<Action> {
    (0..total)
        .filter(|&i| selection.contains(i))
        .map(|index| Action::Step {
            round,
            index,
            record: false,
        })
        .collect()
}

/// The plan `actions` of the steps named `steps` from `position` under
/// `selection`, as the run announces it: a step no action plays is done
/// before the resume point when it lies before that point and the selection
/// keeps it, else filtered out.
pub(crate) fn announced(
    actions: &[Action],
    steps: Vec<String>,
    position: Position,
    selection: &Selection,
) -> Plan {
    let executions: Vec<Execution> = actions
        .iter()
        .filter_map(|action| match *action {
            Action::Step { round, index, .. } => Some(Execution { round, step: index }),
            Action::NextRound => None,
        })
        .collect();
    let mut planned = vec![false; steps.len()];
    for execution in &executions {
        planned[execution.step] = true;
    }
    let left_out = (0..steps.len()).filter(|&index| !planned[index]);
    let (done, filtered): (Vec<usize>, Vec<usize>) =
        left_out.partition(|&index| index < position.done && selection.contains(index));
    let resumed = (position.round > 1 || position.done > 0).then(|| Resumed {
        round: position.round,
        at: steps.get(position.done).cloned(),
    });
    Plan {
        steps,
        executions,
        filtered_out: filtered.len(),
        done_before_resume: done.len(),
        resumed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::{NextRound, Step};

    fn all(total: usize) -> Selection {
        Selection {
            chosen: None,
            skipped: vec![false; total],
        }
    }

    fn only(indices: &[usize], total: usize) -> Selection {
        Selection {
            chosen: Some((0..total).map(|i| indices.contains(&i)).collect()),
            skipped: vec![false; total],
        }
    }

    fn at(round: u32, done: usize) -> Position {
        Position { round, done }
    }

    fn steps(round: u32, range: std::ops::Range<usize>, record: bool) -> Vec<Action> {
        range
            .map(|index| Step {
                round,
                index,
                record,
            })
            .collect()
    }

    #[test]
    fn a_plain_run_plays_every_round_from_the_resume_point() {
        let mut expected = steps(1, 0..3, true);
        expected.push(NextRound);
        expected.extend(steps(2, 0..3, true));
        assert_eq!(plan(3, at(1, 0), 2, &all(3)), expected);
        let mut resumed = steps(1, 2..3, true);
        resumed.push(NextRound);
        resumed.extend(steps(2, 0..3, true));
        assert_eq!(plan(3, at(1, 2), 2, &all(3)), resumed);
        assert_eq!(
            plan(3, at(2, 3), 2, &all(3)),
            vec![],
            "a complete run has nothing left"
        );
    }

    #[test]
    fn a_finished_round_that_was_not_advanced_moves_on() {
        assert_eq!(
            plan(2, at(1, 2), 2, &all(2)),
            [vec![NextRound], steps(2, 0..2, true)].concat()
        );
    }

    #[test]
    fn a_filter_runs_until_the_selected_step_in_the_current_round() {
        assert_eq!(plan(4, at(1, 0), 3, &only(&[2], 4)), steps(1, 0..3, true));
        assert_eq!(plan(4, at(2, 1), 3, &only(&[2], 4)), steps(2, 1..3, true));
    }

    #[test]
    fn a_finished_round_stays_current_for_a_filtered_run() {
        assert_eq!(plan(4, at(1, 4), 3, &only(&[3], 4)), steps(1, 3..4, false));
        assert_eq!(plan(4, at(1, 4), 3, &only(&[0], 4)), steps(1, 0..1, false));
    }

    #[test]
    fn skipped_steps_are_left_out_of_every_round() {
        let mut skip_b = all(3);
        skip_b.skipped[1] = true;
        let expected = [
            steps(1, 0..1, true),
            steps(1, 2..3, true),
            vec![NextRound],
            steps(2, 0..1, true),
            steps(2, 2..3, true),
        ]
        .concat();
        assert_eq!(plan(3, at(1, 0), 2, &skip_b), expected);
    }

    #[test]
    fn a_selected_step_already_done_runs_again_alone() {
        assert_eq!(plan(4, at(1, 3), 3, &only(&[1], 4)), steps(1, 1..2, false));
        assert_eq!(
            plan(4, at(3, 4), 3, &only(&[1, 3], 4)),
            [steps(3, 1..2, false), steps(3, 3..4, false)].concat()
        );
    }

    #[test]
    fn a_filter_matching_nothing_plans_nothing() {
        assert_eq!(plan(4, at(1, 0), 3, &only(&[], 4)), vec![]);
    }

    #[test]
    fn positions_come_from_step_names() {
        let names = ["a", "b", "c"];
        assert_eq!(
            Position::from_state(2, Some("b"), &names).unwrap(),
            at(2, 2)
        );
        assert_eq!(Position::from_state(1, None, &names).unwrap(), at(1, 0));
        let err = Position::from_state(1, Some("gone"), &names)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`gone`") && err.contains("--reset"), "{err}");
        assert!(at(3, 3).is_complete(3, 3) && !at(2, 3).is_complete(3, 3));
        assert!(
            at(3, 1).is_complete(3, 2),
            "a saved round past max_rounds is over"
        );
    }
}
