use prometheus_test::{Runner, Worker, step};

struct Suite;

impl Suite {
    #[step(worker = "worker1", order = 1)]
    async fn submit(&self, _runner: &Runner, _worker: &Worker) {}
}

fn main() {}
