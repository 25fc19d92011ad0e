//! The registered steps: collected from `inventory`, put in order, expanded
//! into one instance per worker, and checked against each other and against
//! workers.json.

use crate::config::Problems;
use crate::step::{StepDef, StepWorkers};
use std::collections::BTreeMap;
use std::ops::Deref;

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

/// What `workers = "*"` stands for when workers.json cannot be read: the
/// step keeps its plain name, and the run's checks report the file.
const UNKNOWN_WORKERS: &str = "*";

/// One step against one worker: what the harness lists, selects, runs and
/// records. A single-worker step has one instance named like the function;
/// a multi-worker step has one per worker, named `f[worker]`.
///
/// Derefs to its [`StepDef`] for everything the instances of one step share.
#[derive(Debug, Clone)]
pub(crate) struct StepInstance {
    pub(crate) def: &'static StepDef,
    /// The key of workers.json this instance runs against.
    pub(crate) worker: String,
    /// The name in state and output: the step's name, then `[worker]` for
    /// an instance of a multi-worker step.
    pub(crate) name: String,
    test_name: String,
}

impl StepInstance {
    fn new(def: &'static StepDef, worker: &str, suffixed: bool) -> Self {
        let suffix = if suffixed {
            format!("[{worker}]")
        } else {
            String::new()
        };
        Self {
            def,
            worker: worker.to_owned(),
            name: format!("{}{suffix}", def.name),
            test_name: format!("{}{suffix}", def.test_name()),
        }
    }

    /// The libtest name: the function's path, then `[worker]` for an
    /// instance of a multi-worker step.
    pub(crate) fn test_name(&self) -> &str {
        &self.test_name
    }
}

impl Deref for StepInstance {
    type Target = StepDef;

    fn deref(&self) -> &StepDef {
        self.def
    }
}

/// `defs` (in run order) as instances: each multi-worker step becomes one
/// instance per worker at its place, in its listed order, or in the order of
/// `all_workers` (workers.json) for `workers = "*"`. Without `all_workers`
/// (the file could not be read), such a step stays one instance under its
/// plain name.
pub(crate) fn instances(
    defs: &[&'static StepDef],
    all_workers: Option<&[String]>,
) -> Vec<StepInstance> {
    let mut instances = Vec::with_capacity(defs.len());
    for &def in defs {
        match (def.workers, all_workers) {
            (StepWorkers::One(worker), _) => instances.push(StepInstance::new(def, worker, false)),
            (StepWorkers::Listed(workers), _) => instances.extend(
                workers
                    .iter()
                    .map(|worker| StepInstance::new(def, worker, true)),
            ),
            (StepWorkers::All, Some(workers)) => instances.extend(
                workers
                    .iter()
                    .map(|worker| StepInstance::new(def, worker, true)),
            ),
            (StepWorkers::All, None) => {
                instances.push(StepInstance::new(def, UNKNOWN_WORKERS, false));
            }
        }
    }
    instances
}

/// Whether some step runs against every worker of workers.json.
pub(crate) fn needs_all_workers(defs: &[&StepDef]) -> bool {
    defs.iter()
        .any(|def| matches!(def.workers, StepWorkers::All))
}

/// Orders must be unique among steps (the instances of one step share its
/// order), and names among instances.
pub(crate) fn check_among_themselves(steps: &[StepInstance], problems: &mut Problems) {
    let mut by_order: BTreeMap<u32, Vec<&StepInstance>> = BTreeMap::new();
    let mut by_name: BTreeMap<&str, Vec<&StepInstance>> = BTreeMap::new();
    for step in steps {
        let same_order = by_order.entry(step.order).or_default();
        if !same_order.iter().any(|s| std::ptr::eq(s.def, step.def)) {
            same_order.push(step);
        }
        by_name.entry(&step.name).or_default().push(step);
    }
    for (order, same) in by_order.into_iter().filter(|(_, s)| s.len() > 1) {
        let defs: Vec<String> = same
            .iter()
            .map(|s| describe(&s.def.test_name(), s))
            .collect();
        problems.push(format!(
            "steps share `order = {order}`: {}",
            defs.join(", ")
        ));
    }
    for (name, same) in by_name.into_iter().filter(|(_, s)| s.len() > 1) {
        problems.push(format!("steps share the name `{name}`: {}", list(&same)));
    }
}

/// Every instance's worker must be in workers.json.
pub(crate) fn check_workers(steps: &[StepInstance], workers: &[&str], problems: &mut Problems) {
    for step in steps
        .iter()
        .filter(|s| !workers.contains(&s.worker.as_str()))
    {
        problems.push(format!(
            "step `{}` ({}): worker `{}` is not in workers.json (it defines {})",
            step.test_name(),
            step.location(),
            step.worker,
            workers.join(", ")
        ));
    }
}

fn describe(name: &str, step: &StepInstance) -> String {
    format!("`{name}` ({})", step.location())
}

fn list(steps: &[&StepInstance]) -> String {
    steps
        .iter()
        .map(|s| describe(s.test_name(), s))
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
        workers: StepWorkers,
        order: u32,
    ) -> &'static StepDef {
        Box::leak(Box::new(StepDef {
            name,
            fn_name: name,
            description: "",
            module: "e2e::steps",
            workers,
            order,
            file: "tests/steps.rs",
            line: order * 10,
            retries: 0,
            retry_delay: std::time::Duration::ZERO,
            timeout: None,
            run: noop,
        }))
    }

    fn names(instances: &[StepInstance]) -> Vec<(&str, &str, &str)> {
        instances
            .iter()
            .map(|i| (i.test_name(), i.name.as_str(), i.worker.as_str()))
            .collect()
    }

    #[test]
    fn multi_worker_steps_become_one_instance_per_worker_in_their_order() {
        let defs = [
            leak_step("setup", StepWorkers::One("worker1"), 1),
            leak_step("task", StepWorkers::Listed(&["worker3", "worker1"]), 2),
            leak_step("audit", StepWorkers::All, 3),
        ];
        let all = ["worker1".to_owned(), "worker2".to_owned()];
        assert_eq!(
            names(&instances(&defs, Some(&all))),
            [
                ("steps::setup", "setup", "worker1"),
                ("steps::task[worker3]", "task[worker3]", "worker3"),
                ("steps::task[worker1]", "task[worker1]", "worker1"),
                ("steps::audit[worker1]", "audit[worker1]", "worker1"),
                ("steps::audit[worker2]", "audit[worker2]", "worker2"),
            ]
        );
        assert_eq!(
            names(&instances(&defs[2..], None)),
            [("steps::audit", "audit", "*")],
            "without workers.json a `*` step is listed under its path"
        );
        assert!(needs_all_workers(&defs) && !needs_all_workers(&defs[..2]));
    }

    #[test]
    fn duplicates_and_unknown_workers_are_all_reported() {
        let defs = [
            leak_step("a", StepWorkers::One("worker1"), 1),
            leak_step("b", StepWorkers::One("worker1"), 1),
            leak_step("a", StepWorkers::One("worker9"), 2),
        ];
        let steps = instances(&defs, None);
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

    #[test]
    fn instances_of_one_step_share_its_order_but_not_with_other_steps() {
        let task = leak_step("task", StepWorkers::Listed(&["worker1", "worker9"]), 1);
        let mut problems = Problems::default();
        let steps = instances(&[task], None);
        check_among_themselves(&steps, &mut problems);
        check_workers(&steps, &["worker1"], &mut problems);
        assert_eq!(
            problems.to_string(),
            "step `steps::task[worker9]` (tests/steps.rs:10): worker `worker9` is not in \
             workers.json (it defines worker1)"
        );
        let other = leak_step("other", StepWorkers::One("worker1"), 1);
        let mut problems = Problems::default();
        check_among_themselves(&instances(&[task, other], None), &mut problems);
        assert_eq!(
            problems.to_string(),
            "steps share `order = 1`: `steps::task` (tests/steps.rs:10), `steps::other` (tests/steps.rs:10)"
        );
    }

    #[test]
    fn an_instance_name_that_a_plain_step_also_has_is_reported() {
        let defs = [
            leak_step("task", StepWorkers::Listed(&["worker1"]), 1),
            leak_step("task[worker1]", StepWorkers::One("worker1"), 2),
        ];
        let mut problems = Problems::default();
        check_among_themselves(&instances(&defs, None), &mut problems);
        assert!(
            problems
                .to_string()
                .contains("steps share the name `task[worker1]`"),
            "{problems}"
        );
    }
}
