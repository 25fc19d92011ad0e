//! The content-addressed object folder: `objects/<sha256 hex>`, each object
//! written to a temporary name and renamed, read back verified.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use sha2::{Digest as _, Sha256};

use crate::atomic_file::{FileSync, write_atomic};

/// The prefix of a file being written; such files are leftovers of a kill
/// when found by [`Objects::remove_leftovers`].
pub(super) const TEMP_PREFIX: &str = ".tmp-";

/// An object named in a manifest, with its size (for disk accounting).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct ObjectRef {
    pub(super) id: String,
    pub(super) bytes: u64,
}

/// The `objects` folder of a store.
#[derive(Clone)]
pub(super) struct Objects {
    dir: PathBuf,
}

/// The sha256 of `bytes`, in lowercase hex: the object's name.
pub(super) fn id_of(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Objects {
    pub(super) fn new(dir: PathBuf) -> Objects {
        Objects { dir }
    }

    pub(super) fn path(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    /// Stores `bytes` unless an object with their hash exists; returns the
    /// object and how many bytes were written (0 when it was shared).
    pub(super) fn put(&self, bytes: &[u8]) -> anyhow::Result<(ObjectRef, u64)> {
        let id = id_of(bytes);
        let path = self.path(&id);
        let size = bytes.len() as u64;
        let object = ObjectRef { id, bytes: size };
        if path.exists() {
            return Ok((object, 0));
        }
        let temp = self.dir.join(format!("{TEMP_PREFIX}{}", object.id));
        write_atomic(&path, &temp, bytes, FileSync::Nothing, None)
            .with_context(|| format!("cannot write the snapshot object {}", path.display()))?;
        Ok((object, size))
    }

    /// The object's bytes, checked against its name.
    pub(super) fn read(&self, id: &str) -> anyhow::Result<Vec<u8>> {
        let path = self.path(id);
        let bytes = std::fs::read(&path)
            .with_context(|| format!("cannot read the snapshot object {}", path.display()))?;
        if id_of(&bytes) != id {
            bail!(
                "the snapshot object {} is damaged: its content does not match its name",
                path.display()
            );
        }
        Ok(bytes)
    }

    /// Removes every object not in `referenced` (and any leftover temporary).
    pub(super) fn remove_unreferenced(&self, referenced: &HashSet<&str>) -> anyhow::Result<()> {
        for name in list(&self.dir)? {
            if !referenced.contains(name.as_str()) {
                remove_file(&self.dir.join(&name))?;
            }
        }
        Ok(())
    }

    /// Removes the temporaries a killed write left.
    pub(super) fn remove_leftovers(&self) -> anyhow::Result<()> {
        remove_temporaries(&self.dir)
    }
}

/// The names of the files in `dir`.
pub(super) fn list(dir: &Path) -> anyhow::Result<Vec<String>> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    Ok(names)
}

/// Removes the files of `dir` whose name starts with [`TEMP_PREFIX`].
pub(super) fn remove_temporaries(dir: &Path) -> anyhow::Result<()> {
    for name in list(dir)? {
        if name.starts_with(TEMP_PREFIX) {
            remove_file(&dir.join(name))?;
        }
    }
    Ok(())
}

pub(super) fn remove_file(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(error).with_context(|| format!("cannot remove {}", path.display()))
        }
        _ => Ok(()),
    }
}
