use prometheus_test::__private::{StepDef, inventory};
use prometheus_test::{Runner, Worker, step};

///  Audits the submission.
///
/// Second paragraph, `code` kept.
#[step(worker = "worker3", order = 5)]
async fn audit(_runner: &Runner, _worker: &Worker) -> prometheus_test::Result {
    Ok(())
}

fn main() {
    let step = inventory::iter::<StepDef>.into_iter().next().unwrap();
    assert_eq!(
        step.description,
        "Audits the submission.\n\nSecond paragraph, `code` kept."
    );
}
