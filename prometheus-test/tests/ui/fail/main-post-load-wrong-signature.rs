use prometheus_test::Runner;

async fn seed(_runner: &Runner) -> anyhow::Result<()> {
    Ok(())
}

prometheus_test::main!(post_load = seed);
