use prometheus_test::{Runner, Worker, step};

#[step(worker = "worker1", order = 1, timeout = "0s")]
async fn submit(_runner: &Runner, _worker: &Worker) {}

fn main() {}
