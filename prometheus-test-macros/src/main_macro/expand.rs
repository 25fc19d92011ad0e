//! Generates the `fn main` of a test target.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned as _;

use super::args::MainArgs;
use crate::marker::marker_test;

/// `fn main` calling the harness, the post-load adapter if any, and a test
/// that fails under the default test harness (which never calls `fn main`),
/// even when there is no step.
pub(crate) fn main(args: &MainArgs) -> TokenStream {
    let config = if let Some(path) = &args.config {
        quote!(::core::option::Option::Some(#path))
    } else {
        quote!(::core::option::Option::None)
    };
    let (post_load, adapter) = match &args.post_load {
        Some(hook) => (
            quote!(::core::option::Option::Some(__pt_post_load)),
            post_load_adapter(hook),
        ),
        None => (quote!(::core::option::Option::None), TokenStream::new()),
    };
    let marker = marker_test(&Ident::new(
        "prometheus_test_needs_harness_false",
        Span::call_site(),
    ));
    quote! {
        fn main() -> ::std::process::ExitCode {
            ::prometheus_test::__private::run_main(::prometheus_test::__private::MainOptions {
                source_file: ::core::file!(),
                manifest_dir: ::core::env!("CARGO_MANIFEST_DIR"),
                config: #config,
                post_load: #post_load,
            })
        }
        #adapter
        #marker
    }
}

/// Wraps the user's `async fn hook(db: &Database, runner: &Runner)` into the
/// fn pointer `MainOptions::post_load` holds. Calls carry the hook path's
/// span, so a wrong signature is reported on the user's path.
fn post_load_adapter(hook: &syn::Path) -> TokenStream {
    let span = hook.span();
    let db = Ident::new("db", Span::mixed_site().located_at(span));
    let runner = Ident::new("runner", Span::mixed_site().located_at(span));
    let db_param = Ident::new("db", Span::mixed_site());
    let runner_param = Ident::new("runner", Span::mixed_site());
    let call = quote_spanned! {span=>
        ::prometheus_test::__private::StepOutput::into_step_result(#hook(#db, #runner).await)
    };
    quote! {
        fn __pt_post_load<'a>(
            #db_param: &'a ::prometheus_test::mongodb::Database,
            #runner_param: &'a ::prometheus_test::Runner,
        ) -> ::prometheus_test::__private::PostLoadFuture<'a> {
            ::prometheus_test::__private::Box::pin(async move { #call })
        }
    }
}

/// The `fn main` emitted next to argument errors.
pub(crate) fn failing_main() -> TokenStream {
    quote! {
        fn main() -> ::std::process::ExitCode {
            ::std::process::ExitCode::FAILURE
        }
    }
}
