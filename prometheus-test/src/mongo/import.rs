//! Seeding: clear the configured collections, import the fixtures, check the
//! required document counts.

use std::fmt;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use mongodb::Database;
use mongodb::bson::{Document, doc};
use mongodb::error::ErrorKind;

use super::fixtures::{FixtureSet, Fixtures};
use crate::config::MongoSettings;

/// Documents sent per `insert_many` call.
pub const IMPORT_BATCH: usize = 10_000;

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
    let mut collections = Vec::with_capacity(settings.collections.len());
    for name in settings.collections.keys() {
        db.collection::<Document>(name)
            .delete_many(doc! {})
            .await
            .with_context(|| {
                format!(
                    "cannot clear collection `{name}` of database `{}`",
                    db.name()
                )
            })?;
        let imported = match fixtures.get(name) {
            Some(set) => import(db, set).await?,
            None => 0,
        };
        collections.push((name.clone(), imported));
    }
    let elapsed = started.elapsed();
    for (name, config) in &settings.collections {
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

/// Inserts one file's documents in unordered batches; returns how many went in.
async fn import(db: &Database, set: &FixtureSet) -> anyhow::Result<u64> {
    let collection = db.collection::<Document>(&set.collection);
    let mut inserted = 0;
    for (batch_index, batch) in set.documents.chunks(IMPORT_BATCH).enumerate() {
        if let Err(error) = collection.insert_many(batch).ordered(false).await {
            let offset = batch_index * IMPORT_BATCH;
            let detail = match *error.kind {
                ErrorKind::InsertMany(ref failure) => {
                    let errors = failure.write_errors.as_deref().unwrap_or_default();
                    match errors.first() {
                        Some(first) => format!(
                            "{} document{} rejected, the first is element {}: {}",
                            errors.len(),
                            if errors.len() == 1 { "" } else { "s" },
                            offset + first.index,
                            first.message
                        ),
                        None => error.to_string(),
                    }
                }
                _ => error.to_string(),
            };
            bail!(
                "{}: import into collection `{}` failed: {detail}",
                set.file.display(),
                set.collection
            );
        }
        inserted += batch.len() as u64;
    }
    Ok(inserted)
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
