//! libtest's filter rules applied to step names: a substring filter (or an
//! exact name with `--exact`), `--skip`, and `--ignored`.

use libtest_mimic::Arguments;

/// Which steps the command line selects, by index in run order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selection {
    /// The steps a filter (or `--ignored`) picks; `None` without one, so
    /// the whole run plays.
    pub(crate) chosen: Option<Vec<bool>>,
    /// Steps `--skip` leaves out wherever they would run.
    pub(crate) skipped: Vec<bool>,
}

impl Selection {
    pub(crate) fn new(args: &Arguments, names: &[String]) -> Self {
        let matches = |pattern: &str, name: &str| {
            if args.exact {
                name == pattern
            } else {
                name.contains(pattern)
            }
        };
        let skipped = names
            .iter()
            .map(|name| args.skip.iter().any(|s| matches(s, name)))
            .collect();
        let filter = args.filter.as_deref().filter(|f| !f.is_empty());
        let chosen = (filter.is_some() || args.ignored).then(|| {
            names
                .iter()
                // No step is marked ignored, so `--ignored` picks none.
                .map(|name| !args.ignored && filter.is_none_or(|f| matches(f, name)))
                .collect()
        });
        Self { chosen, skipped }
    }

    /// Whether a filter limits the run to "until the last chosen step".
    pub(crate) fn is_filtered(&self) -> bool {
        self.chosen.is_some()
    }

    /// Whether step `index` may run: chosen (or no filter) and not skipped.
    pub(crate) fn contains(&self, index: usize) -> bool {
        !self.skipped[index] && self.chosen.as_ref().is_none_or(|c| c[index])
    }

    pub(crate) fn is_skipped(&self, index: usize) -> bool {
        self.skipped[index]
    }

    pub(crate) fn count(&self) -> usize {
        (0..self.skipped.len())
            .filter(|&i| self.contains(i))
            .count()
    }

    /// The last selected index, `None` when nothing is selected.
    pub(crate) fn last(&self) -> Option<usize> {
        (0..self.skipped.len()).rev().find(|&i| self.contains(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn select(args: &[&str]) -> Selection {
        let args = Arguments::from_iter(std::iter::once("e2e").chain(args.iter().copied()));
        let names = [
            "steps::task::worker_task",
            "steps::task::worker_task_2",
            "steps::audit::audit",
        ]
        .map(String::from);
        Selection::new(&args, &names)
    }

    #[test]
    fn libtest_filter_rules() {
        assert_eq!(select(&[]).chosen, None);
        assert_eq!(
            select(&[""]).chosen,
            None,
            "an empty filter matches everything"
        );
        assert_eq!(select(&["task"]).chosen, Some(vec![true, true, false]));
        assert_eq!(
            select(&["steps::task::worker_task", "--exact"]).chosen,
            Some(vec![true, false, false])
        );
        assert_eq!(
            select(&["--ignored"]).chosen,
            Some(vec![false, false, false])
        );
        assert_eq!(select(&["nothing"]).last(), None);
        assert_eq!(select(&["task"]).last(), Some(1));
    }

    #[test]
    fn skip_leaves_steps_out_without_filtering_the_run() {
        let skipping = select(&["--skip", "audit"]);
        assert!(!skipping.is_filtered());
        assert!(skipping.contains(0) && !skipping.contains(2) && skipping.is_skipped(2));
        assert_eq!((skipping.count(), skipping.last()), (2, Some(1)));
        let both = select(&["task", "--skip", "task_2"]);
        assert_eq!((both.count(), both.last()), (1, Some(0)));
    }
}
