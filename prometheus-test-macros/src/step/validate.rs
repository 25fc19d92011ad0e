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

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::{ToTokens, quote};

    use super::signature;
    use crate::error::{Errors, messages};

    /// The errors of `sig`, or the parameter patterns when it is valid.
    fn check(sig: TokenStream, with_prepare: bool) -> Result<Vec<String>, Vec<String>> {
        let sig: syn::Signature = syn::parse2(sig).expect("a signature");
        let mut errors = Errors::default();
        let params = signature(&sig, with_prepare, &mut errors);
        match (params, errors.finish()) {
            (Some(params), Ok(())) => {
                Ok([Some(params.runner), Some(params.worker), params.prepared]
                    .into_iter()
                    .flatten()
                    .map(|param| param.pat.to_token_stream().to_string())
                    .collect())
            }
            (None, Err(error)) => Err(messages(error)),
            _ => panic!("parameters and errors disagree"),
        }
    }

    const TWO: &str = "a step takes `(runner: &Runner, worker: &Worker)`";
    const THREE: &str = "a step with `prepare` takes `(runner: &Runner, worker: &Worker, prepared: T)`, where `T` is the value the prepare function returns in `Ok`";

    #[test]
    fn accepts_two_parameters_or_three_with_prepare() {
        assert_eq!(
            check(
                quote!(async fn s(r: &Runner, w: &Worker) -> Result<()>),
                false
            ),
            Ok(vec!["r".to_owned(), "w".to_owned()])
        );
        assert_eq!(
            check(
                quote!(async fn s<'a>(r: &'a Runner, w: &Worker, todo: Todo)),
                true
            ),
            Ok(vec!["r".to_owned(), "w".to_owned(), "todo".to_owned()])
        );
    }

    #[test]
    fn requires_async() {
        assert_eq!(
            check(quote!(fn s(r: &Runner, w: &Worker)), false),
            Err(vec![
                "step functions must be `async`: write `async fn`".to_owned()
            ])
        );
    }

    #[test]
    fn rejects_generics_receivers_variadics_and_qualifiers() {
        let generic = "step functions cannot be generic: the harness calls them with fixed types";
        assert_eq!(
            check(
                quote!(async fn s<T, const N: usize>(r: &Runner, w: &Worker) where T: Copy),
                false
            ),
            Err(vec![
                generic.to_owned(),
                generic.to_owned(),
                generic.to_owned()
            ])
        );
        assert_eq!(
            check(quote!(async fn s(&self, r: &Runner, w: &Worker)), false),
            Err(vec![
                "step functions cannot take `self`: write a free `async fn`".to_owned()
            ])
        );
        assert_eq!(
            check(quote!(async fn s(r: &Runner, w: &Worker, ...)), false),
            Err(vec!["step functions cannot be variadic".to_owned()])
        );
        assert_eq!(
            check(
                quote!(async unsafe extern "C" fn s(r: &Runner, w: &Worker)),
                false
            ),
            Err(vec![
                "step functions cannot be `unsafe`".to_owned(),
                "step functions cannot declare an ABI".to_owned(),
            ])
        );
    }

    #[test]
    fn counts_parameters() {
        assert_eq!(
            check(quote!(async fn s()), false),
            Err(vec![format!("missing parameters: {TWO}; found none")])
        );
        assert_eq!(
            check(quote!(async fn s(r: &Runner)), false),
            Err(vec![format!("missing parameters: {TWO}; found 1")])
        );
        assert_eq!(
            check(quote!(async fn s(r: &Runner, w: &Worker, t: Todo)), false),
            Err(vec![format!(
                "too many parameters: {TWO}; to receive a prepared value, add `prepare = <async fn>` to `#[step(...)]`"
            )])
        );
        assert_eq!(
            check(quote!(async fn s(r: &Runner, w: &Worker)), true),
            Err(vec![format!("missing parameters: {THREE}; found 2")])
        );
        assert_eq!(
            check(
                quote!(async fn s(r: &Runner, w: &Worker, t: Todo, x: u8, y: u8)),
                true
            ),
            Err(vec![format!("too many parameters: {THREE}")])
        );
    }

    #[test]
    fn reports_independent_problems_together() {
        let errors = check(quote!(fn s<T>(&self, r: &Runner)), false).unwrap_err();
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors[0].contains("`async`"));
        assert!(errors[1].contains("generic"));
        assert!(errors[2].contains("`self`"));
        assert!(errors[3].contains("missing parameters"));
    }
}
