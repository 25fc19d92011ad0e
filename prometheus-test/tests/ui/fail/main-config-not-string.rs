prometheus_test::main!(config = config_yaml);
