// `main!()` expands to `fn main`; trybuild runs pass cases, and the real one
// would look for config.yaml, so it sits in a module and is only compiled.
#[allow(dead_code)]
mod suite {
    prometheus_test::main!();
}

fn main() {}
