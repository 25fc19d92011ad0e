use prometheus_test::step;

#[step(worker = "worker1", order = 1)]
struct Submit;

fn main() {}
