//! The step instance requests are counted in: the harness opens one
//! before each attempt of a step and closes it after; each link's requests
//! are numbered from 0 within it.

use std::collections::HashMap;
use std::fmt;

use super::link::Link;

/// One attempt of one step instance of one round: where draws are made.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct StepAt {
    pub(crate) round: u32,
    /// The step instance's test name (`steps::audit[worker2]`); between
    /// steps, `after <the step before>`; before the first, `setup`.
    pub(crate) step: String,
    /// 0 for the first attempt, 1 for the first retry, …
    pub(crate) attempt: u32,
}

impl StepAt {
    pub(crate) fn new(round: u32, step: impl Into<String>, attempt: u32) -> Self {
        Self {
            round,
            step: step.into(),
            attempt,
        }
    }

    /// Where requests are counted before any step: round 0, `setup`.
    pub(crate) fn setup() -> Self {
        Self::new(0, "setup", 0)
    }

    /// Where requests are counted once this step ended, until the next
    /// begins (a worker's own calls between steps).
    pub(crate) fn after(&self) -> Self {
        Self::new(self.round, format!("after {}", self.step), self.attempt)
    }
}

impl fmt::Display for StepAt {
    /// `round 2 steps::audit[worker2]`, with `attempt 1` for a retry.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "round {} {}", self.round, self.step)?;
        if self.attempt > 0 {
            write!(f, " attempt {}", self.attempt)?;
        }
        Ok(())
    }
}

/// The current step and how many requests each link has had in it.
#[derive(Debug)]
pub(crate) struct Counting {
    at: StepAt,
    counts: HashMap<Link, u64>,
}

impl Default for Counting {
    fn default() -> Self {
        Self {
            at: StepAt::setup(),
            counts: HashMap::new(),
        }
    }
}

impl Counting {
    /// Requests from now on are counted in `at`, from 0 on every link.
    pub(crate) fn enter(&mut self, at: StepAt) {
        self.at = at;
        self.counts.clear();
    }

    /// Where requests are counted now.
    pub(crate) fn at(&self) -> &StepAt {
        &self.at
    }

    /// The number of the next request on `link` (0 for its first here),
    /// with the step it is counted in.
    pub(crate) fn next(&mut self, link: &Link) -> (StepAt, u64) {
        let count = self.counts.entry(link.clone()).or_default();
        let n = *count;
        *count += 1;
        (self.at.clone(), n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_link_counts_from_zero_in_each_step() {
        let mut counting = Counting::default();
        let a = Link::new("runner", "worker1");
        let b = Link::new("worker1", "api.example.com");
        assert_eq!(counting.next(&a), (StepAt::setup(), 0));
        counting.enter(StepAt::new(1, "steps::submit", 0));
        let at = StepAt::new(1, "steps::submit", 0);
        assert_eq!(counting.next(&a), (at.clone(), 0));
        assert_eq!(counting.next(&b), (at.clone(), 0));
        assert_eq!(counting.next(&a), (at.clone(), 1));
        counting.enter(at.after());
        assert_eq!(counting.next(&a).1, 0);
        assert_eq!(counting.at().step, "after steps::submit");
        assert_eq!(
            StepAt::new(2, "steps::audit[worker2]", 1).to_string(),
            "round 2 steps::audit[worker2] attempt 1"
        );
    }
}
