//! The `MongoDB` half of the world: collections surveyed with `dbHash`,
//! `listCollections` and `listIndexes` (on a replica set's primary, only
//! those the oplog names as written), read as raw BSON when they changed,
//! and put back (dropped, recreated with their options, documents inserted,
//! indexes rebuilt) on restore.

use anyhow::{Context as _, anyhow, bail};
use futures_util::TryStreamExt as _;
use futures_util::future::try_join_all;
use mongodb::Database;
use mongodb::bson::{Bson, Document, RawDocumentBuf, doc};
use mongodb::error::{ErrorKind, WriteFailure};

use mongodb::bson::Timestamp;

use super::manifest::{CollectionRecord, Manifest};
use super::objects::Objects;
use super::oplog::{Oplog, Since};

/// The most collections (or indexes of one collection) a survey reads.
const LIST_LIMIT: i32 = 100_000;
/// The server's code for "ns not found", which a drop of a missing collection returns.
const NAMESPACE_NOT_FOUND: i32 = 26;

/// What a snapshot copied and shared, of collections or of files.
#[derive(Default)]
pub(super) struct Tally {
    /// Stored as new objects.
    pub(super) copied: usize,
    /// Their objects existed already.
    pub(super) shared: usize,
    /// Read (and hashed), whether copied or shared.
    pub(super) read: usize,
    pub(super) bytes: u64,
    /// Every collection was listed and hashed (the oplog could not tell
    /// which ones were written).
    pub(super) surveyed: bool,
}

/// A collection as it is now, without its documents.
struct Current {
    name: String,
    /// Empty when `dbHash` does not cover it (no `_id` index, not capped).
    md5: String,
    options: Document,
    /// Its index specs, without `ns`, by name.
    indexes: Vec<Document>,
    /// Its options, then its index specs, as concatenated raw BSON.
    spec: Vec<u8>,
}

/// Records every collection of `db`, reading only those whose `dbHash` is not
/// the one `previous` recorded. When `mark` is where the oplog stood before
/// `previous` was taken and the oplog says which collections were written
/// since, only those are hashed (and read when their `dbHash` changed); else
/// every collection is surveyed. Returns the oplog's newest entry read
/// before anything else, the next snapshot's mark.
pub(super) async fn capture(
    db: &Database,
    previous: Option<&Manifest>,
    objects: &Objects,
    oplog: &mut Oplog,
    mark: Option<Timestamp>,
) -> anyhow::Result<(Vec<CollectionRecord>, Tally, Option<Timestamp>)> {
    if let (Some(previous), Some(mark)) = (previous, mark)
        && let (Since::Written(written), Some(newest)) = oplog.since(db, mark).await
        && let Some((records, tally)) = capture_written(db, previous, &written, objects).await?
    {
        return Ok((records, tally, Some(newest)));
    }
    let newest = oplog.newest(db).await;
    let current = survey(db, previous).await?;
    let mut tally = Tally {
        surveyed: true,
        ..Tally::default()
    };
    let mut records = Vec::with_capacity(current.len());
    let mut to_read = Vec::new();
    for collection in current {
        let (spec, written) = objects.put(&collection.spec)?;
        tally.bytes += written;
        let before = previous.and_then(|manifest| {
            manifest
                .collections
                .iter()
                .find(|record| record.name == collection.name)
        });
        match before {
            Some(before) if !collection.md5.is_empty() && before.md5 == collection.md5 => {
                tally.shared += 1;
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
    copy_documents(db, &mut records, &to_read, objects, &mut tally).await?;
    Ok((records, tally, newest))
}

/// Reads the documents of the collections of `records` at `positions` (at
/// once), stores each collection's as one object and points its record at
/// it, counting what was read and written in `tally`.
async fn copy_documents(
    db: &Database,
    records: &mut [CollectionRecord],
    positions: &[usize],
    objects: &Objects,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    let reads = positions
        .iter()
        .map(|&position| read_documents(db, &records[position].name));
    for (&position, documents) in positions.iter().zip(try_join_all(reads).await?) {
        let bytes: Vec<u8> = documents
            .iter()
            .flat_map(|document| document.as_bytes().iter().copied())
            .collect();
        let (object, written) = objects.put(&bytes)?;
        tally.copied += 1;
        tally.read += 1;
        tally.bytes += written;
        let record = &mut records[position];
        record.documents = object;
        record.count = documents.len() as u64;
    }
    Ok(())
}

/// `previous`'s collections with those in `written` hashed again and read
/// when their `dbHash` changed; `None` when one of them is not in `previous`
/// or no longer there (a survey then tells).
async fn capture_written(
    db: &Database,
    previous: &Manifest,
    written: &std::collections::BTreeSet<String>,
    objects: &Objects,
) -> anyhow::Result<Option<(Vec<CollectionRecord>, Tally)>> {
    let mut tally = Tally::default();
    let mut records = previous.collections.clone();
    if written.is_empty() {
        tally.shared = records.len();
        return Ok(Some((records, tally)));
    }
    let names: Vec<&String> = written.iter().collect();
    let hashes = db_hashes(db, Some(&names)).await?;
    for name in written {
        if !records.iter().any(|record| &record.name == name) || hashes.get_str(name).is_err() {
            return Ok(None);
        }
    }
    let mut to_read = Vec::new();
    for (position, record) in records.iter_mut().enumerate() {
        let Ok(md5) = hashes.get_str(&record.name) else {
            tally.shared += 1;
            continue;
        };
        if !written.contains(&record.name) || (!record.md5.is_empty() && record.md5 == md5) {
            tally.shared += 1;
            continue;
        }
        // An untrusted md5 (no `_id` index) stays empty: always read.
        if !record.md5.is_empty() {
            md5.clone_into(&mut record.md5);
        }
        to_read.push(position);
    }
    copy_documents(db, &mut records, &to_read, objects, &mut tally).await?;
    Ok(Some((records, tally)))
}

/// What putting the collections back takes; every object it needs is read
/// and verified when it is made.
pub(super) struct Plan {
    actions: Vec<Action>,
}

enum Action {
    /// Not there, or its options changed: drop, create, fill, index.
    Recreate {
        name: String,
        documents: Vec<RawDocumentBuf>,
        options: Document,
        indexes: Vec<Document>,
    },
    /// Same options: only the documents and indexes that differ change.
    Patch {
        name: String,
        drop_indexes: Vec<String>,
        delete: Vec<Bson>,
        replace: Vec<(Bson, Document)>,
        insert: Vec<RawDocumentBuf>,
        create_indexes: Vec<Document>,
        /// Every document, for the rewrite a conflicting unique key forces.
        documents: Vec<RawDocumentBuf>,
    },
    Drop(String),
}

impl Plan {
    /// How many collections applying the plan changes.
    pub(super) fn len(&self) -> usize {
        self.actions.len()
    }
}

/// Compares `db` with `manifest` (reading only) and loads what must be put back.
pub(super) async fn plan(
    db: &Database,
    manifest: &Manifest,
    objects: &Objects,
) -> anyhow::Result<Plan> {
    let current = survey(db, Some(manifest)).await?;
    let mut actions = Vec::new();
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
        let damaged = |what: &str, id: &str| {
            format!(
                "the snapshot object {id} ({what} of collection {}) is damaged",
                record.name
            )
        };
        let load = |what: &str, id: &str| -> anyhow::Result<Vec<RawDocumentBuf>> {
            let bytes = objects
                .read(id)
                .with_context(|| format!("the {what} of collection {}", record.name))?;
            split_documents(&bytes).with_context(|| damaged(what, id))
        };
        let documents = load("documents", &record.documents.id)?;
        let spec = load("options and indexes", &record.spec.id)?;
        let mut spec = spec.iter().map(|raw| {
            raw.to_document()
                .with_context(|| damaged("options and indexes", &record.spec.id))
        });
        let Some(options) = spec.next().transpose()? else {
            bail!(damaged("options and indexes", &record.spec.id));
        };
        let indexes = spec.collect::<anyhow::Result<Vec<_>>>()?;
        let name = record.name.clone();
        actions.push(match now {
            Some(now) if now.options == options && !now.md5.is_empty() => {
                let changes = if now.md5 == record.md5 {
                    Some(Changes::default())
                } else {
                    let current = read_documents(db, &name).await?;
                    changes(&documents, &current)
                };
                match changes {
                    Some(changes) => Action::Patch {
                        drop_indexes: now
                            .indexes
                            .iter()
                            .filter(|index| !indexes.contains(index))
                            .filter_map(|index| index.get_str("name").ok())
                            .filter(|name| *name != "_id_")
                            .map(str::to_owned)
                            .collect(),
                        create_indexes: indexes
                            .into_iter()
                            .filter(|index| !now.indexes.contains(index))
                            .collect(),
                        delete: changes.delete,
                        replace: changes.replace,
                        insert: changes.insert,
                        documents,
                        name,
                    },
                    None => Action::Recreate {
                        name,
                        documents,
                        options,
                        indexes,
                    },
                }
            }
            _ => Action::Recreate {
                name,
                documents,
                options,
                indexes,
            },
        });
    }
    for now in current {
        if !manifest
            .collections
            .iter()
            .any(|record| record.name == now.name)
        {
            actions.push(Action::Drop(now.name));
        }
    }
    Ok(Plan { actions })
}

/// The writes that turn `current` into `wanted`, matched by `_id`.
#[derive(Default)]
struct Changes {
    delete: Vec<Bson>,
    replace: Vec<(Bson, Document)>,
    insert: Vec<RawDocumentBuf>,
}

/// `None` when a document has no `_id` (or one that cannot be read): the
/// collection is then rewritten whole.
fn changes(wanted: &[RawDocumentBuf], current: &[RawDocumentBuf]) -> Option<Changes> {
    let key = |document: &RawDocumentBuf| -> Option<Vec<u8>> {
        let id = document.get("_id").ok()??;
        let mut key = RawDocumentBuf::new();
        key.append_ref("", id);
        Some(key.into_bytes())
    };
    let mut now = std::collections::HashMap::with_capacity(current.len());
    for document in current {
        now.insert(key(document)?, document);
    }
    let mut changes = Changes::default();
    for document in wanted {
        let key = key(document)?;
        match now.remove(&key) {
            Some(present) if present.as_bytes() == document.as_bytes() => {}
            Some(_) => changes
                .replace
                .push((id_value(document)?, document.to_document().ok()?)),
            None => changes.insert.push(document.clone()),
        }
    }
    for document in now.into_values() {
        changes.delete.push(id_value(document)?);
    }
    Some(changes)
}

fn id_value(document: &RawDocumentBuf) -> Option<Bson> {
    let id = document.get("_id").ok()??;
    Bson::try_from(id.to_raw_bson()).ok()
}

/// Applies `plan` to `db`.
pub(super) async fn apply(db: &Database, plan: Plan) -> anyhow::Result<()> {
    for action in plan.actions {
        match action {
            Action::Drop(name) => drop_collection(db, &name).await?,
            Action::Recreate {
                name,
                documents,
                options,
                indexes,
            } => {
                drop_collection(db, &name).await?;
                let mut create = doc! { "create": &name };
                create.extend(options);
                db.run_command(create)
                    .await
                    .map_err(|error| failed(&error, "create", &name))?;
                insert(db, &name, &documents).await?;
                create_indexes(db, &name, indexes).await?;
            }
            Action::Patch {
                name,
                drop_indexes,
                delete,
                replace,
                insert: missing,
                create_indexes: indexes,
                documents,
            } => {
                for index in drop_indexes {
                    db.run_command(doc! { "dropIndexes": &name, "index": index })
                        .await
                        .map_err(|error| failed(&error, "drop an index of", &name))?;
                }
                match patch(db, &name, delete, replace, &missing).await {
                    Ok(()) => {}
                    Err(Refused::Write(DUPLICATE_KEY)) => {
                        // A unique key moved between documents: rewrite them all.
                        db.collection::<RawDocumentBuf>(&name)
                            .delete_many(doc! {})
                            .await
                            .map_err(|error| failed(&error, "empty", &name))?;
                        insert(db, &name, &documents).await?;
                    }
                    Err(Refused::Write(code)) => bail!(
                        "MongoDB could not write the documents of collection {name}: \
                         server error {code}"
                    ),
                    Err(Refused::Command(error)) => {
                        return Err(failed(&error, "write the documents of", &name));
                    }
                }
                create_indexes(db, &name, indexes).await?;
            }
        }
    }
    Ok(())
}

/// The server's code for a duplicate key.
const DUPLICATE_KEY: i32 = 11_000;
/// Documents per `delete` or `update` command.
const WRITE_BATCH: usize = 1_000;

/// Why [`patch`] stopped.
enum Refused {
    /// The server refused a document, with this code.
    Write(i32),
    Command(mongodb::error::Error),
}

/// Deletes, replaces and inserts documents by `_id`.
async fn patch(
    db: &Database,
    name: &str,
    delete: Vec<Bson>,
    replace: Vec<(Bson, Document)>,
    missing: &[RawDocumentBuf],
) -> Result<(), Refused> {
    let mut commands = Vec::new();
    for ids in delete.chunks(WRITE_BATCH) {
        let deletes = vec![doc! { "q": { "_id": { "$in": ids } }, "limit": 0 }];
        commands.push(doc! { "delete": name, "deletes": deletes });
    }
    let mut replace = replace.into_iter().peekable();
    while replace.peek().is_some() {
        let updates: Vec<Document> = replace
            .by_ref()
            .take(WRITE_BATCH)
            .map(|(id, document)| doc! { "q": { "_id": id }, "u": document })
            .collect();
        commands.push(doc! { "update": name, "updates": updates });
    }
    for command in commands {
        let reply = db.run_command(command).await.map_err(Refused::Command)?;
        if let Ok(errors) = reply.get_array("writeErrors")
            && let Some(Bson::Document(first)) = errors.first()
        {
            return Err(Refused::Write(first.get_i32("code").unwrap_or_default()));
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let inserted = db
        .collection::<RawDocumentBuf>(name)
        .insert_many(missing)
        .await;
    match inserted {
        Ok(_) => Ok(()),
        Err(error) => match error.kind.as_ref() {
            ErrorKind::InsertMany(insert) => {
                let first = insert
                    .write_errors
                    .as_ref()
                    .and_then(|errors| errors.first());
                Err(Refused::Write(first.map_or(0, |error| error.code)))
            }
            _ => Err(Refused::Command(error)),
        },
    }
}

async fn insert(db: &Database, name: &str, documents: &[RawDocumentBuf]) -> anyhow::Result<()> {
    if documents.is_empty() {
        return Ok(());
    }
    db.collection::<RawDocumentBuf>(name)
        .insert_many(documents)
        .await
        .map_err(|error| failed(&error, "insert the documents of", name))?;
    Ok(())
}

async fn create_indexes(db: &Database, name: &str, indexes: Vec<Document>) -> anyhow::Result<()> {
    let indexes: Vec<Bson> = indexes
        .into_iter()
        .filter(|index| index.get_str("name") != Ok("_id_"))
        .map(Bson::Document)
        .collect();
    if indexes.is_empty() {
        return Ok(());
    }
    db.run_command(doc! { "createIndexes": name, "indexes": indexes })
        .await
        .map_err(|error| failed(&error, "create the indexes of", name))?;
    Ok(())
}

/// Every collection of `db` but `system.*` and views, with its `dbHash` md5.
/// The indexes of the collections `expected` names are listed alongside
/// `dbHash`, saving a round trip.
async fn survey(db: &Database, expected: Option<&Manifest>) -> anyhow::Result<Vec<Current>> {
    let expected: Vec<&str> = expected.map_or_else(Vec::new, |manifest| {
        manifest
            .collections
            .iter()
            .map(|record| record.name.as_str())
            .collect()
    });
    let early = try_join_all(expected.iter().map(|name| list_indexes(db, name)));
    let (hashes, listed, early) =
        futures_util::try_join!(db_hashes(db, None), list_collections(db), early)?;
    let mut early: std::collections::HashMap<&str, Vec<Document>> =
        expected.into_iter().zip(early).collect();
    let late = listed
        .iter()
        .filter(|(name, _)| !early.contains_key(name.as_str()))
        .map(|(name, _)| async move {
            Ok::<_, anyhow::Error>((name.clone(), list_indexes(db, name).await?))
        });
    let late: std::collections::HashMap<String, Vec<Document>> =
        try_join_all(late).await?.into_iter().collect();
    let mut current = Vec::with_capacity(listed.len());
    for (name, options) in listed {
        let indexes = match early.remove(name.as_str()) {
            Some(indexes) => indexes,
            None => late.get(&name).cloned().unwrap_or_default(),
        };
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
        current.push(Current {
            name,
            md5,
            options,
            indexes,
            spec,
        });
    }
    Ok(current)
}

/// The `dbHash` md5 of every collection, or of those `only` names.
async fn db_hashes(db: &Database, only: Option<&[&String]>) -> anyhow::Result<Document> {
    let mut command = doc! { "dbHash": 1 };
    if let Some(names) = only {
        command.insert("collections", names);
    }
    let reply = db.run_command(command).await.map_err(|error| {
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

/// The documents of collection `name`, in natural order.
async fn read_documents(db: &Database, name: &str) -> anyhow::Result<Vec<RawDocumentBuf>> {
    let read = async {
        let cursor = db.collection::<RawDocumentBuf>(name).find(doc! {}).await?;
        cursor.try_collect::<Vec<_>>().await
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
