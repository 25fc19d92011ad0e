use prometheus_test::{Runner, Worker, step};

// An error inside the body is reported on the user's code, once.
#[step(worker = "worker1", order = 1)]
async fn submit(_runner: &Runner, _worker: &Worker) -> anyhow::Result<()> {
    let count: u32 = "three";
    let _ = count;
    Ok(())
}

fn main() {}
