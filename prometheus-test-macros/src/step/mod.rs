//! `#[step(...)]`: parse the arguments and the function, check them, expand.

mod args;
mod expand;
mod item;
#[cfg(test)]
mod tests;
mod timing;
mod validate;

use proc_macro2::TokenStream;

use crate::error::{Errors, with_fallback};

/// The whole `#[step]` macro. On any problem it returns the function as
/// written plus every error, so the rest of the crate and the IDE keep working.
pub(crate) fn step(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let parsed = args::parse(args, &mut errors);
    let func = match syn::parse2::<item::StepFn>(item.clone()) {
        Ok(func) => func,
        Err(error) => {
            errors.push(syn::Error::new(
                error.span(),
                format!("`#[step]` goes on an `async fn`: {error}"),
            ));
            return fallback(item, errors);
        }
    };
    let params = validate::signature(&func.sig, parsed.has_prepare, &mut errors);
    match (parsed.args, params) {
        (Some(args), Some(params)) if errors.is_empty() => expand::step(&args, &func, &params),
        _ => fallback(item, errors),
    }
}

fn fallback(item: TokenStream, errors: Errors) -> TokenStream {
    match errors.finish() {
        Ok(()) => item,
        Err(error) => with_fallback(item, error),
    }
}
