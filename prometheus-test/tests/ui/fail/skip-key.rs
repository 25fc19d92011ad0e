use prometheus_test::{Runner, Worker, step};

// Skipping is decided at run time with `skip!`, not by a key.
#[step(worker = "worker1", order = 1, skip)]
async fn submit(_runner: &Runner, _worker: &Worker) {}

fn main() {}
