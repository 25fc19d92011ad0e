use std::time::Duration;

use prometheus_test::__private::{StepDef, inventory};
use prometheus_test::{Runner, Worker, step};

#[step(
    worker = "worker1",
    order = 1,
    retries = 2,
    retry_delay = "1500ms",
    timeout = "2m"
)]
async fn flaky(_runner: &Runner, _worker: &Worker) {}

#[step(worker = "worker1", order = 2)]
async fn plain(_runner: &Runner, _worker: &Worker) {}

fn main() {
    let mut steps: Vec<&StepDef> = inventory::iter::<StepDef>.into_iter().collect();
    steps.sort_by_key(|s| s.order);
    assert_eq!(steps[0].retries, 2);
    assert_eq!(steps[0].retry_delay, Duration::from_millis(1500));
    assert_eq!(steps[0].timeout, Some(Duration::from_secs(120)));
    assert_eq!(steps[1].retries, 0);
    assert_eq!(steps[1].retry_delay, Duration::ZERO);
    assert_eq!(steps[1].timeout, None);
}
