//! Reads the arguments of `#[step(...)]`.

use proc_macro2::{Span, TokenStream};
use syn::{LitStr, Path};

use crate::error::Errors;
use crate::key_value::{self, Key};

const WORKER: Key = Key {
    name: "worker",
    example: "worker = \"worker1\"",
};
const ORDER: Key = Key {
    name: "order",
    example: "order = 1",
};
const PREPARE: Key = Key {
    name: "prepare",
    example: "prepare = prepare_todo",
};
const NAME: Key = Key {
    name: "name",
    example: "name = \"submit todo\"",
};
const DESCRIPTION: Key = Key {
    name: "description",
    example: "description = \"submits a todo\"",
};
const KEYS: [Key; 5] = [WORKER, ORDER, PREPARE, NAME, DESCRIPTION];

/// The arguments of a `#[step]` that read without error.
pub(crate) struct StepArgs {
    /// `worker = "..."`: a key of workers.json.
    pub(crate) worker: LitStr,
    /// `order = N`: the position in a round.
    pub(crate) order: u32,
    /// The span of the `order` literal.
    pub(crate) order_span: Span,
    /// `prepare = path`: the async fn whose value the step receives.
    pub(crate) prepare: Option<Path>,
    /// `name = "..."`: the step's name in state and output.
    pub(crate) name: Option<LitStr>,
    /// `description = "..."`.
    pub(crate) description: Option<LitStr>,
}

/// What reading the arguments gave: the arguments when all were valid, and
/// whether a `prepare` key was written (the signature check needs it even
/// when the arguments have errors).
pub(crate) struct ParsedArgs {
    pub(crate) args: Option<StepArgs>,
    pub(crate) has_prepare: bool,
}

/// Reads `worker = "...", order = N, ...`, recording every problem in `errors`.
pub(crate) fn parse(tokens: TokenStream, errors: &mut Errors) -> ParsedArgs {
    let mut local = Errors::default();
    let mut worker = None;
    let mut order = None;
    let mut prepare = None;
    let mut name = None;
    let mut description = None;
    let given = key_value::parse_args(tokens, &KEYS, &mut local, |key, value, errors| match key {
        "worker" => worker = errors.keep(key_value::non_empty_string(value, &WORKER)),
        "order" => order = errors.keep(key_value::u32_value(value, &ORDER)),
        "prepare" => prepare = errors.keep(key_value::path(value, &PREPARE)),
        "name" => name = errors.keep(key_value::non_empty_string(value, &NAME)),
        _ => description = errors.keep(key_value::string(value, &DESCRIPTION)),
    });
    if given.lacks(&WORKER) {
        local.push(missing(
            &WORKER,
            "the key of workers.json the step runs against",
        ));
    }
    if given.lacks(&ORDER) {
        local.push(missing(&ORDER, "the step's position in a round"));
    }
    let args = match (local.is_empty(), worker, order) {
        (true, Some(worker), Some((order, order_span))) => Some(StepArgs {
            worker,
            order,
            order_span,
            prepare,
            name,
            description,
        }),
        _ => None,
    };
    if let Err(error) = local.finish() {
        errors.push(error);
    }
    ParsedArgs {
        args,
        has_prepare: given.has(&PREPARE),
    }
}

fn missing(key: &Key, meaning: &str) -> syn::Error {
    syn::Error::new(
        Span::call_site(),
        format!(
            "missing `{}` ({meaning}): add `{}` to `#[step(...)]`",
            key.name, key.example
        ),
    )
}
