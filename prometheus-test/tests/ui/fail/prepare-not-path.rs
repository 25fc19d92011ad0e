use prometheus_test::{Runner, Worker, step};

#[step(worker = "worker1", order = 1, prepare = "prepare_todo")]
async fn submit(_runner: &Runner, _worker: &Worker, _todo: String) {}

fn main() {}
