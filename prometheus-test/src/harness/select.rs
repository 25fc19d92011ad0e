//! libtest's filter rules applied to step names: substring filters (or exact
//! names with `--exact`; a step runs when one of them matches), `--skip`, and
//! `--ignored`. An exact name that is a multi-worker step's function path
//! (`steps::task::f`, what an IDE's run button sends) names every instance
//! (`steps::task::f[worker1]`, ...).

use super::args::CommandLine;

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
    pub(crate) fn new(args: &CommandLine, names: &[String]) -> Self {
        let matches = |pattern: &str, name: &str| matches(args.exact, pattern, name);
        let skipped = names
            .iter()
            .map(|name| args.skip.iter().any(|s| matches(s, name)))
            .collect();
        let filtered = !args.filters.is_empty();
        let chosen = (filtered || args.ignored).then(|| {
            names
                .iter()
                // No step is marked ignored, so `--ignored` picks none.
                .map(|name| {
                    !args.ignored && (!filtered || args.filters.iter().any(|f| matches(f, name)))
                })
                .collect()
        });
        Self { chosen, skipped }
    }

    /// Exactly the steps `chosen` names among `names` (`None`: every step),
    /// none skipped: what `--exact` with those names selects.
    #[cfg(test)]
    pub(crate) fn of_names(chosen: Option<&[String]>, names: &[String]) -> Self {
        Self {
            chosen: chosen.map(|chosen| names.iter().map(|name| chosen.contains(name)).collect()),
            skipped: vec![false; names.len()],
        }
    }

    /// A warning for each filter that matches no step: libtest exits 0 when
    /// nothing runs, so a typo in an IDE or CI command would look like a
    /// pass. Each names the closest step names.
    pub(crate) fn unmatched_filters(args: &CommandLine, names: &[String]) -> Vec<String> {
        if args.ignored {
            return Vec::new();
        }
        let exact = if args.exact { " exactly" } else { "" };
        args.filters
            .iter()
            .filter(|filter| !names.iter().any(|name| matches(args.exact, filter, name)))
            .map(|filter| {
                let closest: Vec<String> = closest(filter, names)
                    .iter()
                    .map(|name| format!("`{name}`"))
                    .collect();
                let consequence = if args.filters.len() == 1 {
                    "so nothing ran"
                } else {
                    "so it selected nothing"
                };
                format!(
                    "warning: no step is named{exact} `{filter}`, {consequence}; the closest step names: {}",
                    closest.join(", ")
                )
            })
            .collect()
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

/// libtest's rule, plus: an exact `pattern` naming a multi-worker step's
/// function path matches each of its instances, `pattern[worker]`.
fn matches(exact: bool, pattern: &str, name: &str) -> bool {
    if !exact {
        return name.contains(pattern);
    }
    name == pattern
        || name
            .strip_prefix(pattern)
            .and_then(|rest| rest.strip_prefix('['))
            .is_some_and(|worker| {
                worker.ends_with(']') && !worker[..worker.len() - 1].contains('[')
            })
}

/// Up to three names nearest to `filter`: names that contain it first
/// (`ledger` finds `steps::distribution::ledger_is_consistent` before any
/// near miss), then by edit distance, ties in run order; a multi-worker step
/// is offered once, by its function path, unless the filter names a worker.
fn closest<'a>(filter: &str, names: &'a [String]) -> Vec<&'a str> {
    let mut candidates: Vec<&str> = Vec::new();
    for name in names {
        let name = name.as_str();
        let shown = match name.find('[') {
            Some(bracket) if !filter.contains('[') => &name[..bracket],
            _ => name,
        };
        if !candidates.contains(&shown) {
            candidates.push(shown);
        }
    }
    let mut ranked: Vec<(bool, usize, usize, &str)> = candidates
        .into_iter()
        .enumerate()
        .map(|(index, name)| {
            let contains = name.contains(filter);
            (!contains, distance(filter, name), index, name)
        })
        .collect();
    ranked.sort_unstable();
    ranked
        .into_iter()
        .take(3)
        .map(|(_, _, _, name)| name)
        .collect()
}

/// The edit distance from `filter` to the closest part of `name` that ends
/// where `name` does (a partial path such as `task::f` is near `steps::task::f`).
fn distance(filter: &str, name: &str) -> usize {
    let filter: Vec<char> = filter.chars().collect();
    let name: Vec<char> = name.chars().collect();
    // Levenshtein with a free start anywhere in `name`.
    let mut previous = vec![0; name.len() + 1];
    for (i, f) in filter.iter().enumerate() {
        let mut current = vec![i + 1; name.len() + 1];
        for (j, n) in name.iter().enumerate() {
            let substitution = previous[j] + usize::from(f != n);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[name.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command_line(args: &[&str]) -> CommandLine {
        let args = std::iter::once("e2e")
            .chain(args.iter().copied())
            .map(Into::into);
        match super::super::args::parse(args) {
            Ok(super::super::args::Parsed::Run(command_line)) => command_line,
            other => panic!("{other:?}"),
        }
    }

    fn select(args: &[&str]) -> Selection {
        Selection::new(&command_line(args), &names())
    }

    fn names() -> [String; 3] {
        [
            "steps::task::worker_task",
            "steps::task::worker_task_2",
            "steps::audit::audit",
        ]
        .map(String::from)
    }

    fn instances() -> [String; 4] {
        [
            "steps::task::task[worker1]",
            "steps::task::task[worker2]",
            "steps::task::task_2",
            "steps::task::task_2[x][y]",
        ]
        .map(String::from)
    }

    fn chosen(args: &[&str], names: &[String]) -> Option<Vec<bool>> {
        Selection::new(&command_line(args), names).chosen
    }

    fn warning(args: &[&str]) -> Option<String> {
        let warnings = Selection::unmatched_filters(&command_line(args), &instances());
        assert!(warnings.len() <= 1, "{warnings:?}");
        warnings.into_iter().next()
    }

    #[test]
    fn an_exact_function_path_selects_every_instance_and_an_instance_name_one() {
        let names = instances();
        assert_eq!(
            chosen(&["steps::task::task", "--exact"], &names),
            Some(vec![true, true, false, false])
        );
        assert_eq!(
            chosen(&["steps::task::task[worker2]", "--exact"], &names),
            Some(vec![false, true, false, false])
        );
        assert_eq!(
            chosen(&["steps::task::task_2", "--exact"], &names),
            Some(vec![false, false, true, false]),
            "a name with two brackets is no instance of `task_2`"
        );
        assert_eq!(
            chosen(&["steps::task::task[worker", "--exact"], &names),
            Some(vec![false; 4])
        );
        assert_eq!(
            chosen(&["task[worker1]"], &names),
            Some(vec![true, false, false, false])
        );
        assert_eq!(
            chosen(&["--skip", "steps::task::task", "--exact"], &names),
            None
        );
        let skipping = Selection::new(
            &command_line(&["--skip", "steps::task::task", "--exact"]),
            &names,
        );
        assert_eq!(skipping.skipped, [true, true, false, false]);
    }

    #[test]
    fn a_filter_matching_nothing_warns_with_the_closest_names() {
        assert_eq!(
            warning(&["steps::task::tsak", "--exact"]).as_deref(),
            Some(
                "warning: no step is named exactly `steps::task::tsak`, so nothing ran; \
                 the closest step names: `steps::task::task`, `steps::task::task_2`"
            )
        );
        assert_eq!(
            warning(&["task[worker3]"]).as_deref(),
            Some(
                "warning: no step is named `task[worker3]`, so nothing ran; the closest step names: \
                 `steps::task::task[worker1]`, `steps::task::task[worker2]`, `steps::task::task_2[x][y]`"
            )
        );
        assert_eq!(warning(&["task"]), None, "it matches");
        let ledger = [
            "steps::a::leader".to_owned(),
            "steps::b::ledge".to_owned(),
            "steps::c::lender".to_owned(),
            "steps::distribution::ledger_is_consistent".to_owned(),
        ];
        assert_eq!(
            Selection::unmatched_filters(&command_line(&["ledger", "--exact"]), &ledger),
            [
                "warning: no step is named exactly `ledger`, so nothing ran; the closest step \
              names: `steps::distribution::ledger_is_consistent`, `steps::b::ledge`, \
              `steps::a::leader`"
            ],
            "a name holding the filter comes first, however long it is"
        );
        assert_eq!(warning(&[]), None, "no filter");
        assert_eq!(
            warning(&["nothing", "--ignored"]),
            None,
            "`--ignored` picks none on purpose"
        );
        assert_eq!(
            warning(&["--skip", "task"]),
            None,
            "skipping everything is no typo of a filter"
        );
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
    fn a_step_runs_when_one_of_several_filters_matches_it() {
        assert_eq!(
            select(&["audit", "worker_task_2"]).chosen,
            Some(vec![false, true, true])
        );
        assert_eq!(
            select(&["steps::audit::audit", "steps::task::worker_task", "--exact"]).chosen,
            Some(vec![true, false, true])
        );
        assert_eq!(
            Selection::unmatched_filters(&command_line(&["audit", "tsak", "nothing"]), &names()),
            [
                "warning: no step is named `tsak`, so it selected nothing; the closest step names: \
                 `steps::task::worker_task`, `steps::audit::audit`, `steps::task::worker_task_2`",
                "warning: no step is named `nothing`, so it selected nothing; the closest step names: \
                 `steps::task::worker_task`, `steps::audit::audit`, `steps::task::worker_task_2`",
            ]
        );
    }

    #[test]
    fn named_steps_are_what_exact_with_those_names_selects() {
        let names = instances();
        let chosen = [
            "steps::task::task_2".to_owned(),
            "steps::task::task[worker2]".to_owned(),
        ];
        assert_eq!(
            Selection::of_names(Some(&chosen), &names),
            Selection::new(
                &command_line(&[
                    "steps::task::task_2",
                    "steps::task::task[worker2]",
                    "--exact"
                ]),
                &names
            )
        );
        assert_eq!(
            Selection::of_names(None, &names),
            Selection::new(&command_line(&[]), &names)
        );
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
