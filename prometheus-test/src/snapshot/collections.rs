//! The `MongoDB` half of the world: collections surveyed with `dbHash`,
//! `listCollections` and `listIndexes`, read as raw BSON when they changed,
//! and put back (dropped, recreated with their options, documents inserted,
//! indexes rebuilt) on restore.

use anyhow::{Context as _, anyhow, bail};
use futures_util::TryStreamExt as _;
use futures_util::future::try_join_all;
use mongodb::Database;
use mongodb::bson::{Bson, Document, RawDocumentBuf, doc};
use mongodb::error::{ErrorKind, WriteFailure};

use super::manifest::{CollectionRecord, Manifest};
use super::objects::Objects;

/// The most collections (or indexes of one collection) a survey reads.
const LIST_LIMIT: i32 = 100_000;
/// The server's code for "ns not found", which a drop of a missing collection returns.
const NAMESPACE_NOT_FOUND: i32 = 26;

/// What a snapshot copied and shared, of collections or of files.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) copied: usize,
    pub(super) shared: usize,
    pub(super) bytes: u64,
}

/// A collection as it is now, without its documents.
struct Current {
    name: String,
    /// Empty when `dbHash` does not cover it (no `_id` index, not capped).
    md5: String,
    /// Its options, then its index specs (without `ns`, by name), as raw BSON.
    spec: Vec<u8>,
}

/// Records every collection of `db`, reading only those whose `dbHash` is not
/// the one `previous` recorded.
pub(super) async fn capture(
    db: &Database,
    previous: Option<&Manifest>,
    objects: &Objects,
) -> anyhow::Result<(Vec<CollectionRecord>, Tally)> {
    let current = survey(db).await?;
    let mut copied = Tally::default();
    let mut records = Vec::with_capacity(current.len());
    let mut to_read = Vec::new();
    for collection in current {
        let (spec, written) = objects.put(&collection.spec)?;
        copied.bytes += written;
        let before = previous.and_then(|manifest| {
            manifest
                .collections
                .iter()
                .find(|record| record.name == collection.name)
        });
        match before {
            Some(before) if !collection.md5.is_empty() && before.md5 == collection.md5 => {
                copied.shared += 1;
                records.push(CollectionRecord {
                    spec,
                    ..before.clone()
                });
            }
            _ => {
                to_read.push(records.len());
                records.push(CollectionRecord {
                    name: collection.name,
                    md5: collection.md5,
                    count: 0,
                    documents: spec.clone(),
                    spec,
                });
            }
        }
    }
    let reads = to_read
        .iter()
        .map(|&position| read_documents(db, &records[position].name));
    for (position, (bytes, count)) in to_read.iter().zip(try_join_all(reads).await?) {
        let (documents, written) = objects.put(&bytes)?;
        copied.copied += 1;
        copied.bytes += written;
        let record = &mut records[*position];
        record.documents = documents;
        record.count = count;
    }
    Ok((records, copied))
}

/// The collections to put back and to drop for `db` to hold what `manifest`
/// recorded; every object needed is read and verified here.
pub(super) struct Plan {
    restore: Vec<Recreate>,
    drop: Vec<String>,
}

struct Recreate {
    name: String,
    documents: Vec<RawDocumentBuf>,
    options: Document,
    indexes: Vec<Document>,
}

impl Plan {
    /// How many collections applying the plan changes.
    pub(super) fn len(&self) -> usize {
        self.restore.len() + self.drop.len()
    }
}

/// Compares `db` with `manifest` (read-only) and loads what must be put back.
pub(super) async fn plan(
    db: &Database,
    manifest: &Manifest,
    objects: &Objects,
) -> anyhow::Result<Plan> {
    let current = survey(db).await?;
    let mut restore = Vec::new();
    for record in &manifest.collections {
        let now = current.iter().find(|now| now.name == record.name);
        let unchanged = now.is_some_and(|now| {
            !now.md5.is_empty()
                && now.md5 == record.md5
                && super::objects::id_of(&now.spec) == record.spec.id
        });
        if unchanged {
            continue;
        }
        let load = |what: &str, id: &str| -> anyhow::Result<Vec<RawDocumentBuf>> {
            let bytes = objects.read(id)?;
            split_documents(&bytes).with_context(|| {
                format!(
                    "the snapshot object {id} ({what} of collection {}) is damaged",
                    record.name
                )
            })
        };
        let documents = load("documents", &record.documents.id)?;
        let mut spec = load("options and indexes", &record.spec.id)?.into_iter();
        let mut to_document = |raw: RawDocumentBuf| {
            raw.to_document().with_context(|| {
                format!(
                    "the snapshot object {} (options and indexes of collection {}) is damaged",
                    record.spec.id, record.name
                )
            })
        };
        let options = match spec.next() {
            Some(raw) => to_document(raw)?,
            None => bail!(
                "the snapshot object {} (options and indexes of collection {}) is empty",
                record.spec.id,
                record.name
            ),
        };
        let indexes = spec.map(&mut to_document).collect::<anyhow::Result<_>>()?;
        restore.push(Recreate {
            name: record.name.clone(),
            documents,
            options,
            indexes,
        });
    }
    let drop = current
        .into_iter()
        .filter(|now| {
            !manifest
                .collections
                .iter()
                .any(|record| record.name == now.name)
        })
        .map(|now| now.name)
        .collect();
    Ok(Plan { restore, drop })
}

/// Applies `plan` to `db`: drops, recreates and fills the collections.
pub(super) async fn apply(db: &Database, plan: Plan) -> anyhow::Result<()> {
    for name in &plan.drop {
        drop_collection(db, name).await?;
    }
    for collection in plan.restore {
        let name = &collection.name;
        drop_collection(db, name).await?;
        let mut create = doc! { "create": name };
        create.extend(collection.options);
        db.run_command(create)
            .await
            .map_err(|error| failed(&error, "create", name))?;
        if !collection.documents.is_empty() {
            db.collection::<RawDocumentBuf>(name)
                .insert_many(&collection.documents)
                .await
                .map_err(|error| failed(&error, "insert the documents of", name))?;
        }
        let indexes: Vec<Bson> = collection
            .indexes
            .into_iter()
            .filter(|index| index.get_str("name") != Ok("_id_"))
            .map(Bson::Document)
            .collect();
        if !indexes.is_empty() {
            db.run_command(doc! { "createIndexes": name, "indexes": indexes })
                .await
                .map_err(|error| failed(&error, "create the indexes of", name))?;
        }
    }
    Ok(())
}

/// Every collection of `db` but `system.*` and views, with its `dbHash` md5.
async fn survey(db: &Database) -> anyhow::Result<Vec<Current>> {
    let (hashes, listed) = futures_util::try_join!(db_hashes(db), list_collections(db))?;
    let specs = listed.iter().map(|(name, _)| list_indexes(db, name));
    let indexes = try_join_all(specs).await?;
    let mut current = Vec::with_capacity(listed.len());
    for ((name, options), indexes) in listed.into_iter().zip(indexes) {
        let capped = options.get_bool("capped") == Ok(true);
        let has_id_index = indexes
            .iter()
            .any(|index| index.get_str("name") == Ok("_id_"));
        let md5 = match hashes.get_str(&name) {
            Ok(md5) if capped || has_id_index => md5.to_owned(),
            _ => String::new(),
        };
        let mut spec = raw_bytes(&options, &name)?;
        for index in &indexes {
            spec.extend(raw_bytes(index, &name)?);
        }
        current.push(Current { name, md5, spec });
    }
    Ok(current)
}

async fn db_hashes(db: &Database) -> anyhow::Result<Document> {
    let reply = db
        .run_command(doc! { "dbHash": 1 })
        .await
        .map_err(|error| {
            anyhow!(
                "MongoDB dbHash of database {} failed: {}",
                db.name(),
                describe(&error)
            )
        })?;
    reply.get_document("collections").cloned().map_err(|_| {
        anyhow!(
            "MongoDB dbHash of database {} answered without `collections`",
            db.name()
        )
    })
}

/// `(name, options)` of every collection but `system.*`, by name.
async fn list_collections(db: &Database) -> anyhow::Result<Vec<(String, Document)>> {
    let command = doc! {
        "listCollections": 1,
        "filter": { "type": "collection" },
        "cursor": { "batchSize": LIST_LIMIT },
    };
    let reply = db.run_command(command).await.map_err(|error| {
        anyhow!(
            "MongoDB listCollections of database {} failed: {}",
            db.name(),
            describe(&error)
        )
    })?;
    let batch = first_batch(&reply)
        .with_context(|| format!("MongoDB listCollections of database {}", db.name()))?;
    let mut collections = Vec::with_capacity(batch.len());
    for entry in batch {
        let Ok(name) = entry.get_str("name") else {
            bail!(
                "MongoDB listCollections of database {} answered an entry without a name",
                db.name()
            );
        };
        if name.starts_with("system.") {
            continue;
        }
        let options = entry.get_document("options").cloned().unwrap_or_default();
        collections.push((name.to_owned(), options));
    }
    collections.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(collections)
}

/// The index specs of collection `name`, without `ns`, by index name.
async fn list_indexes(db: &Database, name: &str) -> anyhow::Result<Vec<Document>> {
    let command = doc! { "listIndexes": name, "cursor": { "batchSize": LIST_LIMIT } };
    let reply = match db.run_command(command).await {
        Ok(reply) => reply,
        // Dropped since it was listed: it has no index.
        Err(error) if command_code(&error) == Some(NAMESPACE_NOT_FOUND) => return Ok(Vec::new()),
        Err(error) => bail!(
            "MongoDB listIndexes of collection {name} failed: {}",
            describe(&error)
        ),
    };
    let mut indexes =
        first_batch(&reply).with_context(|| format!("MongoDB listIndexes of collection {name}"))?;
    for index in &mut indexes {
        index.remove("ns");
    }
    indexes.sort_by(|a, b| a.get_str("name").ok().cmp(&b.get_str("name").ok()));
    Ok(indexes)
}

/// The documents of a cursor reply that holds them all.
fn first_batch(reply: &Document) -> anyhow::Result<Vec<Document>> {
    let cursor = reply
        .get_document("cursor")
        .map_err(|_| anyhow!("the reply has no cursor"))?;
    if !matches!(cursor.get("id"), Some(Bson::Int64(0) | Bson::Int32(0))) {
        bail!("the reply has more than {LIST_LIMIT} entries");
    }
    let batch = cursor
        .get_array("firstBatch")
        .map_err(|_| anyhow!("the reply's cursor has no firstBatch"))?;
    batch
        .iter()
        .map(|entry| match entry {
            Bson::Document(document) => Ok(document.clone()),
            _ => Err(anyhow!(
                "the reply's firstBatch holds a value that is not a document"
            )),
        })
        .collect()
}

/// The documents of collection `name` in natural order, concatenated, and their count.
async fn read_documents(db: &Database, name: &str) -> anyhow::Result<(Vec<u8>, u64)> {
    let read = async {
        let mut cursor = db.collection::<RawDocumentBuf>(name).find(doc! {}).await?;
        let (mut bytes, mut count) = (Vec::new(), 0);
        while let Some(document) = cursor.try_next().await? {
            bytes.extend_from_slice(document.as_bytes());
            count += 1;
        }
        Ok::<_, mongodb::error::Error>((bytes, count))
    };
    read.await.map_err(|error| failed(&error, "read", name))
}

async fn drop_collection(db: &Database, name: &str) -> anyhow::Result<()> {
    match db.run_command(doc! { "drop": name }).await {
        Err(error) if command_code(&error) != Some(NAMESPACE_NOT_FOUND) => {
            Err(failed(&error, "drop", name))
        }
        _ => Ok(()),
    }
}

fn raw_bytes(document: &Document, collection: &str) -> anyhow::Result<Vec<u8>> {
    RawDocumentBuf::from_document(document)
        .map(RawDocumentBuf::into_bytes)
        .map_err(|_| {
            anyhow!("cannot encode the options or an index of collection {collection} as BSON")
        })
}

/// Splits concatenated raw BSON into its documents.
pub(super) fn split_documents(mut bytes: &[u8]) -> anyhow::Result<Vec<RawDocumentBuf>> {
    let mut documents = Vec::new();
    while !bytes.is_empty() {
        let length = bytes
            .get(..4)
            .map(|prefix| i32::from_le_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]))
            .and_then(|length| usize::try_from(length).ok())
            .filter(|&length| length >= 5 && length <= bytes.len())
            .ok_or_else(|| anyhow!("document {} has no valid length", documents.len()))?;
        let document = RawDocumentBuf::from_bytes(bytes[..length].to_vec())
            .map_err(|_| anyhow!("document {} is not BSON", documents.len()))?;
        documents.push(document);
        bytes = &bytes[length..];
    }
    Ok(documents)
}

/// "MongoDB could not {what} collection {name}: {code}", with no document content.
fn failed(error: &mongodb::error::Error, what: &str, name: &str) -> anyhow::Error {
    anyhow!(
        "MongoDB could not {what} collection {name}: {}",
        describe(error)
    )
}

/// The server's error code of a failed command.
fn command_code(error: &mongodb::error::Error) -> Option<i32> {
    match error.kind.as_ref() {
        ErrorKind::Command(command) => Some(command.code),
        _ => None,
    }
}

/// An error without what the server echoes of documents (keys, values):
/// server errors by code and name, connection errors as they are.
fn describe(error: &mongodb::error::Error) -> String {
    let code = |code: i32, name: Option<&str>| match name {
        Some(name) if !name.is_empty() => format!("server error {code} ({name})"),
        _ => format!("server error {code}"),
    };
    match error.kind.as_ref() {
        ErrorKind::Command(command) => code(command.code, Some(&command.code_name)),
        ErrorKind::Write(WriteFailure::WriteError(write)) => {
            code(write.code, write.code_name.as_deref())
        }
        ErrorKind::Write(WriteFailure::WriteConcernError(concern)) => {
            code(concern.code, Some(&concern.code_name))
        }
        ErrorKind::InsertMany(insert) => {
            match (&insert.write_errors, &insert.write_concern_error) {
                (Some(errors), _) if !errors.is_empty() => {
                    code(errors[0].code, errors[0].code_name.as_deref())
                }
                (_, Some(concern)) => code(concern.code, Some(&concern.code_name)),
                _ => "a write failed".to_owned(),
            }
        }
        ErrorKind::BulkWrite(_) => "a write failed".to_owned(),
        kind => kind.to_string(),
    }
}
