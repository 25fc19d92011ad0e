//! The suite tests/watch.rs edits under `--watch`.

mod steps;

prometheus_test::main!();
