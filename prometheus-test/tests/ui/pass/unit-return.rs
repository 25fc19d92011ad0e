use prometheus_test::__private::{StepDef, StepWorkers, inventory};
use prometheus_test::{Runner, Worker, step};

// A step may return `()` and may be `pub`.
#[step(worker = "worker2", order = 4_294_967_295)]
pub async fn audit(_runner: &Runner, _worker: &Worker) {}

fn main() {
    let step = inventory::iter::<StepDef>.into_iter().next().unwrap();
    assert_eq!(step.name, "audit");
    assert!(matches!(step.workers, StepWorkers::One("worker2")));
    assert_eq!(step.order, u32::MAX);
}
