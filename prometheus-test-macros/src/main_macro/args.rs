//! Reads the arguments of `main!(...)`.

use proc_macro2::TokenStream;
use syn::{LitStr, Path};

use crate::error::Errors;
use crate::key_value;

key_value::keys! {
    /// The keys of `main!(...)`.
    enum MainKey {
        Config => ("config", "config = \"tests/e2e/config.yaml\""),
        PostLoad => ("post_load", "post_load = seed_database"),
    }
}

/// The arguments of `main!()`.
pub(crate) struct MainArgs {
    /// `config = "..."`: config.yaml relative to the test file's directory.
    pub(crate) config: Option<LitStr>,
    /// `post_load = path`: async hook run after the fixtures are imported.
    pub(crate) post_load: Option<Path>,
}

/// Reads `config = "...", post_load = path`, both optional.
pub(crate) fn parse(tokens: TokenStream) -> syn::Result<MainArgs> {
    let mut errors = Errors::default();
    let mut config = None;
    let mut post_load = None;
    key_value::parse_args(tokens, &mut errors, |key, value, errors| match key {
        MainKey::Config => config = errors.keep(key_value::non_empty_string(value, key)),
        MainKey::PostLoad => post_load = errors.keep(key_value::path(value, key)),
    });
    errors.finish()?;
    Ok(MainArgs { config, post_load })
}

#[cfg(test)]
mod tests {
    use super::{MainKey, parse};
    use crate::doc_tables::{doc_of, table_keys};
    use crate::key_value::Key as _;

    #[test]
    fn every_key_example_reads_without_error() {
        let examples: Vec<&str> = MainKey::ALL.iter().map(|key| key.example()).collect();
        let args = parse(examples.join(", ").parse().expect("tokens")).expect("valid arguments");
        assert!(args.config.is_some() && args.post_load.is_some());
    }

    #[test]
    fn the_guide_table_lists_every_key() {
        let keys: Vec<&str> = MainKey::ALL.iter().map(|key| key.name()).collect();
        let guide = doc_of(
            "../prometheus-test/src/lib.rs",
            "pub use prometheus_test_macros::main;",
        );
        assert_eq!(table_keys(&guide), keys);
    }
}
