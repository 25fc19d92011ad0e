//! Round counting: one round per document of the task in the rounds collection, plus one.

use anyhow::{Context as _, bail};
use mongodb::Database;
use mongodb::bson::doc;

use super::import::count_for_task;

/// The number of rounds: documents with `taskId` = `task_id` in `collection`, plus
/// one (as the original). A collection that does not exist is an error.
pub(crate) async fn count_rounds(
    db: &Database,
    collection: &str,
    task_id: &str,
) -> anyhow::Result<u32> {
    let names = db
        .list_collection_names()
        .filter(doc! { "name": collection })
        .await
        .with_context(|| format!("cannot list the collections of database `{}`", db.name()))?;
    if names.is_empty() {
        bail!(
            "rounds collection `{collection}` does not exist in database `{}`: give it a data_file \
             under mongodb.collections, set rounds_collection to a seeded collection, or set max_rounds",
            db.name()
        );
    }
    let documents = count_for_task(db, collection, task_id).await?;
    u32::try_from(documents + 1).with_context(|| {
        format!("collection `{collection}` holds {documents} documents with taskId `{task_id}`: too many rounds")
    })
}
