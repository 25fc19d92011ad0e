use prometheus_test::__private::{StepDef, StepWorkers, inventory};
use prometheus_test::{Runner, Worker, step};

#[step(worker = "worker1", order = 1)]
async fn submit_todo(runner: &Runner, worker: &Worker) -> prometheus_test::Result {
    let _ = (runner, worker);
    Ok(())
}

fn main() {
    let steps: Vec<&StepDef> = inventory::iter::<StepDef>.into_iter().collect();
    assert_eq!(steps.len(), 1);
    let step = steps[0];
    assert_eq!(step.name, "submit_todo");
    assert_eq!(step.fn_name, "submit_todo");
    assert_eq!(step.description, "");
    assert!(matches!(step.workers, StepWorkers::One("worker1")));
    assert_eq!(step.order, 1);
    assert_eq!(step.line, 5, "line of the fn name");
    assert!(step.file.ends_with("plain-step.rs"), "{}", step.file);
    assert_eq!(step.test_name(), "submit_todo");
}
