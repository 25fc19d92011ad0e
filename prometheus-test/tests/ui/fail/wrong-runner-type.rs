use prometheus_test::{Worker, step};

#[step(worker = "worker1", order = 1)]
async fn submit(_runner: String, _worker: &Worker) {}

fn main() {}
