//! A small suite used by the workspace's CLI contract tests (`tests/cli_contract.rs`):
//! two real workers, four steps, two rounds. Each step appends `round:name` to
//! the file named by `CONTRACT_LOG`; `CONTRACT_FAIL`, `CONTRACT_HANG`,
//! `CONTRACT_BLOCK`, `CONTRACT_PANIC` and `CONTRACT_CRASH` (each `name:round`)
//! make a step fail, hang (awaiting), block its thread (`std::thread::sleep`),
//! panic or crash its worker; `CONTRACT_PAUSE` and `CONTRACT_RESUME` make it
//! pause or resume worker1 first.

mod steps;

prometheus_test::main!();
