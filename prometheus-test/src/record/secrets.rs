//! What the run knows to be secret before any step runs, and what it knows
//! is not.
//!
//! Secret, replaced in every form [`Redactor`] searches:
//! - every worker's staking and main keypair (seed and 64-byte secret key),
//! - the values of the variables workers.json maps into worker servers
//!   (`env_vars`), except plain ones (below), `MONGO_URI` (its credentials
//!   are secret instead) and values shorter than [`MIN_ENV_VALUE_LEN`]
//!   characters, which would match unrelated text,
//! - the credentials (user and password) of `MONGO_URI` and of any plain
//!   value that is a URI,
//! - config.yaml's `secret_headers` and `secret_fields` lists: header names and
//!   JSON field names whose values always read `[redacted]`.
//!
//! Plain, shown as they are:
//! - a mapped variable whose value is also a value of config.yaml
//!   (`task_id`, `middle_server_url`, `mongodb.database`, any other top-level
//!   string): the file is committed with the suite, so its values are not
//!   secret; a key that `secret_fields` names holds no plain value,
//! - a variable config.yaml's `plain_env` list names.
//!
//! Steps add secrets of their own with [`Runner::secret`](crate::Runner::secret).
//!
//! A mapped value that [looks like a name](looks_like_a_name) is still
//! secret, but marked so: the run's last note suggests `plain_env` for it
//! when it was redacted (see [`redacted_mapped_vars`]).
//!
//! Everything comes in as plain data ([`SuiteSecrets`], [`WorkerSecrets`]):
//! the caller reads config.yaml, workers.json and the environment.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::bail;
use serde_json::{Map, Value};

use super::redact::Redactor;
use crate::Keypair;

/// Mapped env var values shorter than this are not searched for.
pub(crate) const MIN_ENV_VALUE_LEN: usize = 4;

/// One worker's part in the run's secrets.
#[derive(Debug, Clone)]
pub(crate) struct WorkerSecrets<'a> {
    /// Its key in workers.json.
    pub(crate) name: &'a str,
    /// Its staking keypair, if it has one.
    pub(crate) staking: Option<&'a Keypair>,
    /// Its main keypair, if it has one.
    pub(crate) main: Option<&'a Keypair>,
    /// Each variable of the run workers.json maps into its server
    /// (`env_vars`), with its value: (`TODO_TASK_ID`, `todo-task-e2e`).
    pub(crate) env_vars: Vec<(&'a str, &'a str)>,
}

/// The suite's part in the run's secrets.
#[derive(Debug, Clone, Default)]
pub(crate) struct SuiteSecrets<'a> {
    /// config.yaml's values as (key, value): `task_id`, the other strings it
    /// holds, `mongodb.database`; [`extra_strings`] gives the extra keys'.
    pub(crate) config_values: Vec<(&'a str, &'a str)>,
    /// config.yaml's `plain_env`, `secret_headers` and `secret_fields`.
    pub(crate) lists: SecretLists,
    /// The run's `MONGO_URI`, if set.
    pub(crate) mongo_uri: Option<&'a str>,
}

/// The lists config.yaml may hold about secrets, each a list of names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SecretLists {
    /// `plain_env`: variables of the run whose values are not secret.
    pub(crate) plain_env: Vec<String>,
    /// `secret_headers`: headers whose values read `[redacted]`.
    pub(crate) secret_headers: Vec<String>,
    /// `secret_fields`: JSON fields whose values read `[redacted]`.
    pub(crate) secret_fields: Vec<String>,
}

impl SecretLists {
    /// The lists among config.yaml's extra keys (`file` is config.yaml, for
    /// messages). A key that is not a list of strings is an error naming the
    /// file and the key.
    pub(crate) fn from_extra(file: &Path, extra: &Map<String, Value>) -> anyhow::Result<Self> {
        let list = |key: &str, what: &str, example: &str| -> anyhow::Result<Vec<String>> {
            let Some(value) = extra.get(key) else {
                return Ok(Vec::new());
            };
            let names = value.as_array().and_then(|items| {
                items
                    .iter()
                    .map(|item| item.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
            });
            match names {
                Some(names) => Ok(names),
                None => bail!(
                    "{}: `{key}` must be a list of {what}, like `{key}: {example}`, found {value}",
                    file.display()
                ),
            }
        };
        Ok(Self {
            plain_env: list("plain_env", "variable names", "[TASK_ID]")?,
            secret_headers: list("secret_headers", "header names", "[x-session]")?,
            secret_fields: list("secret_fields", "JSON field names", "[password]")?,
        })
    }
}

/// config.yaml's extra keys whose values are strings, as (key, value).
pub(crate) fn extra_strings(extra: &Map<String, Value>) -> impl Iterator<Item = (&str, &str)> {
    extra
        .iter()
        .filter_map(|(key, value)| Some((key.as_str(), value.as_str()?)))
}

/// (name, base58 staking public key) of every worker.
pub(crate) fn worker_keys(workers: &[WorkerSecrets<'_>]) -> Vec<(String, Option<String>)> {
    workers
        .iter()
        .map(|w| {
            (
                w.name.to_owned(),
                w.staking.map(|keypair| keypair.public_key().to_owned()),
            )
        })
        .collect()
}

/// The redactor of a run of `suite` with `workers`; see the [module](self) docs.
pub(crate) fn run_redactor(suite: &SuiteSecrets<'_>, workers: &[WorkerSecrets<'_>]) -> Redactor {
    let lists = &suite.lists;
    let plain_values: BTreeSet<&str> = suite
        .config_values
        .iter()
        .filter(|(key, _)| !lists.secret_fields.iter().any(|field| field == key))
        .map(|(_, value)| *value)
        .collect();
    let mut redactor = Redactor::new();
    for worker in workers {
        for (role, keypair) in [("staking", worker.staking), ("main", worker.main)] {
            if let Some(keypair) = keypair {
                redactor.keypair(&format!("{} {role} keypair", worker.name), keypair);
            }
        }
        for &(name, value) in &worker.env_vars {
            if name == "MONGO_URI" {
                continue;
            }
            if plain_values.contains(value) || lists.plain_env.iter().any(|plain| plain == name) {
                redactor.uri_credentials(&format!("env {name} credentials"), value);
            } else if value.chars().count() >= MIN_ENV_VALUE_LEN {
                let label = format!("{MAPPED_LABEL}{name}");
                redactor.secret(&label, value);
                if looks_like_a_name(value, workers) {
                    redactor.mark_name_like(&label);
                }
            }
        }
    }
    if let Some(uri) = suite.mongo_uri {
        redactor.uri_credentials("MONGO_URI credentials", uri);
    }
    for name in &lists.secret_headers {
        redactor.secret_header(name);
    }
    for name in &lists.secret_fields {
        redactor.secret_field(name);
    }
    redactor
}

/// How the label of a mapped variable's value begins: `env API_TOKEN`.
const MAPPED_LABEL: &str = "env ";

/// Whether a mapped variable's `value` looks like a name rather than a
/// secret: a worker's name, or at most [`NAME_MAX_LEN`] characters of words
/// joined by `-`, `_` or `.`, each word lowercase letters with an optional
/// number after them or a number alone, with one letter at least
/// (`worker2`, `eu-west-1`, `todo_task`, `v1.2`).
///
/// Names people choose read that way; generated secrets (tokens, keys,
/// passwords, hex, base58 or base64 text) mix upper and lower case, put
/// letters after digits (`k8s2jq9x`, `3f9a8c0d`) or are longer. A number
/// alone (a PIN, a port) is not counted as a name.
pub(crate) fn looks_like_a_name(value: &str, workers: &[WorkerSecrets<'_>]) -> bool {
    if workers.iter().any(|worker| worker.name == value) {
        return true;
    }
    let word = |word: &str| {
        let letters = word.trim_end_matches(|c: char| c.is_ascii_digit());
        !word.is_empty() && letters.chars().all(|c| c.is_ascii_lowercase())
    };
    value.len() <= NAME_MAX_LEN
        && value.chars().any(|c| c.is_ascii_lowercase())
        && value.split(['-', '_', '.']).all(word)
}

/// The longest value [`looks_like_a_name`] takes for a name.
const NAME_MAX_LEN: usize = 32;

/// The mapped variables whose values `redactor` replaced so far, by name,
/// each with whether its value [looks like a name](looks_like_a_name).
pub(crate) fn redacted_mapped_vars(redactor: &Redactor) -> Vec<(String, bool)> {
    redactor
        .replaced_labels()
        .into_iter()
        .filter_map(|label| {
            let name = label.strip_prefix(MAPPED_LABEL)?;
            (!name.contains(' ')).then(|| (name.to_owned(), redactor.is_name_like(&label)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::json;

    use super::*;

    const TOKEN: &str = "ghp_SecretToken0123456789";

    fn extra(value: &Value) -> Map<String, Value> {
        value.as_object().expect("an object").clone()
    }

    /// A suite whose config.yaml holds `task-7` and whose worker maps
    /// `TASK_ID=task-7`, `REGION=eu-west-1`, `API_TOKEN` and `MONGO_URI`.
    fn redactor(lists: SecretLists, config_values: &[(&'static str, &'static str)]) -> Redactor {
        let staking = Keypair::from_seed([3; 32]);
        let suite = SuiteSecrets {
            config_values: config_values.to_vec(),
            lists,
            mongo_uri: Some("mongodb://admin:hunter22@db:27017/x"),
        };
        let workers = [WorkerSecrets {
            name: "worker1",
            staking: Some(&staking),
            main: None,
            env_vars: vec![
                ("TASK_ID", "task-7"),
                ("REGION", "eu-west-1"),
                ("API_TOKEN", TOKEN),
                ("MONGO_URI", "mongodb://admin:hunter22@db:27017/x"),
            ],
        }];
        run_redactor(&suite, &workers)
    }

    const TEXT: &str = "task task-7 in eu-west-1 with ghp_SecretToken0123456789 on \
                        mongodb://admin:hunter22@db:27017/x";

    #[test]
    fn a_mapped_value_that_config_yaml_holds_is_plain() {
        let redactor = redactor(SecretLists::default(), &[("task_id", "task-7")]);
        assert_eq!(
            redactor.redact(TEXT),
            "task task-7 in [redacted: env REGION] with [redacted: env API_TOKEN] on \
             mongodb://[redacted: MONGO_URI credentials]@db:27017/x"
        );
    }

    #[test]
    fn a_variable_plain_env_names_is_plain() {
        let lists = SecretLists {
            plain_env: vec!["REGION".into()],
            ..SecretLists::default()
        };
        assert_eq!(
            redactor(lists, &[]).redact(TEXT),
            "task [redacted: env TASK_ID] in eu-west-1 with [redacted: env API_TOKEN] on \
             mongodb://[redacted: MONGO_URI credentials]@db:27017/x"
        );
    }

    #[test]
    fn a_key_secret_fields_names_holds_no_plain_value() {
        let lists = SecretLists {
            secret_fields: vec!["region".into()],
            ..SecretLists::default()
        };
        let redactor = redactor(lists, &[("task_id", "task-7"), ("region", "eu-west-1")]);
        assert_eq!(
            redactor.redact(TEXT),
            "task task-7 in [redacted: env REGION] with [redacted: env API_TOKEN] on \
             mongodb://[redacted: MONGO_URI credentials]@db:27017/x"
        );
    }

    #[test]
    fn a_plain_uri_keeps_its_credentials_secret() {
        let suite = SuiteSecrets {
            config_values: vec![("middle_server_url", "https://bot:pa55word@mid.example/api")],
            ..SuiteSecrets::default()
        };
        let workers = [WorkerSecrets {
            name: "worker1",
            staking: None,
            main: None,
            env_vars: vec![("MIDDLE_SERVER_URL", "https://bot:pa55word@mid.example/api")],
        }];
        assert_eq!(
            run_redactor(&suite, &workers).redact("GET https://bot:pa55word@mid.example/api/x"),
            "GET https://[redacted: env MIDDLE_SERVER_URL credentials]@mid.example/api/x"
        );
    }

    #[test]
    fn a_value_looks_like_a_name_when_it_is_a_workers_name_or_reads_as_words() {
        let workers = [WorkerSecrets {
            name: "Alpha_Node",
            staking: None,
            main: None,
            env_vars: vec![],
        }];
        let named: Vec<bool> = [
            "Alpha_Node",
            "worker2",
            "eu-west-1",
            "todo_task",
            "v1.2",
            "abcdefghijklmnopqrstuvwxyzabcdef",
            // Not names: mixed case, letters after digits, too long, a number.
            "Hunter22",
            "k8s2jq9x",
            "3f9a8c0d1e2b",
            "abcdefghijklmnopqrstuvwxyzabcdefg",
            "4821",
            "a--b",
            TOKEN,
        ]
        .iter()
        .map(|value| looks_like_a_name(value, &workers))
        .collect();
        assert_eq!(
            named,
            [
                true, true, true, true, true, true, false, false, false, false, false, false, false
            ]
        );
    }

    #[test]
    fn the_redacted_mapped_variables_are_named_with_whether_they_look_like_names() {
        let redactor = redactor(SecretLists::default(), &[]);
        assert_eq!(redacted_mapped_vars(&redactor), []);
        redactor.redact(TEXT);
        assert_eq!(
            redacted_mapped_vars(&redactor),
            [
                ("API_TOKEN".to_owned(), false),
                ("REGION".to_owned(), true),
                ("TASK_ID".to_owned(), true),
            ],
            "MONGO_URI's credentials are not a mapped value"
        );
    }

    #[test]
    fn keypairs_are_secret_and_named_by_worker_and_role() {
        let staking = Keypair::from_seed([3; 32]);
        let main = Keypair::from_seed([4; 32]);
        let workers = [WorkerSecrets {
            name: "worker1",
            staking: Some(&staking),
            main: Some(&main),
            env_vars: vec![],
        }];
        let redactor = run_redactor(&SuiteSecrets::default(), &workers);
        let seeds = format!("{} {}", hex::encode([3; 32]), hex::encode([4; 32]));
        assert_eq!(
            redactor.redact(&seeds),
            "[redacted: worker1 staking keypair] [redacted: worker1 main keypair]"
        );
        assert_eq!(
            worker_keys(&workers),
            [("worker1".to_owned(), Some(staking.public_key().to_owned()))]
        );
    }

    #[test]
    fn the_lists_are_read_from_config_yaml_extra_keys() {
        let file = PathBuf::from("/suite/tests/config.yaml");
        let lists = SecretLists::from_extra(
            &file,
            &extra(&json!({
                "plain_env": ["TODO_TASK_ID"],
                "secret_headers": ["x-session"],
                "secret_fields": ["password", "refresh_token"],
                "forgery_target": "worker2",
            })),
        )
        .unwrap();
        assert_eq!(
            lists,
            SecretLists {
                plain_env: vec!["TODO_TASK_ID".into()],
                secret_headers: vec!["x-session".into()],
                secret_fields: vec!["password".into(), "refresh_token".into()],
            }
        );
        assert_eq!(
            SecretLists::from_extra(&file, &Map::new()).unwrap(),
            SecretLists::default()
        );
    }

    #[test]
    fn a_list_that_is_not_a_list_of_names_is_an_error() {
        let file = PathBuf::from("/suite/tests/config.yaml");
        let error = |value: Value| {
            SecretLists::from_extra(&file, &extra(&value))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            error(json!({"plain_env": "TODO_TASK_ID"})),
            "/suite/tests/config.yaml: `plain_env` must be a list of variable names, like \
             `plain_env: [TASK_ID]`, found \"TODO_TASK_ID\""
        );
        assert_eq!(
            error(json!({"secret_headers": ["x-session", 3]})),
            "/suite/tests/config.yaml: `secret_headers` must be a list of header names, like \
             `secret_headers: [x-session]`, found [\"x-session\",3]"
        );
        assert_eq!(
            error(json!({"secret_fields": {"password": true}})),
            "/suite/tests/config.yaml: `secret_fields` must be a list of JSON field names, like \
             `secret_fields: [password]`, found {\"password\":true}"
        );
    }

    #[test]
    fn extra_strings_are_the_top_level_string_values() {
        let extra = extra(&json!({
            "forgery_target": "worker2",
            "plain_env": ["X"],
            "repo": {"owner": "koii"},
            "stars": 3,
        }));
        assert_eq!(
            extra_strings(&extra).collect::<Vec<_>>(),
            [("forgery_target", "worker2")]
        );
    }

    #[test]
    fn config_yaml_keeps_the_lists_as_extra_keys_without_a_typo_warning() {
        let config = crate::config::Config::parse(
            std::path::Path::new("/suite/tests/config.yaml"),
            "task_id: t\nmax_rounds: 1\nplain_env: [TODO_TASK_ID]\n\
             secret_headers: [x-session]\nsecret_fields: [password]\n",
        )
        .unwrap();
        assert_eq!(
            config.extra,
            extra(&json!({
                "plain_env": ["TODO_TASK_ID"],
                "secret_headers": ["x-session"],
                "secret_fields": ["password"],
            }))
        );
        assert_eq!(config.warnings, Vec::<String>::new());
    }
}
