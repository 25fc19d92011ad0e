//! Generates the code of a valid `#[step]`: the renamed function, the IDE
//! marker test (failing under the default test harness) and the registry
//! entry.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt as _;
use syn::spanned::Spanned as _;
use syn::{LitStr, ReturnType};

use super::args::{StepArgs, Workers};
use super::item::StepFn;
use super::validate::Params;
use crate::marker::marker_test;

/// The expansion of a `#[step]` whose arguments and signature are valid.
pub(crate) fn step(args: &StepArgs, func: &StepFn, params: &Params<'_>) -> TokenStream {
    let ident = &func.sig.ident;
    let fn_name = ident.unraw().to_string();
    let inner = format_ident!("__pt_step_{}", ident, span = ident.span());
    let renamed = func.renamed(inner.clone());
    let cfgs: Vec<_> = func
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("cfg"))
        .collect();

    let name = args.name.as_ref().map_or(fn_name.clone(), LitStr::value);
    let description = args
        .description
        .as_ref()
        .map_or_else(|| func.doc(), LitStr::value);
    let workers = workers(&args.workers);
    let timing = args.timing.fields();
    let mut order = Literal::u32_unsuffixed(args.order);
    order.set_span(args.order_span);

    let runner = local("runner", Span::mixed_site());
    let worker = local("worker", Span::mixed_site());
    let prepared = local("prepared", Span::mixed_site());
    let mut call_args = vec![
        local("runner", params.runner.ty.span()),
        local("worker", params.worker.ty.span()),
    ];
    let prepare = args.prepare.as_ref().map(|path| {
        let span = path.span();
        let runner = local("runner", span);
        let worker = local("worker", span);
        quote_spanned! {span=>
            let #prepared = ::prometheus_test::__private::PrepareOutput::into_prepared(
                #path(#runner, #worker).await
            )?;
        }
    });
    if let Some(param) = params.prepared {
        call_args.push(local("prepared", param.ty.span()));
    }
    let output_span = match &func.sig.output {
        ReturnType::Default => ident.span(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    // Call-site hygiene here: rustc reports a mixed-site argument on the
    // attribute instead of on the return type.
    let output = Ident::new("__pt_output", Span::call_site());
    let output_ref = Ident::new("__pt_output", output_span);
    let into_result = quote_spanned! {output_span=>
        ::prometheus_test::__private::StepOutput::into_step_result(#output_ref)
    };
    let marker = marker_test(ident);
    let file = quote_spanned!(ident.span()=> ::core::file!());
    let line = quote_spanned!(ident.span()=> ::core::line!());

    quote! {
        // The macro makes steps async whether or not they await.
        #[allow(clippy::unused_async)]
        #renamed

        #(#cfgs)*
        #marker

        #(#cfgs)*
        const _: () = {
            fn __pt_run<'a>(
                #runner: &'a ::prometheus_test::Runner,
                #worker: &'a ::prometheus_test::Worker,
            ) -> ::prometheus_test::__private::StepFuture<'a> {
                ::prometheus_test::__private::Box::pin(async move {
                    #prepare
                    let #output = #inner(#(#call_args),*).await;
                    #into_result
                })
            }
            ::prometheus_test::__private::inventory::submit! {
                ::prometheus_test::__private::StepDef {
                    name: #name,
                    fn_name: #fn_name,
                    description: #description,
                    module: ::core::module_path!(),
                    workers: #workers,
                    order: #order,
                    file: #file,
                    line: #line,
                    #timing
                    run: __pt_run,
                }
            }
        };
    }
}

/// The `StepWorkers` value of `workers`.
fn workers(workers: &Workers) -> TokenStream {
    let path = quote!(::prometheus_test::__private::StepWorkers);
    match workers {
        Workers::One(worker) => quote!(#path::One(#worker)),
        Workers::Listed(list) => quote!(#path::Listed(&[#(#list),*])),
        Workers::All => quote!(#path::All),
    }
}

/// A generated local variable: resolved hygienically (so user code cannot
/// capture it), reported at `location` (so type errors point at user tokens).
fn local(name: &str, location: Span) -> Ident {
    Ident::new(name, Span::mixed_site().located_at(location))
}
