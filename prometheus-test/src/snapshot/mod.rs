//! Snapshots of a suite's world (its `MongoDB` database and the files it
//! names), taken before every step and restored on resume or rewind.
//!
//! # Layout
//!
//! Everything lives in `<data_dir>/.snapshots/`:
//!
//! - `objects/<sha256 hex>`: content-addressed, immutable objects, each
//!   written to `objects/.tmp-<hex>` and renamed. An object is a file's bytes,
//!   a collection's documents as concatenated raw BSON (mongodump's `.bson`
//!   layout, in natural order), or a collection's index specs in the same
//!   layout. Equal content is stored once, whichever snapshot wrote it.
//! - `points/<round>-<index>.json`: one manifest per snapshot, written to
//!   `points/.tmp-<round>-<index>.json`, synced, renamed, and its folder
//!   synced. It names the point and lists every collection (name, `dbHash`
//!   md5, options, document and index objects, count) and every path
//!   (relative path; absent, a link, or a file with size, stat key and
//!   object; a folder with each of its entries). A kill leaves either the
//!   previous manifests or the new one whole; `kept` lists only renamed
//!   manifests, `open` removes `.tmp-*` leftovers.
//! - `restore.json`: the restore journal, present while a restore runs. It
//!   names the point; `recover` redoes that restore, which is idempotent.
//!
//! # Cost of a snapshot
//!
//! A collection whose `dbHash` md5 equals the previous snapshot's shares its
//! document object without being read (its index specs are always listed:
//! `dbHash` does not cover them). A file whose stat key (size, mtime, ctime,
//! inode) equals the previous snapshot's entry, and whose mtime is not within
//! [`files::RACY_WINDOW`] of that snapshot, shares its object unread; any
//! other file is hashed and stored only when its object is new. A step that
//! changed nothing costs one `dbHash`, one `listCollections`, one
//! `listIndexes` per collection and a few `stat` calls.
//!
//! # Consistency
//!
//! Objects are verified (sha256) when a restore reads them, before anything
//! is deleted: a missing or damaged object fails the restore with the world
//! untouched. Objects are not synced to disk (a kill cannot tear them; a power
//! loss may, which the next restore detects). Errors name collections, paths
//! and objects, never their content.

mod collections;
mod files;
mod manifest;
mod objects;
mod report;
mod store;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;

pub(crate) use report::{Kept, Restored, Taken};
pub(crate) use store::{Store, not_kept};

/// What makes up a suite's world.
pub(crate) struct World {
    /// The suite's database; `None` when the suite has no `MongoDB`.
    pub(crate) db: Option<mongodb::Database>,
    /// The folder every path is relative to; snapshots live in its `.snapshots`.
    pub(crate) data_dir: PathBuf,
    /// Paths relative to `data_dir`: files or folders (taken whole,
    /// recursively). For a path that is not a folder, its `SQLite` companions
    /// (`-wal`, `-shm`, `-journal`) are recorded too, as absent when missing.
    /// A path that does not exist is recorded as absent: restoring removes it.
    pub(crate) paths: Vec<PathBuf>,
}

/// Where a snapshot was taken: before step instance `index` (0-based position
/// in the suite's step order, counting each worker instance of a multi-worker
/// step) of `round`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Point {
    pub(crate) round: u32,
    pub(crate) index: usize,
    /// The step's test name, like `steps::audit::audits_its_peer`.
    pub(crate) step: String,
    pub(crate) worker: Option<String>,
}

impl fmt::Display for Point {
    /// `round 2 steps::audit::audits_its_peer[worker3]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "round {} {}", self.round, self.step)?;
        match &self.worker {
            Some(worker) => write!(f, "[{worker}]"),
            None => Ok(()),
        }
    }
}
