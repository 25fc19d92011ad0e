//! The configuration files of one run: config.yaml with the run's
//! overrides, then the `.env` files and workers.json it locates, each read
//! at most once, when first needed (a `--list` of steps that name their
//! workers reads none).

use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::OnceLock;

use super::text::read_text;
use super::workers::{WorkerSpec, parse_workers};
use super::{Config, EnvMap, Overrides};

/// A file read once: its outcome, an error as its whole message.
type Read<T> = OnceLock<Result<T, String>>;

/// The configuration files of one run.
#[derive(Default)]
pub(crate) struct ConfigFiles {
    /// config.yaml.
    path: PathBuf,
    overrides: Overrides,
    /// The process environment, under the `.env` files.
    process: Vec<(OsString, OsString)>,
    config: Read<Config>,
    env: Read<EnvMap>,
    /// workers.json's text.
    workers: Read<String>,
}

impl ConfigFiles {
    /// config.yaml at `path`, to read with `overrides`, and the `.env` files
    /// over `process`.
    pub(crate) fn new(
        path: PathBuf,
        overrides: Overrides,
        process: impl IntoIterator<Item = (OsString, OsString)>,
    ) -> Self {
        let process = process.into_iter().collect();
        Self {
            path,
            overrides,
            process,
            ..Self::default()
        }
    }

    /// Adds `name=value` to the process environment the run's environment
    /// is read over (read again if it was read).
    pub(crate) fn use_process_var(&mut self, name: &str, value: &str) {
        self.process.retain(|(key, _)| key != name);
        self.process.push((name.into(), value.into()));
        self.env = OnceLock::new();
    }

    /// config.yaml's path.
    #[cfg(test)]
    pub(crate) fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// config.yaml, checked, with the overrides applied.
    pub(crate) fn config(&self) -> anyhow::Result<&Config> {
        read_once(&self.config, || {
            Config::load_with(&self.path, &self.overrides)
        })
    }

    /// The run's environment: the process's with the `.env` files. Once read,
    /// it arms the [failpoint](crate::failpoint) it names.
    pub(crate) fn env(&self) -> anyhow::Result<&EnvMap> {
        let config = self.config()?;
        let process = self.process.iter().cloned();
        read_once(&self.env, || {
            let env = EnvMap::load(process, &config.project_dir, &config.tests_dir)?;
            crate::failpoint::arm(env.get(crate::failpoint::VARIABLE));
            Ok(env)
        })
    }

    /// workers.json, checked, its `env_vars` looked up in `env`.
    pub(crate) fn workers(&self, env: &EnvMap) -> anyhow::Result<Vec<WorkerSpec>> {
        let config = self.config()?;
        parse_workers(config, env, &config.workers_config, self.workers_json()?)
    }

    /// workers.json's worker names in file order, nothing else checked;
    /// `None` when it or config.yaml cannot be read (setup says why).
    pub(crate) fn worker_names(&self) -> Option<Vec<String>> {
        let text = self.workers_json().ok()?;
        let entries: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(text).ok()?;
        Some(entries.into_iter().map(|(name, _)| name).collect())
    }

    fn workers_json(&self) -> anyhow::Result<&str> {
        let path = &self.config()?.workers_config;
        read_once(&self.workers, || {
            #[cfg(test)]
            super::reads::count(path);
            read_text(path, "workers file")
        })
        .map(String::as_str)
    }
}

/// What `cell` keeps, read with `read` the first time.
fn read_once<T>(cell: &Read<T>, read: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<&T> {
    cell.get_or_init(|| read().map_err(|err| format!("{err:#}")))
        .as_ref()
        .map_err(|message| anyhow::Error::msg(message.clone()))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn files(config: &Path) -> ConfigFiles {
        ConfigFiles::new(config.to_owned(), Overrides::none(), [])
    }

    #[test]
    fn worker_names_come_in_file_order_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.yaml");
        assert_eq!(files(&config).worker_names(), None, "no config.yaml");
        std::fs::write(&config, "task_id: t\nmax_rounds: 1\n").unwrap();
        files(&config).config().expect("a valid config.yaml");
        assert_eq!(files(&config).worker_names(), None, "no workers.json");
        std::fs::write(dir.path().join("workers.json"), "{ broken").unwrap();
        assert_eq!(files(&config).worker_names(), None, "broken workers.json");
        std::fs::write(
            dir.path().join("workers.json"),
            "\u{feff}{\"zeta\": {}, \"alpha\": {}, \"mid\": {}}",
        )
        .unwrap();
        assert_eq!(
            files(&config).worker_names(),
            Some(vec!["zeta".into(), "alpha".into(), "mid".into()])
        );
    }

    #[test]
    fn each_file_is_read_once_and_so_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.yaml");
        std::fs::write(&config, "max_rounds: 1\n").unwrap();
        let files = files(&config);
        let message = format!(
            "{}: missing `task_id`: the id of the task under test (it marks the MongoDB \
             documents and derives generated keys)",
            config.display()
        );
        let first = format!("{:#}", files.config().unwrap_err());
        std::fs::write(&config, "task_id: t\nmax_rounds: 1\n").unwrap();
        let second = format!("{:#}", files.config().unwrap_err());
        assert_eq!(
            (first.as_str(), second.as_str()),
            (message.as_str(), message.as_str())
        );
        assert_eq!(super::super::reads::of(&config), 1);
    }
}
