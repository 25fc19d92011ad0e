//! config.yaml: the suite's settings, with the Python original's keys,
//! defaults and path rules, plus extra keys steps can read.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::MongoSettings;

/// The keys config.yaml understands; any other key is kept as an extra value.
const KNOWN_KEYS: &[&str] = &[
    "task_id",
    "base_port",
    "max_rounds",
    "rounds_collection",
    "data_dir",
    "workers_config",
    "middle_server_url",
    "server_entrypoint",
    "cargo_bin",
    "health_path",
    "start_timeout",
    "step_timeout",
    "mongodb",
];

#[derive(Debug, Default, Deserialize)]
struct RawConfig {
    task_id: Option<String>,
    base_port: Option<u16>,
    max_rounds: Option<u32>,
    #[serde(default, deserialize_with = "nullable")]
    #[expect(
        clippy::option_option,
        reason = "absent (default `todos`) differs from `null` (no collection)"
    )]
    rounds_collection: Option<Option<String>>,
    data_dir: Option<String>,
    workers_config: Option<String>,
    middle_server_url: Option<String>,
    server_entrypoint: Option<String>,
    cargo_bin: Option<String>,
    health_path: Option<String>,
    start_timeout: Option<f64>,
    step_timeout: Option<f64>,
    mongodb: Option<MongoSettings>,
}

/// Distinguishes `key: null` (Some(None)) from an absent key (None).
#[expect(
    clippy::option_option,
    reason = "absent and `null` mean different things"
)]
fn nullable<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// The suite's configuration, read from config.yaml.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) file: PathBuf,
    pub(crate) tests_dir: PathBuf,
    pub(crate) project_dir: PathBuf,
    pub(crate) task_id: String,
    pub(crate) base_port: u16,
    pub(crate) max_rounds: Option<u32>,
    pub(crate) rounds_collection: Option<String>,
    pub(crate) data_dir: PathBuf,
    #[expect(clippy::struct_field_names, reason = "the key's name in config.yaml")]
    pub(crate) workers_config: PathBuf,
    pub(crate) middle_server_url: Option<String>,
    pub(crate) server_entrypoint: Option<PathBuf>,
    pub(crate) cargo_bin: Option<String>,
    pub(crate) health_path: Option<String>,
    pub(crate) start_timeout: Duration,
    pub(crate) step_timeout: Option<Duration>,
    pub(crate) mongodb: MongoSettings,
    pub(crate) mongodb_configured: bool,
    pub(crate) extra: Map<String, Value>,
}

impl Config {
    /// Reads config.yaml. Relative paths follow the original: `data_dir` and
    /// `workers_config` against the config file's directory (the tests
    /// directory), `server_entrypoint` against its parent (the project).
    pub(crate) fn load(config_file: &Path) -> anyhow::Result<Self> {
        let shown = config_file.display();
        let text = std::fs::read_to_string(config_file)
            .with_context(|| format!("{shown}: cannot read the config file"))?;
        Self::parse(config_file, &text)
    }

    pub(crate) fn parse(config_file: &Path, text: &str) -> anyhow::Result<Self> {
        let shown = config_file.display();
        // Parsed twice: once as a tree for the extra keys, once into the
        // struct, whose errors carry the line and column.
        let tree: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(text).with_context(|| format!("{shown}: not valid YAML"))?;
        let (raw, extra) = match tree {
            serde_yaml_ng::Value::Null => (RawConfig::default(), Map::new()),
            serde_yaml_ng::Value::Mapping(mapping) => {
                let raw: RawConfig =
                    serde_yaml_ng::from_str(text).map_err(|e| anyhow::anyhow!("{shown}: {e}"))?;
                (raw, extra_keys(&shown.to_string(), mapping)?)
            }
            _ => bail!("{shown}: expected a mapping of settings at the top level"),
        };
        let tests_dir = config_file
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let project_dir = tests_dir
            .parent()
            .map_or_else(|| tests_dir.clone(), Path::to_path_buf);
        if raw.max_rounds == Some(0) {
            bail!("{shown}: `max_rounds` must be at least 1");
        }
        let start_timeout = match raw.start_timeout {
            None => Duration::from_secs(30),
            Some(secs) if secs.is_finite() && secs > 0.0 => Duration::from_secs_f64(secs),
            Some(secs) => {
                bail!("{shown}: `start_timeout` must be a positive number of seconds, found {secs}")
            }
        };
        let step_timeout = match raw.step_timeout {
            None => None,
            Some(secs) if secs.is_finite() && secs > 0.0 => Some(Duration::from_secs_f64(secs)),
            Some(secs) => {
                bail!("{shown}: `step_timeout` must be a positive number of seconds, found {secs}")
            }
        };
        let rounds_collection = raw
            .rounds_collection
            .unwrap_or_else(|| Some("todos".to_owned()));
        if raw.max_rounds.is_none() && rounds_collection.is_none() {
            bail!(
                "{shown}: set `max_rounds`, or `rounds_collection` to count the rounds from (it is null)"
            );
        }
        let task_id = raw.task_id.unwrap_or_else(|| "test-task-123".to_owned());
        if task_id.trim().is_empty() {
            bail!("{shown}: `task_id` must not be empty");
        }
        let mongodb_configured = raw.mongodb.is_some();
        Ok(Self {
            file: config_file.to_path_buf(),
            task_id,
            base_port: raw.base_port.unwrap_or(5000),
            max_rounds: raw.max_rounds,
            rounds_collection,
            data_dir: tests_dir.join(raw.data_dir.as_deref().unwrap_or("data")),
            workers_config: tests_dir.join(raw.workers_config.as_deref().unwrap_or("workers.json")),
            middle_server_url: raw.middle_server_url,
            server_entrypoint: raw.server_entrypoint.map(|p| project_dir.join(p)),
            cargo_bin: raw.cargo_bin,
            health_path: raw.health_path,
            start_timeout,
            step_timeout,
            mongodb: raw.mongodb.unwrap_or_default(),
            mongodb_configured,
            extra,
            tests_dir,
            project_dir,
        })
    }

    /// Whether the run needs MongoDB: collections to seed, or rounds to count.
    pub(crate) fn needs_mongodb(&self) -> bool {
        self.mongodb_configured || self.max_rounds.is_none()
    }
}

fn extra_keys(shown: &str, mapping: serde_yaml_ng::Mapping) -> anyhow::Result<Map<String, Value>> {
    let mut extra = Map::new();
    for (key, value) in mapping {
        let serde_yaml_ng::Value::String(key) = key else {
            bail!("{shown}: top-level keys must be strings, found {key:?}");
        };
        if KNOWN_KEYS.contains(&key.as_str()) {
            continue;
        }
        let value = serde_json::to_value(&value)
            .with_context(|| format!("{shown}: `{key}` cannot be represented as JSON"))?;
        extra.insert(key, value);
    }
    Ok(extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<Config> {
        Config::parse(Path::new("/p/tests/config.yaml"), text)
    }

    #[test]
    fn defaults_follow_the_original() {
        let config = parse("").unwrap();
        assert_eq!(config.task_id, "test-task-123");
        assert_eq!(config.base_port, 5000);
        assert_eq!(config.max_rounds, None);
        assert_eq!(config.rounds_collection.as_deref(), Some("todos"));
        assert_eq!(config.data_dir, Path::new("/p/tests/data"));
        assert_eq!(config.workers_config, Path::new("/p/tests/workers.json"));
        assert_eq!(config.mongodb.database, "builder247");
        assert!(config.needs_mongodb());
    }

    #[test]
    fn paths_resolve_like_the_original() {
        let config = parse(
            "data_dir: fixtures\nserver_entrypoint: server/main.py\nworkers_config: w.json\n",
        )
        .unwrap();
        assert_eq!(config.data_dir, Path::new("/p/tests/fixtures"));
        assert_eq!(
            config.server_entrypoint.as_deref(),
            Some(Path::new("/p/server/main.py"))
        );
        assert_eq!(config.workers_config, Path::new("/p/tests/w.json"));
        let absolute = parse("data_dir: /abs/data\n").unwrap();
        assert_eq!(absolute.data_dir, Path::new("/abs/data"));
    }

    #[test]
    fn extra_keys_are_kept_as_json() {
        let config = parse("max_rounds: 2\nrepo:\n  owner: koii\n  stars: 3\n").unwrap();
        assert_eq!(config.extra["repo"]["owner"], "koii");
        assert_eq!(config.extra["repo"]["stars"], 3);
        assert!(!config.needs_mongodb());
    }

    #[test]
    fn a_wrong_type_names_the_file_field_and_line() {
        let err = parse("task_id: t\nmax_rounds: many\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("/p/tests/config.yaml: "), "{err}");
        assert!(err.contains("max_rounds"), "{err}");
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn unknown_mongodb_keys_are_rejected() {
        let err = parse("mongodb:\n  database: x\n  colections: {}\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("colections"), "{err}");
    }

    #[test]
    fn zero_rounds_and_bad_timeouts_are_rejected() {
        assert!(
            parse("max_rounds: 0")
                .unwrap_err()
                .to_string()
                .contains("max_rounds")
        );
        assert!(
            parse("start_timeout: -1")
                .unwrap_err()
                .to_string()
                .contains("start_timeout")
        );
        assert!(
            parse("- a\n- b\n")
                .unwrap_err()
                .to_string()
                .contains("mapping")
        );
        assert!(
            parse("step_timeout: 0")
                .unwrap_err()
                .to_string()
                .contains("step_timeout")
        );
        let no_rounds = parse("rounds_collection: null").unwrap_err().to_string();
        assert!(no_rounds.contains("set `max_rounds`"), "{no_rounds}");
        assert_eq!(
            parse("max_rounds: 2\nrounds_collection: null")
                .unwrap()
                .rounds_collection,
            None
        );
    }
}
