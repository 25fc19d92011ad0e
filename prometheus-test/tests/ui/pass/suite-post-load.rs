// `Suite::post_load` takes what `main!(post_load = …)` takes: an `async fn`,
// or an async closure (which may capture what the test wants to observe).
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use prometheus_test::mongodb::Database;
use prometheus_test::{Runner, Suite};

async fn seed(db: &Database, runner: &Runner) -> anyhow::Result<()> {
    let _ = (db, runner);
    Ok(())
}

async fn plain(_db: &Database, _runner: &Runner) {}

fn main() {
    let _ = Suite::new("tests/config.yaml").post_load(seed);
    let _ = Suite::new("tests/config.yaml").post_load(plain);
    let calls = Arc::new(AtomicUsize::new(0));
    let _ = Suite::new("tests/config.yaml").post_load(async move |_db: &Database, _runner: &Runner| {
        calls.fetch_add(1, Ordering::Relaxed);
    });
}
