use prometheus_test::{Runner, Worker, step};

#[step(worker = "worker1", order = 1, retries = 2, retry_delay = "2h")]
async fn submit(_runner: &Runner, _worker: &Worker) {}

fn main() {}
