use prometheus_test::mongodb::Database;
use prometheus_test::{Runner, Suite};

async fn seed(_db: &Database, _runner: &Runner) -> u32 {
    7
}

fn main() {
    let _ = Suite::new("tests/config.yaml").post_load(seed);
}
