//! config.yaml's `snapshots` section: whether a snapshot of the suite's
//! world is taken before every step, how many rounds of them are kept, and
//! the worker files (inside the data folder) that belong to the world.
//!
//! ```yaml
//! snapshots:
//!   keep_rounds: 2          # the current and the previous round (default)
//!   files: [worker1/state]  # files or folders, relative to data_dir
//! # or: `snapshots: off`
//! ```

use std::path::{Component, Path, PathBuf};

use serde_yaml_ng::Value;

use super::reader::Reader;
use super::typed::{ROUNDS, found};
use crate::snapshot::STORE_DIR;

/// The keys of the `snapshots` section.
const KEYS: &[&str] = &["keep_rounds", "files"];

/// Folders of the data folder that are the framework's own, never the world's.
const OWN_FOLDERS: &[&str] = &[
    STORE_DIR,
    "mongodb",
    ".nextest",
    super::recording::PROXY_DIR,
];

/// Snapshots of the world: off, or how many rounds are kept and which
/// files besides the workers' databases and the state belong to the world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SnapshotSettings {
    /// Rounds whose snapshots are kept; 0: no snapshots.
    pub(crate) keep_rounds: u32,
    /// Paths relative to the data folder.
    pub(crate) files: Vec<PathBuf>,
}

impl Default for SnapshotSettings {
    fn default() -> Self {
        Self {
            keep_rounds: 2,
            files: Vec::new(),
        }
    }
}

impl SnapshotSettings {
    /// Whether snapshots are taken.
    pub(crate) fn enabled(&self) -> bool {
        self.keep_rounds > 0
    }
}

/// config.yaml's `snapshots` value; problems go to `reader`.
pub(super) fn snapshot_settings(reader: &mut Reader<'_>) -> SnapshotSettings {
    let path = ["snapshots"];
    match reader.value(&path) {
        None => SnapshotSettings::default(),
        Some(Value::String(off)) if off == "off" => SnapshotSettings {
            keep_rounds: 0,
            files: Vec::new(),
        },
        Some(Value::Bool(false)) => SnapshotSettings {
            keep_rounds: 0,
            files: Vec::new(),
        },
        Some(Value::Mapping(_)) => {
            reader.section(&path, KEYS);
            let defaults = SnapshotSettings::default();
            SnapshotSettings {
                keep_rounds: reader
                    .read(&["snapshots", "keep_rounds"], &ROUNDS)
                    .unwrap_or(defaults.keep_rounds),
                files: files(reader),
            }
        }
        Some(other) => {
            let found = found(other);
            reader.problem(
                &path,
                format_args!(
                    "`snapshots` must be `off` or a mapping with `keep_rounds` and `files`, found {found}"
                ),
            );
            SnapshotSettings::default()
        }
    }
}

/// `snapshots.files`: a list of relative paths inside the data folder.
fn files(reader: &mut Reader<'_>) -> Vec<PathBuf> {
    let path = ["snapshots", "files"];
    let Some(value) = reader.value(&path) else {
        return Vec::new();
    };
    let Value::Sequence(items) = value else {
        let found = found(value);
        reader.problem(
            &path,
            format_args!(
                "`snapshots.files` must be a list of paths inside the data folder, found {found}"
            ),
        );
        return Vec::new();
    };
    let mut files = Vec::new();
    for (index, item) in items.iter().enumerate() {
        match item
            .as_str()
            .map(|text| (text, check_inside(Path::new(text))))
        {
            Some((text, Ok(()))) => files.push(PathBuf::from(text)),
            Some((_, Err(why))) => {
                reader.problem(&path, format_args!("`snapshots.files[{index}]` {why}"));
            }
            None => reader.problem(
                &path,
                format_args!(
                    "`snapshots.files[{index}]` must be a path (a string), found {}",
                    found(item)
                ),
            ),
        }
    }
    files
}

/// Why `path` cannot name a part of the world: it must stay inside the data
/// folder and out of the framework's own folders.
fn check_inside(path: &Path) -> Result<(), String> {
    let mut parts = path.components().peekable();
    if parts.peek().is_none() {
        return Err("is empty: expected a path inside the data folder".to_owned());
    }
    for (index, part) in path.components().enumerate() {
        match part {
            Component::Normal(name) if index == 0 && OWN_FOLDERS.iter().any(|own| name == *own) => {
                return Err(format!(
                    "names the framework's own folder `{}`: expected a worker's file or folder",
                    name.to_string_lossy()
                ));
            }
            Component::Normal(_) => {}
            _ => {
                return Err(format!(
                    "must be a relative path inside the data folder without `..`, found {:?}",
                    path.display().to_string()
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn parse(text: &str) -> anyhow::Result<SnapshotSettings> {
        let text = format!("task_id: t\nmax_rounds: 1\n{text}");
        Config::parse(Path::new("/s/tests/config.yaml"), &text).map(|c| c.snapshots)
    }

    #[test]
    fn snapshots_are_on_for_two_rounds_unless_the_suite_says_otherwise() {
        assert_eq!(parse("").unwrap(), SnapshotSettings::default());
        assert_eq!(parse("snapshots: off\n").unwrap().keep_rounds, 0);
        assert_eq!(
            parse("snapshots:\n  keep_rounds: 5\n  files: [w1/db, state]\n").unwrap(),
            SnapshotSettings {
                keep_rounds: 5,
                files: vec![PathBuf::from("w1/db"), PathBuf::from("state")],
            }
        );
    }

    #[test]
    fn every_bad_value_is_named_with_its_line() {
        let err = parse(
            "snapshots:\n  keep_rounds: 0\n  files: [/etc/passwd, ../up, .snapshots/x, 3]\n  keep: 1\n",
        )
        .unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "6 problems:\n  \
             - /s/tests/config.yaml: line 6: `snapshots.keep` is unknown: `snapshots` takes `keep_rounds` and `files`\n  \
             - /s/tests/config.yaml: line 4: `snapshots.keep_rounds` must be an integer from 1 to 4294967295, found 0\n  \
             - /s/tests/config.yaml: line 5: `snapshots.files[0]` must be a relative path inside the data folder without `..`, found \"/etc/passwd\"\n  \
             - /s/tests/config.yaml: line 5: `snapshots.files[1]` must be a relative path inside the data folder without `..`, found \"../up\"\n  \
             - /s/tests/config.yaml: line 5: `snapshots.files[2]` names the framework's own folder `.snapshots`: expected a worker's file or folder\n  \
             - /s/tests/config.yaml: line 5: `snapshots.files[3]` must be a path (a string), found 3"
        );
    }
}
