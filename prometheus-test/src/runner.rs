//! The handle steps use: configuration, workers, the database, and the data
//! steps pass to each other through the resume state.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::{Context as _, anyhow};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::Worker;
use crate::churn::{Churn, ChurnCell};
use crate::config::{Config, EnvMap};
use crate::events::Events;
use crate::faults::handle::{Faults, Reach};
use crate::http::{Http, TimeLimit};
use crate::poll::{Poll, Polling};
use crate::record::shared::SharedRecorder;
use crate::service::Service;
use crate::state::{Scope, State};

/// The test run as steps see it.
///
/// Values set with [`set`](Self::set) belong to the current round;
/// [`set_global`](Self::set_global) keeps them for every round. Both are saved
/// to `data_dir/test_state.json` at once, so a resumed run sees them again.
pub struct Runner {
    config: Config,
    env: Arc<EnvMap>,
    workers: Vec<Worker>,
    /// config.yaml's services, in their start order.
    services: Vec<Service>,
    state: Mutex<State>,
    max_rounds: u32,
    db: Option<mongodb::Database>,
    http: Http,
    recorder: Arc<SharedRecorder>,
    /// How steps reach the running fleet; shared with every worker.
    churn: Arc<ChurnCell>,
    /// The faults steps script and the properties they state.
    faults: Reach,
}

impl Runner {
    #[expect(
        clippy::too_many_arguments,
        reason = "the parts of a run, each built and checked by setup"
    )]
    pub(crate) fn new(
        config: Config,
        env: Arc<EnvMap>,
        mut workers: Vec<Worker>,
        state: State,
        db: Option<mongodb::Database>,
        max_rounds: u32,
        recorder: SharedRecorder,
        http_client: reqwest::Client,
        events: Option<Events>,
    ) -> Self {
        let recorder = Arc::new(recorder);
        let http = Http::new(http_client, events, TimeLimit::of_the_run(&config));
        let churn = Arc::new(ChurnCell::default());
        for worker in &mut workers {
            worker.use_churn(churn.clone());
        }
        let services = config
            .services
            .iter()
            .map(|spec| Service::new(spec.clone(), Arc::clone(&churn)))
            .collect();
        Self {
            config,
            env,
            workers,
            services,
            state: Mutex::new(state),
            max_rounds,
            db,
            http,
            recorder,
            churn,
            faults: Reach::default(),
        }
    }

    /// Sends `runner.http()`'s plain-HTTP requests through the fault proxy's
    /// listener `proxy`, with the run's limits and trust as before.
    pub(crate) fn route_http_through(&mut self, proxy: std::net::SocketAddr) -> anyhow::Result<()> {
        let roots = crate::http_client::ExtraRoots::for_run(&self.config, &self.env)?;
        let client = crate::http_client::builder(self.config.http_keep_alive, &roots)?
            .proxy(reqwest::Proxy::http(format!("http://{proxy}"))?)
            .build()
            .context("cannot build the HTTP client of `runner.http()`")?;
        self.http = self.http.through_proxy(client);
        Ok(())
    }

    /// The faults' side of the runner, for the harness.
    pub(crate) fn fault_reach(&self) -> &Reach {
        &self.faults
    }

    /// The faults this step scripts, on top of config.yaml's `faults`
    /// schedule; they end with the step's attempt. Needs a `faults` section
    /// in config.yaml (`faults: []` for scripts alone): without one each
    /// call is an error saying so.
    ///
    /// ```no_run
    /// # async fn step(runner: &prometheus_test::Runner) -> anyhow::Result<()> {
    /// runner.faults().partition("worker2")?;
    /// let url = format!("{}/audit", runner.worker("worker2")?.url());
    /// assert!(runner.http().get(url).send().await.is_err(), "worker2 is cut off");
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn faults(&self) -> Faults {
        self.faults.faults()
    }

    /// States that `holds` must be true every time it is checked: once it is
    /// false the run fails at its end, naming the property, where it first
    /// failed and the seed that replays the run. Returns `holds`.
    ///
    /// ```no_run
    /// # async fn step(runner: &prometheus_test::Runner) -> anyhow::Result<()> {
    /// let balance: i64 = runner.get("balance")?;
    /// runner.always("balances stay positive", balance >= 0);
    /// # Ok(()) }
    /// ```
    pub fn always(&self, name: &str, holds: bool) -> bool {
        self.faults.always(name, holds)
    }

    /// States that `holds` should be true at least once in the run (a
    /// retry that happened, a fault a step saw): one that never was is
    /// listed at the run's end, without failing it. Returns `holds`.
    ///
    /// ```no_run
    /// # async fn step(runner: &prometheus_test::Runner) -> anyhow::Result<()> {
    /// let url = format!("{}/audit", runner.worker("worker2")?.url());
    /// let answered = runner.http().get(url).send().await.is_ok();
    /// runner.sometimes("an audit call fails", !answered);
    /// # Ok(()) }
    /// ```
    pub fn sometimes(&self, name: &str, holds: bool) -> bool {
        self.faults.sometimes(name, holds)
    }

    /// Lets steps stop, start and pause the fleet's workers (`None`: no longer).
    pub(crate) fn use_churn(&self, churn: Option<Arc<Churn>>) {
        self.churn.set(churn);
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn env(&self) -> &EnvMap {
        &self.env
    }

    /// The same run with its rounds counted again: a fresh run recounts
    /// after its `post_load` hook, which may change the counted data.
    #[must_use]
    pub(crate) fn with_max_rounds(self, max_rounds: u32) -> Self {
        Self { max_rounds, ..self }
    }

    /// Every worker of workers.json, in file order.
    #[must_use]
    pub fn workers(&self) -> &[Worker] {
        &self.workers
    }

    /// The value at `key` in the current round, else in the global state,
    /// converted to `T`. Dot paths reach into objects: `"pr_urls.worker1"`.
    ///
    /// ```no_run
    /// # async fn step(runner: &prometheus_test::Runner) -> anyhow::Result<()> {
    /// let pr_url: String = runner.get("pr_urls.worker1")?;
    /// # Ok(()) }
    /// ```
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> anyhow::Result<T> {
        self.try_get(key)?.ok_or_else(|| {
            anyhow!(
                "no value at `{key}` in round {} or in the global state{}",
                self.current_round(),
                self.config_key_hint(key)
            )
        })
    }

    /// For a key that names config.yaml rather than run data (the Python
    /// original's `runner.get("task_id")` idiom), where to read it instead.
    fn config_key_hint(&self, key: &str) -> String {
        let first = key.split('.').next().unwrap_or(key);
        let accessor = match first {
            "task_id" => Some("runner.task_id()"),
            "max_rounds" => Some("runner.max_rounds()"),
            "middle_server_url" => Some("runner.middle_server_url()"),
            "data_dir" => Some("runner.data_dir()"),
            _ => None,
        };
        if let Some(round) = self.state().earlier_round_holding(key) {
            format!(
                "; round {round} stored it with `runner.set`, which keeps a value for its own \
                 round only: store it with `runner.set_global` to read it in later rounds"
            )
        } else if let Some(accessor) = accessor {
            format!("; `{first}` is a config.yaml key: read it with `{accessor}`")
        } else if Config::is_framework_key(first) {
            format!("; `{first}` is a config.yaml setting of the framework, not run data")
        } else if self.config.extra.contains_key(first) {
            format!(
                "; `{first}` is a key of config.yaml: read it with `runner.config_value(\"{key}\")`"
            )
        } else {
            String::new()
        }
    }

    /// Like [`get`](Self::get), `None` when nothing is stored at `key`.
    pub fn try_get<T: DeserializeOwned>(&self, key: &str) -> anyhow::Result<Option<T>> {
        let value = self.state().get(key);
        value
            .filter(|v| !v.is_null())
            .map(|v| {
                serde_json::from_value(v)
                    .with_context(|| format!("the value at `{key}` has an unexpected type"))
            })
            .transpose()
    }

    /// Stores `value` at `key` for the current round and saves the state.
    pub fn set<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> anyhow::Result<()> {
        self.store(Scope::Round, key, value)
    }

    /// Stores `value` at `key` for every round and saves the state.
    pub fn set_global<T: Serialize + ?Sized>(&self, key: &str, value: &T) -> anyhow::Result<()> {
        self.store(Scope::Global, key, value)
    }

    fn store<T: Serialize + ?Sized>(
        &self,
        scope: Scope,
        key: &str,
        value: &T,
    ) -> anyhow::Result<()> {
        let value =
            serde_json::to_value(value).with_context(|| format!("cannot store `{key}` as JSON"))?;
        self.state().set(scope, key, value)
    }

    /// The round being played, from 1.
    #[must_use]
    pub fn current_round(&self) -> u32 {
        self.state().current_round()
    }

    /// How many rounds the run plays: config.yaml's `max_rounds`, else the
    /// documents of `rounds_collection` for the task plus one. Inside the
    /// `post_load` hook it is the count from the imported fixtures; the run
    /// then plays the count taken after the hook.
    #[must_use]
    pub fn max_rounds(&self) -> u32 {
        self.max_rounds
    }

    /// config.yaml's `task_id`.
    #[must_use]
    pub fn task_id(&self) -> &str {
        &self.config.task_id
    }

    /// config.yaml's `middle_server_url`, if set.
    #[must_use]
    pub fn middle_server_url(&self) -> Option<&str> {
        self.config.middle_server_url.as_deref()
    }

    /// The data directory (fixtures, state, workers' databases).
    #[must_use]
    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    /// An extra key of config.yaml (one the framework does not use itself),
    /// converted to `T`. Dot paths reach into mappings.
    pub fn config_value<T: DeserializeOwned>(&self, key: &str) -> anyhow::Result<T> {
        let value = key
            .split('.')
            .try_fold(None::<&Value>, |found, part| match found {
                None => Some(self.config.extra.get(part)),
                Some(v) => Some(v.as_object().and_then(|o| o.get(part))),
            })
            .flatten()
            .ok_or_else(|| anyhow!("{}: no key `{key}`", self.config.file.display()))?;
        serde_json::from_value(value.clone()).with_context(|| {
            format!(
                "{}: `{key}` has an unexpected type",
                self.config.file.display()
            )
        })
    }

    /// The worker called `name`.
    pub fn worker(&self, name: &str) -> anyhow::Result<&Worker> {
        self.workers
            .iter()
            .find(|w| w.name() == name)
            .ok_or_else(|| {
                let known: Vec<_> = self.workers.iter().map(Worker::name).collect();
                anyhow!(
                    "no worker `{name}`; workers.json defines {}",
                    known.join(", ")
                )
            })
    }

    /// The service `name` of config.yaml's `services`.
    ///
    /// ```no_run
    /// # async fn step(runner: &prometheus_test::Runner) -> anyhow::Result<()> {
    /// let middle = runner.service("middle")?;
    /// let health = runner.http().get(format!("{}/health", middle.url())).send().await?;
    /// # Ok(()) }
    /// ```
    pub fn service(&self, name: &str) -> anyhow::Result<&Service> {
        self.services
            .iter()
            .find(|service| service.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = self.services.iter().map(Service::name).collect();
                if known.is_empty() {
                    anyhow!("no service `{name}`: config.yaml has no `services`")
                } else {
                    anyhow!(
                        "no service `{name}`; config.yaml's `services` are {}",
                        known.join(", ")
                    )
                }
            })
    }

    /// The configured MongoDB database (config.yaml `mongodb.database`).
    pub fn db(&self) -> anyhow::Result<mongodb::Database> {
        self.db.clone().ok_or_else(|| {
            anyhow!("MongoDB is not used by this suite: add a `mongodb` section to config.yaml")
        })
    }

    /// Calls `check` until it answers [`Poll::Ready`](crate::Poll::Ready), an
    /// `Err` (which ends the poll at once) or the deadline passes; see
    /// [`Polling`](crate::Polling) for the pauses, the deadline and their
    /// defaults (config.yaml's `poll` section).
    ///
    /// ```no_run
    /// # async fn step(runner: &prometheus_test::Runner) -> anyhow::Result<()> {
    /// use prometheus_test::Poll;
    /// use std::time::Duration;
    ///
    /// let url = format!("{}/audit/42", runner.worker("worker2")?.url());
    /// let verdict: String = runner
    ///     .poll("worker2's audit verdict", || async {
    ///         let response = runner.http().get(&url).send().await?;
    ///         match response.status().as_u16() {
    ///             200 => Ok(Poll::Ready(response.text().await?)),
    ///             404 => Ok(Poll::Pending(format!("404: {}", response.text().await?))),
    ///             status => anyhow::bail!("{status}: {}", response.text().await?),
    ///         }
    ///     })
    ///     .deadline(Duration::from_secs(10))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn poll<'a, F, Fut, T>(&self, what: impl Into<String>, check: F) -> Polling<'a, F>
    where
        F: FnMut() -> Fut + 'a,
        Fut: Future<Output = anyhow::Result<Poll<T>>> + 'a,
        T: 'a,
    {
        Polling::new(what.into(), check, self.config.poll)
    }

    /// The HTTP client for talking to workers. Every request sent through it
    /// is recorded against the running step (see [`Http`]); requests made
    /// with another client are not.
    #[must_use]
    pub fn http(&self) -> &Http {
        &self.http
    }

    /// Marks `value` secret: from now on it reads `[redacted: LABEL]` in the
    /// step output and every report, and it is taken out of what was recorded
    /// before. Use it for tokens a step obtains while the run plays.
    ///
    /// ```no_run
    /// # async fn step(runner: &prometheus_test::Runner) -> anyhow::Result<()> {
    /// let token: String = runner.get("session_token")?;
    /// runner.secret("session token", &token);
    /// # Ok(()) }
    /// ```
    pub fn secret(&self, label: &str, value: &str) {
        self.recorder.with(|r| r.secret(label, value));
    }

    /// The run's recorder.
    pub(crate) fn recorder(&self) -> &Arc<SharedRecorder> {
        &self.recorder
    }
}

impl fmt::Debug for Runner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runner")
            .field("task_id", &self.config.task_id)
            .field("current_round", &self.current_round())
            .field("max_rounds", &self.max_rounds())
            .field("workers", &self.workers)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_workers;
    use serde_json::json;

    /// A runner on a fresh state in `dir`, with two external workers.
    fn runner(dir: &Path, rounds: u32) -> Runner {
        let file = dir.join("config.yaml");
        let config = Config::parse(
            &file,
            "task_id: unit\nmax_rounds: 2\nlimits:\n  retries: 3\n  name: fast\n",
        )
        .unwrap();
        let env = Arc::new(EnvMap::default());
        std::fs::write(
            dir.join("workers.json"),
            r#"{"worker1": {"url": "http://127.0.0.1:9"}, "worker2": {"url": "http://127.0.0.1:10"}}"#,
        )
        .unwrap();
        let specs = load_workers(&config, &env).unwrap();
        let workers = specs
            .into_iter()
            .map(|spec| Worker::load(spec, env.clone(), &config).unwrap())
            .collect();
        let state = State::fresh(&config.data_dir).unwrap();
        let recorder = SharedRecorder::new("unit", &[], crate::record::redact::Redactor::new());
        let client = crate::http_client::for_run(&config, &env).unwrap();
        Runner::new(
            config, env, workers, state, None, rounds, recorder, client, None,
        )
    }

    #[test]
    fn round_values_shadow_global_ones_and_stay_in_their_round() {
        let dir = tempfile::tempdir().unwrap();
        let runner = runner(dir.path(), 2);
        runner.set_global("pr_urls.worker1", "global").unwrap();
        runner.set("pr_urls.worker1", "round one").unwrap();
        assert_eq!(
            runner.get::<String>("pr_urls.worker1").unwrap(),
            "round one"
        );
        runner.state().next_round().unwrap();
        assert_eq!(runner.current_round(), 2);
        assert_eq!(runner.get::<String>("pr_urls.worker1").unwrap(), "global");
        let saved: Value = serde_json::from_str(
            &std::fs::read_to_string(State::path_in(runner.data_dir())).unwrap(),
        )
        .unwrap();
        assert_eq!(
            (&saved["rounds"], &saved["global"]),
            (
                &json!({"1": {"pr_urls": {"worker1": "round one"}}}),
                &json!({"pr_urls": {"worker1": "global"}})
            ),
            "every set is saved at once"
        );
    }

    #[test]
    fn missing_null_and_mistyped_values_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        let runner = runner(dir.path(), 2);
        runner.set("nothing", &()).unwrap();
        runner.set("count", &3).unwrap();
        assert_eq!(runner.try_get::<u32>("absent").unwrap(), None);
        assert_eq!(
            runner.try_get::<u32>("nothing").unwrap(),
            None,
            "null reads as unset"
        );
        assert_eq!(
            runner.get::<u32>("absent").unwrap_err().to_string(),
            "no value at `absent` in round 1 or in the global state"
        );
        assert_eq!(
            runner.get::<String>("count").unwrap_err().to_string(),
            "the value at `count` has an unexpected type"
        );
        assert_eq!(runner.get::<u32>("count").unwrap(), 3);
    }

    #[test]
    fn a_round_value_asked_for_in_a_later_round_names_set_global() {
        let dir = tempfile::tempdir().unwrap();
        let runner = runner(dir.path(), 2);
        runner.set("pr_urls.worker1", "round one").unwrap();
        runner.state().next_round().unwrap();
        assert_eq!(
            runner
                .get::<String>("pr_urls.worker1")
                .unwrap_err()
                .to_string(),
            "no value at `pr_urls.worker1` in round 2 or in the global state; round 1 stored it \
             with `runner.set`, which keeps a value for its own round only: store it with \
             `runner.set_global` to read it in later rounds"
        );
    }

    #[test]
    fn config_keys_asked_of_the_state_say_where_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let runner = runner(dir.path(), 2);
        let message = |key: &str| runner.get::<Value>(key).unwrap_err().to_string();
        assert_eq!(
            message("task_id"),
            "no value at `task_id` in round 1 or in the global state; \
             `task_id` is a config.yaml key: read it with `runner.task_id()`"
        );
        assert_eq!(
            message("base_port"),
            "no value at `base_port` in round 1 or in the global state; \
             `base_port` is a config.yaml setting of the framework, not run data"
        );
        assert_eq!(
            message("limits.retries"),
            "no value at `limits.retries` in round 1 or in the global state; \
             `limits` is a key of config.yaml: read it with `runner.config_value(\"limits.retries\")`"
        );
    }

    #[test]
    fn config_values_follow_dot_paths_into_extra_keys() {
        let dir = tempfile::tempdir().unwrap();
        let runner = runner(dir.path(), 2);
        assert_eq!(runner.config_value::<u32>("limits.retries").unwrap(), 3);
        assert_eq!(
            runner.config_value::<Value>("limits").unwrap(),
            json!({"retries": 3, "name": "fast"})
        );
        let file = dir.path().join("config.yaml").display().to_string();
        assert_eq!(
            runner
                .config_value::<u32>("limits.none")
                .unwrap_err()
                .to_string(),
            format!("{file}: no key `limits.none`")
        );
        assert_eq!(
            format!(
                "{:#}",
                runner.config_value::<u32>("limits.name").unwrap_err()
            ),
            format!(
                "{file}: `limits.name` has an unexpected type: invalid type: string \"fast\", expected u32"
            )
        );
    }

    #[test]
    fn workers_are_found_by_name_and_a_wrong_name_lists_the_known_ones() {
        let dir = tempfile::tempdir().unwrap();
        let runner = runner(dir.path(), 2);
        assert_eq!(
            runner.worker("worker2").unwrap().url(),
            "http://127.0.0.1:10"
        );
        assert_eq!(
            runner.worker("worker3").unwrap_err().to_string(),
            "no worker `worker3`; workers.json defines worker1, worker2"
        );
        let names: Vec<&str> = runner.workers().iter().map(Worker::name).collect();
        assert_eq!(names, ["worker1", "worker2"]);
    }

    #[test]
    fn a_runner_is_complete_from_the_start_and_recounting_keeps_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let runner = runner(dir.path(), 3);
        assert_eq!(runner.max_rounds(), 3);
        runner.set("kept", "yes").unwrap();
        let runner = runner.with_max_rounds(5);
        assert_eq!(runner.max_rounds(), 5);
        assert_eq!(runner.get::<String>("kept").unwrap(), "yes");
        assert_eq!(runner.task_id(), "unit");
        assert_eq!(
            runner.db().unwrap_err().to_string(),
            "MongoDB is not used by this suite: add a `mongodb` section to config.yaml"
        );
    }
}
