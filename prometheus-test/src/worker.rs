//! A worker as steps see it: its name and address, the extra fields of
//! workers.json, the environment its server got, and its Koii keys.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, anyhow};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::churn::{Action, ChurnCell};
use crate::config::{Config, EnvMap, EnvSource, KeypairVars, WorkerSpec};
use crate::keys::{KeyRole, Keypair, generated_keypair, keypair_from_variable, own_signatures};

/// One worker of workers.json, handed to every step that runs against it.
///
/// `Debug` shows the name, address and public keys, never secrets.
pub struct Worker {
    spec: WorkerSpec,
    server_env: Vec<(String, EnvSource)>,
    run_env: Arc<EnvMap>,
    staking: Option<Keypair>,
    main: Option<Keypair>,
    /// How steps reach the running fleet; shared with the runner.
    churn: Arc<ChurnCell>,
}

impl Worker {
    /// Builds the worker and loads its keypairs from the files the
    /// `keypairs` variables name. Reads files only; generated keys come later.
    pub(crate) fn load(
        spec: WorkerSpec,
        run_env: Arc<EnvMap>,
        config: &Config,
    ) -> anyhow::Result<Self> {
        let mut server_env = spec.server_env.clone();
        let database_path = spec.database_path.display().to_string();
        server_env.extend([
            ("PORT".into(), EnvSource::Literal(spec.port.to_string())),
            ("DATABASE_PATH".into(), EnvSource::Literal(database_path)),
            ("PYTHONUNBUFFERED".into(), EnvSource::Literal("1".into())),
        ]);
        let (staking, main) = match &spec.keypairs {
            Some(vars) => load_named_keys(vars, &run_env, config).with_context(|| {
                format!(
                    "{}: worker `{}`",
                    config.workers_config.display(),
                    spec.name
                )
            })?,
            None => (None, None),
        };
        Ok(Self {
            spec,
            server_env,
            run_env,
            staking,
            main,
            churn: Arc::default(),
        })
    }

    /// Whether the worker has no `keypairs` and needs generated ones.
    pub(crate) fn wants_generated_keys(&self) -> bool {
        self.spec.keypairs.is_none()
    }

    /// Gives the worker generated keypairs, kept in `dir`.
    pub(crate) fn use_generated_keys(&mut self, dir: &Path, task_id: &str) -> anyhow::Result<()> {
        let name = &self.spec.name;
        self.staking = Some(generated_keypair(dir, task_id, name, KeyRole::Staking)?.0);
        self.main = Some(generated_keypair(dir, task_id, name, KeyRole::Main)?.0);
        Ok(())
    }

    /// Switches to the run's final environment (with a `MONGO_URI` chosen
    /// after the configuration was checked).
    pub(crate) fn use_env(&mut self, run_env: Arc<EnvMap>) {
        self.run_env = run_env;
    }

    /// Lets the worker reach the run's fleet through `cell`.
    pub(crate) fn use_churn(&mut self, cell: Arc<ChurnCell>) {
        self.churn = cell;
    }

    pub(crate) fn spec(&self) -> &WorkerSpec {
        &self.spec
    }

    /// The variables its server is started with, on top of the run's environment.
    pub(crate) fn server_env(&self) -> impl Iterator<Item = (&str, &str)> {
        self.server_env
            .iter()
            .map(|(name, _)| name.as_str())
            .filter_map(|name| Some((name, self.env(name)?)))
    }

    /// The worker's name (its key in workers.json).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Base URL of its server, like `http://localhost:5001` (no trailing slash).
    #[must_use]
    pub fn url(&self) -> &str {
        &self.spec.url
    }

    /// The port its server listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.spec.port
    }

    /// A field of the worker's workers.json entry (or one of `name`, `port`,
    /// `url`, `database_path`), converted to `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> anyhow::Result<T> {
        self.try_get(key)?.ok_or_else(|| {
            anyhow!(
                "worker `{}` has no field `{key}` in workers.json",
                self.spec.name
            )
        })
    }

    /// Like [`get`](Self::get), `None` when the field is absent.
    pub fn try_get<T: DeserializeOwned>(&self, key: &str) -> anyhow::Result<Option<T>> {
        self.spec
            .fields
            .get(key)
            .map(|v| {
                serde_json::from_value(v.clone()).with_context(|| {
                    format!(
                        "worker `{}`: field `{key}` has an unexpected type",
                        self.spec.name
                    )
                })
            })
            .transpose()
    }

    /// A variable of the environment the worker's server got: its mapped
    /// `env_vars`, `PORT`, `DATABASE_PATH`, then the run's environment.
    #[must_use]
    pub fn env(&self, key: &str) -> Option<&str> {
        match self.server_env.iter().find(|(name, _)| name == key) {
            Some((_, EnvSource::Literal(value))) => Some(value),
            Some((_, EnvSource::Var(source))) => self.run_env.get(source),
            None => self.run_env.get(key),
        }
    }

    /// The worker's `role` keypair: from the file (or text) its `keypairs`
    /// variable holds, or generated when it has no `keypairs`.
    ///
    /// Everything key-related goes through it: [`Keypair::public_key`],
    /// [`Keypair::sign`], [`Keypair::signing_key`]. The methods below are
    /// shorthands for the common cases.
    ///
    /// ```
    /// use prometheus_test::{KeyRole, Worker};
    ///
    /// fn signed_by_staking(worker: &Worker, payload: &serde_json::Value) -> anyhow::Result<String> {
    ///     Ok(worker.keypair(KeyRole::Staking)?.sign(payload)?)
    /// }
    /// ```
    pub fn keypair(&self, role: KeyRole) -> anyhow::Result<&Keypair> {
        let key = match role {
            KeyRole::Staking => self.staking.as_ref(),
            KeyRole::Main => self.main.as_ref(),
        };
        key.ok_or_else(|| {
            anyhow!(
                "worker `{}` has no {role} keypair: set `keypairs.{role}` in workers.json",
                self.spec.name,
                role = role
            )
        })
    }

    /// The staking public key, base58: `keypair(KeyRole::Staking)?.public_key()`.
    pub fn staking_public_key(&self) -> anyhow::Result<&str> {
        Ok(self.keypair(KeyRole::Staking)?.public_key())
    }

    /// The main public key, base58: `keypair(KeyRole::Main)?.public_key()`.
    pub fn main_public_key(&self) -> anyhow::Result<&str> {
        Ok(self.keypair(KeyRole::Main)?.public_key())
    }

    /// Signs `payload` with the staking key, Koii style: `keypair(KeyRole::Staking)?.sign(payload)`.
    pub fn sign_staking<T: Serialize + ?Sized>(&self, payload: &T) -> anyhow::Result<String> {
        self.sign(KeyRole::Staking, payload)
    }

    /// Signs `payload` with the main key, Koii style: `keypair(KeyRole::Main)?.sign(payload)`.
    pub fn sign_main<T: Serialize + ?Sized>(&self, payload: &T) -> anyhow::Result<String> {
        self.sign(KeyRole::Main, payload)
    }

    /// Stops the worker's server as a node that goes away: SIGTERM to its
    /// process group, SIGKILL after 2 s. This is not a crash: the step goes
    /// on, and requests to the worker fail to connect until it is started
    /// again. The report's timeline shows the gap.
    ///
    /// ```no_run
    /// # async fn step(runner: &prometheus_test::Runner) -> anyhow::Result<()> {
    /// let worker2 = runner.worker("worker2")?;
    /// worker2.stop().await?;
    /// // ... worker2 misses this round's submission ...
    /// worker2.start().await?; // same port, environment and keys; waits until ready
    /// # Ok(()) }
    /// ```
    ///
    /// Fails if the worker is not running (or paused), or is an external
    /// worker the harness does not run.
    pub async fn stop(&self) -> anyhow::Result<()> {
        self.churn(Action::Stop).await
    }

    /// Kills the worker's server at once (SIGKILL to its process group).
    /// Like [`stop`](Self::stop), not a crash.
    pub async fn kill(&self) -> anyhow::Result<()> {
        self.churn(Action::Kill).await
    }

    /// Starts a stopped worker again, with the same command, port,
    /// environment and keys, and waits until it is ready as at the run's
    /// start. Fails if it is running or paused.
    pub async fn start(&self) -> anyhow::Result<()> {
        self.churn(Action::Start).await
    }

    /// [`stop`](Self::stop) (when it runs) then [`start`](Self::start).
    pub async fn restart(&self) -> anyhow::Result<()> {
        self.churn(Action::Restart).await
    }

    /// Freezes the worker's server (SIGSTOP to its process group): it holds
    /// its connections but answers nothing until [`resume`](Self::resume).
    /// Fails if it is not running.
    pub async fn pause(&self) -> anyhow::Result<()> {
        self.churn(Action::Pause).await
    }

    /// Lets a paused worker run again (SIGCONT). Fails if it is not paused.
    pub async fn resume(&self) -> anyhow::Result<()> {
        self.churn(Action::Resume).await
    }

    /// Whether the worker's server is stopped: by a step's
    /// [`stop`](Self::stop) or [`kill`](Self::kill), or by a `crash` drawn
    /// from config.yaml's `faults`, until [`start`](Self::start) runs it
    /// again. False while it runs or is paused, for an external worker, and
    /// outside the steps.
    ///
    /// ```no_run
    /// # async fn step(worker: &prometheus_test::Worker) -> anyhow::Result<()> {
    /// // A node's supervisor: a crashed worker is started again.
    /// if worker.is_stopped() {
    ///     worker.start().await?;
    /// }
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn is_stopped(&self) -> bool {
        self.churn.is_stopped(&self.spec.name)
    }

    async fn churn(&self, action: Action) -> anyhow::Result<()> {
        let name = &self.spec.name;
        self.churn
            .apply(name, action, || {
                anyhow!(
                    "cannot {action} {name}: the workers are not running now (only steps can \
                     change them)"
                )
            })
            .await
    }

    /// Signs with `role`'s key and remembers the signer for the recorder.
    fn sign<T: Serialize + ?Sized>(&self, role: KeyRole, payload: &T) -> anyhow::Result<String> {
        let keypair = self.keypair(role)?;
        let signed = keypair.sign(payload)?;
        own_signatures::remember(&signed, keypair.public_key());
        Ok(signed)
    }
}

impl fmt::Debug for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("name", &self.spec.name)
            .field("url", &self.spec.url)
            .field(
                "staking_public_key",
                &self.staking.as_ref().map(Keypair::public_key),
            )
            .field(
                "main_public_key",
                &self.main.as_ref().map(Keypair::public_key),
            )
            .finish_non_exhaustive()
    }
}

fn load_named_keys(
    vars: &KeypairVars,
    env: &EnvMap,
    config: &Config,
) -> anyhow::Result<(Option<Keypair>, Option<Keypair>)> {
    let dirs = [config.tests_dir.as_path(), config.project_dir.as_path()];
    let load = |role: KeyRole, var: &Option<String>| -> anyhow::Result<Option<Keypair>> {
        var.as_deref()
            .map(|var| keypair_from_variable(vars.key_of(role), var, env.get(var), &dirs))
            .transpose()
    };
    Ok((
        load(KeyRole::Staking, &vars.staking)?,
        load(KeyRole::Main, &vars.main)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load_workers;

    #[test]
    fn signing_remembers_the_signer_for_the_recorder() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::parse(
            &dir.path().join("config.yaml"),
            "task_id: t\nmax_rounds: 1\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("workers.json"),
            r#"{"worker1": {"url": "http://127.0.0.1:9",
                "keypairs": {"staking": "W1_STAKING", "main": "W1_MAIN"}}}"#,
        )
        .unwrap();
        let env = Arc::new(EnvMap::from_pairs([
            (
                "W1_STAKING",
                Keypair::from_seed([3; 32]).to_keypair_file_json(),
            ),
            (
                "W1_MAIN",
                Keypair::from_seed([4; 32]).to_keypair_file_json(),
            ),
        ]));
        let spec = load_workers(&config, &env).unwrap().remove(0);
        let worker = Worker::load(spec, env, &config).unwrap();
        let payload = serde_json::json!({"test": "worker signing", "round": 1});
        for (signed, role) in [
            (worker.sign_staking(&payload).unwrap(), KeyRole::Staking),
            (worker.sign_main(&payload).unwrap(), KeyRole::Main),
        ] {
            let key = worker.keypair(role).unwrap().public_key();
            assert_eq!(own_signatures::signer_of(&signed).as_deref(), Some(key));
            crate::verify_signature(&signed, key).unwrap();
        }
    }
}
