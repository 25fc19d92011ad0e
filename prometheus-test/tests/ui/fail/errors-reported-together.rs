use prometheus_test::{Runner, Worker, step};

// Independent problems are all reported at once.
#[step(order = "first", repeat = 3)]
fn submit<T>(_runner: &Runner, _worker: &Worker, _extra: T) {}

fn main() {}
