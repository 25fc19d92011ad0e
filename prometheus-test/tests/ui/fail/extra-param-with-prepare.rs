use prometheus_test::{Runner, Worker, step};

async fn prepare_todo(_runner: &Runner, _worker: &Worker) -> anyhow::Result<String> {
    Ok(String::new())
}

#[step(worker = "worker1", order = 1, prepare = prepare_todo)]
async fn too_many(_runner: &Runner, _worker: &Worker, _todo: String, _extra: u8) {}

#[step(worker = "worker1", order = 2, prepare = prepare_todo)]
async fn too_few(_runner: &Runner, _worker: &Worker) {}

fn main() {}
