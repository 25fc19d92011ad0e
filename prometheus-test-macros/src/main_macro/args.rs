//! Reads the arguments of `main!(...)`.

use proc_macro2::TokenStream;
use syn::{LitStr, Path};

use crate::error::Errors;
use crate::key_value::{self, Key};

const CONFIG: Key = Key {
    name: "config",
    example: "config = \"tests/e2e/config.yaml\"",
};
const POST_LOAD: Key = Key {
    name: "post_load",
    example: "post_load = seed_database",
};
const KEYS: [Key; 2] = [CONFIG, POST_LOAD];

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
    key_value::parse_args(tokens, &KEYS, &mut errors, |key, value, errors| {
        if key == CONFIG.name {
            config = errors.keep(key_value::non_empty_string(value, &CONFIG));
        } else {
            post_load = errors.keep(key_value::path(value, &POST_LOAD));
        }
    });
    errors.finish()?;
    Ok(MainArgs { config, post_load })
}
