//! The contract suite's steps (`tests/contract_suite/steps`: four steps, two
//! rounds, faults asked for with `CONTRACT_FAIL` and the like) as a suite
//! that cargo-nextest runs: a `[[bin]]` with `harness = false` is built as a
//! test target, which a `test = false` binary is not. `tests/nextest.rs`
//! drives it with `cargo nextest run`, naming its config.yaml in
//! [`CONFIG_VAR`]; without that variable it lists and plays nothing, so that
//! a plain `cargo test` or `cargo nextest run` of the workspace passes it by.

#[path = "../contract_suite/steps/mod.rs"]
mod steps;

/// The suite's config.yaml, set by `tests/nextest.rs` only.
const CONFIG_VAR: &str = "PT_NEXTEST_SUITE_CONFIG";

fn main() -> std::process::ExitCode {
    let Some(config) = std::env::var_os(CONFIG_VAR) else {
        return std::process::ExitCode::SUCCESS;
    };
    prometheus_test::Suite::new(config)
        .run(
            std::env::args_os(),
            std::env::vars_os(),
            std::io::stdout(),
            std::io::stderr(),
        )
        .exit_code()
}
