prometheus_test::main!(config = "config.yaml", workers = "workers.json");
