//! The registered steps: collected from `inventory`, put in order and checked
//! against each other and against workers.json.

use std::collections::BTreeMap;

use crate::config::Problems;
use crate::step::{StepDef, StepWorkers};

/// Every registered step, sorted by `(order, module, fn name)`; `inventory`
/// itself keeps no order.
pub(crate) fn registered() -> Vec<&'static StepDef> {
    let mut steps: Vec<&'static StepDef> = inventory::iter::<StepDef>.into_iter().collect();
    steps.sort_by(|a, b| (a.order, a.module, a.fn_name).cmp(&(b.order, b.module, b.fn_name)));
    steps
}

/// The message for a binary without steps.
pub(crate) const NO_STEPS: &str = "no steps registered: are the `#[step]` functions inside the e2e test target \
     (its root file or modules under it)? Steps in a library crate are not collected.";

/// Orders and names must be unique.
pub(crate) fn check_among_themselves(steps: &[&StepDef], problems: &mut Problems) {
    let mut by_order: BTreeMap<u32, Vec<&StepDef>> = BTreeMap::new();
    let mut by_name: BTreeMap<&str, Vec<&StepDef>> = BTreeMap::new();
    for &step in steps {
        by_order.entry(step.order).or_default().push(step);
        by_name.entry(step.name).or_default().push(step);
    }
    for (order, same) in by_order.into_iter().filter(|(_, s)| s.len() > 1) {
        problems.push(format!("steps share `order = {order}`: {}", list(&same)));
    }
    for (name, same) in by_name.into_iter().filter(|(_, s)| s.len() > 1) {
        problems.push(format!("steps share the name `{name}`: {}", list(&same)));
    }
}

/// Every step's worker must be in workers.json.
pub(crate) fn check_workers(steps: &[&StepDef], workers: &[&str], problems: &mut Problems) {
    for step in steps
        .iter()
        .filter(|s| !workers.contains(&single_worker(s)))
    {
        problems.push(format!(
            "step `{}` ({}): worker `{}` is not in workers.json (it defines {})",
            step.test_name(),
            step.location(),
            single_worker(step),
            workers.join(", ")
        ));
    }
}

/// The worker of a single-worker step.
pub(crate) fn single_worker(step: &StepDef) -> &'static str {
    match step.workers {
        StepWorkers::One(worker) => worker,
        StepWorkers::Listed(workers) => workers.first().copied().unwrap_or_default(),
        StepWorkers::All => "",
    }
}

fn list(steps: &[&StepDef]) -> String {
    steps
        .iter()
        .map(|s| format!("`{}` ({})", s.test_name(), s.location()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::step::StepFuture;
    use crate::{Runner, Worker};

    fn noop<'a>(_: &'a Runner, _: &'a Worker) -> StepFuture<'a> {
        Box::pin(async { Ok(()) })
    }

    pub(crate) fn leak_step(
        name: &'static str,
        worker: &'static str,
        order: u32,
    ) -> &'static StepDef {
        Box::leak(Box::new(StepDef {
            name,
            fn_name: name,
            description: "",
            module: "e2e::steps",
            workers: StepWorkers::One(worker),
            order,
            file: "tests/steps.rs",
            line: order * 10,
            retries: 0,
            retry_delay: std::time::Duration::ZERO,
            timeout: None,
            run: noop,
        }))
    }

    #[test]
    fn duplicates_and_unknown_workers_are_all_reported() {
        let steps = [
            leak_step("a", "worker1", 1),
            leak_step("b", "worker1", 1),
            leak_step("a", "worker9", 2),
        ];
        let mut problems = Problems::default();
        check_workers(&steps, &["worker1", "worker2"], &mut problems);
        check_among_themselves(&steps, &mut problems);
        let text = problems.to_string();
        assert!(text.starts_with("3 problems:"), "{text}");
        assert!(
            text.contains("worker `worker9` is not in workers.json (it defines worker1, worker2)"),
            "{text}"
        );
        assert!(
            text.contains(
                "share `order = 1`: `steps::a` (tests/steps.rs:10), `steps::b` (tests/steps.rs:10)"
            ),
            "{text}"
        );
        assert!(text.contains("share the name `a`"), "{text}");
    }
}
