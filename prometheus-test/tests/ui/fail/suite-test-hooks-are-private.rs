// The harness's own test hooks are not on the types users see.
use prometheus_test::Suite;

fn main() {
    let _ = Suite::new("tests/config.yaml").with_steps(Vec::new());
    let _ = Suite::new("tests/config.yaml").with_frozen_clock();
    let _ = Suite::from_main;
}
