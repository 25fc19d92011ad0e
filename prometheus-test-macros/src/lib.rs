//! Procedural macros of `prometheus-test`. Use them through the `prometheus-test` crate.

use proc_macro::TokenStream;

/// Registers an async function as a step. See `prometheus_test::step`.
#[proc_macro_attribute]
pub fn step(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Generates `fn main` for a `harness = false` test target. See `prometheus_test::main`.
#[proc_macro]
pub fn main(_input: TokenStream) -> TokenStream {
    TokenStream::new()
}
