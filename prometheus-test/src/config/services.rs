//! config.yaml's `services`: the processes of the task's stack that are not
//! workers (a middle server, a mock chain), started before the workers in
//! the order their `depends_on` gives and stopped after them.
//!
//! ```yaml
//! services:
//!   middle:
//!     command: [python3, middle/server.py]   # from the tests folder (or `cwd`);
//!                                            # or `image: NAME` or `build: {context, …}`
//!                                            # (a container; `command` then optional)
//!     port: 5790                             # it listens on 127.0.0.1
//!     health_path: /health                   # ready once 2xx; else once the port accepts
//!     depends_on: [chain]                    # started once these are ready
//!     env: { LOG_LEVEL: debug }              # besides the run's environment
//!     exports:                               # to every worker, `{url}`/`{port}` filled in
//!       MIDDLE_SERVER_URL: "{url}"
//!     data_dir: middle                       # a folder of the data folder, in the snapshots
//! ```
//!
//! In config.yaml rather than workers.json: workers.json maps names to
//! workers, as the Python original reads it, and a `services` key there
//! would be taken for a worker by the original and by older suites.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_yaml_ng::Value;

use super::build::{BuildSpec, build_spec, built_tag, suite_label_of};
use super::names::is_variable_name;
use super::reader::{Reader, listed};
use super::typed::{COMMAND, IMAGE, PORT, SECONDS, URL_PATH, found, scalar_text, string};

/// The keys of a service.
const KEYS: &[&str] = &[
    "command",
    "image",
    "build",
    "cwd",
    "port",
    "health_path",
    "start_timeout",
    "depends_on",
    "env",
    "exports",
    "data_dir",
];

/// One service of config.yaml, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ServiceSpec {
    pub(crate) name: String,
    /// The program and its arguments (in a container: run inside, the
    /// image's own command when empty).
    pub(crate) command: Vec<String>,
    /// The image it runs as a container, when it is one: `image`, or the
    /// suite's tag of the image `build` makes.
    pub(crate) image: Option<String>,
    /// How its image is built, when `build` says.
    pub(crate) build: Option<BuildSpec>,
    /// Its working directory (absolute): `cwd` from the tests folder.
    pub(crate) cwd: PathBuf,
    pub(crate) port: u16,
    /// `http://localhost:{port}`.
    pub(crate) url: String,
    pub(crate) health_path: Option<String>,
    pub(crate) start_timeout: Duration,
    pub(crate) depends_on: Vec<String>,
    /// Its own variables, besides the run's environment. Values may be
    /// secret: never shown.
    pub(crate) env: Vec<(String, String)>,
    /// What every worker's environment gets: (variable, value with `{url}`
    /// and `{port}` filled in).
    pub(crate) exports: Vec<(String, String)>,
    /// Its folder of the data folder (absolute), when it has one: created
    /// before it starts, given to it as `DATA_DIR`, in the snapshots.
    pub(crate) data_dir: Option<PathBuf>,
    /// Its place in the start order: 0 for the services that depend on
    /// none, else one more than the latest of those it depends on.
    pub(crate) wave: usize,
}

/// config.yaml's `services`, in their start order (by wave, then as
/// written); problems go to `reader`. `data_dir` is the run's data folder.
pub(super) fn service_settings(
    reader: &mut Reader<'_>,
    tests_dir: &Path,
    data_dir: &Path,
    start_timeout: Duration,
) -> Vec<ServiceSpec> {
    let Some(section) = reader.mapping(
        &["services"],
        "a mapping of service names to their settings",
    ) else {
        return Vec::new();
    };
    let mut services = Vec::new();
    for (key, value) in section {
        let Some(name) = key.as_str() else {
            reader.problem(
                &["services"],
                format_args!("the keys of `services` must be names, found {}", found(key)),
            );
            continue;
        };
        if !matches!(value, Value::Mapping(_)) {
            reader.problem(
                &["services", name],
                format_args!(
                    "`services.{name}` must be a mapping with `command` and `port`, found {}",
                    found(value)
                ),
            );
            continue;
        }
        let read = Service {
            reader: &mut *reader,
            name,
        }
        .read(tests_dir, data_dir, start_timeout);
        if let Some(service) = read {
            services.push(service);
        }
    }
    order(reader, &mut services);
    services
}

/// One service being read.
struct Service<'r, 'a> {
    reader: &'r mut Reader<'a>,
    name: &'r str,
}

impl<'r> Service<'r, '_> {
    fn path<'k>(&self, key: &'k str) -> [&'k str; 3]
    where
        'r: 'k,
    {
        ["services", self.name, key]
    }

    fn read(
        mut self,
        tests_dir: &Path,
        data_dir: &Path,
        start_timeout: Duration,
    ) -> Option<ServiceSpec> {
        let name = self.name;
        let suite_label = &suite_label_of(data_dir);
        let section = self.reader.section(&["services", name], KEYS)?;
        let command = self.reader.read(&self.path("command"), &COMMAND);
        let (image, build) = match (section.get("image"), section.get("build")) {
            (Some(_), Some(_)) => {
                self.reader.problem(
                    &self.path("build"),
                    format_args!(
                        "`services.{name}` has `image` and `build`: give the image, or how to \
                         build it"
                    ),
                );
                (None, None)
            }
            (Some(_), None) => (self.reader.read(&self.path("image"), &IMAGE), None),
            (None, Some(_)) => {
                let build = build_spec(self.reader, &self.path("build"), tests_dir);
                let tag = build.as_ref().map(|_| built_tag(suite_label, name));
                (tag, build)
            }
            (None, None) => {
                if section.get("command").is_none() {
                    self.reader.problem(
                        &["services", name],
                        format_args!(
                            "`services.{name}` needs `command` (the program and its arguments), \
                             or `image` or `build` (a container)"
                        ),
                    );
                }
                (None, None)
            }
        };
        let container = section.get("image").is_some() || section.get("build").is_some();
        if container && section.get("cwd").is_some() {
            self.reader.problem(
                &self.path("cwd"),
                format_args!("`services.{name}.cwd` is a process's folder: a container has none"),
            );
        }
        let port = self.reader.read(&self.path("port"), &PORT);
        if section.get("port").is_none() {
            self.reader.problem(
                &["services", name],
                format_args!("`services.{name}` needs `port` (the port it listens on)"),
            );
        }
        let cwd = self
            .reader
            .read(&self.path("cwd"), &string("a folder (a string)"))
            .map_or_else(|| tests_dir.to_owned(), |cwd| tests_dir.join(cwd));
        let health_path = self.reader.read(&self.path("health_path"), &URL_PATH);
        let timeout = self.reader.read(&self.path("start_timeout"), &SECONDS);
        let depends_on = self.names("depends_on");
        let env = self.variables("env", false);
        let exports = self.variables("exports", true);
        let folder = self
            .reader
            .read(
                &self.path("data_dir"),
                &string("a folder of the data folder (a string)"),
            )
            .and_then(|folder| self.inside(data_dir, &folder));
        let port = port?;
        let command = match (command, container) {
            (Some(command), _) => command,
            (None, true) if section.get("command").is_none() => Vec::new(),
            (None, _) => return None,
        };
        if container && image.is_none() {
            return None;
        }
        Some(ServiceSpec {
            name: name.to_owned(),
            command,
            image,
            build,
            cwd,
            port,
            url: format!("http://localhost:{port}"),
            health_path,
            start_timeout: timeout.unwrap_or(start_timeout),
            depends_on: depends_on?,
            env: env?,
            exports: exports?
                .into_iter()
                .map(|(var, template)| (var, fill(&template, port)))
                .collect(),
            data_dir: folder,
            wave: 0,
        })
    }

    /// `depends_on`: a list of names (checked against the services later).
    fn names(&mut self, key: &str) -> Option<Vec<String>> {
        let path = self.path(key);
        let Some(value) = self.reader.value(&path) else {
            return Some(Vec::new());
        };
        let names = value.as_sequence().and_then(|items| {
            items
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect::<Option<Vec<String>>>()
        });
        if names.is_none() {
            let found = self.reader.found(value);
            self.reader.problem(
                &path,
                format_args!(
                    "`{}` must be a list of service names, found {found}",
                    path.join(".")
                ),
            );
        }
        names
    }

    /// `env` or `exports`: variable names to text (`templated`: may use
    /// `{url}` and `{port}`, and nothing else in braces).
    fn variables(&mut self, key: &str, templated: bool) -> Option<Vec<(String, String)>> {
        let path = self.path(key);
        let Some(value) = self.reader.value(&path) else {
            return Some(Vec::new());
        };
        let Value::Mapping(mapping) = value else {
            let found = self.reader.found(value);
            self.reader.problem(
                &path,
                format_args!(
                    "`{}` must be a mapping of variable names to values, found {found}",
                    path.join(".")
                ),
            );
            return None;
        };
        let mut variables = Vec::new();
        let mut fine = true;
        for (var, value) in mapping {
            let Some(var) = var.as_str().filter(|var| is_variable_name(var)) else {
                self.reader.problem(
                    &path,
                    format_args!(
                        "`{}` keys must be variable names (letters, digits and `_`), found {}",
                        path.join("."),
                        found(var)
                    ),
                );
                fine = false;
                continue;
            };
            let full = ["services", self.name, key, var];
            // Never shown: a value may be secret.
            let Some(text) = scalar_text(value) else {
                self.reader.problem(
                    &full,
                    format_args!("`{}` must be text or a number", full.join(".")),
                );
                fine = false;
                continue;
            };
            if templated && let Some(unknown) = unknown_placeholder(&text) {
                self.reader.problem(
                    &full,
                    format_args!(
                        "`{}` uses `{{{unknown}}}`: an export may use `{{url}}` and `{{port}}`",
                        full.join(".")
                    ),
                );
                fine = false;
                continue;
            }
            variables.push((var.to_owned(), text));
        }
        fine.then_some(variables)
    }

    /// `folder` inside `data_dir`, or a problem.
    fn inside(&mut self, data_dir: &Path, folder: &str) -> Option<PathBuf> {
        let relative = Path::new(folder);
        let plain = !folder.trim().is_empty()
            && relative.is_relative()
            && relative
                .components()
                .all(|part| matches!(part, std::path::Component::Normal(_)));
        if plain {
            return Some(data_dir.join(relative));
        }
        let path = self.path("data_dir");
        self.reader.problem(
            &path,
            format_args!(
                "`services.{}.data_dir` must be a folder inside the data folder (a relative path \
                 without `..`), found {folder:?}",
                self.name
            ),
        );
        None
    }
}

/// The first `{…}` of `template` that is neither `{url}` nor `{port}`.
fn unknown_placeholder(template: &str) -> Option<&str> {
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let end = after.find('}')?;
        let name = &after[..end];
        if name != "url" && name != "port" {
            return Some(name);
        }
        rest = &after[end + 1..];
    }
    None
}

/// `template` with `{url}` and `{port}` of a service on `port`.
fn fill(template: &str, port: u16) -> String {
    template
        .replace("{url}", &format!("http://localhost:{port}"))
        .replace("{port}", &port.to_string())
}

/// Sets each service's wave from its `depends_on` and sorts them by it; an
/// unknown name or a cycle is a problem at the `depends_on` that names it.
fn order(reader: &mut Reader<'_>, services: &mut [ServiceSpec]) {
    let index: BTreeMap<String, usize> = services
        .iter()
        .enumerate()
        .map(|(i, service)| (service.name.clone(), i))
        .collect();
    let mut known = true;
    for service in services.iter() {
        for dependency in &service.depends_on {
            if !index.contains_key(dependency) {
                let names: Vec<&str> = index.keys().map(String::as_str).collect();
                reader.problem(
                    &["services", &service.name, "depends_on"],
                    format_args!(
                        "`services.{}.depends_on` names `{dependency}`, which is no service (the \
                         services are {})",
                        service.name,
                        quoted(&names)
                    ),
                );
                known = false;
            }
        }
    }
    if !known {
        return;
    }
    // Longest path from a service with no dependency, one pass per wave.
    let mut waves: Vec<Option<usize>> = vec![None; services.len()];
    for _ in 0..services.len() {
        for (i, service) in services.iter().enumerate() {
            let ready: Option<Vec<usize>> = service
                .depends_on
                .iter()
                .map(|dependency| waves[index[dependency]])
                .collect();
            if let Some(ready) = ready {
                waves[i] = Some(ready.into_iter().max().map_or(0, |latest| latest + 1));
            }
        }
    }
    let cyclic: Vec<&str> = services
        .iter()
        .zip(&waves)
        .filter(|(_, wave)| wave.is_none())
        .map(|(service, _)| service.name.as_str())
        .collect();
    if let Some(first) = cyclic.first() {
        reader.problem(
            &["services", first, "depends_on"],
            format_args!(
                "`services` depend on each other in a cycle: {} (a service can start only after \
                 those it depends on)",
                quoted(&cyclic)
            ),
        );
        return;
    }
    for (service, wave) in services.iter_mut().zip(waves) {
        service.wave = wave.unwrap_or(0);
    }
    services.sort_by_key(|service| service.wave);
}

/// `` `a`, `b` and `c` ``.
fn quoted(names: &[&str]) -> String {
    listed(names, "and")
}

#[cfg(test)]
mod tests;
