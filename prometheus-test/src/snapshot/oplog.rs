//! What changed in the database since the last snapshot, read from the
//! server's oplog when it is the primary of a replica set; on any other
//! server (a standalone one, a member not yet primary) nothing is known and
//! the snapshot surveys every collection.
//!
//! The position is the `ts` of the newest oplog entry, read before the
//! snapshot reads anything, and kept in memory only (with the manifest it
//! belongs to): a new process, a kill, a failed snapshot or a manifest found
//! rather than taken starts from a survey again. So a server restarted
//! between runs without its replica set (writing no oplog) cannot hide a
//! change.

use std::collections::BTreeSet;

use mongodb::Database;
use mongodb::bson::{Bson, Document, Timestamp, doc};

/// The most `(op, namespace)` pairs one snapshot looks for in the oplog;
/// more means a survey.
const GROUPS_LIMIT: usize = 16;

/// Whether the server keeps an oplog, and where it stood when the last
/// snapshot taken by this store started.
#[derive(Default)]
pub(super) struct Oplog {
    /// `Some(true)` for a replica set's primary, `Some(false)` for a server
    /// that is not in a replica set or whose oplog cannot be read; `None`
    /// until known (a member not yet primary is asked again).
    readable: Option<bool>,
    /// The newest entry before the last snapshot taken by this store.
    pub(super) mark: Option<Timestamp>,
}

/// What changed since a mark.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Since {
    /// These collections' documents were written (inserted, updated or
    /// deleted), and nothing else of the database changed.
    Written(BTreeSet<String>),
    /// Not known: the oplog is not readable, no longer holds the mark, or
    /// holds a command (a collection or an index created, changed or dropped).
    Unknown,
}

impl Oplog {
    /// Whether the oplog can be read: asked once, or until the member is primary.
    async fn readable(&mut self, db: &Database) -> bool {
        if let Some(readable) = self.readable {
            return readable;
        }
        let Ok(reply) = db.run_command(doc! { "isMaster": 1 }).await else {
            return false;
        };
        // A member not yet initiated says `isreplicaset` without a set name.
        let member = reply.get_str("setName").is_ok() || reply.get_bool("isreplicaset") == Ok(true);
        if !member {
            self.readable = Some(false);
            return false;
        }
        if reply.get_bool("ismaster") != Ok(true) {
            return false;
        }
        self.readable = Some(true);
        true
    }

    /// The newest oplog entry now, `None` when the oplog is not readable or
    /// a write below it is still in flight. Read before a survey: whatever
    /// is written after it shows next time. Read backwards, then checked
    /// forwards: a forward read sees an entry only once every entry before
    /// it is there, so no write committed later can land below the mark.
    pub(super) async fn newest(&mut self, db: &Database) -> Option<Timestamp> {
        if !self.readable(db).await {
            return None;
        }
        let command = doc! {
            "find": "oplog.rs",
            "sort": { "$natural": -1 },
            "projection": { "_id": 0, "ts": 1 },
            "limit": 1,
            "singleBatch": true,
        };
        let Some(newest) = read(db, command).await.and_then(|entries| {
            entries
                .first()
                .and_then(|entry| entry.get_timestamp("ts").ok())
        }) else {
            self.readable = Some(false);
            return None;
        };
        let seen = forward(db, doc! { "ts": { "$gte": newest } }, 1).await?;
        (seen
            .first()
            .and_then(|entry| entry.get_timestamp("ts").ok())
            == Some(newest))
        .then_some(newest)
    }

    /// What was written since `mark`, with the newest entry read (the next
    /// mark); `Unknown` with `None` when that cannot be told.
    pub(super) async fn since(
        &mut self,
        db: &Database,
        mark: Timestamp,
    ) -> (Since, Option<Timestamp>) {
        if !self.readable(db).await {
            return (Since::Unknown, None);
        }
        // The entry at the mark and the next one: nothing after the mark is
        // a step that wrote nothing, told in one find.
        let Some(mut entries) = forward(db, doc! { "ts": { "$gte": mark } }, 2).await else {
            return (Since::Unknown, None);
        };
        if entries.len() == 1 && entries[0].get_timestamp("ts") == Ok(mark) {
            return (Since::Written(BTreeSet::new()), Some(mark));
        }
        let Some(newest) = self.newest(db).await else {
            return (Since::Unknown, None);
        };
        // Then one entry of each `(op, ns)` not seen yet, up to `newest`:
        // the server skips the others (a step that wrote 1,000 documents of
        // one collection costs what one document does), and one find is a
        // round trip (reading 32 entries in one batch took 5 ms in a debug
        // build, one 0.5 ms).
        let mut seen: Vec<Bson> = Vec::new();
        let mut next = entries.get(1).cloned();
        while let Some(entry) = next {
            let (Ok(op), Ok(ns)) = (entry.get_str("op"), entry.get_str("ns")) else {
                return (Since::Unknown, None);
            };
            seen.push(Bson::Document(doc! { "op": op, "ns": ns }));
            if seen.len() > GROUPS_LIMIT {
                return (Since::Unknown, None);
            }
            let filter = doc! { "ts": { "$gt": mark, "$lte": newest }, "$nor": seen.clone() };
            let Some(batch) = forward(db, filter, 1).await else {
                return (Since::Unknown, None);
            };
            next = batch.into_iter().next();
            entries.extend(next.clone());
        }
        (written(db.name(), mark, &entries), Some(newest))
    }
}

/// The first `limit` oplog entries `filter` matches, read forwards from the
/// position its `ts` bound seeks to (`ts`, `op` and `ns` of each).
async fn forward(db: &Database, filter: Document, limit: i64) -> Option<Vec<Document>> {
    let command = doc! {
        "find": "oplog.rs",
        "filter": filter,
        "projection": { "_id": 0, "ts": 1, "op": 1, "ns": 1 },
        "oplogReplay": true,
        "limit": limit,
        "singleBatch": true,
    };
    read(db, command).await
}

/// The collections of `database` the entries from `mark` on wrote; `Unknown`
/// unless the first entry is `mark` itself (else the oplog rolled over it,
/// or is another server's) and every other one is a no-op, a document
/// written, or a command of `config` or `local`.
pub(super) fn written(database: &str, mark: Timestamp, entries: &[Document]) -> Since {
    let Some((first, rest)) = entries.split_first() else {
        return Since::Unknown;
    };
    if first.get_timestamp("ts") != Ok(mark) {
        return Since::Unknown;
    }
    let mut written = BTreeSet::new();
    for entry in rest {
        let (Ok(op), Ok(ns)) = (entry.get_str("op"), entry.get_str("ns")) else {
            return Since::Unknown;
        };
        let (db, collection) = ns.split_once('.').unwrap_or((ns, ""));
        match op {
            "n" => {}
            "c" if matches!(db, "config" | "local") => {}
            "i" | "u" | "d" if db != database => {}
            "i" | "u" | "d" if !collection.is_empty() && !collection.starts_with("system.") => {
                written.insert(collection.to_owned());
            }
            _ => return Since::Unknown,
        }
    }
    Since::Written(written)
}

/// The entries a `find` on `local.oplog.rs` answers in one batch; `None` on
/// an error or when there are more.
async fn read(db: &Database, command: Document) -> Option<Vec<Document>> {
    let reply = db
        .client()
        .database("local")
        .run_command(command)
        .await
        .ok()?;
    let cursor = reply.get_document("cursor").ok()?;
    if !matches!(cursor.get("id"), Some(Bson::Int64(0) | Bson::Int32(0))) {
        return None;
    }
    cursor
        .get_array("firstBatch")
        .ok()?
        .iter()
        .map(|entry| entry.as_document().cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use mongodb::bson::{Document, Timestamp, doc};

    use super::{Since, written};

    fn ts(increment: u32) -> Timestamp {
        Timestamp {
            time: 100,
            increment,
        }
    }

    fn entry(increment: u32, op: &str, ns: &str) -> Document {
        doc! { "ts": ts(increment), "op": op, "ns": ns }
    }

    #[test]
    fn only_documents_written_in_the_database_are_named_and_anything_else_is_unknown() {
        let mark = entry(1, "i", "other.c");
        let read = |rest: &[Document]| {
            let entries: Vec<Document> = std::iter::once(mark.clone())
                .chain(rest.iter().cloned())
                .collect();
            written("db", ts(1), &entries)
        };
        let names = |names: &[&str]| Since::Written(names.iter().map(|&n| n.to_owned()).collect());
        assert_eq!(read(&[]), names(&[]));
        assert_eq!(
            read(&[
                entry(2, "i", "db.todos"),
                entry(3, "u", "db.audits"),
                entry(4, "d", "db.todos"),
                entry(5, "n", ""),
                entry(6, "i", "other.todos"),
                entry(7, "c", "config.$cmd"),
                entry(8, "i", "db2.receipts"),
            ]),
            names(&["audits", "todos"])
        );
        for unknown in [
            entry(2, "c", "db.$cmd"),
            entry(2, "c", "admin.$cmd"),
            entry(2, "c", "other.$cmd"),
            entry(2, "i", "db.system.indexes"),
            entry(2, "x", "db.todos"),
            doc! { "ts": ts(2), "op": "i" },
        ] {
            assert_eq!(
                read(std::slice::from_ref(&unknown)),
                Since::Unknown,
                "{unknown}"
            );
        }
        // The oplog no longer holds the mark (rolled over), or is empty.
        assert_eq!(written("db", ts(0), &[mark]), Since::Unknown);
        assert_eq!(written("db", ts(1), &[]), Since::Unknown);
    }
}
