//! Reading `key = value` macro arguments: the rules `#[step]` and `main!()`
//! share (unknown and repeated keys, value kinds).

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::meta::ParseNestedMeta;
use syn::{Expr, Lit, LitStr, Path, Token};

use crate::error::Errors;

/// One accepted key and an example of it, shown in error messages.
pub(crate) struct Key {
    pub(crate) name: &'static str,
    pub(crate) example: &'static str,
}

/// Parses `key = value, ...` arguments: calls `on_value` with each accepted
/// key's name and value expression, and records unknown, repeated and
/// value-less keys in `errors`. Only broken syntax stops the reading.
pub(crate) fn parse_args(
    tokens: TokenStream,
    keys: &[Key],
    errors: &mut Errors,
    mut on_value: impl FnMut(&'static str, &Expr, &mut Errors),
) -> Given {
    let mut seen: Vec<&'static str> = Vec::new();
    let parser = syn::meta::parser(|meta| {
        let Some(key) = keys.iter().find(|key| meta.path.is_ident(key.name)) else {
            errors.push(unknown_key(&meta.path, keys));
            return skip_value(&meta);
        };
        let value = read_value(&meta, key, errors)?;
        if seen.contains(&key.name) {
            let path = &meta.path;
            errors.push(syn::Error::new_spanned(
                quote!(#path = #value),
                format!("`{}` is given twice; keep one", key.name),
            ));
        } else {
            seen.push(key.name);
            if let Some(value) = value {
                on_value(key.name, &value, errors);
            }
        }
        Ok(())
    });
    let complete = match syn::parse::Parser::parse2(parser, tokens) {
        Ok(()) => true,
        Err(error) => {
            errors.push(error);
            false
        }
    };
    Given {
        keys: seen,
        complete,
    }
}

/// The accepted keys an argument list wrote, with or without a value.
pub(crate) struct Given {
    keys: Vec<&'static str>,
    /// False when broken syntax stopped the reading early.
    complete: bool,
}

impl Given {
    /// Whether `key` was written.
    pub(crate) fn has(&self, key: &Key) -> bool {
        self.keys.contains(&key.name)
    }

    /// Whether `key` is surely absent: the whole list was read without it.
    pub(crate) fn lacks(&self, key: &Key) -> bool {
        self.complete && !self.has(key)
    }
}

fn unknown_key(path: &Path, keys: &[Key]) -> syn::Error {
    let valid: Vec<String> = keys.iter().map(|key| format!("`{}`", key.name)).collect();
    let name = path.to_token_stream().to_string().replace(' ', "");
    syn::Error::new_spanned(
        path,
        format!(
            "unknown argument `{name}`; expected one of {}",
            valid.join(", ")
        ),
    )
}

/// Steps over the value of an unknown key so the keys after it are read too.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.input.parse::<proc_macro2::Group>()?;
    }
    Ok(())
}

/// The value after `key =`, or `None` (and an error) when the key stands alone.
fn read_value(
    meta: &ParseNestedMeta<'_>,
    key: &Key,
    errors: &mut Errors,
) -> syn::Result<Option<Expr>> {
    if meta.input.peek(Token![=]) {
        return Ok(Some(meta.value()?.parse()?));
    }
    let message = format!("`{}` needs a value, like `{}`", key.name, key.example);
    if meta.input.is_empty() || meta.input.peek(Token![,]) {
        errors.push(meta.error(message));
        Ok(None)
    } else {
        Err(meta.error(message))
    }
}

/// Strips the invisible groups `macro_rules!` wraps around `$x:expr` values.
fn ungroup(mut expr: &Expr) -> &Expr {
    while let Expr::Group(group) = expr {
        expr = &group.expr;
    }
    expr
}

/// A string literal value.
pub(crate) fn string(expr: &Expr, key: &Key) -> syn::Result<LitStr> {
    match ungroup(expr) {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(lit.clone()),
        other => Err(syn::Error::new_spanned(
            other,
            format!(
                "`{}` takes a string literal, like `{}`",
                key.name, key.example
            ),
        )),
    }
}

/// A string literal value that is not blank.
pub(crate) fn non_empty_string(expr: &Expr, key: &Key) -> syn::Result<LitStr> {
    let lit = string(expr, key)?;
    if lit.value().trim().is_empty() {
        return Err(syn::Error::new_spanned(
            &lit,
            format!("`{}` must not be empty, like `{}`", key.name, key.example),
        ));
    }
    Ok(lit)
}

/// A path value, such as `fixtures::prepare_todo`.
pub(crate) fn path(expr: &Expr, key: &Key) -> syn::Result<Path> {
    match ungroup(expr) {
        Expr::Path(syn::ExprPath {
            qself: None, path, ..
        }) => Ok(path.clone()),
        other => Err(syn::Error::new_spanned(
            other,
            format!(
                "`{}` takes the path of an async fn, like `{}`",
                key.name, key.example
            ),
        )),
    }
}

/// An integer literal that fits in a `u32`, with the literal's span.
pub(crate) fn u32_value(expr: &Expr, key: &Key) -> syn::Result<(u32, proc_macro2::Span)> {
    let range = format!(
        "`{}` must be an integer from 0 to {}, like `{}`",
        key.name,
        u32::MAX,
        key.example
    );
    match ungroup(expr) {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Int(lit), ..
        }) => {
            if !matches!(lit.suffix(), "" | "u32") {
                return Err(syn::Error::new_spanned(
                    lit,
                    format!(
                        "`{}` takes an unsuffixed integer, like `{}`",
                        key.name, key.example
                    ),
                ));
            }
            let value = lit
                .base10_parse::<u32>()
                .map_err(|_| syn::Error::new_spanned(lit, &range))?;
            Ok((value, lit.span()))
        }
        Expr::Unary(syn::ExprUnary {
            op: syn::UnOp::Neg(_),
            ..
        }) => Err(syn::Error::new_spanned(expr, range)),
        other => Err(syn::Error::new_spanned(
            other,
            format!(
                "`{}` takes an integer literal, like `{}`",
                key.name, key.example
            ),
        )),
    }
}
