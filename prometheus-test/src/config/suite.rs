//! config.yaml: the suite's settings, with the Python original's keys and
//! path rules, plus extra keys steps can read. Keys that name the task
//! (`task_id`, `mongodb.database`, where rounds come from) have no default:
//! a value carried over from another task would run against the wrong data.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::mongo::RawMongoSettings;
use super::poll::{PollSettings, RawPollSettings, poll_settings};
use super::seconds::positive_seconds;
use super::text::{read_text, strip_bom};
use super::typos::likely_meant;
use super::{MongoSettings, Overrides, Problems};

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
    "python",
    "health_path",
    "start_timeout",
    "step_timeout",
    "http_keep_alive",
    "mongodb",
    "poll",
];

#[derive(Debug, Default, Deserialize)]
struct RawConfig {
    task_id: Option<String>,
    base_port: Option<u16>,
    max_rounds: Option<u32>,
    rounds_collection: Option<String>,
    data_dir: Option<String>,
    workers_config: Option<String>,
    middle_server_url: Option<String>,
    server_entrypoint: Option<String>,
    cargo_bin: Option<String>,
    python: Option<String>,
    health_path: Option<String>,
    start_timeout: Option<f64>,
    step_timeout: Option<f64>,
    http_keep_alive: Option<bool>,
    mongodb: Option<RawMongoSettings>,
    poll: Option<RawPollSettings>,
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
    /// The interpreter of `.py` entrypoints, as written (see `python_interpreter`).
    pub(crate) python: Option<String>,
    pub(crate) health_path: Option<String>,
    pub(crate) start_timeout: Duration,
    pub(crate) step_timeout: Option<Duration>,
    /// `http_keep_alive`: reuse idle connections in `runner.http()` (off by
    /// default; see `http_client`).
    pub(crate) http_keep_alive: bool,
    pub(crate) mongodb: MongoSettings,
    pub(crate) mongodb_configured: bool,
    /// `poll`: the pauses and deadline of `Runner::poll`.
    pub(crate) poll: PollSettings,
    pub(crate) extra: Map<String, Value>,
    /// Things worth telling the user that do not stop the run (a key that
    /// looks like a misspelt known one), for the harness to print.
    pub(crate) warnings: Vec<String>,
}

impl Config {
    /// Whether `key` is one of the config.yaml keys the framework reads
    /// itself (every other key is an extra value for the steps).
    pub(crate) fn is_framework_key(key: &str) -> bool {
        KNOWN_KEYS.contains(&key)
    }

    /// Reads config.yaml with `overrides` applied before validation. Relative
    /// paths follow the original: `data_dir` and `workers_config` against the
    /// config file's directory (the tests directory), `server_entrypoint`
    /// against its parent (the project).
    pub(crate) fn load_with(config_file: &Path, overrides: &Overrides) -> anyhow::Result<Self> {
        let text = read_text(config_file, "config file")?;
        Self::parse_with(config_file, &text, overrides)
    }

    #[cfg(test)]
    pub(crate) fn parse(config_file: &Path, text: &str) -> anyhow::Result<Self> {
        Self::parse_with(config_file, text, &Overrides::none())
    }

    pub(crate) fn parse_with(
        config_file: &Path,
        text: &str,
        overrides: &Overrides,
    ) -> anyhow::Result<Self> {
        let shown = config_file.display().to_string();
        let text = strip_bom(text).unwrap_or(text);
        let tree: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(text).with_context(|| format!("{shown}: not valid YAML"))?;
        let mut tree = match tree {
            serde_yaml_ng::Value::Null => serde_yaml_ng::Mapping::new(),
            serde_yaml_ng::Value::Mapping(mapping) => mapping,
            _ => anyhow::bail!("{shown}: expected a mapping of settings at the top level"),
        };
        let mut problems = Problems::default();
        overrides.apply(&mut tree, &mut problems);
        for (key, one, source) in overrides.top_level() {
            if !KNOWN_KEYS.contains(&key) {
                continue;
            }
            if let Err(e) = serde_yaml_ng::from_value::<RawConfig>(one) {
                problems.push(format!("{source}: `{key}`: {e}"));
            }
        }
        if !problems.is_empty() {
            return Err(problems.into());
        }
        let raw = read_raw(&shown, text, &tree, overrides)?;
        let (extra, warnings) = extra_keys(&shown, &tree, overrides)?;
        let at = |key: &str| match overrides.source_of(key) {
            Some(source) => format!("{source} (overriding {shown})"),
            None => shown.clone(),
        };

        let tests_dir = config_file
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let project_dir = tests_dir
            .parent()
            .map_or_else(|| tests_dir.clone(), Path::to_path_buf);
        let task_id = task_id(raw.task_id, &shown, &at("task_id"), &mut problems);
        if raw.max_rounds == Some(0) {
            problems.push(format!(
                "{}: `max_rounds` must be at least 1",
                at("max_rounds")
            ));
        }
        let timeout = |key: &str, secs: Option<f64>| {
            secs.map(|secs| positive_seconds(key, Some(secs), &secs).with_context(|| at(key)))
                .transpose()
        };
        let start_timeout = problems
            .take(timeout("start_timeout", raw.start_timeout))
            .flatten()
            .unwrap_or(Duration::from_secs(30));
        let step_timeout = problems
            .take(timeout("step_timeout", raw.step_timeout))
            .flatten();
        let poll = problems.take(poll_settings(raw.poll, &at("poll")));
        if raw.max_rounds.is_none() && raw.rounds_collection.is_none() {
            problems.push(format!(
                "{shown}: missing `max_rounds`, or `rounds_collection` (the collection whose \
                 documents of this task count the rounds)"
            ));
        }
        let mongodb_configured = raw.mongodb.is_some();
        let mongodb = mongodb(
            raw.mongodb,
            raw.max_rounds.is_none(),
            &shown,
            &at("mongodb"),
            &mut problems,
        );
        if !problems.is_empty() {
            // A misspelt key often explains a missing one.
            for warning in &warnings {
                problems.push(warning.clone());
            }
        }
        problems.into_result(())?;
        Ok(Self {
            file: config_file.to_path_buf(),
            task_id,
            base_port: raw.base_port.unwrap_or(5000),
            max_rounds: raw.max_rounds,
            rounds_collection: raw.rounds_collection,
            data_dir: tests_dir.join(raw.data_dir.as_deref().unwrap_or("data")),
            workers_config: tests_dir.join(raw.workers_config.as_deref().unwrap_or("workers.json")),
            middle_server_url: raw.middle_server_url,
            server_entrypoint: raw.server_entrypoint.map(|p| project_dir.join(p)),
            cargo_bin: raw.cargo_bin,
            python: raw.python,
            health_path: raw.health_path,
            start_timeout,
            step_timeout,
            http_keep_alive: raw.http_keep_alive.unwrap_or(false),
            mongodb,
            mongodb_configured,
            poll: poll.unwrap_or_default(),
            extra,
            warnings,
            tests_dir,
            project_dir,
        })
    }

    /// Whether the run needs MongoDB: collections to seed, or rounds to count.
    pub(crate) fn needs_mongodb(&self) -> bool {
        self.mongodb_configured || self.max_rounds.is_none()
    }
}

/// `task_id`, which is required: a default would run against another task's data.
fn task_id(raw: Option<String>, shown: &str, at: &str, problems: &mut Problems) -> String {
    match raw {
        None => {
            problems.push(format!(
                "{shown}: missing `task_id`: the id of the task under test (it marks the \
                 MongoDB documents and derives generated keys)"
            ));
            String::new()
        }
        Some(id) if id.trim().is_empty() => {
            problems.push(format!("{at}: `task_id` must not be empty"));
            id
        }
        Some(id) => id,
    }
}

/// The `mongodb` section; `database` is required whenever MongoDB is used
/// (a section is present, or the rounds are counted).
fn mongodb(
    raw: Option<RawMongoSettings>,
    counts_rounds: bool,
    shown: &str,
    at: &str,
    problems: &mut Problems,
) -> MongoSettings {
    let needed = raw.is_some() || counts_rounds;
    let (database, collections) = raw.map(|m| (m.database, m.collections)).unwrap_or_default();
    let database = match database {
        Some(name) if name.trim().is_empty() => {
            problems.push(format!("{at}: `mongodb.database` must not be empty"));
            name
        }
        Some(name) => name,
        None if needed => {
            let rounds = if counts_rounds {
                " and counts the rounds in"
            } else {
                ""
            };
            problems.push(format!(
                "{shown}: missing `mongodb.database`: the database the suite seeds{rounds}"
            ));
            String::new()
        }
        None => String::new(),
    };
    MongoSettings {
        database,
        collections,
    }
}

/// The typed keys. Without overrides they are read from the text, so an error
/// names its line; with overrides from the merged tree, falling back to the
/// text's located error when the file alone is at fault.
fn read_raw(
    shown: &str,
    text: &str,
    tree: &serde_yaml_ng::Mapping,
    overrides: &Overrides,
) -> anyhow::Result<RawConfig> {
    let from_text = || -> anyhow::Result<RawConfig> {
        if tree.is_empty() {
            return Ok(RawConfig::default());
        }
        serde_yaml_ng::from_str(text).map_err(|e| anyhow::anyhow!("{shown}: {e}"))
    };
    if overrides.is_empty() {
        return from_text();
    }
    serde_yaml_ng::from_value(serde_yaml_ng::Value::Mapping(tree.clone())).map_err(|merged| {
        from_text()
            .err()
            .unwrap_or_else(|| anyhow::anyhow!("{shown} with the overrides applied: {merged}"))
    })
}

/// The keys config.yaml does not know, as JSON for the steps, and a warning
/// for each that looks like a misspelt known key.
fn extra_keys(
    shown: &str,
    tree: &serde_yaml_ng::Mapping,
    overrides: &Overrides,
) -> anyhow::Result<(Map<String, Value>, Vec<String>)> {
    let mut extra = Map::new();
    let mut warnings = Vec::new();
    for (key, value) in tree {
        let serde_yaml_ng::Value::String(key) = key else {
            anyhow::bail!("{shown}: top-level keys must be strings, found {key:?}");
        };
        if KNOWN_KEYS.contains(&key.as_str()) {
            continue;
        }
        if let Some(known) = likely_meant(key, KNOWN_KEYS) {
            let origin = overrides.source_of(key).unwrap_or(shown);
            warnings.push(format!(
                "{origin}: `{key}` is not a config.yaml key, so it is kept as a value for the \
                 steps; did you mean `{known}`?"
            ));
        }
        let value = serde_json::to_value(value)
            .with_context(|| format!("{shown}: `{key}` cannot be represented as JSON"))?;
        extra.insert(key.clone(), value);
    }
    Ok((extra, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "/p/tests/config.yaml";

    fn parse(text: &str) -> anyhow::Result<Config> {
        Config::parse(Path::new(FILE), text)
    }

    fn parse_with(text: &str, vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let overrides = Overrides::from_vars(vars.iter().copied()).unwrap();
        Config::parse_with(Path::new(FILE), text, &overrides)
    }

    #[test]
    fn generic_defaults_follow_the_original() {
        let config = parse("task_id: t\nmax_rounds: 2\n").unwrap();
        assert_eq!(config.base_port, 5000);
        assert_eq!(config.rounds_collection, None);
        assert_eq!(config.data_dir, Path::new("/p/tests/data"));
        assert_eq!(config.workers_config, Path::new("/p/tests/workers.json"));
        assert_eq!(config.start_timeout, Duration::from_secs(30));
        assert!(!config.needs_mongodb());
        assert!(config.warnings.is_empty());
    }

    #[test]
    fn keys_naming_the_task_have_no_default_and_are_reported_together() {
        let empty = parse("").unwrap_err().to_string();
        assert!(empty.starts_with("3 problems:"), "{empty}");
        for key in [
            "`task_id`",
            "`max_rounds`, or `rounds_collection`",
            "`mongodb.database`",
        ] {
            assert!(
                empty.contains(&format!("{FILE}: missing {key}")),
                "{key}: {empty}"
            );
        }
        let no_database = parse("task_id: t\nmax_rounds: 1\nmongodb:\n  collections: {}\n")
            .unwrap_err()
            .to_string();
        assert!(
            no_database.starts_with(&format!("{FILE}: missing `mongodb.database`")),
            "{no_database}"
        );
        let counted =
            parse("task_id: t\nrounds_collection: todos\nmongodb:\n  database: db\n").unwrap();
        assert_eq!(counted.rounds_collection.as_deref(), Some("todos"));
        assert_eq!(counted.mongodb.database, "db");
        assert!(counted.needs_mongodb());
    }

    #[test]
    fn paths_resolve_like_the_original() {
        let config = parse(
            "task_id: t\nmax_rounds: 1\ndata_dir: fixtures\nserver_entrypoint: server/main.py\nworkers_config: w.json\n",
        )
        .unwrap();
        assert_eq!(config.data_dir, Path::new("/p/tests/fixtures"));
        assert_eq!(
            config.server_entrypoint.as_deref(),
            Some(Path::new("/p/server/main.py"))
        );
        assert_eq!(config.workers_config, Path::new("/p/tests/w.json"));
        let absolute = parse("task_id: t\nmax_rounds: 1\ndata_dir: /abs/data\n").unwrap();
        assert_eq!(absolute.data_dir, Path::new("/abs/data"));
    }

    #[test]
    fn extra_keys_are_kept_as_json() {
        let config =
            parse("task_id: t\nmax_rounds: 2\nrepo:\n  owner: koii\n  stars: 3\n").unwrap();
        assert_eq!(config.extra["repo"]["owner"], "koii");
        assert_eq!(config.extra["repo"]["stars"], 3);
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    }

    #[test]
    fn a_key_close_to_a_known_one_is_a_warning() {
        let config = parse("task_id: t\nmax_rounds: 2\nmax_round: 1\nstep_timout: 5\n").unwrap();
        assert_eq!(
            config.warnings,
            [
                format!(
                    "{FILE}: `max_round` is not a config.yaml key, so it is kept as a value for \
                     the steps; did you mean `max_rounds`?"
                ),
                format!(
                    "{FILE}: `step_timout` is not a config.yaml key, so it is kept as a value \
                     for the steps; did you mean `step_timeout`?"
                ),
            ]
        );
        assert_eq!(config.extra["max_round"], 1);
    }

    #[test]
    fn a_byte_order_mark_is_accepted() {
        let config = parse("\u{feff}task_id: t\nmax_rounds: 1\n").unwrap();
        assert_eq!(config.task_id, "t");
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
        let err = parse("task_id: t\nmongodb:\n  database: x\n  colections: {}\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("colections"), "{err}");
    }

    #[test]
    fn poll_defaults_come_from_the_poll_section() {
        let config =
            parse("task_id: t\nmax_rounds: 1\npoll:\n  deadline: 5\n  interval: 0.25\n").unwrap();
        assert_eq!(
            config.poll,
            PollSettings {
                interval: Duration::from_millis(250),
                max_interval: Duration::from_secs(1),
                deadline: Duration::from_secs(5),
            }
        );
        assert_eq!(
            parse("task_id: t\nmax_rounds: 1\npoll:\n  max_interval: 0.005\n")
                .unwrap()
                .poll
                .interval,
            Duration::from_millis(5),
            "a default shortest pause gives way to a shorter longest pause"
        );
        assert_eq!(
            parse("task_id: t\nmax_rounds: 1\npoll:\n  interval: 2\n")
                .unwrap()
                .poll
                .max_interval,
            Duration::from_secs(2),
            "a default longest pause gives way to a longer shortest pause"
        );
        let err = parse("task_id: t\nmax_rounds: 1\npoll:\n  interval: 2\n  max_interval: 1\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("must not be shorter than `poll.interval`"),
            "{err}"
        );
        assert_eq!(
            parse("task_id: t\nmax_rounds: 1\n").unwrap().poll,
            PollSettings::default()
        );
        let err = parse("task_id: t\nmax_rounds: 1\npoll:\n  deadline: 0\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!(
                "{FILE}: `poll.deadline` must be a positive number of seconds, found 0"
            )),
            "{err}"
        );
    }

    #[test]
    fn zero_rounds_and_bad_timeouts_are_rejected_together() {
        let err = parse("task_id: t\nmax_rounds: 0\nstart_timeout: -1\nstep_timeout: 0\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("3 problems:"), "{err}");
        assert!(
            err.contains(&format!("{FILE}: `max_rounds` must be at least 1")),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "{FILE}: `start_timeout` must be a positive number of seconds, found -1"
            )),
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "{FILE}: `step_timeout` must be a positive number of seconds, found 0"
            )),
            "{err}"
        );
        let list = parse("- a\n- b\n").unwrap_err().to_string();
        assert!(list.contains("mapping"), "{list}");
        let empty_id = parse("task_id: ' '\nmax_rounds: 1\n")
            .unwrap_err()
            .to_string();
        assert_eq!(empty_id, format!("{FILE}: `task_id` must not be empty"));
    }

    #[test]
    fn overrides_replace_values_before_validation() {
        let text = "task_id: t\nbase_port: 5000\nmax_rounds: 3\nrepo:\n  owner: a\n";
        let config = parse_with(
            text,
            &[
                ("PROMETHEUS_TEST_SET_BASE_PORT", "6100"),
                ("PROMETHEUS_TEST_SET_MAX_ROUNDS", "1"),
                ("PROMETHEUS_TEST_SET_REPO__OWNER", "b"),
                ("PROMETHEUS_TEST_SET_MONGODB__DATABASE", "ci"),
            ],
        )
        .unwrap();
        assert_eq!(config.base_port, 6100);
        assert_eq!(config.max_rounds, Some(1));
        assert_eq!(config.extra["repo"]["owner"], "b");
        assert_eq!(config.mongodb.database, "ci");
        let filled = parse_with(
            "max_rounds: 1\n",
            &[("PROMETHEUS_TEST_SET_TASK_ID", "ci-task")],
        )
        .unwrap();
        assert_eq!(filled.task_id, "ci-task");
        let unset = parse_with(text, &[("PROMETHEUS_TEST_SET_MAX_ROUNDS", "null")])
            .unwrap_err()
            .to_string();
        assert!(unset.contains("missing `max_rounds`"), "{unset}");
    }

    #[test]
    fn errors_in_overrides_name_the_variable() {
        let text = "task_id: t\nmax_rounds: 3\n";
        let typed = parse_with(text, &[("PROMETHEUS_TEST_SET_BASE_PORT", "high")])
            .unwrap_err()
            .to_string();
        assert!(
            typed.starts_with("PROMETHEUS_TEST_SET_BASE_PORT: `base_port`: invalid type"),
            "{typed}"
        );
        let zero = parse_with(text, &[("PROMETHEUS_TEST_SET_MAX_ROUNDS", "0")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            zero,
            format!(
                "PROMETHEUS_TEST_SET_MAX_ROUNDS (overriding {FILE}): `max_rounds` must be at least 1"
            )
        );
        let nested = parse_with(
            "task_id: t\nmax_rounds: 1\nmongodb:\n  database: d\n",
            &[("PROMETHEUS_TEST_SET_MONGODB__COLECTIONS", "{}")],
        )
        .unwrap_err()
        .to_string();
        assert!(
            nested.contains("with the overrides applied") && nested.contains("colections"),
            "{nested}"
        );
        let typo = parse_with(text, &[("PROMETHEUS_TEST_SET_MAX_ROUND", "1")]).unwrap();
        let explained = parse("task_id: t\nmax_round: 1\n").unwrap_err().to_string();
        assert!(
            explained.starts_with("3 problems:")
                && explained.contains("missing `max_rounds`")
                && explained.contains("did you mean `max_rounds`?"),
            "{explained}"
        );
        assert!(
            typo.warnings[0].starts_with("PROMETHEUS_TEST_SET_MAX_ROUND: `max_round` is not"),
            "{:?}",
            typo.warnings
        );
    }
}
