//! Before anything is reset: the images of the container workers and
//! services that name a `build` are built, the engine answers, every image
//! is present on it, and the containers an earlier run of this suite left
//! behind (a runner killed before it could remove them) are removed, each
//! named in a note.

use std::time::Instant;

use super::launch::suite_label;
use crate::Worker;
use crate::config::{BuildSpec, Config, EnvMap, Launch, docker_host_in};
use crate::events::Events;
use crate::process::{Built, Engine};

/// Builds the images of the container workers and services that name a
/// `build` (nothing when one of the same context is there), checks that
/// every image is present, and removes the suite's leftover containers;
/// nothing when no worker or service is a container.
pub(super) async fn prepare(
    config: &Config,
    env: &EnvMap,
    workers: &[Worker],
    events: &Events,
) -> anyhow::Result<()> {
    let workers = workers
        .iter()
        .filter_map(|worker| match &worker.spec().launch {
            Launch::Container { image, build, .. } => {
                Some((worker.name(), image.as_str(), build.as_ref()))
            }
            _ => None,
        });
    let services = config.services.iter().filter_map(|service| {
        let image = service.image.as_deref()?;
        Some((service.name.as_str(), image, service.build.as_ref()))
    });
    let containers: Vec<(&str, &str, Option<&BuildSpec>)> = workers.chain(services).collect();
    if containers.is_empty() {
        return Ok(());
    }
    let engine = Engine::connect_to(docker_host_in(env)).await?;
    for &(user, image, build) in &containers {
        let Some(build) = build else {
            continue;
        };
        let started = Instant::now();
        let note = match engine.build(user, build, image).await? {
            Built::Cached => {
                format!("{user}: image `{image}` is up to date with its build context")
            }
            Built::Fresh => format!(
                "{user}: built image `{image}` from {} in {}",
                build.context.join(&build.dockerfile).display(),
                seconds(started.elapsed())
            ),
        };
        events.note(note);
    }
    let images: Vec<(&str, &str)> = containers
        .iter()
        .map(|&(user, image, _)| (user, image))
        .collect();
    engine.check_images(&images).await?;
    for removed in engine.remove_leftovers(&suite_label(config)).await? {
        events.note(removed);
    }
    Ok(())
}

/// `1.23s`.
fn seconds(elapsed: std::time::Duration) -> String {
    format!("{:.2}s", elapsed.as_secs_f64())
}

/// After a failed start: how each worker the `error` names was started, to
/// try by hand (every started worker when it names none): a process's
/// command line, a container's image, command and engine. `workers` are
/// (name, launch); `engine` is the Docker Engine's address.
pub(super) fn start_notes(workers: &[(&str, &Launch)], error: &str, engine: &str) -> Vec<String> {
    let started: Vec<(&str, String)> = workers
        .iter()
        .filter_map(|&(name, launch)| Some((name, how_started(name, launch, engine)?)))
        .collect();
    let named = started.iter().any(|(name, _)| names(error, name));
    started
        .into_iter()
        .filter(|(name, _)| !named || names(error, name))
        .map(|(_, note)| note)
        .collect()
}

/// How worker `name` was started, `None` for an external server.
fn how_started(name: &str, launch: &Launch, engine: &str) -> Option<String> {
    match launch {
        Launch::Spawn(_) => Some(format!(
            "{name} was started with: {}",
            launch.command_line()?
        )),
        Launch::Container { image, command, .. } => {
            let running = match Launch::Spawn(command.iter().map(Into::into).collect())
                .command_line()
                .filter(|line| !line.is_empty())
            {
                Some(line) => format!("`{line}`"),
                None => "the image's own command".to_owned(),
            };
            Some(format!(
                "{name} was started as a container of image `{image}` running {running} on the \
                 Docker Engine at {engine}"
            ))
        }
        Launch::External => None,
    }
}

/// Whether `text` names worker `name` as a word of its own (`worker1` is
/// not named by `worker10`).
fn names(text: &str, name: &str) -> bool {
    let part_of_a_name = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    text.match_indices(name).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + name.len()..].chars().next();
        !before.is_some_and(part_of_a_name) && !after.is_some_and(part_of_a_name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workers() -> Vec<(&'static str, Launch)> {
        vec![
            (
                "worker1",
                Launch::Spawn(vec!["python3".into(), "server.py".into()]),
            ),
            (
                "worker2",
                Launch::Spawn(vec!["python3".into(), "server.py".into()]),
            ),
            (
                "worker3",
                Launch::Container {
                    image: "todo-task:local".to_owned(),
                    command: vec!["/app/todo task".to_owned(), "--serve".to_owned()],
                    build: None,
                },
            ),
            (
                "worker10",
                Launch::Container {
                    image: "todo-task:local".to_owned(),
                    command: Vec::new(),
                    build: None,
                },
            ),
            ("external", Launch::External),
        ]
    }

    fn notes(error: &str) -> Vec<String> {
        let workers = workers();
        let workers: Vec<(&str, &Launch)> = workers.iter().map(|(n, l)| (*n, l)).collect();
        start_notes(&workers, error, "unix:///run/docker.sock")
    }

    #[test]
    fn a_container_that_failed_to_start_is_shown_with_its_image_command_and_engine() {
        assert_eq!(
            notes(
                "worker3 (port 4003) exited during start-up (status 127) before it was ready \
                 (waiting for port 4003 to accept TCP connections)\n  last output of worker3:\n    \
                 [worker3 ERR] [FATAL tini (6)] exec /app/todo task failed: No such file or directory"
            ),
            [
                "worker3 was started as a container of image `todo-task:local` running \
                 `'/app/todo task' --serve` on the Docker Engine at unix:///run/docker.sock"
            ]
        );
        assert_eq!(
            notes("worker10 (port 4010) was not ready after 30s"),
            [
                "worker10 was started as a container of image `todo-task:local` running \
                 the image's own command on the Docker Engine at unix:///run/docker.sock"
            ],
            "worker1's name inside worker10's is not worker1"
        );
    }

    #[test]
    fn an_error_naming_no_worker_shows_every_started_one() {
        assert_eq!(
            notes("too many open files"),
            [
                "worker1 was started with: python3 server.py",
                "worker2 was started with: python3 server.py",
                "worker3 was started as a container of image `todo-task:local` running \
                 `'/app/todo task' --serve` on the Docker Engine at unix:///run/docker.sock",
                "worker10 was started as a container of image `todo-task:local` running \
                 the image's own command on the Docker Engine at unix:///run/docker.sock",
            ]
        );
    }
}
