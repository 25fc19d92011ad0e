//! `main!(...)`: parse the arguments, expand to the test target's `fn main`.

mod args;
mod expand;
#[cfg(test)]
mod tests;

use proc_macro2::TokenStream;

use crate::error::with_fallback;

/// The whole `main!()` macro. On a problem it returns the errors plus a
/// `fn main` that fails, so no "`main` function not found" error piles on.
pub(crate) fn main(input: TokenStream) -> TokenStream {
    match args::parse(input) {
        Ok(args) => expand::main(&args),
        Err(error) => with_fallback(expand::failing_main(), error),
    }
}
