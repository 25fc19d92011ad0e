//! Reading `key = value` macro arguments: the rules `#[step]` and `main!()`
//! share (unknown and repeated keys, value kinds).

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::meta::ParseNestedMeta;
use syn::{Expr, Lit, LitStr, Path, Token};

use crate::error::Errors;

/// The keys one macro accepts, as an enum: the macro reads each value with a
/// `match` over it, so a new key cannot go unhandled.
pub(crate) trait Key: Copy + PartialEq + 'static {
    /// Every key, in the order "expected one of" lists them.
    const ALL: &'static [Self];

    /// The key as written, and an example of it for error messages.
    fn spelling(self) -> (&'static str, &'static str);

    /// The key as written, like `worker`.
    fn name(self) -> &'static str {
        self.spelling().0
    }

    /// The key with a value, like `worker = "worker1"`.
    fn example(self) -> &'static str {
        self.spelling().1
    }
}

/// Declares a macro's keys: an enum implementing [`Key`], each variant with
/// how it is written and an example, listed once.
macro_rules! keys {
    (
        $(#[$attr:meta])*
        enum $name:ident {
            $($variant:ident => ($spelling:literal, $example:literal),)+
        }
    ) => {
        $(#[$attr])*
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        enum $name {
            $($variant,)+
        }

        impl $crate::key_value::Key for $name {
            const ALL: &'static [Self] = &[$(Self::$variant,)+];

            fn spelling(self) -> (&'static str, &'static str) {
                match self {
                    $(Self::$variant => ($spelling, $example),)+
                }
            }
        }
    };
}
pub(crate) use keys;

/// Parses `key = value, ...` arguments: calls `on_value` with each accepted
/// key and its value expression, and records unknown, repeated and
/// value-less keys in `errors`. Only broken syntax stops the reading.
///
/// A value is any expression; the value-kind readers below (`string`,
/// `path`, `u32_value`, ...) check it, so a key of a new kind (a list, a
/// duration) needs one more reader and no change here.
pub(crate) fn parse_args<K: Key>(
    tokens: TokenStream,
    errors: &mut Errors,
    mut on_value: impl FnMut(K, &Expr, &mut Errors),
) -> Given<K> {
    let mut seen: Vec<K> = Vec::new();
    let parser = syn::meta::parser(|meta| {
        let Some(&key) = K::ALL.iter().find(|key| meta.path.is_ident(key.name())) else {
            errors.push(unknown_key::<K>(&meta.path));
            return skip_value(&meta);
        };
        let value = read_value(&meta, key, errors)?;
        if seen.contains(&key) {
            let path = &meta.path;
            errors.push(syn::Error::new_spanned(
                quote!(#path = #value),
                format!("`{}` is given twice; keep one", key.name()),
            ));
        } else {
            seen.push(key);
            if let Some(value) = value {
                on_value(key, &value, errors);
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
pub(crate) struct Given<K> {
    keys: Vec<K>,
    /// False when broken syntax stopped the reading early.
    complete: bool,
}

impl<K: Key> Given<K> {
    /// Whether `key` was written.
    pub(crate) fn has(&self, key: K) -> bool {
        self.keys.contains(&key)
    }

    /// Whether `key` is surely absent: the whole list was read without it.
    pub(crate) fn lacks(&self, key: K) -> bool {
        self.complete && !self.has(key)
    }
}

fn unknown_key<K: Key>(path: &Path) -> syn::Error {
    let valid: Vec<String> = K::ALL
        .iter()
        .map(|key| format!("`{}`", key.name()))
        .collect();
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
    key: impl Key,
    errors: &mut Errors,
) -> syn::Result<Option<Expr>> {
    if meta.input.peek(Token![=]) {
        return Ok(Some(meta.value()?.parse()?));
    }
    let message = format!("`{}` needs a value, like `{}`", key.name(), key.example());
    if meta.input.is_empty() || meta.input.peek(Token![,]) {
        errors.push(meta.error(message));
        Ok(None)
    } else {
        Err(meta.error(message))
    }
}

/// Strips the invisible groups `macro_rules!` wraps around `$x:expr` values.
pub(crate) fn ungroup(mut expr: &Expr) -> &Expr {
    while let Expr::Group(group) = expr {
        expr = &group.expr;
    }
    expr
}

/// A string literal value.
pub(crate) fn string(expr: &Expr, key: impl Key) -> syn::Result<LitStr> {
    match ungroup(expr) {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(lit.clone()),
        other => Err(syn::Error::new_spanned(
            other,
            format!(
                "`{}` takes a string literal, like `{}`",
                key.name(),
                key.example()
            ),
        )),
    }
}

/// A string literal value that is not blank.
pub(crate) fn non_empty_string(expr: &Expr, key: impl Key) -> syn::Result<LitStr> {
    let lit = string(expr, key)?;
    if lit.value().trim().is_empty() {
        return Err(syn::Error::new_spanned(
            &lit,
            format!(
                "`{}` must not be empty, like `{}`",
                key.name(),
                key.example()
            ),
        ));
    }
    Ok(lit)
}

/// A path value, such as `fixtures::prepare_todo`.
pub(crate) fn path(expr: &Expr, key: impl Key) -> syn::Result<Path> {
    match ungroup(expr) {
        Expr::Path(syn::ExprPath {
            qself: None, path, ..
        }) => Ok(path.clone()),
        other => Err(syn::Error::new_spanned(
            other,
            format!(
                "`{}` takes the path of an async fn, like `{}`",
                key.name(),
                key.example()
            ),
        )),
    }
}

/// An integer literal that fits in a `u32`, with the literal's span.
pub(crate) fn u32_value(expr: &Expr, key: impl Key) -> syn::Result<(u32, proc_macro2::Span)> {
    let range = format!(
        "`{}` must be an integer from 0 to {}, like `{}`",
        key.name(),
        u32::MAX,
        key.example()
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
                        key.name(),
                        key.example()
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
                key.name(),
                key.example()
            ),
        )),
    }
}
