//! What a run will play, said once at its start: every step execution in
//! order, the steps the selection or the resume point leaves out, and where
//! a resumed run starts. Every consumer reads it from
//! [`Event::RunStarted`](super::Event::RunStarted); none works it out again.

use serde::{Deserialize, Serialize};

/// The plan of a run about to play.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Plan {
    /// Every step's test name, in plan (`order`) order.
    pub(crate) steps: Vec<String>,
    /// The step executions, in the order they will play.
    pub(crate) executions: Vec<Execution>,
    /// The steps the selection leaves out (not those a resumed run had
    /// done: `done_before_resume`).
    pub(crate) filtered_out: usize,
    /// The selected steps a resumed run leaves out because it had done them
    /// before its resume point (it resumes in its last round).
    pub(crate) done_before_resume: usize,
    /// Where a resumed run starts; `None` for a fresh run.
    pub(crate) resumed: Option<Resumed>,
}

/// One step execution: step `step` (an index in [`Plan::steps`]) in `round`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Execution {
    pub(crate) round: u32,
    pub(crate) step: usize,
}

/// Where a resumed run starts: its round, and the step it resumes at
/// (`None`: that round was done).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Resumed {
    pub(crate) round: u32,
    pub(crate) at: Option<String>,
}

impl Plan {
    /// The rounds the executions span, in order.
    pub(crate) fn rounds(&self) -> Vec<u32> {
        let mut rounds: Vec<u32> = Vec::new();
        for execution in &self.executions {
            if rounds.last() != Some(&execution.round) {
                rounds.push(execution.round);
            }
        }
        rounds
    }

    /// The test name of `execution`'s step.
    pub(crate) fn test_name(&self, execution: Execution) -> &str {
        &self.steps[execution.step]
    }

    /// The index of step `test` in [`Plan::steps`].
    pub(crate) fn step_index(&self, test: &str) -> Option<usize> {
        self.steps.iter().position(|name| name == test)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rounds_are_those_the_executions_span_once_each_in_order() {
        let plan = Plan {
            steps: vec!["a".to_owned(), "b".to_owned()],
            executions: [(2, 1), (3, 0), (3, 1), (4, 0)]
                .map(|(round, step)| Execution { round, step })
                .to_vec(),
            ..Plan::default()
        };
        assert_eq!(plan.rounds(), [2, 3, 4]);
        assert_eq!(plan.test_name(plan.executions[0]), "b");
        assert_eq!(plan.step_index("b"), Some(1));
        assert_eq!(Plan::default().rounds(), Vec::<u32>::new());
    }
}
