use prometheus_test::{Runner, Worker, step};

#[step(workers = ["worker1", "worker2", "worker1"], order = 1)]
async fn task(_runner: &Runner, _worker: &Worker) {}

fn main() {}
