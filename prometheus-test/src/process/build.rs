//! Images built from a task's own Dockerfile through the Engine API: the
//! build context sent as a tar stream, the engine's build log kept for the
//! error of a build that fails, and no build at all when the image of the
//! same context, Dockerfile, arguments and target is already there (its
//! fingerprint is a label of the image).

use std::collections::HashMap;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use bollard::errors::Error as DockerError;
use bollard::query_parameters::BuildImageOptions;
use futures_util::StreamExt as _;
use sha2::{Digest as _, Sha256};

use self::ignore::Ignore;
use super::container::Engine;
use crate::config::BuildSpec;

/// The label holding a built image's fingerprint.
pub(crate) const CONTEXT_LABEL: &str = "prometheus-test.context";

/// How many lines of a failed build's log its error shows.
const LOG_TAIL: usize = 20;

/// What a build did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Built {
    /// The image of this context was there already: nothing was sent.
    Cached,
    /// The engine built it (its own layer cache may have served steps).
    Fresh,
}

impl Engine {
    /// Makes image `tag` from `spec` for `user` (the worker or service, for
    /// messages): nothing when the image of the same fingerprint is there,
    /// else a build, never pulling but what the Dockerfile's `FROM` needs.
    pub(crate) async fn build(
        &self,
        user: &str,
        spec: &BuildSpec,
        tag: &str,
    ) -> anyhow::Result<Built> {
        let dockerfile = spec.context.join(&spec.dockerfile);
        if !dockerfile.is_file() {
            bail!(
                "{user}: `build`: no Dockerfile at {} (`dockerfile` is relative to `context` {})",
                dockerfile.display(),
                spec.context.display()
            );
        }
        let context = spec.context.clone();
        let ignore = Ignore::of(&spec.context, &spec.dockerfile)
            .with_context(|| format!("{user}: `build`: cannot read the context's .dockerignore"))?;
        let (files, listing) = tokio::task::spawn_blocking(move || survey(&context, &ignore))
            .await
            .context("the build context's survey stopped")?
            .with_context(|| format!("{user}: `build`: cannot read the context"))?;
        let fingerprint = fingerprint_of(&listing, spec);
        if self.label_of(tag, CONTEXT_LABEL).await?.as_deref() == Some(fingerprint.as_str()) {
            return Ok(Built::Cached);
        }
        // Read and packed only now: a context that did not change is never read.
        let context = spec.context.clone();
        let tar = tokio::task::spawn_blocking(move || archive(&context, &files))
            .await
            .context("the build context's packing stopped")?
            .with_context(|| format!("{user}: `build`: cannot pack the context"))?;
        let options = BuildImageOptions {
            dockerfile: spec.dockerfile.clone(),
            t: Some(tag.to_owned()),
            rm: true,
            forcerm: true,
            buildargs: (!spec.args.is_empty()).then(|| spec.args.iter().cloned().collect()),
            labels: Some(HashMap::from([(CONTEXT_LABEL.to_owned(), fingerprint)])),
            target: spec.target.clone().unwrap_or_default(),
            ..BuildImageOptions::default()
        };
        let mut log: VecDeque<String> = VecDeque::new();
        let mut keep = |text: &str| {
            for line in text.lines().filter(|line| !line.trim().is_empty()) {
                if log.len() == LOG_TAIL {
                    log.pop_front();
                }
                log.push_back(line.trim_end().to_owned());
            }
        };
        let mut stream =
            self.docker()
                .build_image(options, None, Some(bollard::body_full(tar.into())));
        let mut failure = None;
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(text) = info.stream.as_deref().or(info.status.as_deref()) {
                        keep(text);
                    }
                    if let Some(detail) = info.error_detail {
                        failure = Some(
                            detail
                                .message
                                .unwrap_or_else(|| "the build failed".to_owned()),
                        );
                    }
                }
                Err(DockerError::DockerStreamError { error }) => failure = Some(error),
                Err(error) => failure = Some(error.to_string()),
            }
        }
        if let Some(failure) = failure {
            let mut message = format!(
                "{user}: building {} from {} failed: {failure}",
                tag,
                dockerfile.display()
            );
            if !log.is_empty() {
                let _ = write!(message, "\nlast lines of the build:");
                for line in &log {
                    let _ = write!(message, "\n  {line}");
                }
            }
            if failure.contains("pull access denied") || failure.contains("no such host") {
                message.push_str(
                    "\n(the Dockerfile's `FROM` names an image the engine does not have and \
                     cannot pull: build or import it first, or name a local one)",
                );
            }
            return Err(anyhow!(message));
        }
        Ok(Built::Fresh)
    }

    /// The value of `label` on image `tag`, `None` when the image or the
    /// label is missing.
    async fn label_of(&self, tag: &str, label: &str) -> anyhow::Result<Option<String>> {
        match self.docker().inspect_image(tag).await {
            Ok(image) => Ok(image
                .config
                .and_then(|config| config.labels)
                .and_then(|labels| labels.get(label).cloned())),
            Err(DockerError::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(error) => Err(anyhow!("cannot inspect image `{tag}`: {error}")),
        }
    }
}

/// The fingerprint of a build: its context's files (from [`survey`]), the
/// Dockerfile's name, the arguments and the target.
fn fingerprint_of(files: &str, spec: &BuildSpec) -> String {
    let mut hasher = Sha256::new();
    hasher.update(files.as_bytes());
    hasher.update(spec.dockerfile.as_bytes());
    for (name, value) in &spec.args {
        hasher.update(format!("\0{name}={value}").as_bytes());
    }
    hasher.update(spec.target.as_deref().unwrap_or_default().as_bytes());
    format!("{:x}", hasher.finalize())
}

/// The paths of the context folder `root` that `ignore` keeps, sorted, and
/// their listing (path, size, modification time, mode: what the
/// fingerprint is made of). Only metadata is read.
fn survey(root: &Path, ignore: &Ignore) -> anyhow::Result<(Vec<PathBuf>, String)> {
    let mut files = Vec::new();
    collect(root, Path::new(""), ignore, &mut files)?;
    let mut listing = String::new();
    for relative in &files {
        let full = root.join(relative);
        let metadata = std::fs::symlink_metadata(&full)
            .with_context(|| format!("cannot read {}", full.display()))?;
        let _ = writeln!(
            listing,
            "{}\0{}\0{}\0{}",
            relative.display(),
            metadata.len(),
            metadata.mtime_nsec() + metadata.mtime() * 1_000_000_000,
            metadata.mode()
        );
    }
    Ok((files, listing))
}

/// The `files` of `root` (from [`survey`]) as a tar archive, in their
/// order: the same folder gives the same archive.
fn archive(root: &Path, files: &[PathBuf]) -> anyhow::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.mode(tar::HeaderMode::Deterministic);
    builder.follow_symlinks(false);
    for relative in files {
        let full = root.join(relative);
        builder
            .append_path_with_name(&full, relative)
            .with_context(|| format!("cannot pack {}", full.display()))?;
    }
    builder
        .into_inner()
        .context("cannot finish the context's archive")
}

/// Every entry under `root.join(relative)` that `ignore` keeps, folders
/// before what they hold, sorted by name. A folder left out is walked only
/// when an exception may take something in it back.
fn collect(
    root: &Path,
    relative: &Path,
    ignore: &Ignore,
    found: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let folder = root.join(relative);
    let mut names: Vec<_> = std::fs::read_dir(&folder)
        .with_context(|| format!("cannot list {}", folder.display()))?
        .map(|entry| entry.map(|entry| entry.file_name()))
        .collect::<Result<_, _>>()
        .with_context(|| format!("cannot list {}", folder.display()))?;
    names.sort();
    for name in names {
        let path = relative.join(&name);
        let kind = std::fs::symlink_metadata(root.join(&path))
            .with_context(|| format!("cannot read {}", root.join(&path).display()))?
            .file_type();
        let shown = path.to_string_lossy().replace('\\', "/");
        let excluded = ignore.excludes(&shown);
        if !excluded {
            found.push(path.clone());
        }
        if kind.is_dir() && (!excluded || ignore.has_exceptions()) {
            collect(root, &path, ignore, found)?;
        }
    }
    Ok(())
}

mod ignore;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_follows_the_files_the_dockerfile_the_args_and_the_target() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::create_dir(dir.path().join("app")).unwrap();
        std::fs::write(dir.path().join("app/server.py"), "print(1)\n").unwrap();
        let spec = BuildSpec {
            context: dir.path().to_owned(),
            dockerfile: "Dockerfile".to_owned(),
            args: Vec::new(),
            target: None,
        };
        let (paths, files) = survey(dir.path(), &Ignore::default()).unwrap();
        let tar = archive(dir.path(), &paths).unwrap();
        let first = fingerprint_of(&files, &spec);
        assert_eq!(
            fingerprint_of(&survey(dir.path(), &Ignore::default()).unwrap().1, &spec),
            first
        );
        let mut archive = tar::Archive::new(tar.as_slice());
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|entry| entry.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["Dockerfile", "app", "app/server.py"]);
        let with_arg = BuildSpec {
            args: vec![("BASE".to_owned(), "x".to_owned())],
            ..spec.clone()
        };
        assert_ne!(fingerprint_of(&files, &with_arg), first);
        let with_target = BuildSpec {
            target: Some("run".to_owned()),
            ..spec.clone()
        };
        assert_ne!(fingerprint_of(&files, &with_target), first);
        std::fs::write(dir.path().join("app/server.py"), "print(22)\n").unwrap();
        assert_ne!(
            fingerprint_of(&survey(dir.path(), &Ignore::default()).unwrap().1, &spec),
            first
        );
    }

    #[test]
    fn what_the_dockerignore_leaves_out_is_neither_sent_nor_fingerprinted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(dir.path().join(".dockerignore"), "target\n*.log\n").unwrap();
        std::fs::create_dir_all(dir.path().join("target/debug")).unwrap();
        std::fs::write(dir.path().join("target/debug/big"), "x").unwrap();
        std::fs::write(dir.path().join("run.log"), "x").unwrap();
        std::fs::write(dir.path().join("server.py"), "print(1)\n").unwrap();
        let ignore = Ignore::of(dir.path(), "Dockerfile").unwrap();
        let (paths, files) = survey(dir.path(), &ignore).unwrap();
        let tar = archive(dir.path(), &paths).unwrap();
        let names: Vec<String> = tar::Archive::new(tar.as_slice())
            .entries()
            .unwrap()
            .map(|entry| entry.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, [".dockerignore", "Dockerfile", "server.py"]);
        // A change to a file left out builds nothing again.
        std::fs::write(dir.path().join("run.log"), "more").unwrap();
        assert_eq!(survey(dir.path(), &ignore).unwrap().1, files);
    }
}
