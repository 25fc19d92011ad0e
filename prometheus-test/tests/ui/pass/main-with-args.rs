// Compiled only: see main-without-args.rs.
#[allow(dead_code)]
mod suite {
    use prometheus_test::Runner;
    use prometheus_test::mongodb::Database;

    async fn seed(db: &Database, runner: &Runner) -> anyhow::Result<()> {
        let _ = (db, runner);
        Ok(())
    }

    prometheus_test::main!(config = "e2e/config.yaml", post_load = seed,);
}

#[allow(dead_code)]
mod config_only {
    prometheus_test::main!(config = "config.yaml");
}

fn main() {}
