//! The worker's settings, read once from the environment at startup.

use std::path::PathBuf;
use std::time::Duration;

/// What a worker needs to run, from `PORT`, `DATABASE_PATH`, `MONGO_URI`,
/// `MONGO_DB` and `TASK_ID`, and the optional LLM settings.
#[derive(Clone)]
pub(crate) struct Config {
    /// Port on 127.0.0.1 to listen on.
    pub(crate) port: u16,
    /// This worker's own state file (JSON).
    pub(crate) database_path: PathBuf,
    /// Mongo connection string. May hold credentials: never printed.
    pub(crate) mongo_uri: String,
    /// Mongo database holding `todos` and `audits`.
    pub(crate) mongo_db: String,
    /// The task this worker serves; payloads for other tasks are refused.
    pub(crate) task_id: String,
    /// The LLM that summarises each claimed todo, when `LLM_URL` is set.
    pub(crate) llm: Option<LlmSettings>,
    /// `MIDDLE_SERVER_URL`: the task's middle server, told of each
    /// submission, when set.
    pub(crate) middle_server_url: Option<String>,
    /// `TODO_TASK_PLANTED_BUG`: a bug switched on for the suite to find.
    pub(crate) planted_bug: Option<PlantedBug>,
    /// `TODO_TASK_START_DELAY_MS`: how long the worker waits before it
    /// listens, to stand for a slow worker (a Flask app importing an LLM
    /// SDK) in the edit loop's benchmark; 0 when unset.
    pub(crate) start_delay: Duration,
}

/// A bug the worker can be started with on purpose, so that a suite's
/// faults can show they find it (`TODO_TASK_PLANTED_BUG`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PlantedBug {
    /// `double-count-retries`: a receipt sent again after its answer was
    /// lost is counted again, instead of once.
    DoubleCountRetries,
}

impl PlantedBug {
    const DOUBLE_COUNT_RETRIES: &str = "double-count-retries";
}

impl std::fmt::Display for PlantedBug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::DoubleCountRetries => f.write_str(Self::DOUBLE_COUNT_RETRIES),
        }
    }
}

/// Where a worker asks for its summaries: `LLM_URL`, `LLM_API_KEY` and
/// `SSL_CERT_FILE` (a PEM file of certificates to trust).
#[derive(Clone)]
pub(crate) struct LlmSettings {
    /// The Messages API endpoint, e.g. `https://api.example/v1/messages`.
    pub(crate) url: String,
    /// Sent as `x-api-key`. Secret: never printed.
    pub(crate) api_key: Option<String>,
    /// Extra certificates to trust, besides the usual roots.
    pub(crate) cert_file: Option<PathBuf>,
}

impl std::fmt::Debug for LlmSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmSettings")
            .field("url", &self.url)
            .field("cert_file", &self.cert_file)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("port", &self.port)
            .field("database_path", &self.database_path)
            .field("mongo_db", &self.mongo_db)
            .field("task_id", &self.task_id)
            .field("llm", &self.llm)
            .field("middle_server_url", &self.middle_server_url)
            .field("planted_bug", &self.planted_bug)
            .field("start_delay", &self.start_delay)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Reads the settings from the process environment.
    pub(crate) fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads the settings through `lookup`; every variable is required but
    /// the LLM's. Errors name the variable, never its value.
    pub(crate) fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let require = |key: &str| {
            lookup(key)
                .filter(|value| !value.trim().is_empty())
                .ok_or_else(|| anyhow::anyhow!("environment variable {key} is not set"))
        };
        let port = require("PORT")?;
        let port = port.trim().parse::<u16>().map_err(|_| {
            anyhow::anyhow!("environment variable PORT: expected a port number (1-65535)")
        })?;
        anyhow::ensure!(
            port != 0,
            "environment variable PORT: expected a port number (1-65535)"
        );
        Ok(Self {
            port,
            database_path: PathBuf::from(require("DATABASE_PATH")?),
            mongo_uri: require("MONGO_URI")?,
            mongo_db: require("MONGO_DB")?,
            task_id: require("TASK_ID")?,
            llm: llm_settings(&lookup)?,
            middle_server_url: middle_server_url(&lookup)?,
            planted_bug: planted_bug(&lookup)?,
            start_delay: start_delay(&lookup)?,
        })
    }
}

/// `TODO_TASK_START_DELAY_MS`, zero when unset or empty.
fn start_delay(lookup: &impl Fn(&str) -> Option<String>) -> anyhow::Result<Duration> {
    let Some(millis) = lookup("TODO_TASK_START_DELAY_MS").filter(|v| !v.trim().is_empty()) else {
        return Ok(Duration::ZERO);
    };
    let millis: u64 = millis.trim().parse().map_err(|_| {
        anyhow::anyhow!(
            "environment variable TODO_TASK_START_DELAY_MS: expected milliseconds (a whole number)"
        )
    })?;
    Ok(Duration::from_millis(millis))
}

/// `MIDDLE_SERVER_URL`, `None` when unset or empty.
fn middle_server_url(lookup: &impl Fn(&str) -> Option<String>) -> anyhow::Result<Option<String>> {
    let Some(url) = lookup("MIDDLE_SERVER_URL").filter(|url| !url.trim().is_empty()) else {
        return Ok(None);
    };
    let url = url.trim().to_owned();
    anyhow::ensure!(
        url.starts_with("http://") || url.starts_with("https://"),
        "environment variable MIDDLE_SERVER_URL: expected an http:// or https:// URL"
    );
    Ok(Some(url))
}

/// `TODO_TASK_PLANTED_BUG`, `None` when unset or empty.
fn planted_bug(lookup: &impl Fn(&str) -> Option<String>) -> anyhow::Result<Option<PlantedBug>> {
    match lookup("TODO_TASK_PLANTED_BUG").as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(PlantedBug::DOUBLE_COUNT_RETRIES) => Ok(Some(PlantedBug::DoubleCountRetries)),
        Some(_) => anyhow::bail!(
            "environment variable TODO_TASK_PLANTED_BUG: expected `{}` or nothing",
            PlantedBug::DOUBLE_COUNT_RETRIES
        ),
    }
}

/// The LLM settings, `None` without `LLM_URL`.
fn llm_settings(lookup: &impl Fn(&str) -> Option<String>) -> anyhow::Result<Option<LlmSettings>> {
    let optional = |key: &str| lookup(key).filter(|value| !value.trim().is_empty());
    let Some(url) = optional("LLM_URL") else {
        return Ok(None);
    };
    let url = url.trim().to_owned();
    anyhow::ensure!(
        url.starts_with("https://") || url.starts_with("http://"),
        "environment variable LLM_URL: expected an http:// or https:// URL"
    );
    Ok(Some(LlmSettings {
        url,
        api_key: optional("LLM_API_KEY"),
        cert_file: optional("SSL_CERT_FILE").map(PathBuf::from),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |key| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    }

    const FULL: [(&str, &str); 5] = [
        ("PORT", "5701"),
        ("DATABASE_PATH", "/tmp/w1.db"),
        ("MONGO_URI", "mongodb://user:s3cret@localhost:27017"),
        ("MONGO_DB", "todos_e2e"),
        ("TASK_ID", "todo-task"),
    ];

    #[test]
    fn reads_every_variable() {
        let config = Config::from_lookup(lookup(&FULL)).unwrap();
        assert_eq!(config.port, 5701);
        assert_eq!(config.database_path, PathBuf::from("/tmp/w1.db"));
        assert_eq!(config.mongo_db, "todos_e2e");
        assert_eq!(config.task_id, "todo-task");
    }

    #[test]
    fn missing_variable_is_named() {
        let err = Config::from_lookup(lookup(&FULL[..4])).unwrap_err();
        assert_eq!(err.to_string(), "environment variable TASK_ID is not set");
    }

    #[test]
    fn bad_port_is_rejected_without_echoing_values() {
        let mut vars = FULL;
        vars[0] = ("PORT", "70000");
        let err = Config::from_lookup(lookup(&vars)).unwrap_err().to_string();
        assert!(err.contains("PORT"), "{err}");
        assert!(!err.contains("70000"), "{err}");
    }

    #[test]
    fn the_llm_is_optional_and_its_key_never_shown() {
        assert!(Config::from_lookup(lookup(&FULL)).unwrap().llm.is_none());
        let mut vars = FULL.to_vec();
        vars.extend([
            ("LLM_URL", "https://llm.todo-task.test/v1/messages"),
            ("LLM_API_KEY", "sk-s3cret"),
            ("SSL_CERT_FILE", "/tmp/ca.pem"),
        ]);
        let config = Config::from_lookup(lookup(&vars)).unwrap();
        let llm = config.llm.as_ref().unwrap();
        assert_eq!(llm.url, "https://llm.todo-task.test/v1/messages");
        assert_eq!(llm.api_key.as_deref(), Some("sk-s3cret"));
        assert_eq!(llm.cert_file, Some(PathBuf::from("/tmp/ca.pem")));
        assert!(!format!("{config:?}").contains("s3cret"));
    }

    #[test]
    fn an_llm_url_that_is_not_http_is_rejected() {
        let mut vars = FULL.to_vec();
        vars.push(("LLM_URL", "llm.todo-task.test"));
        let err = Config::from_lookup(lookup(&vars)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable LLM_URL: expected an http:// or https:// URL"
        );
    }

    #[test]
    fn the_middle_server_is_optional_and_must_be_a_url() {
        assert_eq!(
            Config::from_lookup(lookup(&FULL))
                .unwrap()
                .middle_server_url,
            None
        );
        let mut vars = FULL.to_vec();
        vars.push(("MIDDLE_SERVER_URL", "http://localhost:5790"));
        assert_eq!(
            Config::from_lookup(lookup(&vars))
                .unwrap()
                .middle_server_url
                .as_deref(),
            Some("http://localhost:5790")
        );
        vars.pop();
        vars.push(("MIDDLE_SERVER_URL", "localhost:5790"));
        assert_eq!(
            Config::from_lookup(lookup(&vars)).unwrap_err().to_string(),
            "environment variable MIDDLE_SERVER_URL: expected an http:// or https:// URL"
        );
    }

    #[test]
    fn a_planted_bug_is_off_unless_named() {
        assert_eq!(
            Config::from_lookup(lookup(&FULL)).unwrap().planted_bug,
            None
        );
        let mut vars = FULL.to_vec();
        vars.push(("TODO_TASK_PLANTED_BUG", "double-count-retries"));
        assert_eq!(
            Config::from_lookup(lookup(&vars)).unwrap().planted_bug,
            Some(PlantedBug::DoubleCountRetries)
        );
        vars.pop();
        vars.push(("TODO_TASK_PLANTED_BUG", "all"));
        assert_eq!(
            Config::from_lookup(lookup(&vars)).unwrap_err().to_string(),
            "environment variable TODO_TASK_PLANTED_BUG: expected `double-count-retries` or nothing"
        );
    }

    #[test]
    fn a_start_delay_is_zero_unless_given_in_milliseconds() {
        let delay =
            |vars: &[(&str, &str)]| Config::from_lookup(lookup(vars)).map(|c| c.start_delay);
        assert_eq!(delay(&FULL).unwrap(), Duration::ZERO);
        let mut vars = FULL.to_vec();
        vars.push(("TODO_TASK_START_DELAY_MS", "3000"));
        assert_eq!(delay(&vars).unwrap(), Duration::from_secs(3));
        vars.pop();
        vars.push(("TODO_TASK_START_DELAY_MS", "3s"));
        assert_eq!(
            delay(&vars).unwrap_err().to_string(),
            "environment variable TODO_TASK_START_DELAY_MS: expected milliseconds (a whole number)"
        );
    }

    #[test]
    fn debug_hides_the_mongo_uri() {
        let config = Config::from_lookup(lookup(&FULL)).unwrap();
        assert!(!format!("{config:?}").contains("s3cret"));
    }
}
