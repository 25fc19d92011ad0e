//! The `retries`, `retry_delay` and `timeout` keys of `#[step]`: how often a
//! failed step is re-run, the pause before each re-run, and its own time limit.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{quote, quote_spanned};

use crate::duration::Millis;
use crate::error::Errors;

/// The timing keys as written.
#[derive(Default)]
pub(crate) struct Timing {
    /// `retries = N`, with the literal's span.
    pub(crate) retries: Option<(u32, Span)>,
    /// `retry_delay = "500ms"`.
    pub(crate) retry_delay: Option<Millis>,
    /// `timeout = "30s"`.
    pub(crate) timeout: Option<Millis>,
}

impl Timing {
    /// A delay needs retries to pause between.
    pub(crate) fn check(&self, errors: &mut Errors) {
        let Some(delay) = &self.retry_delay else {
            return;
        };
        let message = match self.retries {
            None => {
                "`retry_delay` is the pause before each re-run: add `retries = 2` (how many re-runs) or remove it"
            }
            Some((0, _)) => {
                "`retry_delay` has no effect with `retries = 0`: raise `retries` or remove it"
            }
            Some(_) => return,
        };
        errors.push(syn::Error::new_spanned(&delay.lit, message));
    }

    /// The `retries`, `retry_delay` and `timeout` fields of the `StepDef`.
    pub(crate) fn fields(&self) -> TokenStream {
        let retries = self.retries.map_or_else(
            || quote!(0),
            |(n, span)| {
                let mut lit = Literal::u32_unsuffixed(n);
                lit.set_span(span);
                quote!(#lit)
            },
        );
        let retry_delay = self
            .retry_delay
            .as_ref()
            .map_or_else(|| quote!(::core::time::Duration::ZERO), millis);
        let timeout = self.timeout.as_ref().map_or_else(
            || quote!(::core::option::Option::None),
            |t| {
                let t = millis(t);
                quote!(::core::option::Option::Some(#t))
            },
        );
        quote! {
            retries: #retries,
            retry_delay: #retry_delay,
            timeout: #timeout,
        }
    }
}

fn millis(value: &Millis) -> TokenStream {
    let lit = Literal::u64_unsuffixed(value.millis);
    quote_spanned!(value.lit.span()=> ::core::time::Duration::from_millis(#lit))
}
