use prometheus_test::{Runner, Worker, step};

async fn prepare_todo(_runner: &Runner, _worker: &Worker) -> anyhow::Result<u32> {
    Ok(7)
}

#[step(worker = "worker1", order = 1, prepare = prepare_todo)]
async fn submit(_runner: &Runner, _worker: &Worker, _todo: String) {}

fn main() {}
