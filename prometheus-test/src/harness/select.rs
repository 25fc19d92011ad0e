//! libtest's filter rules applied to step names: a substring filter (or an
//! exact name with `--exact`), `--skip`, and `--ignored`.

use libtest_mimic::Arguments;

/// Which steps the command line selects, by index in run order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selection {
    /// `None`: no filter at all, so the whole run plays.
    pub(crate) chosen: Option<Vec<bool>>,
}

impl Selection {
    pub(crate) fn new(args: &Arguments, names: &[String]) -> Self {
        let filter = args.filter.as_deref().filter(|f| !f.is_empty());
        if filter.is_none() && args.skip.is_empty() && !args.ignored {
            return Self { chosen: None };
        }
        let matches = |pattern: &str, name: &str| {
            if args.exact {
                name == pattern
            } else {
                name.contains(pattern)
            }
        };
        let chosen = names
            .iter()
            .map(|name| {
                // No step is marked ignored, so `--ignored` selects none.
                !args.ignored
                    && filter.is_none_or(|f| matches(f, name))
                    && !args.skip.iter().any(|s| matches(s, name))
            })
            .collect();
        Self {
            chosen: Some(chosen),
        }
    }

    pub(crate) fn is_filtered(&self) -> bool {
        self.chosen.is_some()
    }

    pub(crate) fn contains(&self, index: usize) -> bool {
        self.chosen.as_ref().is_none_or(|c| c[index])
    }

    pub(crate) fn count(&self, total: usize) -> usize {
        self.chosen
            .as_ref()
            .map_or(total, |c| c.iter().filter(|&&x| x).count())
    }

    /// The last selected index, `None` when nothing is selected.
    pub(crate) fn last(&self, total: usize) -> Option<usize> {
        (0..total).rev().find(|&i| self.contains(i))
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
            select(&["--skip", "audit"]).chosen,
            Some(vec![true, true, false])
        );
        assert_eq!(
            select(&["--ignored"]).chosen,
            Some(vec![false, false, false])
        );
        assert_eq!(select(&["nothing"]).last(3), None);
        assert_eq!(select(&["task"]).last(3), Some(1));
    }
}
