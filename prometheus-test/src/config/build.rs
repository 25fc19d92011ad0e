//! `build` of a container worker (workers.json) or service (config.yaml):
//! the image made from the task's own Dockerfile instead of a named one.
//!
//! ```yaml
//! build:
//!   context: ../middle          # from the tests folder
//!   dockerfile: Dockerfile      # in the context (the default)
//!   args: { BASE: python:3.11-slim }
//!   target: run                 # a stage, when not the last
//! ```

use std::path::Path;

use serde_yaml_ng::Value;

use super::reader::Reader;
use super::typed::string;
use crate::process::BuildSpec;

/// The keys of `build`.
const KEYS: &[&str] = &["context", "dockerfile", "args", "target"];

/// The `build` at `path` (`["services", "middle", "build"]`, or `["build"]`
/// in a worker's scope), its context relative to `base`; `None` (with a
/// problem) when it is wrong.
pub(super) fn build_spec(reader: &mut Reader<'_>, path: &[&str], base: &Path) -> Option<BuildSpec> {
    let section = reader.section(path, KEYS)?;
    let at = |key: &'static str| -> Vec<&str> { path.iter().copied().chain([key]).collect() };
    let shown = path.join(".");
    let context = reader.read(&at("context"), &string("a folder (a string)"));
    if section.get("context").is_none() {
        reader.problem(
            path,
            format_args!("`{shown}` needs `context` (the folder the image is built from)"),
        );
    }
    let dockerfile = reader
        .read(
            &at("dockerfile"),
            &string("a file of the context (a string)"),
        )
        .unwrap_or_else(|| "Dockerfile".to_owned());
    let target = reader.read(&at("target"), &string("a stage's name (a string)"));
    let args = match section.get("args") {
        None => Some(Vec::new()),
        Some(Value::Mapping(args)) => {
            let read: Option<Vec<(String, String)>> = args
                .iter()
                .map(|(name, value)| {
                    let value = match value {
                        Value::String(text) => Some(text.clone()),
                        Value::Number(number) => Some(number.to_string()),
                        Value::Bool(flag) => Some(flag.to_string()),
                        _ => None,
                    }?;
                    Some((name.as_str()?.to_owned(), value))
                })
                .collect();
            if read.is_none() {
                reader.problem(
                    &at("args"),
                    format_args!("`{shown}.args` must map argument names to text or numbers"),
                );
            }
            read
        }
        Some(other) => {
            let found = reader.found(other);
            reader.problem(
                &at("args"),
                format_args!(
                    "`{shown}.args` must be a mapping of argument names to values, found {found}"
                ),
            );
            None
        }
    };
    Some(BuildSpec {
        context: base.join(context?),
        dockerfile,
        args: args?,
        target,
    })
}
