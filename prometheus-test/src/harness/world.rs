//! The suite's world around the steps (config.yaml `snapshots`): what it is
//! made of, the snapshot before every step, the restore of a resumed run,
//! the rewind of `--from`, and what `--list-snapshots` shows.

use std::path::PathBuf;

use super::steps::StepInstance;
use super::wording::{counted, size};
use crate::Worker;
use crate::config::Config;
use crate::events::{Events, SnapshotsKept, WorldRestored};
use crate::snapshot::{Kept, Point, Restored, Store, World};
use crate::state::{JOURNAL_FILE, STATE_FILE};

/// The world of a suite: its database, each worker's `DATABASE_PATH` (with
/// its `SQLite` companions), each service's data folder, the files
/// config.yaml's `snapshots.files` names,
/// and the state with its journal. A worker database outside the data
/// folder is left out, with a warning.
pub(super) fn world_of(
    config: &Config,
    workers: &[Worker],
    db: Option<mongodb::Database>,
    events: &Events,
) -> World {
    let mut paths: Vec<PathBuf> = Vec::new();
    for worker in workers {
        let database = &worker.spec().database_path;
        match database.strip_prefix(&config.data_dir) {
            Ok(relative) if !relative.as_os_str().is_empty() => paths.push(relative.to_owned()),
            _ => events.note(format!(
                "warning: worker `{}`'s DATABASE_PATH is outside the data folder ({}): \
                 snapshots leave it out",
                worker.name(),
                config.data_dir.display()
            )),
        }
    }
    // A service's data folder, which config.yaml keeps inside the data folder.
    paths.extend(
        config
            .services
            .iter()
            .filter_map(|service| {
                service
                    .data_dir
                    .as_ref()?
                    .strip_prefix(&config.data_dir)
                    .ok()
            })
            .map(PathBuf::from),
    );
    paths.extend(config.snapshots.files.iter().cloned());
    paths.extend([PathBuf::from(STATE_FILE), PathBuf::from(JOURNAL_FILE)]);
    paths.dedup();
    World {
        db,
        data_dir: config.data_dir.clone(),
        paths,
    }
}

/// The point before step instance `index` of `round`.
pub(super) fn point_before(round: u32, index: usize, steps: &[StepInstance]) -> Point {
    Point {
        round,
        index,
        step: steps[index].test_name().to_owned(),
        worker: None,
    }
}

/// Reads a point as `--from` gives it: `round N NAME`, NAME a step's whole
/// test name (`steps::audit::check[worker3]` for an instance of a
/// multi-worker step).
pub(super) fn parse_point(text: &str, steps: &[StepInstance]) -> Result<Point, String> {
    let expected = "expected `round N STEP`, like `round 2 steps::audit::audits_its_peer[worker3]`";
    let mut words = text.split_whitespace();
    let (Some("round"), Some(round), Some(name), None) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        return Err(format!("`--from {text}`: {expected}"));
    };
    let Some(round) = round.parse::<u32>().ok().filter(|r| *r > 0) else {
        return Err(format!(
            "`--from {text}`: the round must be a whole number from 1, found `{round}`"
        ));
    };
    let Some(index) = steps.iter().position(|s| s.test_name() == name) else {
        let names: Vec<&str> = steps.iter().map(StepInstance::test_name).collect();
        return Err(format!(
            "`--from {text}`: no step is named `{name}`; the steps are: {}",
            names.join(", ")
        ));
    };
    Ok(point_before(round, index, steps))
}

/// The lines `--list-snapshots` prints: one per kept snapshot with its size,
/// then the total.
pub(super) fn listing(kept: &[Kept], total_bytes: u64) -> String {
    use std::fmt::Write as _;
    let mut text = String::new();
    for snapshot in kept {
        let _ = writeln!(
            text,
            "{}: snapshot, {}",
            snapshot.point,
            size(snapshot.bytes)
        );
    }
    let _ = writeln!(
        text,
        "\n{}, {} on disk",
        counted(kept.len(), "snapshot"),
        size(total_bytes)
    );
    text
}

/// The snapshots a run takes: one before every step it plays, pruned to the
/// rounds config.yaml keeps.
pub(super) struct Snapshots {
    store: Store,
    world: World,
    keep_rounds: u32,
    /// Set after a snapshot failed: warned once, none taken after it.
    broken: bool,
    /// How long each snapshot of this run took.
    costs: Vec<std::time::Duration>,
}

impl Snapshots {
    /// The run's snapshots, `None` when config.yaml turns them off.
    pub(super) fn open(config: &Config, world: World, events: &Events) -> Option<Self> {
        if !config.snapshots.enabled() {
            return None;
        }
        match Store::open(&config.data_dir) {
            Ok(store) => Some(Self {
                store,
                world,
                keep_rounds: config.snapshots.keep_rounds,
                broken: false,
                costs: Vec::new(),
            }),
            Err(err) => {
                events.note(format!("warning: snapshots are off for this run: {err:#}"));
                None
            }
        }
    }

    /// Takes the snapshot before `point`, unless one is kept there (a resumed
    /// or rewound run's first point). A failure is a warning: the run goes on
    /// without snapshots (a resume then starts in the world it finds).
    pub(super) async fn before(&mut self, point: &Point, events: &Events) {
        if self.broken {
            return;
        }
        match self.store.take(&self.world, point).await {
            Ok(taken) if taken.already_kept => {}
            Ok(taken) => self.costs.push(taken.elapsed),
            Err(err) => {
                self.broken = true;
                events.note(format!(
                    "warning: no snapshot before {point}, and none for the rest of this run: {err:#}"
                ));
            }
        }
    }

    /// At the start of `round`: drops the snapshots of rounds no longer kept.
    pub(super) fn round_started(&mut self, round: u32, events: &Events) {
        let keep_from = round.saturating_sub(self.keep_rounds - 1).max(1);
        if let Err(err) = self.store.prune(keep_from) {
            events.note(format!("warning: cannot prune the snapshots: {err:#}"));
        }
    }

    /// What the run leaves and what its snapshots cost.
    pub(super) fn kept(&self) -> Option<SnapshotsKept> {
        let kept = self.store.kept().ok()?;
        let (first, last) = (kept.first()?, kept.last()?);
        let mut costs = self.costs.clone();
        costs.sort_unstable();
        Some(SnapshotsKept {
            kept: kept.len(),
            first: first.point.to_string(),
            last: last.point.to_string(),
            bytes: self.store.disk_usage().ok()?,
            dir: self.world.data_dir.join(crate::snapshot::STORE_DIR),
            taken: costs.len(),
            median: costs.get(costs.len() / 2).copied().unwrap_or_default(),
        })
    }

    /// The restore a setup made, as the event that reports it.
    pub(super) fn restored(done: &Restored, recovered: bool) -> WorldRestored {
        WorldRestored {
            before: done.point.to_string(),
            collections: done.collections,
            files: done.files,
            elapsed: done.elapsed,
            recovered,
        }
    }
}
