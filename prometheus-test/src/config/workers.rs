//! workers.json: one entry per worker, in file order (ports default to
//! `base_port + index`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use serde_json::{Map, Value};

use super::names::check_worker_name;
use super::python::python_interpreter;
use super::seconds::positive_seconds;
use super::text::{read_text, strip_bom};
use super::typos::likely_meant;
use super::{Config, EnvMap};
use crate::keys::KeyRole;

/// The fields with a meaning of their own; every other field is an extra
/// value steps read with `Worker::get`.
const RESERVED: &[&str] = &["env_vars", "keypairs"];

/// Every field workers.json understands, for spotting misspelt ones.
const KNOWN_FIELDS: &[&str] = &[
    "port",
    "url",
    "command",
    "cargo_bin",
    "server_entrypoint",
    "python",
    "env_vars",
    "keypairs",
    "health_path",
    "start_timeout",
    "image",
];

/// Fields whose name says they hold the server's environment: a server
/// never sees them, as only `env_vars` is passed on.
const ENVIRONMENT_LIKE: &[&str] = &[
    "env",
    "envs",
    "environment",
    "env_variables",
    "environment_variables",
];

/// The env var names that hold a worker's keypair file paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct KeypairVars {
    pub(crate) staking: Option<String>,
    pub(crate) main: Option<String>,
    /// `main` was written as `public`, its name in prometheus-test 0.1.0.
    pub(crate) main_as_public: bool,
}

impl KeypairVars {
    /// The `keypairs` key that names `role`'s variable, as written in
    /// workers.json (for messages): `staking`, `main` or `public`.
    #[must_use]
    pub(crate) fn key_of(&self, role: KeyRole) -> &'static str {
        match role {
            KeyRole::Main if self.main_as_public => "public",
            role => role.as_str(),
        }
    }
}

/// How a worker's server is started, or that it runs elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Launch {
    /// Program and arguments, resolved.
    Spawn(Vec<OsString>),
    /// A server that is already running at the worker's `url`.
    External,
    /// A container of a local image on the Docker Engine, running `command`
    /// (the image's own command when empty) inside.
    Container { image: String, command: Vec<String> },
}

impl Launch {
    /// The command line, for messages about a start that failed (`None`
    /// for an external server). Arguments with spaces or quotes are quoted.
    #[must_use]
    pub(crate) fn command_line(&self) -> Option<String> {
        let Self::Spawn(parts) = self else {
            return None;
        };
        let shown: Vec<String> = parts
            .iter()
            .map(|part| {
                let part = part.to_string_lossy();
                if part.is_empty()
                    || part.contains(|c: char| c.is_whitespace() || "'\"\\$".contains(c))
                {
                    format!("'{}'", part.replace('\'', r"'\''"))
                } else {
                    part.into_owned()
                }
            })
            .collect();
        Some(shown.join(" "))
    }
}

/// Where a server variable's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EnvSource {
    /// Taken as written (`DATA_DIR`, and the runner's own `PORT`, ...).
    Literal(String),
    /// The value of this variable of the run's environment, read when the
    /// server starts (so a `MONGO_URI` chosen later is seen).
    Var(String),
}

/// One worker of workers.json, validated. It holds names of variables, never
/// their values (those stay in the run's `EnvMap`).
#[derive(Debug, Clone)]
pub(crate) struct WorkerSpec {
    pub(crate) name: String,
    pub(crate) port: u16,
    pub(crate) url: String,
    pub(crate) database_path: PathBuf,
    pub(crate) launch: Launch,
    /// Server variable → where its value comes from (values may be secret).
    pub(crate) server_env: Vec<(String, EnvSource)>,
    /// `None`: no `keypairs` entry, so the framework generates keypairs.
    pub(crate) keypairs: Option<KeypairVars>,
    pub(crate) health_path: Option<String>,
    pub(crate) start_timeout: Duration,
    /// Every field as `Worker::get` sees it: defaults, then the file's own.
    pub(crate) fields: Map<String, Value>,
    /// Things worth telling the user that do not stop the run (a field that
    /// looks like a misspelt known one, `keypairs.public`), for the harness
    /// to print.
    pub(crate) warnings: Vec<String>,
}

/// Reads and validates workers.json; every problem of every worker is reported.
pub(crate) fn load_workers(config: &Config, env: &EnvMap) -> anyhow::Result<Vec<WorkerSpec>> {
    let path = &config.workers_config;
    let text = read_text(path, "workers file")?;
    parse_workers(config, env, path, &text)
}

pub(crate) fn parse_workers(
    config: &Config,
    env: &EnvMap,
    path: &Path,
    text: &str,
) -> anyhow::Result<Vec<WorkerSpec>> {
    let shown = path.display();
    let text = strip_bom(text).unwrap_or(text);
    let root: Value =
        serde_json::from_str(text).map_err(|e| anyhow!("{shown}: not valid JSON: {e}"))?;
    let Value::Object(entries) = root else {
        bail!("{shown}: expected an object mapping worker names to their settings");
    };
    if entries.is_empty() {
        bail!("{shown}: no workers defined");
    }
    let mut problems = super::Problems::default();
    let mut workers = Vec::new();
    for (index, (name, value)) in entries.into_iter().enumerate() {
        let result = check_worker_name(&name)
            .and_then(|()| parse_worker(config, env, index, &name, value))
            .map_err(|e| anyhow!("{shown}: worker `{name}`: {e:#}"));
        if let Some(mut worker) = problems.take(result) {
            let notes = std::mem::take(&mut worker.warnings)
                .into_iter()
                .chain(unknown_field_warnings(&worker));
            worker.warnings = notes
                .map(|note| format!("{shown}: worker `{name}`: {note}"))
                .collect();
            workers.push(worker);
        }
    }
    check_unique_ports(&workers, &mut problems, &shown.to_string());
    problems.into_result(workers).map_err(Into::into)
}

fn parse_worker(
    config: &Config,
    env: &EnvMap,
    index: usize,
    name: &str,
    value: Value,
) -> anyhow::Result<WorkerSpec> {
    let Value::Object(fields) = value else {
        bail!("expected an object of settings");
    };
    let port = match fields.get("port") {
        None => u16::try_from(usize::from(config.base_port) + index)
            .map_err(|_| anyhow!("`base_port` + {index} is past port 65535"))?,
        Some(v) => v
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p > 0)
            .ok_or_else(|| anyhow!("`port` must be an integer from 1 to 65535, found {v}"))?,
    };
    let launch = launch(config, env, &fields)?;
    let url = match fields.get("url") {
        // A container on a remote engine listens on the engine's host.
        None => match (&launch, crate::process::remote_engine_host()) {
            (Launch::Container { .. }, Some(host)) => format!("http://{host}:{port}"),
            _ => format!("http://localhost:{port}"),
        },
        Some(Value::String(url)) => url.trim_end_matches('/').to_owned(),
        Some(v) => bail!("`url` must be a string, found {v}"),
    };
    let database_path = config.data_dir.join(format!("database_{name}.db"));
    let server_env = server_env(env, &fields)?;
    let (keypairs, warnings) = keypair_vars(&fields)?;
    let health_path = match fields.get("health_path") {
        None => config.health_path.clone(),
        Some(Value::String(p)) if p.starts_with('/') => Some(p.clone()),
        Some(v) => bail!("`health_path` must be a string starting with `/`, found {v}"),
    };
    let start_timeout = match fields.get("start_timeout") {
        None => config.start_timeout,
        Some(v) => positive_seconds("start_timeout", v.as_f64(), v)?,
    };
    let mut all = Map::new();
    all.insert("name".into(), name.into());
    all.insert("port".into(), port.into());
    all.insert("url".into(), url.clone().into());
    all.insert(
        "database_path".into(),
        database_path.display().to_string().into(),
    );
    all.extend(
        fields
            .into_iter()
            .filter(|(k, _)| !RESERVED.contains(&k.as_str())),
    );
    all.insert("port".into(), port.into());
    Ok(WorkerSpec {
        name: name.to_owned(),
        port,
        url,
        database_path,
        launch,
        server_env,
        keypairs,
        health_path,
        start_timeout,
        fields: all,
        warnings,
    })
}

/// Resolves how the worker starts: the worker's own `command`, `cargo_bin`
/// or `server_entrypoint`; an external server when it has only a `url`;
/// else config.yaml's `cargo_bin` or `server_entrypoint`; else
/// `<project>/main.py` as in the original.
fn launch(config: &Config, env: &EnvMap, fields: &Map<String, Value>) -> anyhow::Result<Launch> {
    let python = match fields.get("python") {
        None => config.python.as_deref(),
        Some(Value::String(python)) => Some(python.as_str()),
        Some(v) => bail!("`python` must be a string (a path or a program name), found {v}"),
    };
    let entrypoint = |path: &Path| {
        entrypoint(path, || {
            python_interpreter(python, &config.project_dir, env)
        })
    };
    if let Some(image) = fields.get("image") {
        return container(image, fields);
    }
    if let Some(command) = fields.get("command") {
        let mut parts = command_parts(command)?.into_iter();
        let program = parts.next().unwrap_or_default();
        let program = if program.contains('/') {
            existing(&config.project_dir.join(&program), "command")?.into_os_string()
        } else {
            OsString::from(program)
        };
        return Ok(Launch::Spawn(
            std::iter::once(program)
                .chain(parts.map(OsString::from))
                .collect(),
        ));
    }
    if let Some(bin) = fields.get("cargo_bin") {
        let bin = bin
            .as_str()
            .ok_or_else(|| anyhow!("`cargo_bin` must be a string, found {bin}"))?;
        return Ok(Launch::Spawn(vec![cargo_bin(bin)?.into_os_string()]));
    }
    if let Some(entry) = fields.get("server_entrypoint") {
        let entry = entry
            .as_str()
            .ok_or_else(|| anyhow!("`server_entrypoint` must be a string, found {entry}"))?;
        return entrypoint(&config.project_dir.join(entry));
    }
    if fields.contains_key("url") {
        return Ok(Launch::External);
    }
    if let Some(bin) = &config.cargo_bin {
        return Ok(Launch::Spawn(vec![cargo_bin(bin)?.into_os_string()]));
    }
    match &config.server_entrypoint {
        Some(entry) => entrypoint(entry),
        None => entrypoint(&config.project_dir.join("main.py")),
    }
}

/// A worker's `command`: a non-empty array of strings.
fn command_parts(command: &Value) -> anyhow::Result<Vec<String>> {
    command
        .as_array()
        .filter(|a| !a.is_empty())
        .and_then(|a| {
            a.iter()
                .map(|p| p.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
        })
        .ok_or_else(|| anyhow!("`command` must be a non-empty array of strings, found {command}"))
}

/// A container worker: `image` (a non-empty string) and its optional
/// `command`, taken as written (paths are the image's). Fields that say how
/// to start a process cannot be combined with it.
fn container(image: &Value, fields: &Map<String, Value>) -> anyhow::Result<Launch> {
    let image = image
        .as_str()
        .filter(|image| !image.trim().is_empty())
        .ok_or_else(|| {
            anyhow!("`image` must be a non-empty string naming a local image, found {image}")
        })?;
    for field in ["url", "cargo_bin", "server_entrypoint", "python"] {
        if fields.contains_key(field) {
            bail!("`image` and `{field}` cannot be combined: a container worker runs its image");
        }
    }
    let command = match fields.get("command") {
        None => Vec::new(),
        Some(command) => command_parts(command)?,
    };
    Ok(Launch::Container {
        image: image.to_owned(),
        command,
    })
}

/// `.py` runs with the project's Python (see `python_interpreter`), `.js`
/// with node, anything else directly.
fn entrypoint(
    path: &Path,
    python: impl FnOnce() -> anyhow::Result<OsString>,
) -> anyhow::Result<Launch> {
    let path = existing(path, "server_entrypoint")?;
    let interpreter = match path.extension().and_then(|e| e.to_str()) {
        Some("py") => Some(python()?),
        Some("js" | "mjs" | "cjs") => Some(OsString::from("node")),
        _ => None,
    };
    Ok(Launch::Spawn(
        interpreter
            .into_iter()
            .chain(std::iter::once(path.into_os_string()))
            .collect(),
    ))
}

fn existing(path: &Path, field: &str) -> anyhow::Result<PathBuf> {
    if path.exists() {
        Ok(path.to_path_buf())
    } else {
        bail!("`{field}`: no file at {}", path.display())
    }
}

/// A binary target of the workspace, next to the running test binary
/// (cargo puts test binaries in `<target>/<profile>/deps/`).
fn cargo_bin(name: &str) -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot locate the running test binary")?;
    let profile_dir = exe
        .parent()
        .filter(|dir| dir.ends_with("deps"))
        .and_then(Path::parent)
        .or_else(|| exe.parent())
        .ok_or_else(|| anyhow!("cannot locate the target directory of {}", exe.display()))?;
    let path = profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if path.is_file() {
        Ok(path)
    } else {
        bail!(
            "`cargo_bin`: no binary `{name}` at {}; it must be a [[bin]] of the package whose test runs \
             (cargo builds those before the package's integration tests)",
            path.display()
        )
    }
}

/// Reads `env_vars`: each server variable takes the value of the named
/// variable of the environment, which must be set; `DATA_DIR` is taken
/// literally.
fn server_env(
    env: &EnvMap,
    fields: &Map<String, Value>,
) -> anyhow::Result<Vec<(String, EnvSource)>> {
    let Some(vars) = fields.get("env_vars") else {
        return Ok(Vec::new());
    };
    let Value::Object(vars) = vars else {
        bail!(
            "`env_vars` must be an object mapping server variables to variable names, found {vars}"
        );
    };
    let mut resolved = Vec::new();
    let mut missing = Vec::new();
    for (server_var, source) in vars {
        let Value::String(source) = source else {
            bail!("`env_vars.{server_var}` must be a string naming a variable, found {source}");
        };
        if server_var == "DATA_DIR" {
            resolved.push((server_var.clone(), EnvSource::Literal(source.clone())));
        } else if env.get(source).is_some() {
            resolved.push((server_var.clone(), EnvSource::Var(source.clone())));
        } else if is_variable_name(source) {
            missing.push(format!("{server_var} (from {source})"));
        } else {
            // Likely the value itself, written where its variable's name goes.
            missing.push(format!(
                "{server_var} (from a value that is not a variable name, not shown as it may \
                 be a secret: `env_vars` maps a server variable to the name of a variable)"
            ));
        }
    }
    if missing.is_empty() {
        Ok(resolved)
    } else {
        bail!(
            "`env_vars`: not set (or empty) in the environment, the project's .env or the tests' \
             .env: {}",
            missing.join(", ")
        )
    }
}

/// Whether `text` can be the name of an environment variable: ASCII
/// letters, digits and `_`, not starting with a digit.
fn is_variable_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The `keypairs` entry, and warnings about it: `public`, the main key's
/// name in prometheus-test 0.1.0, is read as `main` when `main` is absent
/// and ignored when both are given.
fn keypair_vars(fields: &Map<String, Value>) -> anyhow::Result<(Option<KeypairVars>, Vec<String>)> {
    let Some(keypairs) = fields.get("keypairs") else {
        return Ok((None, Vec::new()));
    };
    let Value::Object(keypairs) = keypairs else {
        bail!(
            "`keypairs` must be an object like {{\"staking\": \"VAR\", \"main\": \"VAR\"}}, found {keypairs}"
        );
    };
    if let Some(unknown) = keypairs
        .keys()
        .find(|k| KeyRole::from_keypairs_key(k).is_none())
    {
        bail!("`keypairs.{unknown}`: unknown role; expected `staking` or `main`");
    }
    let var = |role: &str| match keypairs.get(role) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(name)) if !name.is_empty() => Ok(Some(name.clone())),
        Some(v) => Err(anyhow!(
            "`keypairs.{role}` must name an environment variable, found {v}"
        )),
    };
    let (staking, main, public) = (var("staking")?, var("main")?, var("public")?);
    let mut warnings = Vec::new();
    let main_as_public = match (&main, &public) {
        (_, None) => false,
        (None, Some(_)) => {
            warnings.push(
                "`keypairs.public` is read as `keypairs.main` (`public` is its name in \
                 prometheus-test 0.1.0); rename it to `main`"
                    .to_owned(),
            );
            true
        }
        (Some(_), Some(_)) => {
            warnings.push(
                "`keypairs.public` is ignored: `keypairs.main` names the main keypair \
                 (`public` is its name in prometheus-test 0.1.0); remove `public`"
                    .to_owned(),
            );
            false
        }
    };
    let vars = KeypairVars {
        staking,
        main: if main_as_public { public } else { main },
        main_as_public,
    };
    if vars.staking.is_none() && vars.main.is_none() {
        bail!("`keypairs` must name at least one of `staking` and `main`");
    }
    Ok((Some(vars), warnings))
}

/// Warnings for the fields of `worker` that look meant for the framework
/// or the server but are kept as values for the steps: a misspelt known
/// field, or one named like the server's environment.
fn unknown_field_warnings(worker: &WorkerSpec) -> Vec<String> {
    worker
        .fields
        .iter()
        .filter(|(key, _)| !KNOWN_FIELDS.contains(&key.as_str()))
        .filter_map(|(key, value)| {
            let kept = format!(
                "`{key}` is not a workers.json field, so it is kept as a value for the steps"
            );
            if ENVIRONMENT_LIKE.contains(&key.to_ascii_lowercase().as_str())
                && (value.is_object() || value.is_array())
            {
                return Some(format!(
                    "{kept} and the server never sees it; did you mean `env_vars` (each server \
                     variable mapped to the name of a variable of the environment or `.env`)?"
                ));
            }
            let known = likely_meant(key, KNOWN_FIELDS)?;
            Some(format!("{kept}; did you mean `{known}`?"))
        })
        .collect()
}

fn check_unique_ports(workers: &[WorkerSpec], problems: &mut super::Problems, shown: &str) {
    for (i, a) in workers.iter().enumerate() {
        if a.launch == Launch::External {
            continue;
        }
        if let Some(b) = workers[..i]
            .iter()
            .find(|b| b.port == a.port && b.launch != Launch::External)
        {
            problems.push(format!(
                "{shown}: workers `{}` and `{}` both use port {}",
                b.name, a.name, a.port
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Project {
        dir: tempfile::TempDir,
        config: Config,
    }

    fn project(config_yaml: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("tests")).unwrap();
        std::fs::write(dir.path().join("main.py"), "").unwrap();
        let config_yaml = format!("task_id: t\nmax_rounds: 1\n{config_yaml}");
        let config = Config::parse(&dir.path().join("tests/config.yaml"), &config_yaml).unwrap();
        Project { dir, config }
    }

    fn parse(p: &Project, env: &EnvMap, json: &str) -> anyhow::Result<Vec<WorkerSpec>> {
        parse_workers(&p.config, env, Path::new("workers.json"), json)
    }

    #[test]
    fn ports_default_to_base_port_plus_index_and_main_py() {
        let p = project("base_port: 6000");
        let workers = parse(
            &p,
            &EnvMap::default(),
            r#"{"a": {}, "b": {"port": 7001}, "c": {}}"#,
        )
        .unwrap();
        let ports: Vec<_> = workers.iter().map(|w| w.port).collect();
        assert_eq!(ports, [6000, 7001, 6002]);
        assert_eq!(workers[2].url, "http://localhost:6002");
        let main_py = p.dir.path().join("main.py").into_os_string();
        assert_eq!(
            workers[0].launch,
            Launch::Spawn(vec!["python3".into(), main_py])
        );
        assert_eq!(workers[1].fields["port"], 7001);
    }

    #[test]
    fn relative_entrypoints_resolve_against_the_project() {
        let p = project("");
        std::fs::create_dir(p.dir.path().join("srv")).unwrap();
        std::fs::write(p.dir.path().join("srv/index.js"), "").unwrap();
        let workers = parse(
            &p,
            &EnvMap::default(),
            r#"{"a": {"server_entrypoint": "srv/index.js"}}"#,
        )
        .unwrap();
        let expected = p.dir.path().join("srv/index.js").into_os_string();
        assert_eq!(
            workers[0].launch,
            Launch::Spawn(vec!["node".into(), expected])
        );
    }

    #[test]
    fn an_image_makes_a_container_worker_with_its_command_as_written() {
        let p = project("base_port: 6100");
        let workers = parse(
            &p,
            &EnvMap::default(),
            r#"{"a": {"image": "todo-task:local", "command": ["/app/todo-task", "--serve"]},
                "b": {"image": "todo-task:local"}}"#,
        )
        .unwrap();
        assert_eq!(
            workers[0].launch,
            Launch::Container {
                image: "todo-task:local".into(),
                command: vec!["/app/todo-task".into(), "--serve".into()],
            }
        );
        assert_eq!(
            workers[1].launch,
            Launch::Container {
                image: "todo-task:local".into(),
                command: Vec::new(),
            }
        );
        assert_eq!(workers[1].url, "http://localhost:6101");
    }

    #[test]
    fn a_bad_image_field_is_one_error_naming_file_worker_and_field() {
        let p = project("");
        let error = |json: &str| parse(&p, &EnvMap::default(), json).unwrap_err().to_string();
        assert_eq!(
            error(r#"{"a": {"image": ""}}"#),
            "workers.json: worker `a`: `image` must be a non-empty string naming a local image, found \"\""
        );
        assert_eq!(
            error(r#"{"a": {"image": 3}}"#),
            "workers.json: worker `a`: `image` must be a non-empty string naming a local image, found 3"
        );
        assert_eq!(
            error(r#"{"a": {"image": "x:1", "url": "http://h:1"}}"#),
            "workers.json: worker `a`: `image` and `url` cannot be combined: a container worker runs its image"
        );
        assert_eq!(
            error(r#"{"a": {"image": "x:1", "command": []}}"#),
            "workers.json: worker `a`: `command` must be a non-empty array of strings, found []"
        );
    }

    #[test]
    fn a_url_without_entrypoint_is_external() {
        let p = project("");
        let workers = parse(
            &p,
            &EnvMap::default(),
            r#"{"remote": {"url": "http://10.0.0.5:8080/"}}"#,
        )
        .unwrap();
        assert_eq!(workers[0].launch, Launch::External);
        assert_eq!(workers[0].url, "http://10.0.0.5:8080");
    }

    #[test]
    fn env_vars_name_their_sources_and_data_dir_is_literal() {
        let p = project("");
        let env = EnvMap::from_pairs([("TOKEN_A", "secret-a")]);
        let json = r#"{"a": {"env_vars": {"GITHUB_TOKEN": "TOKEN_A", "DATA_DIR": "/data/a"}}}"#;
        let workers = parse(&p, &env, json).unwrap();
        assert_eq!(
            workers[0].server_env,
            [
                (
                    "GITHUB_TOKEN".to_owned(),
                    EnvSource::Var("TOKEN_A".to_owned())
                ),
                (
                    "DATA_DIR".to_owned(),
                    EnvSource::Literal("/data/a".to_owned())
                )
            ]
        );
        assert!(!workers[0].fields.contains_key("env_vars"));
    }

    #[test]
    fn every_problem_of_every_worker_is_reported_together() {
        let p = project("");
        let json = r#"{"a": {"env_vars": {"X": "UNSET_VAR_1"}}, "b": {"port": "high"}, "c": {"keypairs": {}}, "d": {"server_entrypoint": "nope.py"}}"#;
        let err = parse(&p, &EnvMap::default(), json).unwrap_err().to_string();
        assert!(err.starts_with("4 problems:"), "{err}");
        assert!(
            err.contains("worker `a`: `env_vars`: not set") && err.contains("X (from UNSET_VAR_1)"),
            "{err}"
        );
        assert!(
            err.contains("worker `b`: `port` must be an integer"),
            "{err}"
        );
        assert!(
            err.contains("worker `c`: `keypairs` must name at least one"),
            "{err}"
        );
        assert!(
            err.contains("worker `d`: `server_entrypoint`: no file at"),
            "{err}"
        );
    }

    #[test]
    fn shared_ports_are_an_error() {
        let p = project("");
        let err = parse(&p, &EnvMap::default(), r#"{"a": {"port": 5001}, "b": {}}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("workers `a` and `b` both use port 5001"),
            "{err}"
        );
    }

    #[test]
    fn syntax_errors_name_line_and_column() {
        let p = project("");
        let err = parse(&p, &EnvMap::default(), "{\n  \"a\": {,}\n}")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("workers.json: not valid JSON") && err.contains("line 2"),
            "{err}"
        );
    }

    #[test]
    fn names_that_are_not_safe_in_paths_are_reported_with_the_rest() {
        let p = project("");
        let json = r#"{"ok": {}, "../up": {}, "": {}, "two words": {}, ".hidden": {}}"#;
        let err = parse(&p, &EnvMap::default(), json).unwrap_err().to_string();
        assert!(err.starts_with("4 problems:"), "{err}");
        for name in ["../up", "two words", ".hidden"] {
            assert!(
                err.contains(&format!(
                    "workers.json: worker `{name}`: the name is used in file names, so it may \
                     hold only ASCII letters, digits, `_`, `-` and `.`"
                )),
                "{name}: {err}"
            );
        }
        assert!(
            err.contains("workers.json: worker ``: a worker name must not be empty"),
            "{err}"
        );
    }

    #[test]
    fn a_field_close_to_a_known_one_is_a_warning() {
        let p = project("");
        let workers = parse(
            &p,
            &EnvMap::default(),
            r#"{"a": {"prot": 6001, "repo_owner": "x"}, "b": {"helth_path": "/h"}}"#,
        )
        .unwrap();
        assert_eq!(
            workers[0].warnings,
            [
                "workers.json: worker `a`: `prot` is not a workers.json field, so it is kept as a \
              value for the steps; did you mean `port`?"
            ]
        );
        assert!(workers[1].warnings[0].contains("did you mean `health_path`?"));
    }

    #[test]
    fn python_entrypoints_use_the_configured_or_project_interpreter() {
        let p = project("python: tools/py\n");
        std::fs::create_dir_all(p.dir.path().join("tools")).unwrap();
        std::fs::write(p.dir.path().join("tools/py"), "").unwrap();
        std::fs::create_dir_all(p.dir.path().join(".venv/bin")).unwrap();
        std::fs::write(p.dir.path().join(".venv/bin/python"), "").unwrap();
        let main_py = p.dir.path().join("main.py").into_os_string();
        let json = r#"{"a": {}, "b": {"python": "python3.12"}}"#;
        let workers = parse(&p, &EnvMap::default(), json).unwrap();
        let configured = p.dir.path().join("tools/py").into_os_string();
        assert_eq!(
            workers[0].launch,
            Launch::Spawn(vec![configured, main_py.clone()])
        );
        assert_eq!(
            workers[1].launch,
            Launch::Spawn(vec!["python3.12".into(), main_py.clone()])
        );
        let unset = project("");
        std::fs::create_dir_all(unset.dir.path().join(".venv/bin")).unwrap();
        std::fs::write(unset.dir.path().join(".venv/bin/python"), "").unwrap();
        let workers = parse(&unset, &EnvMap::default(), r#"{"a": {}}"#).unwrap();
        let venv = unset.dir.path().join(".venv/bin/python").into_os_string();
        let main_py = unset.dir.path().join("main.py").into_os_string();
        assert_eq!(workers[0].launch, Launch::Spawn(vec![venv, main_py]));
        let err = parse(&unset, &EnvMap::default(), r#"{"a": {"python": 3}}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("worker `a`: `python` must be a string"),
            "{err}"
        );
    }

    #[test]
    fn the_command_line_is_shown_quoted() {
        let launch = Launch::Spawn(vec!["/p/.venv/bin/python".into(), "/my dir/main.py".into()]);
        assert_eq!(
            launch.command_line().unwrap(),
            "/p/.venv/bin/python '/my dir/main.py'"
        );
        assert_eq!(Launch::External.command_line(), None);
    }

    #[test]
    fn a_worker_timeout_follows_the_one_seconds_rule() {
        let p = project("");
        let err = parse(
            &p,
            &EnvMap::default(),
            r#"{"a": {"start_timeout": "soon"}}"#,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "workers.json: worker `a`: `start_timeout` must be a positive number of seconds, found \"soon\""
        );
    }

    #[test]
    fn public_names_the_main_keypair_when_main_is_absent() {
        let p = project("");
        let json = r#"{"builder": {"keypairs": {"staking": "B_STAKING", "public": "B_PUBLIC"}}}"#;
        let worker = parse(&p, &EnvMap::default(), json).unwrap().remove(0);
        let vars = worker.keypairs.unwrap();
        assert_eq!(
            vars,
            KeypairVars {
                staking: Some("B_STAKING".to_owned()),
                main: Some("B_PUBLIC".to_owned()),
                main_as_public: true,
            }
        );
        assert_eq!(
            [vars.key_of(KeyRole::Staking), vars.key_of(KeyRole::Main)],
            ["staking", "public"]
        );
        assert_eq!(
            worker.warnings,
            [
                "workers.json: worker `builder`: `keypairs.public` is read as `keypairs.main` \
                 (`public` is its name in prometheus-test 0.1.0); rename it to `main`"
            ]
        );
    }

    #[test]
    fn main_wins_over_public_and_other_roles_are_still_errors() {
        let p = project("");
        let json = r#"{"a": {"keypairs": {"main": "A_MAIN", "public": "A_PUBLIC"}}}"#;
        let worker = parse(&p, &EnvMap::default(), json).unwrap().remove(0);
        let vars = worker.keypairs.unwrap();
        assert_eq!(
            (vars.main.as_deref(), vars.key_of(KeyRole::Main)),
            (Some("A_MAIN"), "main")
        );
        assert_eq!(
            worker.warnings,
            [
                "workers.json: worker `a`: `keypairs.public` is ignored: `keypairs.main` names \
                 the main keypair (`public` is its name in prometheus-test 0.1.0); remove `public`"
            ]
        );
        let err = parse(
            &p,
            &EnvMap::default(),
            r#"{"a": {"keypairs": {"wallet": "A_WALLET"}}}"#,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "workers.json: worker `a`: `keypairs.wallet`: unknown role; expected `staking` or `main`"
        );
    }

    #[test]
    fn a_field_named_like_the_servers_environment_is_a_warning() {
        let p = project("");
        let json = r#"{"a": {"env": {"GITHUB_TOKEN": "TOKEN_A"}, "tier": "x"},
                       "b": {"env": "staging", "Environment": ["X=1"]}}"#;
        let workers = parse(&p, &EnvMap::default(), json).unwrap();
        let kept = "is not a workers.json field, so it is kept as a value for the steps and the \
                    server never sees it; did you mean `env_vars` (each server variable mapped \
                    to the name of a variable of the environment or `.env`)?";
        assert_eq!(
            workers[0].warnings,
            [format!("workers.json: worker `a`: `env` {kept}")]
        );
        assert_eq!(
            workers[1].warnings,
            [format!("workers.json: worker `b`: `Environment` {kept}")],
            "a text `env` is an ordinary value"
        );
        assert_eq!(workers[0].fields["env"]["GITHUB_TOKEN"], "TOKEN_A");
    }

    #[test]
    fn a_value_written_in_env_vars_in_place_of_a_name_is_not_shown() {
        let p = project("");
        let json = r#"{"a": {"env_vars": {"GITHUB_TOKEN": "ghp_s3cr3t-value", "X": "UNSET_X"}}}"#;
        let err = parse(&p, &EnvMap::default(), json).unwrap_err().to_string();
        assert_eq!(
            err,
            "workers.json: worker `a`: `env_vars`: not set (or empty) in the environment, the \
             project's .env or the tests' .env: GITHUB_TOKEN (from a value that is not a \
             variable name, not shown as it may be a secret: `env_vars` maps a server variable \
             to the name of a variable), X (from UNSET_X)"
        );
    }

    #[test]
    fn a_byte_order_mark_is_accepted() {
        let p = project("");
        let workers = parse(&p, &EnvMap::default(), "\u{feff}{\"a\": {}}").unwrap();
        assert_eq!(workers[0].name, "a");
    }
}
