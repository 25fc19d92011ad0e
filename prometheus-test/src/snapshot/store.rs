//! The snapshot store of one data folder: taking, listing, restoring
//! (journaled), recovering and pruning snapshots.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};

use super::manifest::{self, MANIFEST, Manifest, PathKind};
use super::objects::{self, Objects};
use super::oplog::Oplog;
use super::report::{Kept, Restored, Taken};
use super::{Point, World, collections, files};

/// The store's folder inside the data folder.
pub(crate) const STORE_DIR: &str = ".snapshots";
const POINTS_DIR: &str = "points";
const OBJECTS_DIR: &str = "objects";
const STAGING_DIR: &str = "staging";
const JOURNAL: &str = "restore.json";
/// What the journal is, in errors about it.
const JOURNAL_WHAT: &str = "the restore journal of the snapshots";
/// Appended to the name of a manifest that cannot be used, to set it aside.
const SET_ASIDE: &str = ".damaged";

/// The snapshots of one data folder (`<data_dir>/.snapshots`).
pub(crate) struct Store {
    dir: PathBuf,
    objects: Objects,
    /// The last manifest taken or found, whose objects a new snapshot shares.
    last: Option<Manifest>,
    /// The server's oplog, and its position when `last` was taken (only
    /// when this store took it).
    oplog: Oplog,
    #[cfg(test)]
    pub(super) fail_after_collections: bool,
}

/// A manifest that is there but cannot be used: damaged, or of another version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Unusable {
    /// The `(round, index)` its file name stands for.
    pub(crate) at: (u32, usize),
    pub(crate) path: PathBuf,
    /// Why, naming the file.
    pub(crate) why: String,
}

/// The restore a kill may have interrupted.
#[derive(serde::Serialize, serde::Deserialize)]
struct Journal {
    point: Point,
}

impl Store {
    /// Opens (creating it when needed) the store of `data_dir` and removes the
    /// leftovers of writes a kill interrupted. A pending restore stays for
    /// [`Store::recover`].
    pub(crate) fn open(data_dir: &Path) -> anyhow::Result<Store> {
        let dir = data_dir.join(STORE_DIR);
        for sub in [POINTS_DIR, OBJECTS_DIR] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
        }
        objects::remove_temporaries(&dir)?;
        objects::remove_temporaries(&dir.join(POINTS_DIR))?;
        let objects = Objects::new(dir.join(OBJECTS_DIR));
        objects.remove_leftovers()?;
        let staging = dir.join(STAGING_DIR);
        if staging.exists() {
            std::fs::remove_dir_all(&staging)
                .with_context(|| format!("cannot remove {}", staging.display()))?;
        }
        Ok(Store {
            dir,
            objects,
            last: None,
            oplog: Oplog::default(),
            #[cfg(test)]
            fail_after_collections: false,
        })
    }

    /// Records the world as the snapshot before `point`, unless one is kept
    /// there: that one stays, as a later run that did not rewind to it (one
    /// resumed with `--no-restore`) may find another world at that point.
    pub(crate) async fn take(&mut self, world: &World, point: &Point) -> anyhow::Result<Taken> {
        let started = Instant::now();
        // Whatever fails from here on, the next snapshot surveys everything.
        let mark = self.oplog.mark.take();
        if let Some(kept) = self.kept_at(point)? {
            self.last = Some(kept);
            return Ok(Taken::already_kept(point.clone(), started.elapsed()));
        }
        let taken_at_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| {
                i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
            });
        if self.last.is_none() {
            self.last = self.latest()?;
        }
        let previous = self.last.as_ref();
        // The database is read on another thread while the files are read
        // here: neither depends on the other.
        let from_db = world.db.clone().map(|db| {
            let previous = previous.cloned();
            let objects = self.objects.clone();
            let mut oplog = std::mem::take(&mut self.oplog);
            tokio::spawn(async move {
                let captured =
                    collections::capture(&db, previous.as_ref(), &objects, &mut oplog, mark).await;
                (captured, oplog)
            })
        });
        let from_files = files::capture(
            &world.data_dir,
            &self.dir,
            &world.paths,
            previous,
            &self.objects,
            taken_at_ns,
        );
        let (collections, from_db, newest) = match from_db {
            Some(task) => {
                let (captured, oplog) = task
                    .await
                    .with_context(|| format!("the snapshot before {point} stopped"))?;
                self.oplog = oplog;
                captured.with_context(|| format!("cannot take the snapshot before {point}"))?
            }
            None => (Vec::new(), collections::Tally::default(), None),
        };
        let (paths, from_files) =
            from_files.with_context(|| format!("cannot take the snapshot before {point}"))?;
        let manifest = Manifest {
            point: point.clone(),
            taken_at_ns,
            collections,
            roots: world.paths.clone(),
            paths,
        };
        crate::failpoint::hit("snapshot.take.manifest");
        manifest::write(&self.dir.join(POINTS_DIR), &manifest)?;
        self.last = Some(manifest);
        self.oplog.mark = newest;
        Ok(Taken {
            point: point.clone(),
            collections_copied: from_db.copied,
            collections_shared: from_db.shared,
            collections_surveyed: from_db.surveyed,
            files_copied: from_files.copied,
            files_shared: from_files.shared,
            files_read: from_files.read,
            bytes_written: from_db.bytes + from_files.bytes,
            elapsed: started.elapsed(),
            already_kept: false,
        })
    }

    /// The usable manifest of exactly `point`, if kept.
    fn kept_at(&self, point: &Point) -> anyhow::Result<Option<Manifest>> {
        let path = self.point_path(point);
        if !path.exists() {
            return Ok(None);
        }
        Ok(manifest::read_json::<Manifest>(&path, MANIFEST)?
            .ok()
            .filter(|manifest| manifest.point == *point))
    }

    fn point_path(&self, point: &Point) -> PathBuf {
        self.dir
            .join(POINTS_DIR)
            .join(manifest::file_name(point.round, point.index))
    }

    /// The complete, usable snapshots, by `(round, index)`. Reads only.
    pub(crate) fn kept(&self) -> anyhow::Result<Vec<Kept>> {
        Ok(self
            .survey()?
            .0
            .into_iter()
            .map(|manifest| {
                let files = manifest
                    .paths
                    .iter()
                    .filter(|record| record.kind != PathKind::Absent)
                    .count();
                Kept {
                    bytes: manifest.bytes(),
                    collections: manifest.collections.len(),
                    files,
                    point: manifest.point,
                }
            })
            .collect())
    }

    /// The manifests that are there but cannot be used. Reads only.
    pub(crate) fn unusable(&self) -> anyhow::Result<Vec<Unusable>> {
        Ok(self.survey()?.1)
    }

    /// Renames an unusable manifest aside (`<name>.damaged`, numbered when
    /// taken), out of the store's way but kept for a look; returns its new path.
    pub(crate) fn set_aside(&self, unusable: &Unusable) -> anyhow::Result<PathBuf> {
        let name = unusable
            .path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy();
        let dir = self.dir.join(POINTS_DIR);
        let mut aside = dir.join(format!("{name}{SET_ASIDE}"));
        let mut n = 1;
        while std::fs::symlink_metadata(&aside).is_ok() {
            n += 1;
            aside = dir.join(format!("{name}{SET_ASIDE}-{n}"));
        }
        std::fs::rename(&unusable.path, &aside).with_context(|| {
            format!(
                "cannot set {} aside as {}",
                unusable.path.display(),
                aside.display()
            )
        })?;
        Ok(aside)
    }

    /// The point of the restore a kill interrupted, if any.
    pub(crate) fn pending(&self) -> anyhow::Result<Option<Point>> {
        let journal = self.dir.join(JOURNAL);
        if !journal.exists() {
            return Ok(None);
        }
        let pending: Journal = manifest::read_usable(&journal, JOURNAL_WHAT)?;
        Ok(Some(pending.point))
    }

    /// The usable manifests and the unusable ones, by `(round, index)`.
    fn survey(&self) -> anyhow::Result<(Vec<Manifest>, Vec<Unusable>)> {
        let mut usable = Vec::new();
        let mut unusable = Vec::new();
        for (at, path) in self.manifests()? {
            match manifest::read_json::<Manifest>(&path, MANIFEST)? {
                Ok(manifest) => usable.push(manifest),
                Err(why) => unusable.push(Unusable { at, path, why }),
            }
        }
        Ok((usable, unusable))
    }

    /// Puts the world back as it was before `point`. Journaled: a kill midway
    /// leaves `restore.json`, and [`Store::recover`] redoes the restore.
    /// Nothing is changed when the point is not kept, when an object it needs
    /// is missing or damaged, or when `MongoDB` cannot be surveyed.
    pub(crate) async fn restore(&self, world: &World, point: &Point) -> anyhow::Result<Restored> {
        if let Some(pending) = self.pending()? {
            bail!(
                "cannot restore the world before {point}: the restore before {pending} was \
                 interrupted and must be recovered first"
            );
        }
        let manifest = self.find(point)?;
        manifest::write_json(
            &self.dir,
            JOURNAL,
            &Journal {
                point: point.clone(),
            },
        )?;
        crate::failpoint::hit("snapshot.restore.journaled");
        self.put_back(world, &manifest, true).await
    }

    /// Redoes a restore that a kill interrupted (its journal is there);
    /// `None` when there was none.
    pub(crate) async fn recover(&self, world: &World) -> anyhow::Result<Option<Restored>> {
        let Some(pending) = self.pending()? else {
            return Ok(None);
        };
        let manifest = self
            .find(&pending)
            .context("cannot finish the interrupted restore")?;
        self.put_back(world, &manifest, false).await.map(Some)
    }

    /// Drops the snapshots of rounds before `keep_from_round` (never the one
    /// a pending restore needs), then every object no snapshot references.
    pub(crate) fn prune(&mut self, keep_from_round: u32) -> anyhow::Result<()> {
        self.drop_where(|round, _| round < keep_from_round)
    }

    /// The bytes the store takes on disk.
    pub(crate) fn disk_usage(&self) -> anyhow::Result<u64> {
        fn size(path: &Path) -> anyhow::Result<u64> {
            let metadata = std::fs::symlink_metadata(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            if !metadata.is_dir() {
                return Ok(metadata.len());
            }
            let mut total = 0;
            for name in objects::list(path)? {
                total += size(&path.join(name))?;
            }
            Ok(total)
        }
        size(&self.dir)
    }

    /// Removes every snapshot of `data_dir` (for `--reset`).
    pub(crate) fn remove_all(data_dir: &Path) -> anyhow::Result<()> {
        let dir = data_dir.join(STORE_DIR);
        match std::fs::remove_dir_all(&dir) {
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                Err(error).with_context(|| format!("cannot remove {}", dir.display()))
            }
            _ => Ok(()),
        }
    }

    /// Plans (read-only, objects verified, files staged), then applies; the
    /// journal goes when done, or when the plan failed and `fresh` (the
    /// journal was written by this restore and nothing was changed).
    async fn put_back(
        &self,
        world: &World,
        manifest: &Manifest,
        fresh: bool,
    ) -> anyhow::Result<Restored> {
        let started = Instant::now();
        let point = &manifest.point;
        let journal = self.dir.join(JOURNAL);
        let staging = self.dir.join(STAGING_DIR);
        let planned = async {
            let db_plan = match &world.db {
                Some(db) => Some(collections::plan(db, manifest, &self.objects).await?),
                None => None,
            };
            let file_plan = files::plan(
                &world.data_dir,
                &self.dir,
                manifest,
                &self.objects,
                &staging,
            )?;
            Ok::<_, anyhow::Error>((db_plan, file_plan))
        };
        let (db_plan, file_plan) = match planned.await {
            Ok(plans) => plans,
            Err(error) => {
                if fresh {
                    objects::remove_file(&journal)?;
                    files::reset_staging(&staging)?;
                }
                return Err(error.context(format!(
                    "cannot restore the world before {point}; nothing was changed"
                )));
            }
        };
        let collections = db_plan.as_ref().map_or(0, collections::Plan::len);
        let apply = async {
            if let (Some(db), Some(plan)) = (&world.db, db_plan) {
                collections::apply(db, plan).await?;
            }
            crate::failpoint::hit("snapshot.restore.collections");
            #[cfg(test)]
            if self.fail_after_collections {
                bail!("failure injected after the collections");
            }
            files::apply(&file_plan, &staging)
        };
        let files = apply.await.with_context(|| {
            format!(
                "the restore of the world before {point} stopped midway; \
                 the next run finishes it"
            )
        })?;
        objects::remove_file(&journal)?;
        Ok(Restored {
            point: point.clone(),
            collections,
            files,
            elapsed: started.elapsed(),
        })
    }

    /// The manifest of `point`, or an error saying why it cannot be used or
    /// naming the nearest kept points.
    fn find(&self, point: &Point) -> anyhow::Result<Manifest> {
        let path = self.point_path(point);
        if path.exists() {
            match manifest::read_json::<Manifest>(&path, MANIFEST)? {
                Ok(manifest) if manifest.point == *point => return Ok(manifest),
                Ok(_) => {}
                Err(why) => bail!("the snapshot before {point} cannot be used: {why}"),
            }
        }
        bail!("{}", not_kept(point, &self.kept()?))
    }

    /// Whether `data_dir` holds a snapshot store.
    pub(crate) fn exists(data_dir: &Path) -> bool {
        data_dir.join(STORE_DIR).is_dir()
    }

    /// Checks that `data_dir/.snapshots`, when there, is a folder: a fresh
    /// run removes it, a run with snapshots opens it.
    pub(crate) fn check_folder(data_dir: &Path) -> anyhow::Result<()> {
        let dir = data_dir.join(STORE_DIR);
        match std::fs::metadata(&dir) {
            Ok(metadata) if metadata.is_dir() => Ok(()),
            Ok(_) => bail!(
                "{} is not a folder: it is where the snapshots are kept, so it must be a folder \
                 or absent; move it away, then run again (nothing was changed)",
                dir.display()
            ),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(error).with_context(|| format!("cannot read {}", dir.display())),
        }
    }

    /// The complete, usable snapshots of `data_dir` and the bytes the store
    /// takes, without opening it: no folder is created and nothing is removed.
    pub(crate) fn peek(data_dir: &Path) -> anyhow::Result<(Vec<Kept>, u64)> {
        match Self::reader(data_dir) {
            Some(store) => Ok((store.kept()?, store.disk_usage()?)),
            None => Ok((Vec::new(), 0)),
        }
    }

    /// The manifests of `data_dir` that cannot be used, read as [`Store::peek`] does.
    pub(crate) fn peek_unusable(data_dir: &Path) -> anyhow::Result<Vec<Unusable>> {
        Self::reader(data_dir).map_or_else(|| Ok(Vec::new()), |store| store.unusable())
    }

    /// The store of `data_dir` for reading, when there is one.
    fn reader(data_dir: &Path) -> Option<Store> {
        if !Self::exists(data_dir) {
            return None;
        }
        let dir = data_dir.join(STORE_DIR);
        Some(Store {
            objects: Objects::new(dir.join(OBJECTS_DIR)),
            dir,
            last: None,
            oplog: Oplog::default(),
            #[cfg(test)]
            fail_after_collections: false,
        })
    }

    /// Drops the snapshots after `point` (a rewind replaces what followed
    /// it) and the objects no snapshot references any more.
    pub(crate) fn drop_after(&mut self, point: &Point) -> anyhow::Result<()> {
        let key = (point.round, point.index);
        self.drop_where(|round, index| (round, index) > key)
    }

    /// Removes the manifests `doomed` picks (never the one a pending restore
    /// needs), then every object no remaining manifest references.
    fn drop_where(&mut self, doomed: impl Fn(u32, usize) -> bool) -> anyhow::Result<()> {
        let pending = self.pending()?;
        let mut remaining = Vec::new();
        for ((round, index), path) in self.manifests()? {
            let needed = pending
                .as_ref()
                .is_some_and(|point| (point.round, point.index) == (round, index));
            if doomed(round, index) && !needed {
                objects::remove_file(&path)?;
            } else {
                remaining.push(manifest::read_usable::<Manifest>(&path, MANIFEST)?);
            }
        }
        if self
            .last
            .as_ref()
            .is_some_and(|last| doomed(last.point.round, last.point.index))
        {
            self.last = None;
            self.oplog.mark = None;
        }
        let referenced: HashSet<&str> = remaining
            .iter()
            .flat_map(Manifest::objects)
            .map(|object| object.id.as_str())
            .collect();
        self.objects.remove_unreferenced(&referenced)
    }

    /// The complete manifests with their `(round, index)`, in that order.
    fn manifests(&self) -> anyhow::Result<Vec<((u32, usize), PathBuf)>> {
        let dir = self.dir.join(POINTS_DIR);
        let mut found: Vec<_> = objects::list(&dir)?
            .into_iter()
            .filter_map(|name| manifest::parse_file_name(&name).map(|key| (key, name)))
            .collect();
        found.sort();
        Ok(found
            .into_iter()
            .map(|(key, name)| (key, dir.join(name)))
            .collect())
    }

    /// The newest usable snapshot kept, if any.
    fn latest(&self) -> anyhow::Result<Option<Manifest>> {
        for (_, path) in self.manifests()?.iter().rev() {
            if let Ok(manifest) = manifest::read_json(path, MANIFEST)? {
                return Ok(Some(manifest));
            }
        }
        Ok(None)
    }
}

/// Why `point` cannot be restored: the kept snapshots nearest to it.
pub(crate) fn not_kept(point: &Point, kept: &[Kept]) -> String {
    format!(
        "no snapshot before {point} is kept; {}",
        nearest(point, kept)
    )
}

/// The kept snapshots nearest to `point`: `the nearest kept one: … (before it)`.
pub(crate) fn nearest(point: &Point, kept: &[Kept]) -> String {
    let key = (point.round, point.index);
    let before = kept
        .iter()
        .rev()
        .find(|kept| (kept.point.round, kept.point.index) <= key);
    let after = kept
        .iter()
        .find(|kept| (kept.point.round, kept.point.index) > key);
    match (before, after) {
        (None, None) => "no snapshot is kept".to_owned(),
        (Some(before), None) => format!("the nearest kept one: {} (before it)", before.point),
        (None, Some(after)) => format!("the nearest kept one: {} (after it)", after.point),
        (Some(before), Some(after)) => format!(
            "the nearest kept ones: {} (before it) and {} (after it)",
            before.point, after.point
        ),
    }
}
