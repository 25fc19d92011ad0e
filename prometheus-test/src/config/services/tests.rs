use std::path::Path;
use std::time::Duration;

use super::*;
use crate::config::Config;

const FILE: &str = "/s/tests/config.yaml";

fn parse(text: &str) -> anyhow::Result<Vec<ServiceSpec>> {
    let text = format!("task_id: t\nmax_rounds: 1\n{text}");
    Config::parse(Path::new(FILE), &text).map(|c| c.services)
}

/// The problems of `text`, one per line, each without the file's name.
fn problems(text: &str) -> Vec<String> {
    let err = format!("{:#}", parse(text).unwrap_err());
    err.lines()
        .filter(|line| line.contains(FILE))
        .map(|line| line.split_once(&format!("{FILE}: ")).unwrap().1.to_owned())
        .collect()
}

#[test]
fn services_are_read_and_ordered_by_what_they_depend_on() {
    let services = parse(
        "services:
  middle:
    command: [python3, middle.py]
    port: 5790
    health_path: /health
    depends_on: [chain]
    env: { LOG_LEVEL: debug, WORKERS: 3 }
    exports: { MIDDLE_SERVER_URL: \"{url}/api\", MIDDLE_PORT: \"{port}\" }
    data_dir: middle
  chain:
    command: [python3, chain.py]
    port: 5791
    cwd: chain
    start_timeout: 5
",
    )
    .unwrap();
    let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["chain", "middle"]);
    let (chain, middle) = (&services[0], &services[1]);
    assert_eq!((chain.wave, middle.wave), (0, 1));
    assert_eq!(chain.cwd, Path::new("/s/tests/chain"));
    assert_eq!(chain.start_timeout, Duration::from_secs(5));
    assert_eq!(middle.start_timeout, Duration::from_secs(30));
    assert_eq!(middle.cwd, Path::new("/s/tests"));
    assert_eq!(middle.url, "http://localhost:5790");
    assert_eq!(middle.health_path.as_deref(), Some("/health"));
    assert_eq!(
        middle.env,
        [
            ("LOG_LEVEL".to_owned(), "debug".to_owned()),
            ("WORKERS".to_owned(), "3".to_owned())
        ]
    );
    assert_eq!(
        middle.exports,
        [
            (
                "MIDDLE_SERVER_URL".to_owned(),
                "http://localhost:5790/api".to_owned()
            ),
            ("MIDDLE_PORT".to_owned(), "5790".to_owned())
        ]
    );
    assert_eq!(
        middle.data_dir.as_deref(),
        Some(Path::new("/s/tests/data/middle"))
    );
    assert!(parse("").unwrap().is_empty());
}

#[test]
fn every_bad_service_is_named_with_its_line() {
    assert_eq!(
        problems(
            "services:
  a:
    command: python3
    port: 70000
    helth_path: /h
  b:
    depends_on: [a, z]
    exports: { URL: \"{host}\" }
    data_dir: ../out
  c: 5
"
        ),
        [
            "line 7: `services.a.helth_path` is unknown: `services.a` takes `command`, `image`, \
             `build`, `cwd`, `port`, `health_path`, `start_timeout`, `depends_on`, `env`, \
             `exports` and `data_dir`; did you mean `health_path`?",
            "line 5: `services.a.command` must be a non-empty array of strings, found \"python3\"",
            "line 6: `services.a.port` must be an integer from 1 to 65535, found 70000",
            "line 8: `services.b` needs `command` (the program and its arguments), or `image` \
             or `build` (a container)",
            "line 8: `services.b` needs `port` (the port it listens on)",
            "line 10: `services.b.exports.URL` uses `{host}`: an export may use `{url}` and \
             `{port}`",
            "line 11: `services.b.data_dir` must be a folder inside the data folder (a relative \
             path without `..`), found \"../out\"",
            "line 12: `services.c` must be a mapping with `command` and `port`, found 5",
        ]
    );
}

#[test]
fn an_unknown_dependency_and_a_cycle_are_named() {
    assert_eq!(
        problems(
            "services:\n  a: {command: [x], port: 1, depends_on: [z]}\n  b: {command: [x], port: 2}\n"
        ),
        [
            "line 4: `services.a.depends_on` names `z`, which is no service (the services are `a` \
          and `b`)"
        ]
    );
    assert_eq!(
        problems(
            "services:\n  a: {command: [x], port: 1, depends_on: [b]}\n  \
             b: {command: [x], port: 2, depends_on: [a]}\n  c: {command: [x], port: 3}\n"
        ),
        [
            "line 4: `services` depend on each other in a cycle: `a` and `b` (a service can start \
          only after those it depends on)"
        ]
    );
}

#[test]
fn a_service_may_be_a_container_of_an_image_or_of_a_build() {
    let services = parse(
        "services:
  chain: { image: 'chain:local', port: 5791 }
  middle:
    build: { context: ../middle, args: { BASE: 'python:3.11-slim', N: 2 }, target: run }
    command: [python3, /app/server.py]
    port: 5790
",
    )
    .unwrap();
    let (chain, middle) = (&services[0], &services[1]);
    assert_eq!(chain.image.as_deref(), Some("chain:local"));
    assert!(chain.command.is_empty() && chain.build.is_none());
    let build = middle.build.as_ref().unwrap();
    assert_eq!(build.context, Path::new("/s/tests/../middle"));
    assert_eq!(build.dockerfile, "Dockerfile");
    assert_eq!(
        build.args,
        [
            ("BASE".to_owned(), "python:3.11-slim".to_owned()),
            ("N".to_owned(), "2".to_owned())
        ]
    );
    assert_eq!(build.target.as_deref(), Some("run"));
    let tag = middle.image.as_deref().unwrap();
    assert!(
        tag.starts_with("prometheus-test-") && tag.ends_with("-middle:built"),
        "{tag}"
    );
    assert_eq!(
        problems(
            "services:\n  a: {image: x, build: {context: .}, port: 1}\n  \
             b: {build: {dockerfile: D}, port: 2}\n  c: {image: x, cwd: here, port: 3}\n  \
             d: {port: 4}\n"
        ),
        [
            "line 4: `services.a` has `image` and `build`: give the image, or how to build it",
            "line 5: `services.b.build` needs `context` (the folder the image is built from)",
            "line 6: `services.c.cwd` is a process's folder: a container has none",
            "line 7: `services.d` needs `command` (the program and its arguments), or `image` \
             or `build` (a container)",
        ]
    );
}
