//! What taking, keeping and restoring snapshots reports.

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
    /// Every collection was listed and hashed: the server's oplog could not
    /// tell which ones were written since the previous snapshot.
    pub(crate) collections_surveyed: bool,
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
    /// A snapshot was kept at the point already: it stays, nothing was taken.
    pub(crate) already_kept: bool,
}

impl Taken {
    /// Nothing taken at `point`: the snapshot kept there stays.
    pub(super) fn already_kept(point: Point, elapsed: Duration) -> Self {
        Self {
            point,
            collections_copied: 0,
            collections_shared: 0,
            collections_surveyed: false,
            files_copied: 0,
            files_shared: 0,
            files_read: 0,
            bytes_written: 0,
            elapsed,
            already_kept: true,
        }
    }
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
