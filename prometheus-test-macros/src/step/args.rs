//! Reads the arguments of `#[step(...)]`.

use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned as _;
use syn::{Expr, LitStr, Path};

use super::timing::Timing;
use crate::duration::duration;
use crate::error::Errors;
use crate::key_value::{self, Key};

key_value::keys! {
    /// The keys of `#[step(...)]`.
    enum StepKey {
        Worker => ("worker", "worker = \"worker1\""),
        Workers => ("workers", "workers = [\"worker1\", \"worker2\"]"),
        Order => ("order", "order = 1"),
        Prepare => ("prepare", "prepare = prepare_todo"),
        Name => ("name", "name = \"submit todo\""),
        Description => ("description", "description = \"submits a todo\""),
        Retries => ("retries", "retries = 2"),
        RetryDelay => ("retry_delay", "retry_delay = \"500ms\""),
        Timeout => ("timeout", "timeout = \"30s\""),
    }
}

/// The worker or workers a step runs against.
pub(crate) enum Workers {
    /// `worker = "worker1"`.
    One(LitStr),
    /// `workers = ["worker1", "worker2"]`: distinct, at least one.
    Listed(Vec<LitStr>),
    /// `workers = "*"`: every worker of workers.json.
    All,
}

/// The arguments of a `#[step]` that read without error.
pub(crate) struct StepArgs {
    /// `worker = "..."` or `workers = ...`: keys of workers.json.
    pub(crate) workers: Workers,
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
    /// `retries`, `retry_delay` and `timeout`.
    pub(crate) timing: Timing,
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
    let mut workers = None;
    // The spans of `worker` and `workers` values, in the order written.
    let mut worker_keys: Vec<Span> = Vec::new();
    let mut order = None;
    let mut prepare = None;
    let mut name = None;
    let mut description = None;
    let mut timing = Timing::default();
    let given = key_value::parse_args(tokens, &mut local, |key, value, errors| match key {
        StepKey::Worker => {
            worker_keys.push(value.span());
            worker = errors.keep(one_worker(value, key));
        }
        StepKey::Workers => {
            worker_keys.push(value.span());
            workers = workers_value(value, key, errors);
        }
        StepKey::Order => order = errors.keep(key_value::u32_value(value, key)),
        StepKey::Prepare => prepare = errors.keep(key_value::path(value, key)),
        StepKey::Name => name = errors.keep(key_value::non_empty_string(value, key)),
        StepKey::Description => description = errors.keep(key_value::string(value, key)),
        StepKey::Retries => timing.retries = errors.keep(key_value::u32_value(value, key)),
        StepKey::RetryDelay => timing.retry_delay = errors.keep(duration(value, key, true)),
        StepKey::Timeout => timing.timeout = errors.keep(duration(value, key, false)),
    });
    if let [_, second] = worker_keys[..] {
        local.push(syn::Error::new(
            second,
            "give `worker` (one worker) or `workers` (one step per worker), not both",
        ));
    }
    let lacks_worker = given.lacks(StepKey::Worker) && given.lacks(StepKey::Workers);
    timing.check(&mut local);
    match (lacks_worker, given.lacks(StepKey::Order)) {
        (true, true) => local.push(syn::Error::new(
            Span::call_site(),
            "missing `worker` and `order`: write `#[step(worker = \"worker1\", order = 1)]` \
             (a key of workers.json and the step's position in a round)",
        )),
        (true, false) => local.push(syn::Error::new(
            Span::call_site(),
            "missing `worker` (the key of workers.json the step runs against): add \
             `worker = \"worker1\"` to `#[step(...)]`, or `workers = [\"worker1\", \"worker2\"]` \
             for one step per worker",
        )),
        (false, true) => local.push(missing(StepKey::Order, "the step's position in a round")),
        (false, false) => {}
    }
    let workers = worker.map(Workers::One).or(workers);
    let args = match (local.is_empty(), workers, order) {
        (true, Some(workers), Some((order, order_span))) => Some(StepArgs {
            workers,
            order,
            order_span,
            prepare,
            name,
            description,
            timing,
        }),
        _ => None,
    };
    if let Err(error) = local.finish() {
        errors.push(error);
    }
    ParsedArgs {
        args,
        has_prepare: given.has(StepKey::Prepare),
    }
}

/// A worker's name; `"*"` belongs to `workers`.
fn one_worker(expr: &Expr, key: StepKey) -> syn::Result<LitStr> {
    let name = key_value::non_empty_string(expr, key)?;
    if name.value() == "*" {
        return Err(syn::Error::new_spanned(
            &name,
            "`worker` names one worker: write `workers = \"*\"` for every worker of workers.json",
        ));
    }
    Ok(name)
}

/// `"*"`, or a list of distinct, non-blank string literals; each problem
/// is recorded in `errors`, on the tokens at fault.
fn workers_value(expr: &Expr, key: StepKey, errors: &mut Errors) -> Option<Workers> {
    let every = "or `workers = \"*\"` for every worker of workers.json";
    let list = match key_value::ungroup(expr) {
        Expr::Array(list) => list,
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(lit),
            ..
        }) => {
            if lit.value() == "*" {
                return Some(Workers::All);
            }
            errors.push(syn::Error::new_spanned(
                lit,
                format!(
                    "`workers` takes a list, like `{}`, {every}; for one worker write `worker = {}`",
                    key.example(),
                    lit.token()
                ),
            ));
            return None;
        }
        other => {
            errors.push(syn::Error::new_spanned(
                other,
                format!("`workers` takes a list, like `{}`, {every}", key.example()),
            ));
            return None;
        }
    };
    if list.elems.is_empty() {
        errors.push(syn::Error::new_spanned(
            list,
            format!(
                "`workers` needs at least one worker, like `{}`, {every}",
                key.example()
            ),
        ));
        return None;
    }
    let mut local = Errors::default();
    let mut names: Vec<LitStr> = Vec::new();
    for element in &list.elems {
        let Some(name) = local.keep(key_value::non_empty_string(element, key)) else {
            continue;
        };
        if name.value() == "*" {
            local.push(syn::Error::new_spanned(
                &name,
                "`\"*\"` stands alone: write `workers = \"*\"` for every worker of workers.json",
            ));
        } else if names.iter().any(|seen| seen.value() == name.value()) {
            local.push(syn::Error::new_spanned(
                &name,
                format!(
                    "worker {} is listed twice in `workers`; keep one",
                    name.token()
                ),
            ));
        } else {
            names.push(name);
        }
    }
    match local.finish() {
        Ok(()) => Some(Workers::Listed(names)),
        Err(error) => {
            errors.push(error);
            None
        }
    }
}

fn missing(key: StepKey, meaning: &str) -> syn::Error {
    syn::Error::new(
        Span::call_site(),
        format!(
            "missing `{}` ({meaning}): add `{}` to `#[step(...)]`",
            key.name(),
            key.example()
        ),
    )
}

#[cfg(test)]
mod tests {
    use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
    use quote::{ToTokens, quote};

    use super::{ParsedArgs, StepKey, Workers, parse};
    use crate::doc_tables::{doc_of, table_keys, unmentioned};
    use crate::error::{Errors, messages};
    use crate::key_value::Key as _;

    fn read(tokens: TokenStream) -> (ParsedArgs, Vec<String>) {
        let mut errors = Errors::default();
        let parsed = parse(tokens, &mut errors);
        let messages = errors.finish().err().map(messages).unwrap_or_default();
        (parsed, messages)
    }

    fn errors_of(tokens: TokenStream) -> Vec<String> {
        read(tokens).1
    }

    #[test]
    fn reads_every_key() {
        let (parsed, errors) = read(quote! {
            worker = "worker2", order = 7, prepare = fixtures::prepare_todo,
            name = "submit todo", description = "submits a todo",
        });
        assert!(errors.is_empty(), "{errors:?}");
        assert!(parsed.has_prepare);
        let args = parsed.args.expect("valid arguments");
        assert!(matches!(&args.workers, Workers::One(w) if w.value() == "worker2"));
        assert_eq!(args.order, 7);
        let prepare = args.prepare.expect("prepare path");
        assert_eq!(
            prepare.to_token_stream().to_string(),
            "fixtures :: prepare_todo"
        );
        assert_eq!(args.name.expect("name").value(), "submit todo");
        assert_eq!(
            args.description.expect("description").value(),
            "submits a todo"
        );
    }

    #[test]
    fn every_key_example_reads_without_error() {
        let examples: Vec<&str> = StepKey::ALL
            .iter()
            .filter(|&&key| key != StepKey::Workers)
            .map(|key| key.example())
            .collect();
        let (parsed, errors) = read(examples.join(", ").parse().expect("tokens"));
        assert!(errors.is_empty(), "{errors:?}");
        assert!(parsed.args.is_some() && parsed.has_prepare);
        let (parsed, errors) = read(
            format!("{}, order = 1", StepKey::Workers.example())
                .parse()
                .expect("tokens"),
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert!(parsed.args.is_some());
    }

    fn listed(tokens: TokenStream) -> Vec<String> {
        let (parsed, errors) = read(tokens);
        assert!(errors.is_empty(), "{errors:?}");
        match parsed.args.expect("valid arguments").workers {
            Workers::Listed(list) => list.iter().map(syn::LitStr::value).collect(),
            _ => panic!("expected a list"),
        }
    }

    #[test]
    fn workers_takes_a_list_in_its_order_or_a_star() {
        assert_eq!(
            listed(quote!(workers = ["worker3", "worker1"], order = 1)),
            ["worker3", "worker1"]
        );
        assert_eq!(
            listed(quote!(order = 1, workers = ["worker1",])),
            ["worker1"]
        );
        let (parsed, errors) = read(quote!(workers = "*", order = 1));
        assert!(errors.is_empty(), "{errors:?}");
        assert!(matches!(parsed.args.expect("valid").workers, Workers::All));
    }

    #[test]
    fn workers_misuse_is_reported_on_the_tokens_at_fault() {
        let every = "or `workers = \"*\"` for every worker of workers.json";
        assert_eq!(
            errors_of(quote!(workers = [], order = 1)),
            [format!(
                "`workers` needs at least one worker, like `workers = [\"worker1\", \"worker2\"]`, {every}"
            )]
        );
        assert_eq!(
            errors_of(quote!(workers = ["a", "b", "a", "b"], order = 1)),
            [
                "worker \"a\" is listed twice in `workers`; keep one",
                "worker \"b\" is listed twice in `workers`; keep one",
            ]
        );
        assert_eq!(
            errors_of(quote!(workers = ["a", 2, worker3, ""], order = 1)),
            [
                "`workers` takes a string literal, like `workers = [\"worker1\", \"worker2\"]`",
                "`workers` takes a string literal, like `workers = [\"worker1\", \"worker2\"]`",
                "`workers` must not be empty, like `workers = [\"worker1\", \"worker2\"]`",
            ]
        );
        assert_eq!(
            errors_of(quote!(workers = ["worker1", "*"], order = 1)),
            ["`\"*\"` stands alone: write `workers = \"*\"` for every worker of workers.json"]
        );
        assert_eq!(
            errors_of(quote!(workers = "worker1", order = 1)),
            [format!(
                "`workers` takes a list, like `workers = [\"worker1\", \"worker2\"]`, {every}; \
                 for one worker write `worker = \"worker1\"`"
            )]
        );
        assert_eq!(
            errors_of(quote!(workers = WORKERS, order = 1)),
            [format!(
                "`workers` takes a list, like `workers = [\"worker1\", \"worker2\"]`, {every}"
            )]
        );
    }

    #[test]
    fn a_star_for_one_worker_points_to_workers() {
        assert_eq!(
            errors_of(quote!(worker = "*", order = 1)),
            ["`worker` names one worker: write `workers = \"*\"` for every worker of workers.json"]
        );
    }

    #[test]
    fn worker_and_workers_exclude_each_other() {
        let both = "give `worker` (one worker) or `workers` (one step per worker), not both";
        assert_eq!(
            errors_of(quote!(worker = "a", order = 1, workers = ["b"])),
            [both]
        );
        assert_eq!(
            errors_of(quote!(workers = "*", worker = "a", order = 1)),
            [both]
        );
    }

    #[test]
    fn optional_keys_default_to_none() {
        let (parsed, errors) = read(quote!(order = 0, worker = "worker1"));
        assert!(errors.is_empty(), "{errors:?}");
        assert!(!parsed.has_prepare);
        let args = parsed.args.expect("valid arguments");
        assert_eq!(args.order, 0);
        assert!(args.prepare.is_none() && args.name.is_none() && args.description.is_none());
    }

    #[test]
    fn order_takes_u32_range_and_suffix() {
        let (parsed, errors) = read(quote!(worker = "w", order = 4_294_967_295u32));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(parsed.args.expect("valid").order, u32::MAX);
        let range = "`order` must be an integer from 0 to 4294967295, like `order = 1`";
        assert_eq!(errors_of(quote!(worker = "w", order = 4294967296)), [range]);
        assert_eq!(errors_of(quote!(worker = "w", order = -1)), [range]);
        assert_eq!(
            errors_of(quote!(worker = "w", order = 1u8)),
            ["`order` takes an unsuffixed integer, like `order = 1`"]
        );
        assert_eq!(
            errors_of(quote!(worker = "w", order = "1")),
            ["`order` takes an integer literal, like `order = 1`"]
        );
    }

    #[test]
    fn unknown_key_lists_the_valid_ones() {
        assert_eq!(
            errors_of(quote!(worker = "w", order = 1, repeat = 3, skip)),
            [
                "unknown argument `repeat`; expected one of `worker`, `workers`, `order`, `prepare`, `name`, `description`, `retries`, `retry_delay`, `timeout`",
                "unknown argument `skip`; expected one of `worker`, `workers`, `order`, `prepare`, `name`, `description`, `retries`, `retry_delay`, `timeout`",
            ]
        );
    }

    #[test]
    fn duplicate_key_is_reported_once_on_the_second() {
        let (parsed, errors) = read(quote!(worker = "a", order = 1, worker = "b"));
        assert_eq!(errors, ["`worker` is given twice; keep one"]);
        assert!(parsed.args.is_none());
        assert_eq!(
            errors_of(quote!(worker = "a", order = 1, order = 2, order = 3)),
            [
                "`order` is given twice; keep one",
                "`order` is given twice; keep one"
            ]
        );
    }

    #[test]
    fn missing_keys_are_named() {
        assert_eq!(
            errors_of(quote!(order = 1)),
            [
                "missing `worker` (the key of workers.json the step runs against): add `worker = \"worker1\"` to `#[step(...)]`, or `workers = [\"worker1\", \"worker2\"]` for one step per worker"
            ]
        );
        assert_eq!(
            errors_of(quote!(worker = "w")),
            ["missing `order` (the step's position in a round): add `order = 1` to `#[step(...)]`"]
        );
        assert_eq!(
            errors_of(quote!()),
            [
                "missing `worker` and `order`: write `#[step(worker = \"worker1\", order = 1)]` (a key of workers.json and the step's position in a round)"
            ]
        );
    }

    #[test]
    fn string_keys_reject_other_literals_and_blanks() {
        assert_eq!(
            errors_of(quote!(worker = worker1, order = 1)),
            ["`worker` takes a string literal, like `worker = \"worker1\"`"]
        );
        assert_eq!(
            errors_of(quote!(worker = "", order = 1)),
            ["`worker` must not be empty, like `worker = \"worker1\"`"]
        );
        assert_eq!(
            errors_of(quote!(worker = "w", order = 1, name = "  ")),
            ["`name` must not be empty, like `name = \"submit todo\"`"]
        );
        assert_eq!(
            errors_of(quote!(worker = "w", order = 1, description = 3)),
            ["`description` takes a string literal, like `description = \"submits a todo\"`"]
        );
        // An empty description is allowed: it is the default too.
        assert!(errors_of(quote!(worker = "w", order = 1, description = "")).is_empty());
    }

    #[test]
    fn prepare_takes_a_path_and_is_noted_even_when_wrong() {
        let (parsed, errors) = read(quote!(worker = "w", order = 1, prepare = "prepare_todo"));
        assert_eq!(
            errors,
            ["`prepare` takes the path of an async fn, like `prepare = prepare_todo`"]
        );
        assert!(parsed.has_prepare);
    }

    #[test]
    fn key_without_value_is_reported_and_reading_goes_on() {
        assert_eq!(
            errors_of(quote!(worker, order = 1, bogus = 2)),
            [
                "`worker` needs a value, like `worker = \"worker1\"`",
                "unknown argument `bogus`; expected one of `worker`, `workers`, `order`, `prepare`, `name`, `description`, `retries`, `retry_delay`, `timeout`",
            ]
        );
    }

    #[test]
    fn independent_errors_are_all_reported() {
        assert_eq!(
            errors_of(quote!(order = "first", repeat = 3, name = 1)),
            [
                "`order` takes an integer literal, like `order = 1`",
                "unknown argument `repeat`; expected one of `worker`, `workers`, `order`, `prepare`, `name`, `description`, `retries`, `retry_delay`, `timeout`",
                "`name` takes a string literal, like `name = \"submit todo\"`",
                "missing `worker` (the key of workers.json the step runs against): add `worker = \"worker1\"` to `#[step(...)]`, or `workers = [\"worker1\", \"worker2\"]` for one step per worker",
            ]
        );
    }

    #[test]
    fn broken_syntax_stops_without_follow_on_missing_key_errors() {
        let errors = errors_of(quote!(worker = "w" order = 1));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(!errors[0].contains("missing"), "{errors:?}");
    }

    #[test]
    fn timing_keys_are_read() {
        let (parsed, errors) = read(quote!(
            worker = "w",
            order = 1,
            retries = 2,
            retry_delay = "500ms",
            timeout = "1m"
        ));
        assert!(errors.is_empty(), "{errors:?}");
        let timing = parsed.args.expect("valid arguments").timing;
        assert_eq!(timing.retries.map(|(n, _)| n), Some(2));
        assert_eq!(timing.retry_delay.map(|d| d.millis), Some(500));
        assert_eq!(timing.timeout.map(|t| t.millis), Some(60_000));
    }

    #[test]
    fn timing_keys_reject_bad_values() {
        assert_eq!(
            errors_of(quote!(worker = "w", order = 1, timeout = "1.5s")),
            [
                "`timeout` takes a whole number followed by `ms`, `s` or `m`, found \"1.5s\"; for a fraction of a second use `ms`, such as \"1500ms\", like `timeout = \"30s\"`"
            ]
        );
        assert_eq!(
            errors_of(quote!(worker = "w", order = 1, timeout = 30)),
            ["`timeout` takes a string literal, like `timeout = \"30s\"`"]
        );
        assert_eq!(
            errors_of(quote!(worker = "w", order = 1, timeout = "0ms")),
            ["`timeout` must be longer than zero, like `timeout = \"30s\"`"]
        );
        assert_eq!(
            errors_of(quote!(worker = "w", order = 1, retries = -1)),
            ["`retries` must be an integer from 0 to 4294967295, like `retries = 2`"]
        );
        assert!(
            errors_of(quote!(
                worker = "w",
                order = 1,
                retries = 1,
                retry_delay = "0ms"
            ))
            .is_empty()
        );
    }

    #[test]
    fn a_retry_delay_needs_retries() {
        assert_eq!(
            errors_of(quote!(worker = "w", order = 1, retry_delay = "1s")),
            [
                "`retry_delay` is the pause before each re-run: add `retries = 2` (how many re-runs) or remove it"
            ]
        );
        assert_eq!(
            errors_of(quote!(
                worker = "w",
                order = 1,
                retries = 0,
                retry_delay = "1s"
            )),
            ["`retry_delay` has no effect with `retries = 0`: raise `retries` or remove it"]
        );
    }

    #[test]
    fn values_wrapped_by_macro_rules_are_read() {
        let grouped = |tokens: TokenStream| TokenTree::Group(Group::new(Delimiter::None, tokens));
        let worker = grouped(quote!("worker1"));
        let order = grouped(quote!(3));
        let (parsed, errors) = read(quote!(worker = #worker, order = #order));
        assert!(errors.is_empty(), "{errors:?}");
        let args = parsed.args.expect("valid arguments");
        assert!(matches!(&args.workers, Workers::One(w) if w.value() == "worker1"));
        assert_eq!(args.order, 3);
    }

    #[test]
    fn the_docs_list_every_key() {
        let keys: Vec<&str> = StepKey::ALL.iter().map(|key| key.name()).collect();
        let guide = doc_of(
            "../prometheus-test/src/lib.rs",
            "pub use prometheus_test_macros::step;",
        );
        assert_eq!(table_keys(&guide), keys);
        let doc = doc_of(
            "src/lib.rs",
            "pub fn step(args: TokenStream, item: TokenStream) -> TokenStream {",
        );
        assert_eq!(unmentioned(&doc, &keys), Vec::<&str>::new());
    }
}
