prometheus_test::main!(config = "a.yaml", config = "b.yaml");
