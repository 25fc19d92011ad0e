use prometheus_test::{Runner, Worker, step};

#[step(worker = "worker1", order = 1, retries = -1)]
async fn submit(_runner: &Runner, _worker: &Worker) {}

fn main() {}
