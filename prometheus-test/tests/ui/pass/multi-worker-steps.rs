use prometheus_test::__private::{StepDef, StepWorkers, inventory};
use prometheus_test::{Runner, Worker, step};

/// Runs once per listed worker, in the listed order.
#[step(workers = ["worker3", "worker1"], order = 1)]
async fn task(_runner: &Runner, _worker: &Worker) {}

/// Runs once per worker of workers.json.
#[step(workers = "*", order = 2)]
async fn audit(_runner: &Runner, _worker: &Worker) {}

fn main() {
    let mut steps: Vec<&StepDef> = inventory::iter::<StepDef>.into_iter().collect();
    steps.sort_by_key(|step| step.order);
    assert_eq!(steps.len(), 2, "one registration per function");
    assert!(matches!(
        steps[0].workers,
        StepWorkers::Listed(&["worker3", "worker1"])
    ));
    assert_eq!(steps[0].name, "task");
    assert!(matches!(steps[1].workers, StepWorkers::All));
    assert_eq!(steps[1].description, "Runs once per worker of workers.json.");
}
