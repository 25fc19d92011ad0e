//! Procedural macros of `prometheus-test`. Use them through the
//! `prometheus-test` crate, which documents them: `prometheus_test::step` and
//! `prometheus_test::main`.

#[cfg(test)]
mod doc_tables;
mod duration;
mod error;
mod key_value;
mod main_macro;
mod marker;
mod step;

use proc_macro::TokenStream;

/// Registers an async function as a step: `#[step(worker = "worker1", order = 1)]`.
/// Keys: `worker` (one worker) or `workers` (`["worker1", "worker2"]`, or
/// `"*"` for every worker of workers.json) and `order` (required), `prepare`,
/// `name`, `description`, `retries`, `retry_delay`, `timeout`.
/// See `prometheus_test::step`.
#[proc_macro_attribute]
pub fn step(args: TokenStream, item: TokenStream) -> TokenStream {
    step::step(args.into(), item.into()).into()
}

/// Generates `fn main` for a `harness = false` test target:
/// `prometheus_test::main!(config = "...", post_load = path)`, both optional.
/// Under the default test harness its test `prometheus_test_needs_harness_false`
/// fails, saying so.
/// See `prometheus_test::main`.
#[proc_macro]
pub fn main(input: TokenStream) -> TokenStream {
    main_macro::main(input.into()).into()
}
