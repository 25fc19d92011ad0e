//! The snapshot store of one data folder: taking, listing, restoring
//! (journaled), recovering and pruning snapshots.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};

use super::manifest::{self, Manifest, PathKind};
use super::objects::{self, Objects};
use super::report::{Kept, Restored, Taken};
use super::{Point, World, collections, files};

/// The store's folder inside the data folder.
pub(super) const STORE_DIR: &str = ".snapshots";
const POINTS_DIR: &str = "points";
const OBJECTS_DIR: &str = "objects";
const STAGING_DIR: &str = "staging";
const JOURNAL: &str = "restore.json";

/// The snapshots of one data folder (`<data_dir>/.snapshots`).
pub(crate) struct Store {
    dir: PathBuf,
    objects: Objects,
    /// The last manifest taken or found, whose objects a new snapshot shares.
    last: Option<Manifest>,
    #[cfg(test)]
    pub(super) fail_after_collections: bool,
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
            #[cfg(test)]
            fail_after_collections: false,
        })
    }

    /// Records the world as the snapshot before `point`, replacing one taken
    /// at the same point.
    pub(crate) async fn take(&mut self, world: &World, point: &Point) -> anyhow::Result<Taken> {
        let started = Instant::now();
        let taken_at_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| {
                i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
            });
        if self.last.is_none() {
            self.last = self.latest()?;
        }
        let previous = self.last.as_ref();
        let (collections, from_db) = match &world.db {
            Some(db) => collections::capture(db, previous, &self.objects)
                .await
                .with_context(|| format!("cannot take the snapshot before {point}"))?,
            None => (Vec::new(), collections::Tally::default()),
        };
        let (paths, from_files) = files::capture(
            &world.data_dir,
            &world.paths,
            previous,
            &self.objects,
            taken_at_ns,
        )
        .with_context(|| format!("cannot take the snapshot before {point}"))?;
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
        Ok(Taken {
            point: point.clone(),
            collections_copied: from_db.copied,
            collections_shared: from_db.shared,
            files_copied: from_files.copied,
            files_shared: from_files.shared,
            files_read: from_files.read,
            bytes_written: from_db.bytes + from_files.bytes,
            elapsed: started.elapsed(),
        })
    }

    /// The complete snapshots, by `(round, index)`. Reads only.
    pub(crate) fn kept(&self) -> anyhow::Result<Vec<Kept>> {
        self.manifests()?
            .into_iter()
            .map(|path| {
                let manifest: Manifest = manifest::read_json(&path)?;
                let files = manifest
                    .paths
                    .iter()
                    .filter(|record| record.kind != PathKind::Absent)
                    .count();
                Ok(Kept {
                    bytes: manifest.bytes(),
                    collections: manifest.collections.len(),
                    files,
                    point: manifest.point,
                })
            })
            .collect()
    }

    /// Puts the world back as it was before `point`. Journaled: a kill midway
    /// leaves `restore.json`, and [`Store::recover`] redoes the restore.
    /// Nothing is changed when the point is not kept, when an object it needs
    /// is missing or damaged, or when `MongoDB` cannot be surveyed.
    pub(crate) async fn restore(&self, world: &World, point: &Point) -> anyhow::Result<Restored> {
        let journal = self.dir.join(JOURNAL);
        if journal.exists() {
            let pending: Journal = manifest::read_json(&journal)?;
            bail!(
                "cannot restore the world before {point}: the restore before {} was interrupted \
                 and must be recovered first",
                pending.point
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
        let journal = self.dir.join(JOURNAL);
        if !journal.exists() {
            return Ok(None);
        }
        let pending: Journal = manifest::read_json(&journal)?;
        let manifest = self
            .find(&pending.point)
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
            let file_plan = files::plan(&world.data_dir, manifest, &self.objects, &staging)?;
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

    /// The manifest of `point`, or an error naming the nearest kept points.
    fn find(&self, point: &Point) -> anyhow::Result<Manifest> {
        let path = self
            .dir
            .join(POINTS_DIR)
            .join(manifest::file_name(point.round, point.index));
        if path.exists() {
            let manifest: Manifest = manifest::read_json(&path)?;
            if manifest.point == *point {
                return Ok(manifest);
            }
        }
        bail!("{}", not_kept(point, &self.kept()?))
    }

    /// Whether `data_dir` holds a snapshot store.
    pub(crate) fn exists(data_dir: &Path) -> bool {
        data_dir.join(STORE_DIR).is_dir()
    }

    /// The complete snapshots of `data_dir` and the bytes the store takes,
    /// without opening it: no folder is created and nothing is removed.
    pub(crate) fn peek(data_dir: &Path) -> anyhow::Result<(Vec<Kept>, u64)> {
        if !Self::exists(data_dir) {
            return Ok((Vec::new(), 0));
        }
        let dir = data_dir.join(STORE_DIR);
        let store = Store {
            objects: Objects::new(dir.join(OBJECTS_DIR)),
            dir,
            last: None,
            #[cfg(test)]
            fail_after_collections: false,
        };
        Ok((store.kept()?, store.disk_usage()?))
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
        let journal = self.dir.join(JOURNAL);
        let pending = if journal.exists() {
            Some(manifest::read_json::<Journal>(&journal)?.point)
        } else {
            None
        };
        let mut remaining = Vec::new();
        for path in self.manifests()? {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let (round, index) = manifest::parse_file_name(&name).unwrap_or_default();
            let needed = pending
                .as_ref()
                .is_some_and(|point| (point.round, point.index) == (round, index));
            if doomed(round, index) && !needed {
                objects::remove_file(&path)?;
            } else {
                remaining.push(manifest::read_json::<Manifest>(&path)?);
            }
        }
        if self
            .last
            .as_ref()
            .is_some_and(|last| doomed(last.point.round, last.point.index))
        {
            self.last = None;
        }
        let referenced: HashSet<&str> = remaining
            .iter()
            .flat_map(Manifest::objects)
            .map(|object| object.id.as_str())
            .collect();
        self.objects.remove_unreferenced(&referenced)
    }

    /// The paths of the complete manifests, by `(round, index)`.
    fn manifests(&self) -> anyhow::Result<Vec<PathBuf>> {
        let dir = self.dir.join(POINTS_DIR);
        let mut found: Vec<_> = objects::list(&dir)?
            .into_iter()
            .filter_map(|name| manifest::parse_file_name(&name).map(|key| (key, name)))
            .collect();
        found.sort();
        Ok(found.into_iter().map(|(_, name)| dir.join(name)).collect())
    }

    /// The newest snapshot kept, if any.
    fn latest(&self) -> anyhow::Result<Option<Manifest>> {
        match self.manifests()?.last() {
            Some(path) => manifest::read_json(path).map(Some),
            None => Ok(None),
        }
    }
}

/// Why `point` cannot be restored: the kept snapshots nearest to it.
pub(crate) fn not_kept(point: &Point, kept: &[Kept]) -> String {
    let key = (point.round, point.index);
    let before = kept
        .iter()
        .rev()
        .find(|kept| (kept.point.round, kept.point.index) <= key);
    let after = kept
        .iter()
        .find(|kept| (kept.point.round, kept.point.index) > key);
    let nearest = match (before, after) {
        (None, None) => "no snapshot is kept".to_owned(),
        (Some(before), None) => format!("the nearest kept one: {} (before it)", before.point),
        (None, Some(after)) => format!("the nearest kept one: {} (after it)", after.point),
        (Some(before), Some(after)) => format!(
            "the nearest kept ones: {} (before it) and {} (after it)",
            before.point, after.point
        ),
    };
    format!("no snapshot before {point} is kept; {nearest}")
}
