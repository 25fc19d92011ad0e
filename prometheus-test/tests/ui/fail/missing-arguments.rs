use prometheus_test::{Runner, Worker, step};

#[step]
async fn submit(_runner: &Runner, _worker: &Worker) {}

fn main() {}
