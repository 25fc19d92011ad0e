//! Values of config.yaml replaced at run time, without editing the file.
//!
//! Each override is one environment variable, `PROMETHEUS_TEST_SET_<KEY>`:
//! the rest of the name, lowercased, is the key, and `__` steps into a
//! section (`PROMETHEUS_TEST_SET_MONGODB__DATABASE` sets `mongodb.database`).
//! The value is read as YAML, like the file's (`6100` is a number, `null`
//! or an empty value removes the key, so its default applies, `[a, b]` is a
//! list). Precedence, highest first: the
//! override, config.yaml, the built-in default; a worker's own setting in
//! workers.json still wins over config.yaml's for that worker.
//!
//! One variable per key composes with CI `env:` blocks and shells, and
//! passes harmlessly through `cargo test` to every test binary (a CLI flag
//! would be rejected by the ordinary libtest binaries of the same run). The
//! `SET_` infix keeps overrides apart from the runner's own variables
//! (`PROMETHEUS_TEST_CONFIG`, `PROMETHEUS_TEST_MONGOD`, …), so no config key
//! can ever collide with one of them.

use std::ffi::OsStr;

use serde_yaml_ng::{Mapping, Value};

use super::Problems;

/// The prefix of the variables that override config.yaml values.
pub(crate) const OVERRIDE_PREFIX: &str = "PROMETHEUS_TEST_SET_";

/// Overrides of config.yaml values, in a stable order (by source name).
#[derive(Debug, Clone, Default)]
pub(crate) struct Overrides {
    items: Vec<Override>,
}

#[derive(Debug, Clone)]
struct Override {
    /// The key, one element per level (`["mongodb", "database"]`).
    path: Vec<String>,
    value: Value,
    /// The value as written, for the header line.
    text: String,
    /// Where it came from, e.g. `PROMETHEUS_TEST_SET_BASE_PORT`.
    source: String,
}

impl Overrides {
    /// No overrides: the file as written.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn none() -> Self {
        Self::default()
    }

    /// The overrides among `vars` (an environment: `std::env::vars_os()`):
    /// every `PROMETHEUS_TEST_SET_<KEY>`; other variables are ignored. A bad
    /// name or value is reported with its variable, all of them together.
    pub(crate) fn from_vars<I, K, V>(vars: I) -> Result<Self, Problems>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        let mut overrides = Self::default();
        let mut problems = Problems::default();
        for (name, value) in vars {
            let Some(name) = name.as_ref().to_str() else {
                continue;
            };
            let Some(key) = name.strip_prefix(OVERRIDE_PREFIX) else {
                continue;
            };
            let key = key.to_ascii_lowercase().replace("__", ".");
            let result = match value.as_ref().to_str() {
                Some(value) => overrides.set(&key, value, name),
                None => Err(anyhow::anyhow!("{name}: the value is not valid UTF-8")),
            };
            problems.take(result);
        }
        overrides.items.sort_by(|a, b| a.source.cmp(&b.source));
        problems.into_result(overrides)
    }

    /// Sets the dotted `key` (`mongodb.database`) to `value`, read as YAML;
    /// `source` names where it came from in messages and the header line.
    pub(crate) fn set(&mut self, key: &str, value: &str, source: &str) -> anyhow::Result<()> {
        let path: Vec<String> = key.split('.').map(str::to_owned).collect();
        if path.iter().any(String::is_empty) {
            anyhow::bail!("{source}: `{key}` is not a config.yaml key");
        }
        let parsed: Value = serde_yaml_ng::from_str(value)
            .map_err(|e| anyhow::anyhow!("{source}: not a YAML value for `{key}`: {e}"))?;
        self.items.retain(|item| item.path != path);
        self.items.push(Override {
            path,
            value: parsed,
            text: value.to_owned(),
            source: source.to_owned(),
        });
        Ok(())
    }

    /// Whether there is no override.
    #[cfg(test)]
    #[must_use]
    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// For the run's header line, e.g.
    /// `config overrides: base_port=6100 (PROMETHEUS_TEST_SET_BASE_PORT)`;
    /// `None` without overrides. Credentials in URLs are masked.
    #[must_use]
    pub(crate) fn describe(&self) -> Option<String> {
        if self.items.is_empty() {
            return None;
        }
        let items: Vec<String> = self
            .items
            .iter()
            .map(|o| {
                format!(
                    "{}={} ({})",
                    o.path.join("."),
                    mask_credentials(&o.text),
                    o.source
                )
            })
            .collect();
        Some(format!("config overrides: {}", items.join(", ")))
    }

    /// The source of the override of the top-level `key`, or of a key inside it.
    pub(crate) fn source_of(&self, key: &str) -> Option<&str> {
        self.items
            .iter()
            .find(|o| o.path[0] == key)
            .map(|o| o.source.as_str())
    }

    /// The source of the override that set the value at `path`: one of that
    /// key or of a section holding it.
    pub(crate) fn source_at(&self, path: &[&str]) -> Option<&str> {
        self.items
            .iter()
            .find(|o| o.path.len() <= path.len() && o.path.iter().zip(path).all(|(a, b)| a == b))
            .map(|o| o.source.as_str())
    }

    /// The value of the override of exactly `path`, as written.
    pub(crate) fn text_at(&self, path: &[&str]) -> Option<&str> {
        self.items
            .iter()
            .find(|o| o.path.iter().eq(path.iter().copied()))
            .map(|o| o.text.trim())
    }

    /// Writes the overrides into config.yaml's top-level mapping, creating
    /// sections as needed; a `null` (or empty) override removes its key. A
    /// key below a value that is not a mapping is a problem naming the
    /// override.
    pub(crate) fn apply(&self, tree: &mut Mapping, problems: &mut Problems) {
        for item in &self.items {
            let applied = if item.value.is_null() {
                remove_path(tree, &item.path)
            } else {
                set_path(tree, &item.path, &item.value)
            };
            if let Err(depth) = applied {
                problems.push(format!(
                    "{}: cannot set `{}`: `{}` is not a section",
                    item.source,
                    item.path.join("."),
                    item.path[..=depth].join(".")
                ));
            }
        }
    }
}

/// Sets `path` in `mapping`, creating sections; `Err(depth)` when
/// `path[..=depth]` holds a value that is not a section.
fn set_path(mapping: &mut Mapping, path: &[String], value: &Value) -> Result<(), usize> {
    let (first, rest) = path.split_first().expect("keys are not empty");
    let key = Value::String(first.clone());
    if rest.is_empty() {
        mapping.insert(key, value.clone());
        return Ok(());
    }
    let entry = mapping
        .entry(key)
        .or_insert_with(|| Value::Mapping(Mapping::new()));
    if entry.is_null() {
        *entry = Value::Mapping(Mapping::new());
    }
    match entry {
        Value::Mapping(inner) => set_path(inner, rest, value).map_err(|depth| depth + 1),
        _ => Err(0),
    }
}

/// Removes `path` from `mapping` (nothing to do where a section on the way
/// is absent or empty); `Err(depth)` when `path[..=depth]` holds a value that
/// is not a section.
fn remove_path(mapping: &mut Mapping, path: &[String]) -> Result<(), usize> {
    let (first, rest) = path.split_first().expect("keys are not empty");
    let key = Value::String(first.clone());
    if rest.is_empty() {
        mapping.remove(&key);
        return Ok(());
    }
    match mapping.get_mut(&key) {
        None | Some(Value::Null) => Ok(()),
        Some(Value::Mapping(inner)) => remove_path(inner, rest).map_err(|depth| depth + 1),
        Some(_) => Err(0),
    }
}

/// `scheme://user:password@host` → `scheme://***@host`.
pub(super) fn mask_credentials(text: &str) -> String {
    let Some(scheme_end) = text.find("://").map(|i| i + 3) else {
        return text.to_owned();
    };
    let authority_end = text[scheme_end..]
        .find('/')
        .map_or(text.len(), |i| scheme_end + i);
    match text[scheme_end..authority_end].rfind('@') {
        Some(at) => format!("{}***{}", &text[..scheme_end], &text[scheme_end + at..]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn only_set_variables_are_overrides_and_values_are_yaml() {
        let overrides = Overrides::from_vars(vars(&[
            ("PROMETHEUS_TEST_SET_MAX_ROUNDS", "1"),
            ("PROMETHEUS_TEST_CONFIG", "other.yaml"),
            ("PROMETHEUS_TEST_SET_MONGODB__DATABASE", "ci_db"),
            ("PATH", "/bin"),
        ]))
        .unwrap();
        let mut tree = Mapping::new();
        let mut problems = Problems::default();
        overrides.apply(&mut tree, &mut problems);
        problems.into_result(()).unwrap();
        let expected: Mapping =
            serde_yaml_ng::from_str("max_rounds: 1\nmongodb:\n  database: ci_db\n").unwrap();
        assert_eq!(tree, expected);
        assert_eq!(
            overrides.describe().unwrap(),
            "config overrides: max_rounds=1 (PROMETHEUS_TEST_SET_MAX_ROUNDS), \
             mongodb.database=ci_db (PROMETHEUS_TEST_SET_MONGODB__DATABASE)"
        );
        assert_eq!(
            overrides.source_of("mongodb"),
            Some("PROMETHEUS_TEST_SET_MONGODB__DATABASE")
        );
        assert_eq!(
            overrides.source_at(&["mongodb", "database"]),
            Some("PROMETHEUS_TEST_SET_MONGODB__DATABASE")
        );
        assert_eq!(overrides.source_at(&["mongodb"]), None);
        assert_eq!(overrides.text_at(&["mongodb", "database"]), Some("ci_db"));
        assert_eq!(overrides.text_at(&["mongodb"]), None);
        assert_eq!(overrides.source_at(&["mongodb", "collections"]), None);
        assert_eq!(
            overrides.source_at(&["max_rounds", "x"]),
            Some("PROMETHEUS_TEST_SET_MAX_ROUNDS")
        );
        assert!(Overrides::none().describe().is_none());
    }

    #[test]
    fn bad_names_and_values_are_reported_with_their_variable() {
        let err = Overrides::from_vars(vars(&[
            ("PROMETHEUS_TEST_SET_", "1"),
            ("PROMETHEUS_TEST_SET_REPO", "[unclosed"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("2 problems:"), "{err}");
        assert!(
            err.contains("PROMETHEUS_TEST_SET_: `` is not a config.yaml key"),
            "{err}"
        );
        assert!(
            err.contains("PROMETHEUS_TEST_SET_REPO: not a YAML value for `repo`"),
            "{err}"
        );
    }

    #[test]
    fn a_key_below_a_plain_value_is_a_problem() {
        let overrides =
            Overrides::from_vars(vars(&[("PROMETHEUS_TEST_SET_BASE_PORT__X", "1")])).unwrap();
        let mut tree: Mapping = serde_yaml_ng::from_str("base_port: 5000").unwrap();
        let mut problems = Problems::default();
        overrides.apply(&mut tree, &mut problems);
        assert_eq!(
            problems.to_string(),
            "PROMETHEUS_TEST_SET_BASE_PORT__X: cannot set `base_port.x`: `base_port` is not a section"
        );
    }

    #[test]
    fn an_empty_or_null_override_removes_the_key_so_its_default_applies() {
        let mut tree: Mapping = serde_yaml_ng::from_str(
            "plain_env: [TOKEN_NAME]\nmongodb:\n  database: ci\n  uri: x\nmax_rounds: 3\n",
        )
        .unwrap();
        let overrides = Overrides::from_vars(vars(&[
            ("PROMETHEUS_TEST_SET_PLAIN_ENV", ""),
            ("PROMETHEUS_TEST_SET_MONGODB__URI", "null"),
            ("PROMETHEUS_TEST_SET_POLL__INTERVAL", ""),
            ("PROMETHEUS_TEST_SET_MAX_ROUNDS__X", "~"),
        ]))
        .unwrap();
        let mut problems = Problems::default();
        overrides.apply(&mut tree, &mut problems);
        let expected: Mapping =
            serde_yaml_ng::from_str("mongodb:\n  database: ci\nmax_rounds: 3\n").unwrap();
        assert_eq!(tree, expected);
        assert_eq!(
            problems.to_string(),
            "PROMETHEUS_TEST_SET_MAX_ROUNDS__X: cannot set `max_rounds.x`: `max_rounds` is not a section"
        );
    }

    #[test]
    fn credentials_in_urls_are_masked_in_the_description() {
        let mut overrides = Overrides::none();
        overrides
            .set("middle_server_url", "https://u:pw@host:1/x@y", "S")
            .unwrap();
        assert_eq!(
            overrides.describe().unwrap(),
            "config overrides: middle_server_url=https://***@host:1/x@y (S)"
        );
    }
}
