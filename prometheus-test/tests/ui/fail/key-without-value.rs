use prometheus_test::{Runner, Worker, step};

#[step(worker, order = 1)]
async fn submit(_runner: &Runner, _worker: &Worker) {}

fn main() {}
