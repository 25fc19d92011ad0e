//! What taking, keeping and restoring snapshots reports.

use std::fmt;
use std::time::Duration;

use super::Point;

/// What [`Store::take`](super::Store::take) did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Taken {
    pub(crate) point: Point,
    /// Collections read and stored (their `dbHash` changed).
    pub(crate) collections_copied: usize,
    /// Collections whose previous object was reused unread.
    pub(crate) collections_shared: usize,
    /// Files stored as new objects.
    pub(crate) files_copied: usize,
    /// Files whose object already existed (unread, or read and found equal).
    pub(crate) files_shared: usize,
    /// Files read and hashed (the others had the stat key of the previous
    /// snapshot's entry).
    pub(crate) files_read: usize,
    /// Bytes of the new objects.
    pub(crate) bytes_written: u64,
    pub(crate) elapsed: Duration,
}

/// A complete snapshot in the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Kept {
    pub(crate) point: Point,
    /// Bytes of the distinct objects it references (shared ones included).
    pub(crate) bytes: u64,
    pub(crate) collections: usize,
    /// Recorded paths that exist (files, folders, links).
    pub(crate) files: usize,
}

/// What [`Store::restore`](super::Store::restore) put back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Restored {
    pub(crate) point: Point,
    /// Collections recreated or dropped (unchanged ones are left alone).
    pub(crate) collections: usize,
    /// Paths written, removed or relinked.
    pub(crate) files: usize,
    pub(crate) elapsed: Duration,
}

impl fmt::Display for Restored {
    /// `restored the world before round 2 steps::audit[worker3] (3 collections, 2 files) in 14 ms`:
    /// the collections and files it changed (the state's among them).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "restored the world before {} ({}, {}) in {} ms",
            self.point,
            count(self.collections, "collection", "collections"),
            count(self.files, "file", "files"),
            self.elapsed.as_millis()
        )
    }
}

fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
