//! The file half of the world: named paths recorded by stat key and content
//! object, and put back through a staging folder and renames.

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use super::collections::Tally;
use super::manifest::{FileRecord, Manifest, PathKind, PathRecord, StatKey};
use super::objects::Objects;

/// How close to (or after) the time a file was last read its mtime may lie
/// for the next snapshot to read it again: file times come from the
/// kernel's coarse clock, so a write just after that read may have left
/// size and mtime as they were. Two ticks of that clock (`CLOCK_REALTIME_COARSE`'s
/// resolution, 1 to 10 ms on Linux); 100 ms where it cannot be known.
fn racy_window_ns() -> i64 {
    static WINDOW: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *WINDOW.get_or_init(|| {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if let Ok(tick) = nix::time::clock_getres(nix::time::ClockId::CLOCK_REALTIME_COARSE) {
            let tick_ns = tick.tv_sec() * 1_000_000_000 + tick.tv_nsec();
            return (2 * tick_ns).clamp(1_000_000, 100_000_000);
        }
        100_000_000
    })
}

/// The `SQLite` files that belong with a database file.
const SQLITE_COMPANIONS: [&str; 3] = ["-wal", "-shm", "-journal"];

/// Records `roots` (relative to `data_dir`), their `SQLite` companions, and
/// whole folders but the store's own `store_dir`; a file whose stat key
/// equals `previous`'s entry (and is not racy) shares its object unread.
pub(super) fn capture(
    data_dir: &Path,
    store_dir: &Path,
    roots: &[PathBuf],
    previous: Option<&Manifest>,
    objects: &Objects,
    now_ns: i64,
) -> anyhow::Result<(Vec<PathRecord>, Tally)> {
    let window = racy_window_ns();
    let mut capture = Capture {
        data_dir,
        store_dir,
        objects,
        now_ns,
        previous: previous
            .map(|manifest| {
                manifest
                    .paths
                    .iter()
                    .filter_map(|record| match &record.kind {
                        PathKind::File(file) if file.stat.mtime_ns < file.verified_ns - window => {
                            Some((record.path.as_path(), file))
                        }
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        seen: HashSet::new(),
        records: Vec::new(),
        tally: Tally::default(),
    };
    for root in roots {
        let is_dir = capture.record(root)?;
        if !is_dir {
            for suffix in SQLITE_COMPANIONS {
                let mut companion = root.clone().into_os_string();
                companion.push(suffix);
                capture.record(Path::new(&companion))?;
            }
        }
    }
    Ok((capture.records, capture.tally))
}

struct Capture<'a> {
    data_dir: &'a Path,
    /// The store's folder, never part of the world.
    store_dir: &'a Path,
    objects: &'a Objects,
    /// The start of this snapshot: when the files it reads are verified.
    now_ns: i64,
    previous: HashMap<&'a Path, &'a FileRecord>,
    seen: HashSet<PathBuf>,
    records: Vec<PathRecord>,
    tally: Tally,
}

impl Capture<'_> {
    /// Records `path` (and, for a folder, its content); true for a folder.
    fn record(&mut self, path: &Path) -> anyhow::Result<bool> {
        if !self.seen.insert(path.to_owned()) {
            return Ok(false);
        }
        let full = self.data_dir.join(path);
        if full == self.store_dir {
            return Ok(false);
        }
        let metadata = match std::fs::symlink_metadata(&full) {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                self.push(path, PathKind::Absent);
                return Ok(false);
            }
            Err(error) => {
                return Err(error).with_context(|| format!("cannot read {}", full.display()));
            }
        };
        let file_type = metadata.file_type();
        if file_type.is_dir() {
            self.push(path, PathKind::Dir);
            for name in sorted_names(&full)? {
                self.record(&path.join(name))?;
            }
            return Ok(true);
        }
        if file_type.is_symlink() {
            let target = std::fs::read_link(&full)
                .with_context(|| format!("cannot read the link {}", full.display()))?;
            self.push(path, PathKind::Link { target });
        } else if file_type.is_file() {
            let file = self.file(path, &full, &metadata)?;
            self.push(path, PathKind::File(file));
        }
        // Sockets, pipes and devices are no part of the world.
        Ok(false)
    }

    fn file(
        &mut self,
        path: &Path,
        full: &Path,
        metadata: &std::fs::Metadata,
    ) -> anyhow::Result<FileRecord> {
        let stat = stat_key(metadata);
        let mode = metadata.permissions().mode();
        if let Some(before) = self.previous.get(path)
            && before.stat == stat
        {
            self.tally.shared += 1;
            return Ok(FileRecord {
                object: before.object.clone(),
                mode,
                stat,
                verified_ns: before.verified_ns,
            });
        }
        let bytes =
            std::fs::read(full).with_context(|| format!("cannot read {}", full.display()))?;
        let (object, written) = self.objects.put(&bytes)?;
        self.tally.read += 1;
        if written == 0 {
            self.tally.shared += 1;
        } else {
            self.tally.copied += 1;
            self.tally.bytes += written;
        }
        Ok(FileRecord {
            object,
            mode,
            stat,
            verified_ns: self.now_ns,
        })
    }

    fn push(&mut self, path: &Path, kind: PathKind) {
        self.records.push(PathRecord {
            path: path.to_owned(),
            kind,
        });
    }
}

fn stat_key(metadata: &std::fs::Metadata) -> StatKey {
    StatKey {
        size: metadata.len(),
        mtime_ns: metadata
            .mtime()
            .saturating_mul(1_000_000_000)
            .saturating_add(metadata.mtime_nsec()),
        ctime_ns: metadata
            .ctime()
            .saturating_mul(1_000_000_000)
            .saturating_add(metadata.ctime_nsec()),
        inode: metadata.ino(),
        device: metadata.dev(),
    }
}

fn sorted_names(dir: &Path) -> anyhow::Result<Vec<std::ffi::OsString>> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))?;
    let mut names = entries
        .map(|entry| entry.map(|entry| entry.file_name()))
        .collect::<std::io::Result<Vec<_>>>()
        .with_context(|| format!("cannot list {}", dir.display()))?;
    names.sort();
    Ok(names)
}

/// What putting the files back takes; the files to write are already staged.
pub(super) struct Plan {
    removals: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
    /// `(staged file, target)`.
    writes: Vec<(PathBuf, PathBuf)>,
    /// `(link, target)`.
    links: Vec<(PathBuf, PathBuf)>,
}

impl Plan {
    /// How many paths applying the plan changes.
    pub(super) fn len(&self) -> usize {
        self.removals.len() + self.writes.len() + self.links.len()
    }
}

/// Compares the files under `data_dir` (but the store's own `store_dir`)
/// with `manifest` and stages (in `staging`, emptied first) every file to
/// write, read from its verified object. Changes nothing in the world.
pub(super) fn plan(
    data_dir: &Path,
    store_dir: &Path,
    manifest: &Manifest,
    objects: &Objects,
    staging: &Path,
) -> anyhow::Result<Plan> {
    reset_staging(staging)?;
    let recorded: HashSet<&Path> = manifest
        .paths
        .iter()
        .map(|record| record.path.as_path())
        .collect();
    let mut plan = Plan {
        removals: Vec::new(),
        dirs: Vec::new(),
        writes: Vec::new(),
        links: Vec::new(),
    };
    for record in &manifest.paths {
        let full = data_dir.join(&record.path);
        let current = match std::fs::symlink_metadata(&full) {
            Ok(metadata) => Some(metadata),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => {
                return Err(error).with_context(|| format!("cannot read {}", full.display()));
            }
        };
        let current_type = current.as_ref().map(std::fs::Metadata::file_type);
        let is_dir = current_type.is_some_and(|kind| kind.is_dir());
        match &record.kind {
            PathKind::Absent => {
                if current.is_some() {
                    plan.removals.push(full);
                }
            }
            PathKind::Dir => {
                if is_dir {
                    for name in sorted_names(&full)? {
                        let inside = full.join(&name);
                        if inside == store_dir {
                            continue;
                        }
                        if !recorded.contains(record.path.join(&name).as_path()) {
                            plan.removals.push(inside);
                        }
                    }
                } else {
                    if current.is_some() {
                        plan.removals.push(full.clone());
                    }
                    plan.dirs.push(full);
                }
            }
            PathKind::Link { target } => {
                let same = current_type.is_some_and(|kind| kind.is_symlink())
                    && std::fs::read_link(&full).is_ok_and(|now| now == *target);
                if !same {
                    if current.is_some() {
                        plan.removals.push(full.clone());
                    }
                    plan.links.push((full, target.clone()));
                }
            }
            PathKind::File(file) => {
                let same = current
                    .as_ref()
                    .is_some_and(|metadata| holds(&full, metadata, file));
                if !same {
                    if is_dir || current_type.is_some_and(|kind| kind.is_symlink()) {
                        plan.removals.push(full.clone());
                    }
                    let staged = staging.join(plan.writes.len().to_string());
                    stage(objects, file, &staged, &full)?;
                    plan.writes.push((staged, full));
                }
            }
        }
    }
    check_writable(data_dir, &plan)?;
    Ok(plan)
}

/// Whether the regular file at `full` holds exactly `file`'s content and mode.
fn holds(full: &Path, metadata: &std::fs::Metadata, file: &FileRecord) -> bool {
    metadata.file_type().is_file()
        && metadata.len() == file.object.bytes
        && metadata.permissions().mode() == file.mode
        && std::fs::read(full).is_ok_and(|bytes| super::objects::id_of(&bytes) == file.object.id)
}

fn stage(objects: &Objects, file: &FileRecord, staged: &Path, target: &Path) -> anyhow::Result<()> {
    let bytes = objects
        .read(&file.object.id)
        .with_context(|| format!("cannot restore {}", target.display()))?;
    let write = || -> std::io::Result<()> {
        std::fs::write(staged, &bytes)?;
        std::fs::set_permissions(staged, std::fs::Permissions::from_mode(file.mode))
    };
    write().with_context(|| format!("cannot stage {} for {}", staged.display(), target.display()))
}

/// Every folder the plan changes something in must be writable.
fn check_writable(data_dir: &Path, plan: &Plan) -> anyhow::Result<()> {
    let targets = plan
        .removals
        .iter()
        .chain(&plan.dirs)
        .chain(plan.writes.iter().map(|(_, target)| target))
        .chain(plan.links.iter().map(|(link, _)| link));
    let mut checked = HashSet::new();
    for target in targets {
        let mut folder = target.parent().unwrap_or(data_dir);
        while !folder.exists() && folder != data_dir {
            folder = folder.parent().unwrap_or(data_dir);
        }
        if checked.insert(folder.to_owned())
            && nix::unistd::access(folder, nix::unistd::AccessFlags::W_OK).is_err()
        {
            bail!(
                "cannot restore {}: its folder {} is not writable",
                target.display(),
                folder.display()
            );
        }
    }
    Ok(())
}

/// Puts the files back; returns how many paths it changed.
pub(super) fn apply(plan: &Plan, staging: &Path) -> anyhow::Result<usize> {
    let changed = plan.len();
    for path in &plan.removals {
        let removed = match std::fs::symlink_metadata(path) {
            Ok(metadata) if metadata.is_dir() => std::fs::remove_dir_all(path),
            Ok(_) => std::fs::remove_file(path),
            Err(_) => Ok(()),
        };
        removed.with_context(|| format!("cannot remove {}", path.display()))?;
        crate::failpoint::hit("snapshot.restore.file");
    }
    for dir in &plan.dirs {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    for (staged, target) in &plan.writes {
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::rename(staged, target)
            .with_context(|| format!("cannot write {}", target.display()))?;
        crate::failpoint::hit("snapshot.restore.file");
    }
    for (link, target) in &plan.links {
        std::os::unix::fs::symlink(target, link)
            .with_context(|| format!("cannot create the link {}", link.display()))?;
    }
    reset_staging(staging)?;
    Ok(changed)
}

/// Empties (or creates) the staging folder.
pub(super) fn reset_staging(staging: &Path) -> anyhow::Result<()> {
    match std::fs::remove_dir_all(staging) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            return Err(error).with_context(|| format!("cannot empty {}", staging.display()));
        }
        _ => {}
    }
    std::fs::create_dir_all(staging).with_context(|| format!("cannot create {}", staging.display()))
}
