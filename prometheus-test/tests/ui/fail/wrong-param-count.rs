use prometheus_test::{Runner, Worker, step};

#[step(worker = "worker1", order = 1)]
async fn too_few(_runner: &Runner) {}

#[step(worker = "worker1", order = 2)]
async fn none() {}

#[step(worker = "worker1", order = 3)]
async fn too_many(_runner: &Runner, _worker: &Worker, _todo: String) {}

fn main() {}
