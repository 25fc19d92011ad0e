//! workers.json: one entry per worker, in file order (ports default to
//! `base_port + index`), read like config.yaml: every problem is reported,
//! each at its line.

use std::cell::Cell;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use serde::Deserialize as _;
use serde_json::{Map, Value};
use serde_yaml_ng::Mapping;

use super::build::{BuildSpec, build_spec, built_tag, suite_label_of};
use super::names::{check_worker_name, is_variable_name};
use super::python::python_interpreter;
use super::reader::Reader;
use super::text::strip_bom;
use super::typed::{COMMAND, IMAGE, PORT, SECONDS, URL_PATH, string};
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
    "build",
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
    /// (the image's own command when empty) inside; `build` makes the image
    /// first.
    Container {
        image: String,
        command: Vec<String>,
        build: Option<BuildSpec>,
    },
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

/// Reads and validates workers.json; every problem of every worker is
/// reported. A run reads it once, through [`ConfigFiles`](super::ConfigFiles).
#[cfg(test)]
pub(crate) fn load_workers(config: &Config, env: &EnvMap) -> anyhow::Result<Vec<WorkerSpec>> {
    let path = &config.workers_config;
    let text = super::text::read_text(path, "workers file")?;
    parse_workers(config, env, path, &text)
}

pub(crate) fn parse_workers(
    config: &Config,
    env: &EnvMap,
    path: &Path,
    text: &str,
) -> anyhow::Result<Vec<WorkerSpec>> {
    let shown = path.display().to_string();
    let text = strip_bom(text).unwrap_or(text);
    let root: Value =
        serde_json::from_str(text).map_err(|e| anyhow!("{shown}: not valid JSON: {e}"))?;
    let Value::Object(entries) = &root else {
        bail!("{shown}: expected an object mapping worker names to their settings");
    };
    if entries.is_empty() {
        bail!("{shown}: no workers defined");
    }
    let tree = Mapping::deserialize(&root).map_err(|e| anyhow!("{shown}: not valid JSON: {e}"))?;
    let mut file = Reader::json(&shown, text, &tree);
    let mut workers = Vec::new();
    for (index, (name, value)) in entries.iter().enumerate() {
        let mut reader = file.within(name, &format!("worker `{name}`"));
        let worker = read_worker(config, env, &mut reader, index, name, value);
        file.problems.append(reader.problems);
        workers.extend(worker);
    }
    check_unique_ports(&workers, &mut file);
    file.problems.into_result(workers).map_err(Into::into)
}

/// One worker, or `None` when `r` (the worker's reader) found problems.
fn read_worker(
    config: &Config,
    env: &EnvMap,
    r: &mut Reader<'_>,
    index: usize,
    name: &str,
    value: &Value,
) -> Option<WorkerSpec> {
    if let Err(e) = check_worker_name(name) {
        r.problem(&[], e);
        return None;
    }
    let Value::Object(fields) = value else {
        r.problem(&[], "expected an object of settings");
        return None;
    };
    let port = if r.value(&["port"]).is_some() {
        r.read(&["port"], &PORT)
    } else {
        let port = u16::try_from(usize::from(config.base_port) + index).ok();
        if port.is_none() {
            r.problem(
                &[],
                format_args!("`base_port` + {index} is past port 65535"),
            );
        }
        port
    };
    let launch = launch(config, env, r, (name, fields));
    let url = match r.value(&["url"]) {
        Some(_) => r
            .read(&["url"], &string("a string"))
            .map(|url| url.trim_end_matches('/').to_owned()),
        // A container on a remote engine listens on the engine's host.
        None => port.map(
            |port| match super::remote_host(&super::docker_host_in(env)) {
                Some(host) if fields.contains_key("image") => format!("http://{host}:{port}"),
                _ => format!("http://localhost:{port}"),
            },
        ),
    };
    let server_env = server_env(env, r);
    let mut warnings = Vec::new();
    let keypairs = keypair_vars(r, &mut warnings);
    let health_path = r.read(&["health_path"], &URL_PATH);
    let start_timeout = r.read(&["start_timeout"], &SECONDS);
    let (Some(port), Some(launch), Some(url), true) = (port, launch, url, r.problems.is_empty())
    else {
        return None;
    };
    warnings.extend(unknown_field_warnings(r, fields));
    let database_path = config.data_dir.join(format!("database_{name}.db"));
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
            .iter()
            .filter(|(k, _)| !RESERVED.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    all.insert("port".into(), port.into());
    Some(WorkerSpec {
        name: name.to_owned(),
        port,
        url,
        database_path,
        launch,
        server_env,
        keypairs,
        health_path: health_path.or_else(|| config.health_path.clone()),
        start_timeout: start_timeout.unwrap_or(config.start_timeout),
        fields: all,
        warnings,
    })
}

/// Resolves how the worker starts: the worker's own `command`, `cargo_bin`
/// or `server_entrypoint`; an external server when it has only a `url`;
/// else config.yaml's `cargo_bin` or `server_entrypoint`; else
/// `<project>/main.py` as in the original. A problem with a setting that
/// config.yaml gave is shown at the worker.
fn launch(
    config: &Config,
    env: &EnvMap,
    r: &mut Reader<'_>,
    (name, fields): (&str, &Map<String, Value>),
) -> Option<Launch> {
    let python = match r.value(&["python"]) {
        Some(_) => Some(r.read(&["python"], &string("a string (a path or a program name)"))?),
        None => config.python.clone(),
    };
    if fields.contains_key("image") || fields.contains_key("build") {
        return container(config, r, (name, fields));
    }
    // A problem shows at the worker's key, or at the worker when
    // config.yaml gave the value.
    let checked = |r: &mut Reader<'_>, key: &str, launch: anyhow::Result<Launch>| {
        let at = if fields.contains_key(key) {
            vec![key]
        } else {
            Vec::new()
        };
        launch
            .map_err(|e| r.problem(&at, format_args!("{e:#}")))
            .ok()
    };
    let entrypoint = |r: &mut Reader<'_>, path: &Path| {
        let python_failed = Cell::new(false);
        let python = || {
            python_interpreter(python.as_deref(), &config.project_dir, env)
                .inspect_err(|_| python_failed.set(true))
        };
        let launch = entrypoint(path, python);
        let key = if python_failed.get() {
            "python"
        } else {
            "server_entrypoint"
        };
        checked(r, key, launch)
    };
    if fields.contains_key("command") {
        let mut parts = r.read(&["command"], &COMMAND)?.into_iter();
        let program = parts.next().unwrap_or_default();
        let program = if program.contains('/') {
            let path = existing(&config.project_dir.join(&program), "command");
            path.map_err(|e| r.problem(&["command"], e))
                .ok()?
                .into_os_string()
        } else {
            OsString::from(program)
        };
        let arguments = parts.map(OsString::from);
        return Some(Launch::Spawn(
            std::iter::once(program).chain(arguments).collect(),
        ));
    }
    if fields.contains_key("cargo_bin") {
        let bin = r.read(&["cargo_bin"], &string("a string"))?;
        return checked(r, "cargo_bin", cargo_bin(&bin));
    }
    if fields.contains_key("server_entrypoint") {
        let entry = r.read(&["server_entrypoint"], &string("a string"))?;
        return entrypoint(r, &config.project_dir.join(entry));
    }
    if fields.contains_key("url") {
        return Some(Launch::External);
    }
    if let Some(bin) = &config.cargo_bin {
        return checked(r, "cargo_bin", cargo_bin(bin));
    }
    match &config.server_entrypoint {
        Some(entry) => entrypoint(r, entry),
        None => entrypoint(r, &config.project_dir.join("main.py")),
    }
}

/// A container worker: `image` (a non-empty string), or `build` (the image
/// made from a Dockerfile, tagged for the suite and the worker), and its
/// optional `command`, taken as written (paths are the image's). Fields that
/// say how to start a process cannot be combined with it.
fn container(
    config: &Config,
    r: &mut Reader<'_>,
    (name, fields): (&str, &Map<String, Value>),
) -> Option<Launch> {
    let (image, build) = match (fields.contains_key("image"), fields.contains_key("build")) {
        (true, true) => {
            r.problem(
                &["build"],
                "`image` and `build` cannot be combined: give the image, or how to build it",
            );
            (None, None)
        }
        (true, false) => (r.read(&["image"], &IMAGE), None),
        _ => {
            let build = build_spec(r, &["build"], &config.tests_dir);
            let tag = built_tag(&suite_label(config), name);
            (build.is_some().then_some(tag), build)
        }
    };
    let kind = if build.is_some() { "build" } else { "image" };
    for field in ["url", "cargo_bin", "server_entrypoint", "python"] {
        if fields.contains_key(field) {
            r.problem(
                &[field],
                format_args!(
                    "`{kind}` and `{field}` cannot be combined: a container worker runs its image"
                ),
            );
        }
    }
    let command = if fields.contains_key("command") {
        r.read(&["command"], &COMMAND)?
    } else {
        Vec::new()
    };
    Some(Launch::Container {
        image: image?,
        command,
        build,
    })
}

/// The suite's label on its containers and built images: its data folder,
/// absolute.
pub(crate) fn suite_label(config: &Config) -> String {
    suite_label_of(&config.data_dir)
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
/// (cargo puts test binaries in `<target>/<profile>/deps/`), run as it is.
fn cargo_bin(name: &str) -> anyhow::Result<Launch> {
    let exe = std::env::current_exe().context("cannot locate the running test binary")?;
    let profile_dir = exe
        .parent()
        .filter(|dir| dir.ends_with("deps"))
        .and_then(Path::parent)
        .or_else(|| exe.parent())
        .ok_or_else(|| anyhow!("cannot locate the target directory of {}", exe.display()))?;
    let path = profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if path.is_file() {
        Ok(Launch::Spawn(vec![path.into_os_string()]))
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
fn server_env(env: &EnvMap, r: &mut Reader<'_>) -> Vec<(String, EnvSource)> {
    let expected = "an object mapping server variables to variable names";
    let Some(vars) = r.mapping(&["env_vars"], expected) else {
        return Vec::new();
    };
    let mut resolved = Vec::new();
    let mut missing = Vec::new();
    // The keys of a JSON object are strings.
    for server_var in vars.keys().filter_map(serde_yaml_ng::Value::as_str) {
        let naming = string("a string naming a variable");
        let Some(source) = r.read(&["env_vars", server_var], &naming) else {
            continue;
        };
        let server_var = server_var.to_owned();
        if server_var == "DATA_DIR" {
            resolved.push((server_var, EnvSource::Literal(source)));
        } else if env.get(&source).is_some() {
            resolved.push((server_var, EnvSource::Var(source)));
        } else if is_variable_name(&source) {
            missing.push(format!("{server_var} (from {source})"));
        } else {
            // Likely the value itself, written where its variable's name goes.
            missing.push(format!(
                "{server_var} (from a value that is not a variable name, not shown as it may \
                 be a secret: `env_vars` maps a server variable to the name of a variable)"
            ));
        }
    }
    if !missing.is_empty() {
        r.problem(
            &["env_vars"],
            format_args!(
                "`env_vars`: not set (or empty) in the environment, the project's .env or the \
                 tests' .env: {}",
                missing.join(", ")
            ),
        );
    }
    resolved
}

/// The `keypairs` entry (`None` when absent or wrong), with warnings about
/// it: `public`, the main key's name in prometheus-test 0.1.0, is read as
/// `main` when `main` is absent and ignored when both are given.
fn keypair_vars(r: &mut Reader<'_>, warnings: &mut Vec<String>) -> Option<KeypairVars> {
    let expected = r#"an object like {"staking": "VAR", "main": "VAR"}"#;
    let keypairs = r.mapping(&["keypairs"], expected)?;
    let mut roles_known = true;
    for key in keypairs.keys().filter_map(serde_yaml_ng::Value::as_str) {
        if KeyRole::from_keypairs_key(key).is_none() {
            roles_known = false;
            r.problem(
                &["keypairs", key],
                format_args!("`keypairs.{key}`: unknown role; expected `staking` or `main`"),
            );
        }
    }
    // `None`: a value that names no variable (a problem).
    let mut var = |role: &str| match r.value(&["keypairs", role]) {
        None | Some(serde_yaml_ng::Value::Null) => Some(None),
        Some(serde_yaml_ng::Value::String(name)) if !name.is_empty() => Some(Some(name.clone())),
        Some(value) => {
            let found = r.found(value);
            let message =
                format!("`keypairs.{role}` must name an environment variable, found {found}");
            r.problem(&["keypairs", role], message);
            None
        }
    };
    let (Some(staking), Some(main), Some(public), true) =
        (var("staking"), var("main"), var("public"), roles_known)
    else {
        return None;
    };
    let public_at = ["keypairs", "public"];
    let main_as_public = match (&main, &public) {
        (_, None) => false,
        (None, Some(_)) => {
            warnings.push(r.about(
                &public_at,
                "`keypairs.public` is read as `keypairs.main` (`public` is its name in \
                 prometheus-test 0.1.0); rename it to `main`",
            ));
            true
        }
        (Some(_), Some(_)) => {
            warnings.push(r.about(
                &public_at,
                "`keypairs.public` is ignored: `keypairs.main` names the main keypair \
                 (`public` is its name in prometheus-test 0.1.0); remove `public`",
            ));
            false
        }
    };
    let vars = KeypairVars {
        staking,
        main: if main_as_public { public } else { main },
        main_as_public,
    };
    if vars.staking.is_none() && vars.main.is_none() {
        r.problem(
            &["keypairs"],
            "`keypairs` must name at least one of `staking` and `main`",
        );
        return None;
    }
    Some(vars)
}

/// Warnings for the fields of a worker that look meant for the framework
/// or the server but are kept as values for the steps: a misspelt known
/// field, or one named like the server's environment.
fn unknown_field_warnings(r: &Reader<'_>, fields: &Map<String, Value>) -> Vec<String> {
    fields
        .iter()
        .filter(|(key, _)| !KNOWN_FIELDS.contains(&key.as_str()))
        .filter_map(|(key, value)| {
            let kept = format!(
                "`{key}` is not a workers.json field, so it is kept as a value for the steps"
            );
            let warning = if ENVIRONMENT_LIKE.contains(&key.to_ascii_lowercase().as_str())
                && (value.is_object() || value.is_array())
            {
                format!(
                    "{kept} and the server never sees it; did you mean `env_vars` (each server \
                     variable mapped to the name of a variable of the environment or `.env`)?"
                )
            } else {
                format!(
                    "{kept}; did you mean `{}`?",
                    likely_meant(key, KNOWN_FIELDS)?
                )
            };
            Some(r.about(&[key], warning))
        })
        .collect()
}

/// A problem for each worker started here on a port an earlier one uses,
/// shown at its `port`, or at the worker when the port is a default.
fn check_unique_ports(workers: &[WorkerSpec], file: &mut Reader<'_>) {
    for (i, a) in workers.iter().enumerate() {
        if a.launch == Launch::External {
            continue;
        }
        if let Some(b) = workers[..i]
            .iter()
            .find(|b| b.port == a.port && b.launch != Launch::External)
        {
            let port = [a.name.as_str(), "port"];
            let at = if file.value(&port).is_some() {
                &port[..]
            } else {
                &port[..1]
            };
            file.problem(
                at,
                format_args!(
                    "workers `{}` and `{}` both use port {}",
                    b.name, a.name, a.port
                ),
            );
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
                build: None,
            }
        );
        assert_eq!(
            workers[1].launch,
            Launch::Container {
                image: "todo-task:local".into(),
                command: Vec::new(),
                build: None,
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
            "workers.json: line 1: worker `a`: `image` must be a non-empty string naming a local \
             image, found \"\""
        );
        assert_eq!(
            error(r#"{"a": {"image": 3}}"#),
            "workers.json: line 1: worker `a`: `image` must be a non-empty string naming a local \
             image, found 3"
        );
        assert_eq!(
            error(r#"{"a": {"image": "x:1", "url": "http://h:1"}}"#),
            "workers.json: line 1: worker `a`: `image` and `url` cannot be combined: a container \
             worker runs its image"
        );
        assert_eq!(
            error(r#"{"a": {"image": "x:1", "command": []}}"#),
            "workers.json: line 1: worker `a`: `command` must be a non-empty array of strings, \
             found an array"
        );
    }

    #[test]
    fn a_container_worker_may_be_built_from_a_dockerfile() {
        let p = project("");
        let workers = parse(
            &p,
            &EnvMap::default(),
            r#"{"a": {"build": {"context": "image", "dockerfile": "worker.Dockerfile",
                 "args": {"BIN": "todo-task"}}, "command": ["/app/todo-task"]}}"#,
        )
        .unwrap();
        let Launch::Container { image, build, .. } = &workers[0].launch else {
            panic!("not a container: {:?}", workers[0].launch);
        };
        let build = build.as_ref().unwrap();
        assert!(image.ends_with("-a:built"), "{image}");
        assert_eq!(build.context, p.config.tests_dir.join("image"));
        assert_eq!(build.dockerfile, "worker.Dockerfile");
        assert_eq!(build.args, [("BIN".to_owned(), "todo-task".to_owned())]);
        let error = |json: &str| parse(&p, &EnvMap::default(), json).unwrap_err().to_string();
        assert_eq!(
            error(r#"{"a": {"image": "x:1", "build": {"context": "."}}}"#),
            "workers.json: line 1: worker `a`: `image` and `build` cannot be combined: give the \
             image, or how to build it"
        );
        assert_eq!(
            error(r#"{"a": {"build": {"context": ".", "args": [1]}}}"#),
            "workers.json: line 1: worker `a`: `build.args` must be a mapping of argument names \
             to values, found an array"
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
        let json = r#"{
  "a": {"env_vars": {"X": "UNSET_VAR_1"}},
  "b": {
    "port": "high",
    "url": 7,
    "start_timeout": 0
  },
  "c": {"keypairs": {}},
  "d": {"server_entrypoint": "nope.py"}
}"#;
        let err = parse(&p, &EnvMap::default(), json).unwrap_err().to_string();
        let nope = p.dir.path().join("nope.py");
        assert_eq!(
            err,
            format!(
                "6 problems:\n  \
                 - workers.json: line 2: worker `a`: `env_vars`: not set (or empty) in the \
                   environment, the project's .env or the tests' .env: X (from UNSET_VAR_1)\n  \
                 - workers.json: line 4: worker `b`: `port` must be an integer from 1 to 65535, \
                   found \"high\"\n  \
                 - workers.json: line 5: worker `b`: `url` must be a string, found 7\n  \
                 - workers.json: line 6: worker `b`: `start_timeout` must be a positive number \
                   of seconds, found 0\n  \
                 - workers.json: line 8: worker `c`: `keypairs` must name at least one of \
                   `staking` and `main`\n  \
                 - workers.json: line 9: worker `d`: `server_entrypoint`: no file at {}",
                nope.display()
            )
        );
    }

    #[test]
    fn shared_ports_are_an_error_at_the_port_or_the_worker() {
        let p = project("");
        let json =
            "{\n  \"a\": {\"port\": 5001},\n  \"b\": {},\n  \"c\": {\n    \"port\": 5001\n  }\n}";
        let err = parse(&p, &EnvMap::default(), json).unwrap_err().to_string();
        assert_eq!(
            err,
            "2 problems:\n  \
             - workers.json: line 3: workers `a` and `b` both use port 5001\n  \
             - workers.json: line 5: workers `a` and `c` both use port 5001"
        );
    }

    #[test]
    fn worker_problems_name_their_lines() {
        let p = project("base_port: 65533");
        let json = r#"{
  "a": 5,
  "b": {"port": null},
  "c": {
    "url": 7,
    "health_path": "health",
    "start_timeout": -1
  },
  "d": {}
}"#;
        let err = parse(&p, &EnvMap::default(), json).unwrap_err().to_string();
        assert_eq!(
            err,
            "6 problems:\n  \
             - workers.json: line 2: worker `a`: expected an object of settings\n  \
             - workers.json: line 3: worker `b`: `port` must be an integer from 1 to 65535, \
               found null\n  \
             - workers.json: line 5: worker `c`: `url` must be a string, found 7\n  \
             - workers.json: line 6: worker `c`: `health_path` must be a string starting with \
               `/`, found \"health\"\n  \
             - workers.json: line 7: worker `c`: `start_timeout` must be a positive number of \
               seconds, found -1\n  \
             - workers.json: line 9: worker `d`: `base_port` + 3 is past port 65535"
        );
    }

    #[test]
    fn launch_problems_name_their_lines() {
        let p = project("");
        let json = r#"{
  "a": {"python": 3},
  "b": {
    "image": " ",
    "url": "http://h:1",
    "cargo_bin": "x",
    "server_entrypoint": "main.py",
    "python": "py",
    "command": "run"
  },
  "c": {"command": ["bin/nope", "--serve"]},
  "d": {"cargo_bin": 1},
  "e": {
    "cargo_bin": "no_such_bin"
  },
  "f": {"server_entrypoint": ["main.py"]},
  "g": {
    "python": "env/bin/python"
  }
}"#;
        let err = parse(&p, &EnvMap::default(), json).unwrap_err().to_string();
        let dir = p.dir.path().display();
        let no_bin = cargo_bin("no_such_bin").unwrap_err();
        let combined = "cannot be combined: a container worker runs its image";
        assert_eq!(
            err,
            format!(
                "12 problems:\n  \
                 - workers.json: line 2: worker `a`: `python` must be a string (a path or a \
                   program name), found 3\n  \
                 - workers.json: line 4: worker `b`: `image` must be a non-empty string naming \
                   a local image, found \" \"\n  \
                 - workers.json: line 5: worker `b`: `image` and `url` {combined}\n  \
                 - workers.json: line 6: worker `b`: `image` and `cargo_bin` {combined}\n  \
                 - workers.json: line 7: worker `b`: `image` and `server_entrypoint` {combined}\n  \
                 - workers.json: line 8: worker `b`: `image` and `python` {combined}\n  \
                 - workers.json: line 9: worker `b`: `command` must be a non-empty array of \
                   strings, found \"run\"\n  \
                 - workers.json: line 11: worker `c`: `command`: no file at {dir}/bin/nope\n  \
                 - workers.json: line 12: worker `d`: `cargo_bin` must be a string, found 1\n  \
                 - workers.json: line 14: worker `e`: {no_bin}\n  \
                 - workers.json: line 16: worker `f`: `server_entrypoint` must be a string, \
                   found an array\n  \
                 - workers.json: line 18: worker `g`: `python`: no interpreter at \
                   {dir}/env/bin/python"
            )
        );
    }

    #[test]
    fn env_var_and_keypair_problems_name_their_lines() {
        let p = project("");
        let json = r#"{
  "a": {"env_vars": ["X"]},
  "b": {
    "env_vars": {
      "X": 1,
      "Y": "UNSET_Y",
      "DATA_DIR": "/data"
    }
  },
  "c": {"keypairs": "K"},
  "d": {
    "keypairs": {
      "wallet": "W",
      "staking": 5,
      "main": ""
    }
  },
  "e": {"keypairs": {"main": null}}
}"#;
        let err = parse(&p, &EnvMap::default(), json).unwrap_err().to_string();
        assert_eq!(
            err,
            "8 problems:\n  \
             - workers.json: line 2: worker `a`: `env_vars` must be an object mapping server \
               variables to variable names, found an array\n  \
             - workers.json: line 5: worker `b`: `env_vars.X` must be a string naming a \
               variable, found 1\n  \
             - workers.json: line 4: worker `b`: `env_vars`: not set (or empty) in the \
               environment, the project's .env or the tests' .env: Y (from UNSET_Y)\n  \
             - workers.json: line 10: worker `c`: `keypairs` must be an object like \
               {\"staking\": \"VAR\", \"main\": \"VAR\"}, found \"K\"\n  \
             - workers.json: line 13: worker `d`: `keypairs.wallet`: unknown role; expected \
               `staking` or `main`\n  \
             - workers.json: line 14: worker `d`: `keypairs.staking` must name an environment \
               variable, found 5\n  \
             - workers.json: line 15: worker `d`: `keypairs.main` must name an environment \
               variable, found \"\"\n  \
             - workers.json: line 18: worker `e`: `keypairs` must name at least one of \
               `staking` and `main`"
        );
    }

    #[test]
    fn a_keypair_pasted_in_place_of_its_variable_is_not_shown() {
        let p = project("");
        let json = r#"{"a": {"env_vars": {"K": {"seed": "s3cr3t"}},
                              "keypairs": {"staking": [174, 47, 154, 16]}}}"#;
        let err = parse(&p, &EnvMap::default(), json).unwrap_err().to_string();
        assert_eq!(
            err,
            "2 problems:\n  \
             - workers.json: line 1: worker `a`: `env_vars.K` must be a string naming a \
               variable, found an object\n  \
             - workers.json: line 2: worker `a`: `keypairs.staking` must name an environment \
               variable, found an array"
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
        let json = "{\"ok\": {},\n\"../up\": {},\n\"\": {},\n\"two words\": {}, \".hidden\": {}}";
        let err = parse(&p, &EnvMap::default(), json).unwrap_err().to_string();
        let unsafe_name = "the name is used in file names, so it may hold only ASCII letters, \
                           digits, `_`, `-` and `.`, must not start with `.`, and has at most 64 \
                           characters";
        assert_eq!(
            err,
            format!(
                "4 problems:\n  \
                 - workers.json: line 2: worker `../up`: {unsafe_name}\n  \
                 - workers.json: line 3: worker ``: a worker name must not be empty\n  \
                 - workers.json: line 4: worker `two words`: {unsafe_name}\n  \
                 - workers.json: line 4: worker `.hidden`: {unsafe_name}"
            )
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
                "workers.json: line 1: worker `a`: `prot` is not a workers.json field, so it is \
                 kept as a value for the steps; did you mean `port`?"
            ]
        );
        assert_eq!(
            workers[1].warnings,
            [
                "workers.json: line 1: worker `b`: `helth_path` is not a workers.json field, so it \
                 is kept as a value for the steps; did you mean `health_path`?"
            ]
        );
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
        assert_eq!(
            err,
            "workers.json: line 1: worker `a`: `python` must be a string (a path or a program \
             name), found 3"
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
            "workers.json: line 1: worker `a`: `start_timeout` must be a positive number of \
             seconds, found \"soon\""
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
                "workers.json: line 1: worker `builder`: `keypairs.public` is read as \
                 `keypairs.main` \
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
                "workers.json: line 1: worker `a`: `keypairs.public` is ignored: `keypairs.main` names \
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
            "workers.json: line 1: worker `a`: `keypairs.wallet`: unknown role; expected `staking` \
             or `main`"
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
            [format!("workers.json: line 1: worker `a`: `env` {kept}")]
        );
        assert_eq!(
            workers[1].warnings,
            [format!(
                "workers.json: line 2: worker `b`: `Environment` {kept}"
            )],
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
            "workers.json: line 1: worker `a`: `env_vars`: not set (or empty) in the environment, the \
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
        let err = parse(&p, &EnvMap::default(), "\u{feff}{\n\"a\": {\"port\": 0}}")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "workers.json: line 2: worker `a`: `port` must be an integer from 1 to 65535, found 0"
        );
    }
}
