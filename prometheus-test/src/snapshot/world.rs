//! What a snapshot holds: the suite's database and the files it names.

use std::path::PathBuf;

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
