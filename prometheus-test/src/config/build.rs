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

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_yaml_ng::Value;
use sha2::{Digest as _, Sha256};

use super::reader::Reader;
use super::typed::{scalar_text, string};

/// How to build an image: config's `build`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BuildSpec {
    /// The build context (absolute).
    pub(crate) context: PathBuf,
    /// The Dockerfile, relative to the context.
    pub(crate) dockerfile: String,
    /// Build arguments (`ARG`), in the order written.
    pub(crate) args: Vec<(String, String)>,
    /// The stage to build, when not the last.
    pub(crate) target: Option<String>,
}

/// The tag of the image built for `name` of the suite labelled `suite`:
/// `prometheus-test-<suite's hash>-<name>:built`, in the characters image
/// names take.
pub(crate) fn built_tag(suite: &str, name: &str) -> String {
    let digest = Sha256::digest(suite.as_bytes());
    let suite: String = digest.iter().take(4).fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    });
    let name: String = name
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => c,
            _ => '-',
        })
        .collect();
    format!("prometheus-test-{suite}-{}:built", name.trim_matches('-'))
}

/// The label of the suite whose data folder is `data_dir`: that folder,
/// absolute (on its containers, and in its built images' tags).
pub(crate) fn suite_label_of(data_dir: &Path) -> String {
    std::path::absolute(data_dir)
        .unwrap_or_else(|_| data_dir.to_owned())
        .display()
        .to_string()
}

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
                .map(|(name, value)| Some((name.as_str()?.to_owned(), scalar_text(value)?)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_built_tag_names_the_suite_and_the_user_in_image_characters() {
        let tag = built_tag("/home/me/task/tests/data", "Worker_1");
        assert!(tag.starts_with("prometheus-test-"), "{tag}");
        assert!(tag.ends_with("-worker-1:built"), "{tag}");
        assert_ne!(tag, built_tag("/other/tests/data", "Worker_1"));
        assert_eq!(tag, built_tag("/home/me/task/tests/data", "Worker_1"));
    }
}
