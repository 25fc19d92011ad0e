//! The run's recorder, told what is secret and what is plain in this run:
//! the glue between the checked configuration, workers and environment and
//! the plain data [`record::secrets`](crate::record::secrets) takes; and the
//! one redaction stage every text a step hands back goes through before an
//! event carries it to the writers.

use std::fmt::Write as _;

use crate::config::{Config, EnvMap};
use crate::events::Outcome;
use crate::record::secrets::SecretLists;
use crate::record::shared::SharedRecorder;
use crate::{Runner, Worker};

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

/// `text` with the run's secrets replaced by the run's recorder: a step's
/// failure, skip reason or failed attempt, before any event carries it.
pub(super) fn redact(runner: &Runner, text: &str) -> String {
    runner
        .recorder()
        .redact_or(text, "(a text not shown: the run's reports were written)")
}

/// `outcome` with its texts redacted (see [`redact`]).
pub(super) fn redact_outcome(runner: &Runner, outcome: Outcome) -> Outcome {
    outcome.map_text(|text| redact(runner, text))
}

/// The note on the mapped variables whose values the run redacted in its
/// outputs (names only, never values), suggesting `plain_env` for those
/// whose values look like names; `None` when it redacted none.
pub(super) fn redacted_vars_note(runner: &Runner) -> Option<String> {
    let vars = runner
        .recorder()
        .with(|recorder| crate::record::secrets::redacted_mapped_vars(recorder.redactor()))?;
    if vars.is_empty() {
        return None;
    }
    let all: Vec<&str> = vars.iter().map(|(name, _)| name.as_str()).collect();
    let mut note = format!(
        "redacted as secrets in this run's outputs: the values of {} (mapped by workers.json \
         `env_vars`)",
        all.join(", ")
    );
    let names: Vec<&str> = vars
        .iter()
        .filter(|(_, name_like)| *name_like)
        .map(|(name, _)| name.as_str())
        .collect();
    if !names.is_empty() {
        let (these, look, a_name, it) = match names.len() {
            1 => (names[0].to_owned(), "looks", "a name, not a secret", "it"),
            _ => (names.join(", "), "look", "names, not secrets", "them"),
        };
        let _ = write!(
            note,
            "; {these} {look} like {a_name}: if so, list {it} in config.yaml's `plain_env` \
             (`plain_env: [{}]`) to show {it} as written",
            names.join(", ")
        );
    }
    Some(note)
}
