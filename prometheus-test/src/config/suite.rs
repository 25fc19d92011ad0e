//! config.yaml: the suite's settings, with the Python original's keys and
//! path rules, plus extra keys steps can read. Keys that name the task
//! (`task_id`, `mongodb.database`, where rounds come from) have no default:
//! a value carried over from another task would run against the wrong data.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use serde_json::{Map, Value};

use super::faults::fault_settings;
use super::mongo::mongo_settings;
use super::poll::{PollSettings, poll_settings};
use super::reader::Reader;
use super::recording::{RecordingSettings, recording_settings};
use super::services::{ServiceSpec, service_settings};
use super::snapshots::{SnapshotSettings, snapshot_settings};
use super::text::{read_text, strip_bom};
use super::typed::{FLAG, ID, PORT, ROUNDS, SECONDS, URL_PATH, found, string};
use super::typos::likely_meant;
use super::{MongoSettings, Overrides, Problems};
use crate::faults::schedule::Schedule;

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
    "slow_step",
    "http_timeout",
    "http_keep_alive",
    "mongodb",
    "poll",
    "snapshots",
    "recording",
    "faults",
    "fault_profiles",
    "services",
];

/// Keys other parts of the framework read from the extra values (the
/// reports' secret lists, the HTTP client's CA file): kept with the extra
/// values, and offered when a key looks like a misspelling of one.
const KEYS_READ_FROM_EXTRA: &[&str] = &[
    "plain_env",
    "secret_headers",
    "secret_fields",
    "http_ca_file",
];

/// How messages name config.yaml's `step_timeout` when the file set it.
const STEP_TIMEOUT_IN_FILE: &str = "config.yaml `step_timeout`";

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
    /// Where `step_timeout` came from, for [`Config::step_timeout_source`].
    step_timeout_source: String,
    /// `slow_step`: a step running this long (and each time as long again)
    /// gets a "still running" note; nothing is ended.
    pub(crate) slow_step: Duration,
    /// `http_timeout`: the time limit of a request of `runner.http()` that
    /// sets none of its own.
    pub(crate) http_timeout: Duration,
    /// Where `http_timeout` came from, for [`Config::http_timeout_source`].
    http_timeout_source: String,
    /// `http_keep_alive`: reuse idle connections in `runner.http()` (off by
    /// default; see `http_client`).
    pub(crate) http_keep_alive: bool,
    pub(crate) mongodb: MongoSettings,
    pub(crate) mongodb_configured: bool,
    /// `poll`: the pauses and deadline of `Runner::poll`.
    pub(crate) poll: PollSettings,
    /// `snapshots`: the world's snapshots before every step.
    pub(crate) snapshots: SnapshotSettings,
    /// `recording`: the workers' calls to the outside world, on tape.
    pub(crate) recording: RecordingSettings,
    /// `faults`: the faults the run draws (checked against the workers by
    /// `check_fault_names`); `None` without the section, when the run has
    /// no fault proxy.
    pub(crate) faults: Option<Schedule>,
    /// `services`: the stack's processes besides the workers, in their
    /// start order.
    pub(crate) services: Vec<ServiceSpec>,
    pub(crate) extra: Map<String, Value>,
    /// Things worth telling the user that do not stop the run (a key that
    /// looks like a misspelt known one), for the harness to print.
    pub(crate) warnings: Vec<String>,
}

impl Config {
    /// `http_timeout` when config.yaml does not set it: a request to a
    /// worker that never answers (paused, deadlocked) fails as it would in
    /// production.
    pub(crate) const DEFAULT_HTTP_TIMEOUT: Duration = Duration::from_secs(30);
    /// `slow_step` when config.yaml does not set it: how long a step runs
    /// before the first "still running" note, and how often the next come.
    pub(crate) const DEFAULT_SLOW_STEP: Duration = Duration::from_secs(60);
    /// How messages name the default `http_timeout`.
    pub(crate) const DEFAULT_HTTP_TIMEOUT_SOURCE: &str =
        "the default of config.yaml `http_timeout`";

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
        #[cfg(test)]
        super::reads::count(config_file);
        let text = read_text(config_file, "config file")?;
        Self::parse_with(config_file, &text, overrides)
    }

    #[cfg(test)]
    pub(crate) fn parse(config_file: &Path, text: &str) -> anyhow::Result<Self> {
        Self::parse_with(config_file, text, &Overrides::none())
    }

    /// Reads config.yaml's `text` with `overrides` applied; every problem of
    /// every key is reported at once, each naming the file and line (or the
    /// override), the key and what was expected.
    #[expect(
        clippy::too_many_lines,
        reason = "one pass of the reader over every section, each read by a function of its own"
    )]
    pub(crate) fn parse_with(
        config_file: &Path,
        text: &str,
        overrides: &Overrides,
    ) -> anyhow::Result<Self> {
        // A relative path (`PROMETHEUS_TEST_CONFIG=config.yaml`) is taken
        // from the working directory, whose parent is then the project.
        let config_file = &std::path::absolute(config_file)
            .with_context(|| format!("{}: cannot resolve the path", config_file.display()))?;
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
        problems.into_result(())?;
        let (extra, warnings) = extra_keys(&shown, &tree, overrides)?;

        let tests_dir = config_file
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        let project_dir = tests_dir
            .parent()
            .map_or_else(|| tests_dir.clone(), Path::to_path_buf);
        let mut reader = Reader::new(&shown, text, &tree, overrides);
        let task_id = task_id(&mut reader);
        let base_port = reader.read(&["base_port"], &PORT);
        let max_rounds = reader.read(&["max_rounds"], &ROUNDS);
        let rounds_collection = reader.read(
            &["rounds_collection"],
            &string("a collection name (a string)"),
        );
        if reader.value(&["max_rounds"]).is_none() && reader.value(&["rounds_collection"]).is_none()
        {
            reader.missing(
                &["max_rounds"],
                "missing `max_rounds`, or `rounds_collection` (the collection whose documents \
                 of this task count the rounds)",
            );
        }
        let data_dir = reader.read(&["data_dir"], &string("a path (a string)"));
        let workers_config = reader.read(&["workers_config"], &string("a path (a string)"));
        let middle_server_url = reader.read(&["middle_server_url"], &string("a URL (a string)"));
        let server_entrypoint = reader.read(&["server_entrypoint"], &string("a path (a string)"));
        let cargo_bin = reader.read(&["cargo_bin"], &string("a binary's name (a string)"));
        let python = reader.read(&["python"], &string("a string (a path or a program name)"));
        let health_path = reader.read(&["health_path"], &URL_PATH);
        let start_timeout = reader.read(&["start_timeout"], &SECONDS);
        let step_timeout = reader.read(&["step_timeout"], &SECONDS);
        let step_timeout_source = reader
            .override_of(&["step_timeout"])
            .map_or_else(|| STEP_TIMEOUT_IN_FILE.to_owned(), |var| format!("`{var}`"));
        let http_timeout = reader.read(&["http_timeout"], &SECONDS);
        let slow_step = reader.read(&["slow_step"], &SECONDS);
        let http_timeout_source = match (reader.override_of(&["http_timeout"]), &http_timeout) {
            (Some(var), _) => format!("`{var}`"),
            (None, Some(_)) => "config.yaml `http_timeout`".to_owned(),
            (None, None) => Self::DEFAULT_HTTP_TIMEOUT_SOURCE.to_owned(),
        };
        let http_keep_alive = reader.read(&["http_keep_alive"], &FLAG);
        let poll = poll_settings(&mut reader);
        let snapshots = snapshot_settings(&mut reader);
        let recording = recording_settings(&mut reader, &tests_dir);
        let faults = fault_settings(&mut reader, &shown, text);
        let data_dir = tests_dir.join(data_dir.as_deref().unwrap_or("data"));
        let start_timeout = start_timeout.unwrap_or(Duration::from_secs(30));
        let services = service_settings(&mut reader, &tests_dir, &data_dir, start_timeout);
        let counts_rounds = reader.value(&["max_rounds"]).is_none();
        let (mongodb, mongodb_configured) = mongo_settings(&mut reader, counts_rounds);
        let mut problems = reader.problems;
        if !problems.is_empty() {
            // A misspelt key often explains a missing one.
            for warning in &warnings {
                problems.push(warning.clone());
            }
        }
        problems.into_result(())?;
        Ok(Self {
            file: config_file.clone(),
            task_id,
            base_port: base_port.unwrap_or(5000),
            max_rounds,
            rounds_collection,
            data_dir,
            workers_config: tests_dir.join(workers_config.as_deref().unwrap_or("workers.json")),
            middle_server_url,
            server_entrypoint: server_entrypoint.map(|p| project_dir.join(p)),
            cargo_bin,
            python,
            health_path,
            start_timeout,
            step_timeout,
            step_timeout_source,
            slow_step: slow_step.unwrap_or(Self::DEFAULT_SLOW_STEP),
            http_timeout: http_timeout.unwrap_or(Self::DEFAULT_HTTP_TIMEOUT),
            http_timeout_source,
            http_keep_alive: http_keep_alive.unwrap_or(false),
            mongodb,
            mongodb_configured,
            poll,
            snapshots,
            recording,
            faults,
            services,
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

    /// Where `step_timeout` came from, for a message about a step that ran
    /// past it: "config.yaml `step_timeout`", or the override variable in
    /// backticks ("`PROMETHEUS_TEST_SET_STEP_TIMEOUT`").
    pub(crate) fn step_timeout_source(&self) -> &str {
        &self.step_timeout_source
    }

    /// Where `http_timeout` came from, for the error of a request that ran
    /// past it: "config.yaml `http_timeout`", the override variable in
    /// backticks, or "the default of config.yaml `http_timeout`".
    pub(crate) fn http_timeout_source(&self) -> &str {
        &self.http_timeout_source
    }
}

/// `task_id`, which is required: a default would run against another task's
/// data. A number is read as written (`task_id: 1.10` is "1.10").
fn task_id(reader: &mut Reader<'_>) -> String {
    let id = reader
        .read(&["task_id"], &ID)
        .map(|id| match reader.value(&["task_id"]) {
            Some(serde_yaml_ng::Value::Number(_)) => reader.written(&["task_id"]).unwrap_or(id),
            _ => id,
        });
    match id {
        Some(id) if id.trim().is_empty() => {
            reader.problem(&["task_id"], "`task_id` must not be empty");
            id
        }
        Some(id) => id,
        None => {
            if reader.value(&["task_id"]).is_none() {
                reader.missing(
                    &["task_id"],
                    "missing `task_id`: the id of the task under test (it marks the MongoDB \
                     documents and derives generated keys)",
                );
            }
            String::new()
        }
    }
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
            anyhow::bail!(
                "{shown}: top-level keys must be strings, found {}",
                found(key)
            );
        };
        if KNOWN_KEYS.contains(&key.as_str()) {
            continue;
        }
        let suggestion = if KEYS_READ_FROM_EXTRA.contains(&key.as_str()) {
            None
        } else {
            let candidates: Vec<&str> = KNOWN_KEYS
                .iter()
                .chain(KEYS_READ_FROM_EXTRA)
                .copied()
                .collect();
            likely_meant(key, &candidates)
        };
        if let Some(known) = suggestion {
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
    use std::collections::BTreeMap;

    use super::super::CollectionSettings;
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
    fn a_relative_config_path_starts_from_the_working_directory() {
        let cwd = std::env::current_dir().unwrap();
        let config =
            Config::parse(Path::new("config.yaml"), "task_id: t\nmax_rounds: 1\n").unwrap();
        assert_eq!(
            (config.file, config.tests_dir, config.project_dir),
            (
                cwd.join("config.yaml"),
                cwd.clone(),
                cwd.parent().unwrap().to_path_buf()
            )
        );
        let nested =
            Config::parse(Path::new("tests/e2e.yaml"), "task_id: t\nmax_rounds: 1\n").unwrap();
        assert_eq!(
            (nested.tests_dir, nested.project_dir, nested.data_dir),
            (cwd.join("tests"), cwd.clone(), cwd.join("tests/data"))
        );
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
        let config = parse(
            "task_id: t\nmax_rounds: 2\nmax_round: 1\nstep_timout: 5\nhttp_ca_fle: ca.pem\n\
             plain_env: [TOKEN_NAME]\n",
        )
        .unwrap();
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
                format!(
                    "{FILE}: `http_ca_fle` is not a config.yaml key, so it is kept as a value \
                     for the steps; did you mean `http_ca_file`?"
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
    fn every_type_error_is_reported_in_our_words_with_its_line() {
        let text = "\
task_id: [t]
base_port: 99999
max_rounds: many
rounds_collection: 5
data_dir: {a: 1}
python: 3
health_path: health
start_timeout: -1
step_timeout: twenty
http_keep_alive: yes
poll:
  interval: 0
  deadlin: 5
mongodb:
  database: ''
  collections:
    todos:
      data_file: 7
      required_count: -2
      requierd_count: 1
    audits: 3
";
        let err = parse(text).unwrap_err().to_string();
        let expected = [
            "17 problems:",
            "line 1: `task_id` must be a string or a number, found a list",
            "line 2: `base_port` must be an integer from 1 to 65535, found 99999",
            "line 3: `max_rounds` must be an integer from 1 to 4294967295, found \"many\"",
            "line 4: `rounds_collection` must be a collection name (a string), found 5",
            "line 5: `data_dir` must be a path (a string), found a mapping",
            "line 6: `python` must be a string (a path or a program name), found 3",
            "line 7: `health_path` must be a string starting with `/`, found \"health\"",
            "line 8: `start_timeout` must be a positive number of seconds, found -1",
            "line 9: `step_timeout` must be a positive number of seconds, found \"twenty\"",
            "line 10: `http_keep_alive` must be `true` or `false`, found \"yes\"",
            "line 13: `poll.deadlin` is unknown: `poll` takes `interval`, `max_interval` and \
             `deadline`; did you mean `deadline`?",
            "line 12: `poll.interval` must be a positive number of seconds, found 0",
            "line 15: `mongodb.database` must not be empty",
            "line 20: `mongodb.collections.todos.requierd_count` is unknown: \
             `mongodb.collections.todos` takes `data_file` and `required_count`; did you mean \
             `required_count`?",
            "line 18: `mongodb.collections.todos.data_file` must be a file name under `data_dir` \
             (a string), found 7",
            "line 19: `mongodb.collections.todos.required_count` must be an integer of 0 or more, \
             found -2",
            "line 21: `mongodb.collections.audits` must be a mapping with `data_file` and \
             `required_count` (or nothing, for a collection a fresh run only clears), found 3",
        ]
        .iter()
        .enumerate()
        .map(|(index, line)| match index {
            0 => (*line).to_owned(),
            _ => format!("\n  - {FILE}: {line}"),
        })
        .collect::<String>();
        assert_eq!(err, expected);
    }

    #[test]
    fn a_numeric_task_id_is_read_as_written() {
        let id = |written: &str| {
            parse(&format!("task_id: {written}\nmax_rounds: 1\n"))
                .unwrap()
                .task_id
        };
        assert_eq!(
            ["1111", "0042", "1.10", "0x1F", "'2'"].map(id),
            ["1111", "0042", "1.10", "0x1F", "2"]
        );
        let overridden = |written: &str| {
            parse_with(
                "task_id: t\nmax_rounds: 1\n",
                &[("PROMETHEUS_TEST_SET_TASK_ID", written)],
            )
            .unwrap()
            .task_id
        };
        assert_eq!(["1111", " 1.10 "].map(overridden), ["1111", "1.10"]);
        let rejected: Vec<String> = ["true", "[1]", "{a: 1}"]
            .iter()
            .map(|id| {
                parse(&format!("max_rounds: 1\ntask_id: {id}\n"))
                    .unwrap_err()
                    .to_string()
            })
            .collect();
        assert_eq!(
            rejected,
            ["true", "a list", "a mapping"].map(|found| format!(
                "{FILE}: line 2: `task_id` must be a string or a number, found {found}"
            ))
        );
        assert_eq!(
            parse("task_id:\nmax_rounds: 1\n").unwrap_err().to_string(),
            format!(
                "{FILE}: missing `task_id`: the id of the task under test (it marks the MongoDB \
                 documents and derives generated keys)"
            )
        );
    }

    #[test]
    fn the_step_timeout_names_where_it_came_from() {
        let text = "task_id: t\nmax_rounds: 1\nstep_timeout: 5\n";
        assert_eq!(
            parse(text).unwrap().step_timeout_source(),
            "config.yaml `step_timeout`"
        );
        let overridden = parse_with(text, &[("PROMETHEUS_TEST_SET_STEP_TIMEOUT", "2")]).unwrap();
        assert_eq!(overridden.step_timeout, Some(Duration::from_secs(2)));
        assert_eq!(
            overridden.step_timeout_source(),
            "`PROMETHEUS_TEST_SET_STEP_TIMEOUT`"
        );
        let other = parse_with(text, &[("PROMETHEUS_TEST_SET_START_TIMEOUT", "2")]).unwrap();
        assert_eq!(other.step_timeout_source(), "config.yaml `step_timeout`");
    }

    #[test]
    fn the_http_timeout_and_slow_step_have_defaults_and_name_where_they_came_from() {
        let plain = parse("task_id: t\nmax_rounds: 1\n").unwrap();
        assert_eq!(
            (
                plain.http_timeout,
                plain.http_timeout_source(),
                plain.slow_step
            ),
            (
                Duration::from_secs(30),
                "the default of config.yaml `http_timeout`",
                Duration::from_secs(60)
            )
        );
        let text = "task_id: t\nmax_rounds: 1\nhttp_timeout: 2.5\nslow_step: 10\n";
        let set = parse(text).unwrap();
        assert_eq!(
            (set.http_timeout, set.http_timeout_source(), set.slow_step),
            (
                Duration::from_millis(2500),
                "config.yaml `http_timeout`",
                Duration::from_secs(10)
            )
        );
        let overridden = parse_with(
            text,
            &[
                ("PROMETHEUS_TEST_SET_HTTP_TIMEOUT", "1"),
                ("PROMETHEUS_TEST_SET_SLOW_STEP", "0.5"),
            ],
        )
        .unwrap();
        assert_eq!(
            (
                overridden.http_timeout,
                overridden.http_timeout_source(),
                overridden.slow_step
            ),
            (
                Duration::from_secs(1),
                "`PROMETHEUS_TEST_SET_HTTP_TIMEOUT`",
                Duration::from_millis(500)
            )
        );
        let err = parse("task_id: t\nmax_rounds: 1\nhttp_timeout: 0\nslow_step: soon\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "2 problems:\n  \
                 - {FILE}: line 3: `http_timeout` must be a positive number of seconds, found 0\n  \
                 - {FILE}: line 4: `slow_step` must be a positive number of seconds, found \"soon\""
            )
        );
    }

    #[test]
    fn collections_without_settings_are_only_cleared() {
        let config = parse(
            "task_id: t\nmax_rounds: 1\nmongodb:\n  database: d\n  collections:\n    \
             todos: {data_file: todos.json, required_count: 2}\n    audits: {}\n    logs:\n",
        )
        .unwrap();
        let only_cleared = CollectionSettings::default();
        assert_eq!(
            config.mongodb.collections,
            BTreeMap::from([
                (
                    "todos".to_owned(),
                    CollectionSettings {
                        data_file: Some("todos.json".to_owned()),
                        required_count: 2,
                    }
                ),
                ("audits".to_owned(), only_cleared.clone()),
                ("logs".to_owned(), only_cleared),
            ])
        );
    }

    #[test]
    fn unknown_mongodb_keys_are_rejected() {
        let err = parse("task_id: t\nmongodb:\n  database: x\n  colections: {}\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "2 problems:\n  \
                 - {FILE}: missing `max_rounds`, or `rounds_collection` (the collection whose \
                   documents of this task count the rounds)\n  \
                 - {FILE}: line 4: `mongodb.colections` is unknown: `mongodb` takes `database` \
                   and `collections`; did you mean `collections`?"
            )
        );
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
            parse("task_id: t\nmax_rounds: 1\n").unwrap().poll,
            PollSettings::default()
        );
        let err = parse("task_id: t\nmax_rounds: 1\npoll:\n  interval: 2\n  max_interval: 1\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "{FILE}: line 5: `poll.max_interval` (1s) must not be shorter than \
                 `poll.interval` (2s)"
            )
        );
    }

    #[test]
    fn values_out_of_range_are_rejected_together() {
        let err = parse("task_id: t\nmax_rounds: 0\nstart_timeout: -1\nstep_timeout: 1e300\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "3 problems:\n  \
                 - {FILE}: line 2: `max_rounds` must be an integer from 1 to 4294967295, found 0\n  \
                 - {FILE}: line 3: `start_timeout` must be a positive number of seconds, found -1\n  \
                 - {FILE}: line 4: `step_timeout` must be a positive number of seconds, found \
                   1e300"
            )
        );
        let list = parse("- a\n- b\n").unwrap_err().to_string();
        assert_eq!(
            list,
            format!("{FILE}: expected a mapping of settings at the top level")
        );
        let empty_id = parse("task_id: ' '\nmax_rounds: 1\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            empty_id,
            format!("{FILE}: line 1: `task_id` must not be empty")
        );
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
        assert_eq!(
            unset,
            format!(
                "2 problems:\n  - PROMETHEUS_TEST_SET_MAX_ROUNDS (overriding {FILE}): missing \
                 `max_rounds`, or `rounds_collection` (the collection whose documents of this task \
                 count the rounds)\n  - {FILE}: missing `mongodb.database`: the database the suite \
                 seeds and counts the rounds in"
            )
        );
        let emptied = parse_with(
            "task_id: t\nmax_rounds: 1\nplain_env: [TOKEN]\nmongodb:\n  database: db\n",
            &[
                ("PROMETHEUS_TEST_SET_PLAIN_ENV", ""),
                ("PROMETHEUS_TEST_SET_MONGODB__DATABASE", ""),
            ],
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            emptied,
            format!(
                "PROMETHEUS_TEST_SET_MONGODB__DATABASE (overriding {FILE}): missing \
                 `mongodb.database`: the database the suite seeds"
            )
        );
        let no_plain_env = parse_with(
            "task_id: t\nmax_rounds: 1\nplain_env: [TOKEN]\n",
            &[("PROMETHEUS_TEST_SET_PLAIN_ENV", "")],
        )
        .unwrap();
        assert_eq!(no_plain_env.extra.get("plain_env"), None);
    }

    #[test]
    fn errors_in_overrides_name_the_variable() {
        let text = "task_id: t\nmax_rounds: 3\n";
        let typed = parse_with(text, &[("PROMETHEUS_TEST_SET_BASE_PORT", "high")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            typed,
            format!(
                "PROMETHEUS_TEST_SET_BASE_PORT (overriding {FILE}): `base_port` must be an \
                 integer from 1 to 65535, found \"high\""
            )
        );
        let zero = parse_with(text, &[("PROMETHEUS_TEST_SET_MAX_ROUNDS", "0")])
            .unwrap_err()
            .to_string();
        assert_eq!(
            zero,
            format!(
                "PROMETHEUS_TEST_SET_MAX_ROUNDS (overriding {FILE}): `max_rounds` must be an \
                 integer from 1 to 4294967295, found 0"
            )
        );
        let nested = parse_with(
            "task_id: t\nmax_rounds: 1\nmongodb:\n  database: d\n",
            &[("PROMETHEUS_TEST_SET_MONGODB__COLECTIONS", "{}")],
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            nested,
            format!(
                "PROMETHEUS_TEST_SET_MONGODB__COLECTIONS (overriding {FILE}): \
                 `mongodb.colections` is unknown: `mongodb` takes `database` and \
                 `collections`; did you mean `collections`?"
            )
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
