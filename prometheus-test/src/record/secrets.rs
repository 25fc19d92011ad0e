//! What the run knows to be secret before any step runs.
//!
//! - every worker's staking and main keypair (seed and 64-byte secret key, in
//!   every encoding [`Redactor`] searches),
//! - the values of the variables workers.json maps into worker servers
//!   (`env_vars`), except `DATA_DIR` (a path) and values shorter than
//!   [`MIN_ENV_VALUE_LEN`] characters, which would match unrelated text,
//! - the credentials in `MONGO_URI` (user and password),
//! - config.yaml's `secret_headers` and `secret_fields` lists: header names and
//!   JSON field names whose values always read `[redacted]`.
//!
//! Steps add their own with [`Runner::secret`](crate::Runner::secret).

use super::redact::Redactor;
use crate::Worker;
use crate::config::{Config, EnvMap, EnvSource};
use crate::keys::KeyRole;

/// Mapped env var values shorter than this are not searched for.
pub(crate) const MIN_ENV_VALUE_LEN: usize = 4;

/// (name, base58 staking public key) of every worker.
pub(crate) fn worker_keys(workers: &[Worker]) -> Vec<(String, Option<String>)> {
    workers
        .iter()
        .map(|w| {
            (
                w.name().to_owned(),
                w.staking_public_key().ok().map(str::to_owned),
            )
        })
        .collect()
}

/// The redactor of a run with these workers, environment and config.
pub(crate) fn run_redactor(config: &Config, workers: &[Worker], env: &EnvMap) -> Redactor {
    let mut redactor = Redactor::new();
    for worker in workers {
        for (role, label) in [(KeyRole::Staking, "staking"), (KeyRole::Main, "main")] {
            if let Ok(keypair) = worker.keypair(role) {
                redactor.keypair(&format!("{} {label} keypair", worker.name()), keypair);
            }
        }
        for (server_var, source) in &worker.spec().server_env {
            let EnvSource::Var(name) = source else {
                continue;
            };
            if server_var == "DATA_DIR" || name == "MONGO_URI" {
                continue;
            }
            if let Some(value) = env.get(name)
                && value.chars().count() >= MIN_ENV_VALUE_LEN
            {
                redactor.secret(&format!("env {name}"), value);
            }
        }
    }
    if let Some(uri) = env.get("MONGO_URI") {
        redactor.uri_credentials("MONGO_URI credentials", uri);
    }
    for (key, add) in [
        (
            "secret_headers",
            Redactor::secret_header as fn(&mut Redactor, &str),
        ),
        ("secret_fields", Redactor::secret_field),
    ] {
        if let Some(serde_json::Value::Array(names)) = config.extra.get(key) {
            for name in names.iter().filter_map(serde_json::Value::as_str) {
                add(&mut redactor, name);
            }
        }
    }
    redactor
}
