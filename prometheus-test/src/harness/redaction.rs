//! The run's recorder, told what is secret and what is plain in this run:
//! the glue between the checked configuration, workers and environment and
//! the plain data [`record::secrets`](crate::record::secrets) takes.

use crate::Worker;
use crate::config::{Config, EnvMap};
use crate::record::secrets::SecretLists;
use crate::record::shared::SharedRecorder;

/// The run's recorder, knowing the secrets of `config` (with its `lists`,
/// checked when the run was loaded), `workers` and `env` (see
/// `record::secrets`).
pub(super) fn recorder_of(
    config: &Config,
    lists: SecretLists,
    workers: &[Worker],
    env: &EnvMap,
) -> SharedRecorder {
    use crate::config::EnvSource;
    use crate::keys::KeyRole;
    use crate::record::secrets::{
        SuiteSecrets, WorkerSecrets, extra_strings, run_redactor, worker_keys,
    };
    let workers: Vec<WorkerSecrets<'_>> = workers
        .iter()
        .map(|worker| WorkerSecrets {
            name: worker.name(),
            staking: worker.keypair(KeyRole::Staking).ok(),
            main: worker.keypair(KeyRole::Main).ok(),
            env_vars: worker
                .spec()
                .server_env
                .iter()
                .filter_map(|(_, source)| match source {
                    EnvSource::Var(name) => Some((name.as_str(), env.get(name)?)),
                    EnvSource::Literal(_) => None,
                })
                .collect(),
        })
        .collect();
    let typed = [
        ("task_id", Some(config.task_id.as_str())),
        ("middle_server_url", config.middle_server_url.as_deref()),
        ("rounds_collection", config.rounds_collection.as_deref()),
        ("cargo_bin", config.cargo_bin.as_deref()),
        ("python", config.python.as_deref()),
        ("health_path", config.health_path.as_deref()),
        ("mongodb.database", Some(config.mongodb.database.as_str())),
    ];
    let suite = SuiteSecrets {
        config_values: typed
            .into_iter()
            .filter_map(|(key, value)| Some((key, value?)))
            .chain(extra_strings(&config.extra))
            .collect(),
        lists,
        mongo_uri: env.get("MONGO_URI"),
    };
    SharedRecorder::new(
        &config.task_id,
        &worker_keys(&workers),
        run_redactor(&suite, &workers),
    )
}
