use prometheus_test::__private::{StepDef, inventory};
use prometheus_test::{Runner, Worker, step};

/// This doc comment is not the description: the key wins.
#[step(
    name = "submit todo",
    description = "submits a todo",
    order = 3,
    worker = "worker1"
)]
async fn submit(_runner: &Runner, _worker: &Worker) -> anyhow::Result<()> {
    Ok(())
}

fn main() {
    let step = inventory::iter::<StepDef>.into_iter().next().unwrap();
    assert_eq!(step.name, "submit todo");
    assert_eq!(step.fn_name, "submit");
    assert_eq!(step.description, "submits a todo");
    assert_eq!(step.test_name(), "submit");
}
