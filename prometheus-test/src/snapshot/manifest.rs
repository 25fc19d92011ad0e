//! One snapshot's manifest (`points/<round>-<index>.json`): what the world
//! held, by object, and how it is written so that a kill never leaves half of
//! one under its final name.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::Point;
use super::objects::{ObjectRef, TEMP_PREFIX};
use crate::atomic_file::{FileSync, write_atomic};

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct Manifest {
    pub(super) point: Point,
    /// Unix time in nanoseconds when the snapshot started.
    pub(super) taken_at_ns: i64,
    /// The database's collections (no `system.*`), by name.
    pub(super) collections: Vec<CollectionRecord>,
    /// The named paths, as given.
    pub(super) roots: Vec<PathBuf>,
    /// Every recorded path: the roots, their `SQLite` companions and the
    /// content of folders, parents before children.
    pub(super) paths: Vec<PathRecord>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct CollectionRecord {
    pub(super) name: String,
    /// Its md5 from `dbHash`; empty when `dbHash` cannot be trusted for it
    /// (no `_id` index), so that it is always read.
    pub(super) md5: String,
    pub(super) count: u64,
    /// The documents, as concatenated raw BSON.
    pub(super) documents: ObjectRef,
    /// The collection's options, then its index specs, as concatenated raw BSON.
    pub(super) spec: ObjectRef,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct PathRecord {
    /// Relative to the data folder.
    pub(super) path: PathBuf,
    #[serde(flatten)]
    pub(super) kind: PathKind,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub(super) enum PathKind {
    Absent,
    Dir,
    Link { target: PathBuf },
    File(FileRecord),
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct FileRecord {
    pub(super) object: ObjectRef,
    pub(super) mode: u32,
    pub(super) stat: StatKey,
    /// When the file was last read (the start of that snapshot): its stat
    /// key can be trusted once its mtime lies a clock tick before that.
    #[serde(default)]
    pub(super) verified_ns: i64,
}

/// What must be unchanged for a file to be taken as unchanged unread.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct StatKey {
    pub(super) size: u64,
    pub(super) mtime_ns: i64,
    pub(super) ctime_ns: i64,
    pub(super) inode: u64,
    pub(super) device: u64,
}

impl Manifest {
    /// Every object the manifest names.
    pub(super) fn objects(&self) -> impl Iterator<Item = &ObjectRef> {
        let collections = self
            .collections
            .iter()
            .flat_map(|collection| [&collection.documents, &collection.spec]);
        let files = self.paths.iter().filter_map(|record| match &record.kind {
            PathKind::File(file) => Some(&file.object),
            _ => None,
        });
        collections.chain(files)
    }

    /// The bytes of the distinct objects it names.
    pub(super) fn bytes(&self) -> u64 {
        let mut seen = std::collections::HashSet::new();
        self.objects()
            .filter(|object| seen.insert(object.id.as_str()))
            .map(|object| object.bytes)
            .sum()
    }
}

/// What a manifest is, in errors about one.
pub(super) const MANIFEST: &str = "a snapshot manifest";

/// The file name of the manifest of the snapshot at `(round, index)`.
pub(super) fn file_name(round: u32, index: usize) -> String {
    format!("{round}-{index}.json")
}

/// The `(round, index)` a manifest file name stands for; `None` for any other
/// file (temporaries included).
pub(super) fn parse_file_name(name: &str) -> Option<(u32, usize)> {
    let (round, index) = name.strip_suffix(".json")?.split_once('-')?;
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit());
    if !digits(round) || !digits(index) {
        return None;
    }
    Some((round.parse().ok()?, index.parse().ok()?))
}

/// Writes `manifest` into `dir` under its final name: a temporary, renamed.
/// A kill leaves the previous manifests or this one whole. Neither the file
/// nor the folder is synced, like the objects it names: after a system crash
/// the manifests of the last seconds may be missing or cut short, and the
/// next run lists a cut one as unusable and sets it aside (a sync cost more
/// than the rest of a snapshot that changed nothing).
pub(super) fn write(dir: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    let name = file_name(manifest.point.round, manifest.point.index);
    write_with(dir, &name, manifest, FileSync::Nothing)
}

/// Writes `value` as `dir/name` through a synced temporary and a rename.
pub(super) fn write_json<T: serde::Serialize>(
    dir: &Path,
    name: &str,
    value: &T,
) -> anyhow::Result<()> {
    write_with(dir, name, value, FileSync::Data)
}

fn write_with<T: serde::Serialize>(
    dir: &Path,
    name: &str,
    value: &T,
    sync: FileSync,
) -> anyhow::Result<()> {
    let path = dir.join(name);
    let temp = dir.join(format!("{TEMP_PREFIX}{name}"));
    let bytes = serde_json::to_vec(value).context("cannot encode a snapshot manifest")?;
    write_atomic(&path, &temp, &bytes, sync, None)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Reads `what` (a snapshot manifest, the restore journal) written by
/// [`write_json`]; `Ok(Err(why))` when the file is there but cannot be used,
/// `why` saying whether it is damaged or of another version.
pub(super) fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    what: &str,
) -> anyhow::Result<Result<T, String>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(serde_json::from_slice(&bytes).map_err(|error| unusable(path, what, &error)))
}

/// Reads a manifest or the journal, any failure an error.
pub(super) fn read_usable<T: serde::de::DeserializeOwned>(
    path: &Path,
    what: &str,
) -> anyhow::Result<T> {
    read_json(path, what)?.map_err(anyhow::Error::msg)
}

/// Why a file that holds `what` cannot be read as one: damaged (cut short,
/// not JSON) or well-formed but of another version.
fn unusable(path: &Path, what: &str, error: &serde_json::Error) -> String {
    match error.classify() {
        serde_json::error::Category::Data => {
            format!("{} is not {what} of this version ({error})", path.display())
        }
        _ => format!(
            "{} is damaged: it is not whole JSON ({error})",
            path.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::{MANIFEST, Manifest, file_name, parse_file_name, read_json};

    #[test]
    fn a_damaged_manifest_and_one_of_another_version_say_which() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("1-0.json");
        let why = |text: &str| {
            std::fs::write(&path, text).unwrap();
            read_json::<Manifest>(&path, MANIFEST).unwrap().unwrap_err()
        };
        let shown = path.display();
        assert_eq!(
            [why(r#"{"point":{"#), why(r#"{"point": 1}"#)],
            [
                format!(
                    "{shown} is damaged: it is not whole JSON (EOF while parsing an object at \
                     line 1 column 10)"
                ),
                format!(
                    "{shown} is not a snapshot manifest of this version (invalid type: integer \
                     `1`, expected struct Point at line 1 column 11)"
                ),
            ]
        );
    }

    #[test]
    fn manifest_names_round_trip_and_other_files_are_not_manifests() {
        assert_eq!(parse_file_name(&file_name(12, 3)), Some((12, 3)));
        let others = [
            ".tmp-1-2.json",
            "1-2.json.tmp",
            "1.json",
            "a-2.json",
            "-2.json",
            "1-.json",
        ];
        let parsed: Vec<_> = others.iter().map(|name| parse_file_name(name)).collect();
        assert_eq!(parsed, vec![None; others.len()]);
    }
}
