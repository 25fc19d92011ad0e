//! Collects independent problems so a macro reports all of them at once.

use proc_macro2::TokenStream;

/// Compile errors gathered while reading and checking one macro call.
#[derive(Default)]
pub(crate) struct Errors {
    combined: Option<syn::Error>,
}

impl Errors {
    /// Records one more problem.
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.combined {
            Some(combined) => combined.combine(error),
            None => self.combined = Some(error),
        }
    }

    /// Records the error of `result`, if any, and returns its value.
    pub(crate) fn keep<T>(&mut self, result: syn::Result<T>) -> Option<T> {
        result.map_err(|error| self.push(error)).ok()
    }

    /// Whether nothing went wrong so far.
    pub(crate) fn is_empty(&self) -> bool {
        self.combined.is_none()
    }

    /// All problems as one error, or `Ok` when there were none.
    pub(crate) fn finish(self) -> syn::Result<()> {
        self.combined.map_or(Ok(()), Err)
    }
}

/// `compile_error!` calls for `error`, appended to the `fallback` tokens the
/// macro emits instead of its expansion (keeping the rest of the crate and the
/// IDE working).
pub(crate) fn with_fallback(fallback: TokenStream, error: syn::Error) -> TokenStream {
    let mut tokens = fallback;
    tokens.extend(error.into_compile_error());
    tokens
}

/// Every message of `error`, in order.
#[cfg(test)]
pub(crate) fn messages(error: syn::Error) -> Vec<String> {
    error.into_iter().map(|e| e.to_string()).collect()
}

/// `tokens` as text without whitespace, for matching fragments in tests.
#[cfg(test)]
pub(crate) fn compact(tokens: &TokenStream) -> String {
    tokens.to_string().split_whitespace().collect()
}
