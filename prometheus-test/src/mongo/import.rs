//! Seeding: clear the configured collections, import the fixtures, check the
//! required document counts.

use std::fmt;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures_util::future::try_join_all;
use futures_util::stream::{self, StreamExt as _};
use mongodb::Database;
use mongodb::bson::{Bson, Document, RawDocumentBuf, doc};
use mongodb::error::{Error, ErrorKind};

use super::fixtures::{FixtureSet, Fixtures};
use crate::config::MongoSettings;

/// Documents per `insert_many` call of a single-stream import (the benchmark's reference loop).
pub const IMPORT_BATCH: usize = 10_000;
/// Documents per batch of the import: small enough that several are in
/// flight at once for a few thousand documents, large enough to keep the
/// per-command cost low.
const BATCH: usize = 2_500;
/// Collections holding at least this many documents are dropped and created
/// again rather than emptied document by document (when that changes nothing else).
const DROP_FROM: u64 = 1_000;
/// `insert_many` calls in flight at once. The batches are unordered and
/// disjoint, so order does not matter; while the server stores one batch the
/// client already sends the next.
const IN_FLIGHT: usize = 4;

/// What a fresh-run import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImportReport {
    /// Every configured collection (all were cleared) with the documents imported into it.
    pub(crate) collections: Vec<(String, u64)>,
    /// Time taken by clearing and importing.
    pub(crate) elapsed: Duration,
}

impl ImportReport {
    /// Documents imported over all collections.
    pub(crate) fn total(&self) -> u64 {
        self.collections.iter().map(|(_, count)| count).sum()
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cleared {} collection{}, imported {} document{}",
            self.collections.len(),
            if self.collections.len() == 1 { "" } else { "s" },
            self.total(),
            if self.total() == 1 { "" } else { "s" },
        )?;
        let imported: Vec<String> = self
            .collections
            .iter()
            .filter(|(_, count)| *count > 0)
            .map(|(name, count)| format!("{name} {count}"))
            .collect();
        if !imported.is_empty() {
            write!(f, " ({})", imported.join(", "))?;
        }
        write!(f, " in {} ms", self.elapsed.as_millis())
    }
}

/// Fresh run: empties every configured collection, imports `fixtures`, then checks
/// each collection's `required_count` of documents with `taskId` = `task_id`.
pub(crate) async fn reset(
    db: &Database,
    settings: &MongoSettings,
    fixtures: &Fixtures,
    task_id: &str,
) -> anyhow::Result<ImportReport> {
    let started = Instant::now();
    // Collections are independent: each is cleared and filled while the others are.
    let collections = try_join_all(settings.collections.keys().map(|name| async move {
        clear(db, name).await.with_context(|| {
            format!(
                "cannot clear collection `{name}` of database `{}`",
                db.name()
            )
        })?;
        let imported = match fixtures.get(name) {
            Some(set) => import(db, set).await?,
            None => 0,
        };
        anyhow::Ok((name.clone(), imported))
    }))
    .await?;
    let elapsed = started.elapsed();
    for ((name, config), (_, imported)) in settings.collections.iter().zip(&collections) {
        // The collection was emptied and every acknowledged document carries
        // `taskId`: counting again is needed only when the import fell short.
        if *imported >= config.required_count {
            continue;
        }
        let found = count_for_task(db, name, task_id).await?;
        if found < config.required_count {
            let source = config.data_file.as_deref().map_or_else(
                || "it has no data_file".to_owned(),
                |file| format!("add them to {file}"),
            );
            bail!(
                "collection `{name}` holds {found} documents with taskId `{task_id}` after the \
                 import, but mongodb.collections.{name}.required_count is {}: {source}",
                config.required_count
            );
        }
    }
    Ok(ImportReport {
        collections,
        elapsed,
    })
}

/// Resumed run: checks each collection still holds its `required_count` of documents
/// with `taskId` = `task_id`. Never modifies the database.
pub(crate) async fn check_required(
    db: &Database,
    settings: &MongoSettings,
    task_id: &str,
) -> anyhow::Result<()> {
    for (name, config) in &settings.collections {
        if config.required_count == 0 {
            continue;
        }
        let found = count_for_task(db, name, task_id).await?;
        if found < config.required_count {
            bail!(
                "collection `{name}` holds {found} documents with taskId `{task_id}`, but \
                 mongodb.collections.{name}.required_count is {}: the data changed since the \
                 saved state was written; run with --reset to clear it and import the fixtures again",
                config.required_count
            );
        }
    }
    Ok(())
}

/// Empties collection `name`. A large collection that is plain (no options,
/// no index but `_id`) is dropped and created again, which leaves it exactly as
/// deleting every document would, in a fraction of the time; any other is
/// emptied with `delete_many`, keeping its indexes and options.
async fn clear(db: &Database, name: &str) -> mongodb::error::Result<()> {
    let collection = db.collection::<Document>(name);
    if collection.estimated_document_count().await? >= DROP_FROM && is_plain(db, name).await? {
        collection.drop().await?;
        db.create_collection(name).await?;
    } else {
        collection.delete_many(doc! {}).await?;
    }
    Ok(())
}

/// Whether `name` is an ordinary collection created without options and
/// indexed on `_id` only, so that a new empty one is the same collection.
async fn is_plain(db: &Database, name: &str) -> mongodb::error::Result<bool> {
    let listed = db
        .run_command(doc! { "listCollections": 1, "filter": { "name": name } })
        .await?;
    let plain = listed
        .get_document("cursor")
        .and_then(|cursor| cursor.get_array("firstBatch"))
        .ok()
        .and_then(|batch| match batch.as_slice() {
            [Bson::Document(spec)] => Some(spec),
            _ => None,
        })
        .is_some_and(|spec| {
            spec.get_str("type").is_ok_and(|kind| kind == "collection")
                && spec.get_document("options").is_ok_and(Document::is_empty)
        });
    if !plain {
        return Ok(false);
    }
    let indexes = db.collection::<Document>(name).list_index_names().await?;
    Ok(indexes == ["_id_"])
}

/// Inserts one file's documents in unordered batches, several in flight at
/// once; returns how many went in. On failure every batch still finishes, and
/// the error names the file, the collection and the first rejected element.
async fn import(db: &Database, set: &FixtureSet) -> anyhow::Result<u64> {
    let collection = db.collection::<RawDocumentBuf>(&set.collection);
    let batches = set
        .documents
        .chunks(BATCH)
        .enumerate()
        .map(|(index, batch)| {
            let collection = &collection;
            async move {
                let result = collection.insert_many(batch).ordered(false).await;
                (index * BATCH, batch.len(), result)
            }
        });
    let mut outcomes: Vec<_> = stream::iter(batches)
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await;
    outcomes.sort_by_key(|(offset, _, _)| *offset);
    let mut inserted = 0;
    let mut rejected: Vec<(usize, String)> = Vec::new();
    let mut failure: Option<Error> = None;
    for (offset, len, result) in outcomes {
        match result {
            Ok(_) => inserted += len as u64,
            Err(error) => match *error.kind {
                ErrorKind::InsertMany(ref batch_failure) => {
                    let errors = batch_failure.write_errors.as_deref().unwrap_or_default();
                    rejected.extend(
                        errors
                            .iter()
                            .map(|error| (offset + error.index, error.message.clone())),
                    );
                    inserted += len.saturating_sub(errors.len()) as u64;
                    if errors.is_empty() {
                        failure.get_or_insert(error);
                    }
                }
                _ => {
                    failure.get_or_insert(error);
                }
            },
        }
    }
    let detail = match (rejected.first(), failure) {
        (Some((first, message)), _) => format!(
            "{} document{} rejected, the first is element {first}: {message}",
            rejected.len(),
            if rejected.len() == 1 { "" } else { "s" },
        ),
        (None, Some(error)) => error.to_string(),
        (None, None) => return Ok(inserted),
    };
    bail!(
        "{}: import into collection `{}` failed: {detail}",
        set.file.display(),
        set.collection
    )
}

pub(crate) async fn count_for_task(
    db: &Database,
    collection: &str,
    task_id: &str,
) -> anyhow::Result<u64> {
    db.collection::<Document>(collection)
        .count_documents(doc! { "taskId": task_id })
        .await
        .with_context(|| format!("cannot count documents in collection `{collection}`"))
}
