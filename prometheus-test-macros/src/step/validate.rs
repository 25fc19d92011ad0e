//! Checks the step function's signature against what the harness calls.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::{FnArg, GenericParam, PatType, Signature};

use crate::error::Errors;

/// The typed parameters of a valid step function.
pub(crate) struct Params<'a> {
    pub(crate) runner: &'a PatType,
    pub(crate) worker: &'a PatType,
    /// The prepared value (only with `prepare`).
    pub(crate) prepared: Option<&'a PatType>,
}

/// Checks `sig`: async, not generic, no receiver, no variadic, and two
/// parameters (three with `prepare`). Returns the parameters when all is well;
/// otherwise records every problem in `errors`.
pub(crate) fn signature<'a>(
    sig: &'a Signature,
    with_prepare: bool,
    errors: &mut Errors,
) -> Option<Params<'a>> {
    let mut local = Errors::default();
    if sig.asyncness.is_none() {
        local.push(syn::Error::new_spanned(
            sig.fn_token,
            "step functions must be `async`: write `async fn`",
        ));
    }
    if let Some(constness) = &sig.constness {
        local.push(syn::Error::new_spanned(
            constness,
            "step functions cannot be `const`",
        ));
    }
    if let syn::Safety::Unsafe(unsafety) = &sig.safety {
        local.push(syn::Error::new_spanned(
            unsafety,
            "step functions cannot be `unsafe`",
        ));
    }
    if let Some(abi) = &sig.abi {
        local.push(syn::Error::new_spanned(
            abi,
            "step functions cannot declare an ABI",
        ));
    }
    check_generics(sig, &mut local);
    if let Some(variadic) = &sig.variadic {
        local.push(syn::Error::new_spanned(
            variadic,
            "step functions cannot be variadic",
        ));
    }
    let mut typed = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(receiver) => local.push(syn::Error::new_spanned(
                receiver,
                "step functions cannot take `self`: write a free `async fn`",
            )),
            FnArg::Typed(param) => typed.push(param),
        }
    }
    check_count(sig, &typed, with_prepare, &mut local);
    match local.finish() {
        Ok(()) => Some(Params {
            runner: typed[0],
            worker: typed[1],
            prepared: typed.get(2).copied(),
        }),
        Err(error) => {
            errors.push(error);
            None
        }
    }
}

fn check_generics(sig: &Signature, errors: &mut Errors) {
    let message = "step functions cannot be generic: the harness calls them with fixed types";
    for param in &sig.generics.params {
        if !matches!(param, GenericParam::Lifetime(_)) {
            errors.push(syn::Error::new_spanned(param, message));
        }
    }
    if let Some(where_clause) = &sig.generics.where_clause {
        errors.push(syn::Error::new_spanned(where_clause, message));
    }
}

fn check_count(sig: &Signature, typed: &[&PatType], with_prepare: bool, errors: &mut Errors) {
    let expected = if with_prepare { 3 } else { 2 };
    let wanted = if with_prepare {
        "a step with `prepare` takes `(runner: &Runner, worker: &Worker, prepared: T)`, where `T` is the value the prepare function returns in `Ok`"
    } else {
        "a step takes `(runner: &Runner, worker: &Worker)`"
    };
    if typed.len() > expected {
        let extra: TokenStream = typed[expected..]
            .iter()
            .map(ToTokens::to_token_stream)
            .collect();
        let hint = if with_prepare {
            ""
        } else {
            "; to receive a prepared value, add `prepare = <async fn>` to `#[step(...)]`"
        };
        errors.push(syn::Error::new_spanned(
            extra,
            format!("too many parameters: {wanted}{hint}"),
        ));
    } else if typed.len() < expected {
        let found = match typed.len() {
            0 => "none".to_owned(),
            n => n.to_string(),
        };
        errors.push(syn::Error::new(
            sig.paren_token.span.join(),
            format!("missing parameters: {wanted}; found {found}"),
        ));
    }
}
