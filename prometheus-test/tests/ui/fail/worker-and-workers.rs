use prometheus_test::{Runner, Worker, step};

#[step(worker = "worker1", workers = ["worker2", "worker3"], order = 1)]
async fn task(_runner: &Runner, _worker: &Worker) {}

fn main() {}
