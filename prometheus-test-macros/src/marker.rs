//! The `#[test]` fns the macros emit so the IDE shows a run button. rustc
//! drops `#[test]` items from a `harness = false` target, the only kind that
//! runs steps; under the default harness they run, and fail with the fix.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// What a marker test fails with under the default test harness.
pub(crate) const NEEDS_HARNESS_FALSE: &str = "prometheus-test steps run only in a \
     `harness = false` [[test]] target, and this one uses the default test harness, \
     so no step ran: add `harness = false` to its [[test]] entry in Cargo.toml";

/// `#[test] fn name()` failing with [`NEEDS_HARNESS_FALSE`].
pub(crate) fn marker_test(name: &Ident) -> TokenStream {
    quote! {
        #[::core::prelude::v1::test]
        fn #name() {
            ::core::panic!("{}", #NEEDS_HARNESS_FALSE)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use proc_macro2::{Ident, Span};

    use super::{NEEDS_HARNESS_FALSE, marker_test};
    use crate::error::compact;

    /// The marker test named `name`, as `compact` text.
    pub(crate) fn marker(name: &str) -> String {
        let message: String = NEEDS_HARNESS_FALSE.split_whitespace().collect();
        format!("#[::core::prelude::v1::test]fn{name}(){{::core::panic!(\"{{}}\",\"{message}\")}}")
    }

    #[test]
    fn marker_is_a_test_failing_with_the_fix() {
        let out = compact(&marker_test(&Ident::new("submit", Span::call_site())));
        assert_eq!(out, marker("submit"));
    }
}
