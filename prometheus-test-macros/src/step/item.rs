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
