//! Reads the function under `#[step]` the light way: attributes, visibility
//! and signature are parsed, the body stays raw tokens (so a half-written body
//! still expands and the IDE keeps completing inside it).

use proc_macro2::{Delimiter, Group, TokenStream};
use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Signature, Visibility};

/// The function a `#[step]` is written on.
pub(crate) struct StepFn {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) sig: Signature,
    /// The body, braces included, as written.
    pub(crate) body: Group,
}

impl Parse for StepFn {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        let body: Group = match input.parse::<Group>() {
            Ok(group) if group.delimiter() == Delimiter::Brace => group,
            _ => return Err(input.error("expected the step function's body `{ ... }`")),
        };
        Ok(Self {
            attrs,
            vis,
            sig,
            body,
        })
    }
}

impl StepFn {
    /// The doc comment (`///` lines), each line without its first space,
    /// joined with '\n' and trimmed; empty when there is none.
    pub(crate) fn doc(&self) -> String {
        let lines: Vec<String> = self
            .attrs
            .iter()
            .filter(|attr| attr.path().is_ident("doc"))
            .filter_map(|attr| match &attr.meta {
                syn::Meta::NameValue(syn::MetaNameValue {
                    value:
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(text),
                            ..
                        }),
                    ..
                }) => Some(text.value()),
                _ => None,
            })
            .map(|line| line.strip_prefix(' ').map(str::to_owned).unwrap_or(line))
            .collect();
        lines.join("\n").trim().to_owned()
    }

    /// The function as written, with another name.
    pub(crate) fn renamed(&self, ident: syn::Ident) -> TokenStream {
        let mut sig = self.sig.clone();
        sig.ident = ident;
        let mut tokens = TokenStream::new();
        for attr in &self.attrs {
            attr.to_tokens(&mut tokens);
        }
        self.vis.to_tokens(&mut tokens);
        sig.to_tokens(&mut tokens);
        self.body.to_tokens(&mut tokens);
        tokens
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::StepFn;
    use crate::error::compact;

    fn read(tokens: proc_macro2::TokenStream) -> StepFn {
        syn::parse2(tokens).expect("a step function")
    }

    #[test]
    fn doc_joins_lines_without_their_first_space() {
        let func = read(quote! {
            ///  Audits the submission.
            ///
            /// Second line.
            #[doc = "Third line."]
            async fn audit() {}
        });
        assert_eq!(
            func.doc(),
            "Audits the submission.\n\nSecond line.\nThird line."
        );
        assert_eq!(
            read(quote!(
                async fn audit() {}
            ))
            .doc(),
            ""
        );
    }

    #[test]
    fn body_is_kept_as_written_even_when_half_typed() {
        let func = read(quote! {
            #[allow(unused)]
            pub(crate) async fn audit(runner: &Runner) -> Result<()> { runner. }
        });
        let renamed = func.renamed(syn::Ident::new("renamed", proc_macro2::Span::call_site()));
        assert_eq!(
            compact(&renamed),
            "#[allow(unused)]pub(crate)asyncfnrenamed(runner:&Runner)->Result<()>{runner.}"
        );
    }

    #[test]
    fn other_items_are_rejected() {
        assert!(
            syn::parse2::<StepFn>(quote!(
                struct Submit;
            ))
            .is_err()
        );
        assert!(
            syn::parse2::<StepFn>(quote!(
                async fn submit();
            ))
            .is_err()
        );
    }
}
