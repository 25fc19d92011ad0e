//! The snapshot store against a real `MongoDB` (the mongo tests' shared
//! server) and a temporary data folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use mongodb::Database;
use mongodb::bson::{Document, RawDocumentBuf, doc};

use super::manifest::{self, MANIFEST, Manifest};
use super::{Kept, Point, Restored, Store, Taken, World};
use crate::mongo::tests::server;

fn point(round: u32, index: usize, step: &str, worker: Option<&str>) -> Point {
    Point {
        round,
        index,
        step: step.to_owned(),
        worker: worker.map(str::to_owned),
    }
}

fn world(db: Option<&Database>, dir: &Path, paths: &[&str]) -> World {
    World {
        db: db.cloned(),
        data_dir: dir.to_owned(),
        paths: paths.iter().map(PathBuf::from).collect(),
    }
}

/// Writes `bytes` to `dir/path` with an mtime a minute ago, as a file the
/// last step did not touch.
fn write_settled(dir: &Path, path: &str, bytes: &[u8]) {
    let full = dir.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(&full, bytes).unwrap();
    let file = std::fs::File::options().write(true).open(&full).unwrap();
    file.set_modified(SystemTime::now() - Duration::from_secs(60))
        .unwrap();
}

/// Every collection's documents (natural order), `dbHash` md5, options and
/// index specs.
#[derive(Debug, PartialEq)]
struct DbState {
    md5: BTreeMap<String, String>,
    options: Vec<Document>,
    documents: BTreeMap<String, Vec<RawDocumentBuf>>,
    indexes: BTreeMap<String, Vec<Document>>,
}

async fn db_state(db: &Database) -> DbState {
    let hashes = db.run_command(doc! { "dbHash": 1 }).await.unwrap();
    let md5: BTreeMap<String, String> = hashes
        .get_document("collections")
        .unwrap()
        .iter()
        .map(|(name, md5)| (name.clone(), md5.as_str().unwrap().to_owned()))
        .collect();
    let mut documents = BTreeMap::new();
    let mut indexes = BTreeMap::new();
    for name in md5.keys() {
        let mut cursor = db
            .collection::<RawDocumentBuf>(name)
            .find(doc! {})
            .await
            .unwrap();
        let mut all = Vec::new();
        while cursor.advance().await.unwrap() {
            all.push(cursor.current().to_raw_document_buf());
        }
        documents.insert(name.clone(), all);
        let reply = db.run_command(doc! { "listIndexes": name }).await.unwrap();
        let mut specs: Vec<Document> = reply
            .get_document("cursor")
            .unwrap()
            .get_array("firstBatch")
            .unwrap()
            .iter()
            .map(|spec| spec.as_document().unwrap().clone())
            .collect();
        specs.sort_by_key(|spec| spec.get_str("name").unwrap().to_owned());
        indexes.insert(name.clone(), specs);
    }
    let listed = db.run_command(doc! { "listCollections": 1 }).await.unwrap();
    let mut options: Vec<Document> = listed
        .get_document("cursor")
        .unwrap()
        .get_array("firstBatch")
        .unwrap()
        .iter()
        .map(|entry| {
            let entry = entry.as_document().unwrap();
            doc! { "name": entry.get_str("name").unwrap(), "options": entry.get_document("options").unwrap() }
        })
        .collect();
    options.sort_by_key(|entry| entry.get_str("name").unwrap().to_owned());
    DbState {
        md5,
        options,
        documents,
        indexes,
    }
}

/// Every file under `dir` (but `.snapshots`) with its bytes; folders as `None`.
fn files_state(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    fn walk(root: &Path, dir: &Path, into: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let relative = path.strip_prefix(root).unwrap().to_owned();
            if relative == Path::new(".snapshots") {
                continue;
            }
            if path.is_dir() {
                into.insert(relative, None);
                walk(root, &path, into);
            } else {
                into.insert(relative, Some(std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut state = BTreeMap::new();
    walk(dir, dir, &mut state);
    state
}

/// `(collections copied, shared, files copied, shared, read)` of a snapshot.
fn counts(taken: &Taken) -> (usize, usize, usize, usize, usize) {
    (
        taken.collections_copied,
        taken.collections_shared,
        taken.files_copied,
        taken.files_shared,
        taken.files_read,
    )
}

/// `(point, collections, files)` of a restore.
fn restored(restored: &Restored) -> (Point, usize, usize) {
    (restored.point.clone(), restored.collections, restored.files)
}

fn read_manifest(dir: &Path, round: u32, index: usize) -> Manifest {
    manifest::read_json(
        &dir.join(".snapshots/points")
            .join(manifest::file_name(round, index)),
        MANIFEST,
    )
    .unwrap()
    .unwrap()
}

fn sorted_listing(dir: &Path) -> Vec<String> {
    let mut names = super::objects::list(dir).unwrap();
    names.sort();
    names
}

async fn seed(db: &Database) {
    let todos = db.collection::<Document>("todos");
    todos
        .insert_many([
            doc! { "_id": 1, "title": "one", "done": false },
            doc! { "_id": 2, "title": "two", "done": true },
        ])
        .await
        .unwrap();
    db.run_command(doc! {
        "createIndexes": "todos",
        "indexes": [{ "key": { "title": 1 }, "name": "title_1", "unique": true }],
    })
    .await
    .unwrap();
    db.collection::<Document>("audits")
        .insert_one(doc! { "_id": "a1", "round": 1 })
        .await
        .unwrap();
}

#[test]
fn unchanged_parts_are_shared_and_restoring_gives_back_the_exact_world() {
    let server = server();
    let db = server.database("snapshot_exact");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    write_settled(data, "database_worker1.db", b"sqlite one");
    write_settled(data, "worker2/data/a.txt", b"a");
    write_settled(data, "worker2/data/sub/b.txt", b"b");
    write_settled(data, "test_state.json", b"{}");
    let world = world(
        Some(&db),
        data,
        &[
            "database_worker1.db",
            "worker2/data",
            "test_state.json",
            "absent.txt",
        ],
    );
    let first = point(1, 0, "steps::submit", Some("worker1"));
    let second = point(1, 1, "steps::audit", None);
    server.run(async {
        seed(&db).await;
        db.collection::<Document>("nodes")
            .insert_one(doc! { "_id": "n1" })
            .await
            .unwrap();
        db.run_command(doc! { "create": "logs", "capped": true, "size": 4096 })
            .await
            .unwrap();
        db.collection::<Document>("logs")
            .insert_one(doc! { "line": "started" })
            .await
            .unwrap();
        let mut store = Store::open(data).unwrap();
        let taken = store.take(&world, &first).await.unwrap();
        assert_eq!(counts(&taken), (4, 0, 4, 0, 4));
        let before = (db_state(&db).await, files_state(data));

        // audits: a document added, one updated. todos: the unique titles
        // swapped, an index added (dbHash does not see indexes). logs (capped)
        // dropped, extra created. nodes unchanged. Files change and appear.
        let audits = db.collection::<Document>("audits");
        audits
            .insert_one(doc! { "_id": "a2", "round": 1 })
            .await
            .unwrap();
        audits
            .update_one(doc! { "_id": "a1" }, doc! { "$set": { "round": 2 } })
            .await
            .unwrap();
        let todos = db.collection::<Document>("todos");
        todos
            .update_one(doc! { "_id": 1 }, doc! { "$set": { "title": "swap" } })
            .await
            .unwrap();
        todos
            .update_one(doc! { "_id": 2 }, doc! { "$set": { "title": "one" } })
            .await
            .unwrap();
        todos
            .update_one(doc! { "_id": 1 }, doc! { "$set": { "title": "two" } })
            .await
            .unwrap();
        db.run_command(doc! {
            "createIndexes": "todos",
            "indexes": [{ "key": { "done": 1 }, "name": "done_1" }],
        })
        .await
        .unwrap();
        db.collection::<Document>("logs").drop().await.unwrap();
        db.collection::<Document>("extra")
            .insert_one(doc! { "x": 1 })
            .await
            .unwrap();
        std::fs::write(data.join("database_worker1.db"), b"sqlite two").unwrap();
        std::fs::write(data.join("database_worker1.db-wal"), b"wal").unwrap();
        std::fs::write(data.join("absent.txt"), b"now here").unwrap();
        std::fs::write(data.join("worker2/data/sub/new.txt"), b"new").unwrap();
        std::fs::remove_file(data.join("worker2/data/a.txt")).unwrap();

        let taken = store.take(&world, &second).await.unwrap();
        // audits, todos and extra copied, nodes shared; the db file, its WAL,
        // absent.txt and new.txt copied; b.txt and the state file shared unread.
        assert_eq!(counts(&taken), (3, 1, 4, 2, 4));
        let (one, two) = (read_manifest(data, 1, 0), read_manifest(data, 1, 1));
        let documents_of = |manifest: &Manifest, name: &str| {
            let record = manifest.collections.iter().find(|c| c.name == name);
            record.unwrap().documents.id.clone()
        };
        assert_eq!(documents_of(&one, "nodes"), documents_of(&two, "nodes"));
        assert_ne!(documents_of(&one, "audits"), documents_of(&two, "audits"));

        let done = store.restore(&world, &first).await.unwrap();
        // audits, todos, logs (recreated capped) and extra (dropped); the db
        // file written; the WAL, absent.txt and new.txt removed; a.txt written.
        assert_eq!(restored(&done), (first.clone(), 4, 5));
        assert_eq!((db_state(&db).await, files_state(data)), before);

        let again = store.restore(&world, &first).await.unwrap();
        assert_eq!(restored(&again), (first.clone(), 0, 0));
        assert!(!data.join(".snapshots/restore.json").exists());
    });
}

#[test]
fn with_ten_thousand_documents_only_the_changed_collection_is_copied() {
    let server = server();
    let db = server.database("snapshot_large");
    let dir = tempfile::tempdir().unwrap();
    let world = world(Some(&db), dir.path(), &[]);
    let names = ["nodes", "submissions", "audits"];
    server.run(async {
        for (number, name) in (0_i64..).zip(names) {
            let documents = (0..3_334).map(|i| doc! { "i": i, "of": name, "n": number });
            db.collection::<Document>(name)
                .insert_many(documents)
                .await
                .unwrap();
        }
        let mut store = Store::open(dir.path()).unwrap();
        let start = point(1, 0, "steps::start", None);
        let taken = store.take(&world, &start).await.unwrap();
        assert_eq!(counts(&taken), (3, 0, 0, 0, 0));
        let before = db_state(&db).await;
        let mut per_step = Vec::new();
        for (step, name) in (1_usize..=3).zip([names[1], names[2], names[0]]) {
            db.collection::<Document>(name)
                .insert_one(doc! { "step": step.to_string() })
                .await
                .unwrap();
            let taken = store
                .take(&world, &point(1, step, "steps::work", None))
                .await
                .unwrap();
            per_step.push(counts(&taken));
        }
        assert_eq!(per_step, vec![(1, 2, 0, 0, 0); 3]);
        let done = store.restore(&world, &start).await.unwrap();
        assert_eq!(restored(&done), (start, 3, 0));
        assert_eq!(db_state(&db).await, before);
    });
}

#[test]
fn a_restore_killed_midway_is_finished_by_recover() {
    let server = server();
    let db = server.database("snapshot_recover");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    write_settled(data, "database_worker1.db", b"before");
    let world = world(Some(&db), data, &["database_worker1.db"]);
    let target = point(2, 3, "steps::audit", Some("worker3"));
    server.run(async {
        seed(&db).await;
        let mut store = Store::open(data).unwrap();
        assert_eq!(store.recover(&world).await.unwrap(), None);
        store.take(&world, &target).await.unwrap();
        let before = (db_state(&db).await, files_state(data));
        db.collection::<Document>("todos")
            .delete_many(doc! {})
            .await
            .unwrap();
        std::fs::write(data.join("database_worker1.db"), b"half-done").unwrap();

        store.fail_after_collections = true;
        let error = store.restore(&world, &target).await.unwrap_err();
        assert_eq!(
            format!("{error:#}"),
            "the restore of the world before round 2 steps::audit[worker3] stopped midway; \
             the next run finishes it: failure injected after the collections"
        );
        // Half applied: the documents are back, the file is not.
        assert_eq!(db_state(&db).await, before.0);
        assert_eq!(
            std::fs::read(data.join("database_worker1.db")).unwrap(),
            b"half-done"
        );

        // The next run: a fresh store finds the journal.
        let store = Store::open(data).unwrap();
        let other = point(1, 0, "steps::start", None);
        let error = store.restore(&world, &other).await.unwrap_err();
        assert_eq!(
            format!("{error:#}"),
            "cannot restore the world before round 1 steps::start: the restore before \
             round 2 steps::audit[worker3] was interrupted and must be recovered first"
        );
        let recovered = store.recover(&world).await.unwrap().unwrap();
        assert_eq!(restored(&recovered), (target.clone(), 0, 1));
        assert_eq!((db_state(&db).await, files_state(data)), before);
        assert_eq!(store.recover(&world).await.unwrap(), None);
    });
}

#[test]
fn leftovers_of_a_killed_snapshot_are_not_kept_and_open_removes_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    write_settled(data, "state.json", b"{}");
    let world = world(None, data, &["state.json"]);
    let first = point(1, 0, "steps::start", None);
    let mut store = Store::open(data).unwrap();
    server().run(store.take(&world, &first)).unwrap();
    let snapshots = data.join(".snapshots");
    // A kill while writing the next manifest and an object, and while staging.
    std::fs::write(snapshots.join("points/.tmp-1-1.json"), b"{\"point\":").unwrap();
    std::fs::write(snapshots.join("objects/.tmp-0123"), b"half").unwrap();
    std::fs::create_dir_all(snapshots.join("staging")).unwrap();
    std::fs::write(snapshots.join("staging/0"), b"half").unwrap();
    let kept = store.kept().unwrap();
    assert_eq!(
        kept.iter()
            .map(|kept| kept.point.clone())
            .collect::<Vec<_>>(),
        vec![first.clone()]
    );
    let objects_before = sorted_listing(&snapshots.join("objects"));

    drop(Store::open(data).unwrap());
    assert_eq!(sorted_listing(&snapshots.join("points")), vec!["1-0.json"]);
    assert_eq!(
        sorted_listing(&snapshots.join("objects")),
        objects_before
            .into_iter()
            .filter(|name| name != ".tmp-0123")
            .collect::<Vec<_>>()
    );
    assert_eq!(sorted_listing(&snapshots), vec!["objects", "points"]);
}

#[test]
fn prune_drops_old_rounds_and_their_objects_and_disk_usage_counts_what_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let world = world(None, data, &["w.db"]);
    let mut store = Store::open(data).unwrap();
    let points = [
        point(1, 0, "steps::a", None),
        point(1, 1, "steps::b", None),
        point(2, 0, "steps::a", None),
    ];
    for (number, at) in points.iter().enumerate() {
        write_settled(data, "w.db", format!("content {number}").as_bytes());
        server().run(store.take(&world, at)).unwrap();
    }
    let kept = store.kept().unwrap();
    assert_eq!(
        kept,
        points
            .iter()
            .map(|at| Kept {
                point: at.clone(),
                bytes: 9,
                collections: 0,
                files: 1,
            })
            .collect::<Vec<_>>()
    );
    store.prune(2).unwrap();
    assert_eq!(
        store
            .kept()
            .unwrap()
            .iter()
            .map(|kept| kept.point.clone())
            .collect::<Vec<_>>(),
        vec![points[2].clone()]
    );
    let left = read_manifest(data, 2, 0);
    let mut referenced: Vec<String> = left.objects().map(|object| object.id.clone()).collect();
    referenced.sort();
    assert_eq!(sorted_listing(&data.join(".snapshots/objects")), referenced);
    let manifest_bytes = std::fs::metadata(data.join(".snapshots/points/2-0.json"))
        .unwrap()
        .len();
    assert_eq!(store.disk_usage().unwrap(), manifest_bytes + 9);

    // The next snapshot does not share a pruned object: neither one its
    // file's content had, nor the unchanged file's of a pruned snapshot.
    write_settled(data, "w.db", b"content 0");
    let taken = server()
        .run(store.take(&world, &point(2, 1, "steps::b", None)))
        .unwrap();
    assert_eq!(counts(&taken), (0, 0, 1, 0, 1));
    store.prune(3).unwrap();
    let taken = server()
        .run(store.take(&world, &point(3, 0, "steps::a", None)))
        .unwrap();
    assert_eq!(counts(&taken), (0, 0, 1, 0, 1));

    Store::remove_all(data).unwrap();
    assert!(!data.join(".snapshots").exists());
}

#[test]
fn an_unknown_point_is_refused_naming_the_nearest_kept_ones_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    write_settled(data, "w.db", b"kept");
    let world = world(None, data, &["w.db"]);
    let mut store = Store::open(data).unwrap();
    let message = |store: &Store, at: &Point| {
        let error = server().run(store.restore(&world, at)).unwrap_err();
        format!("{error:#}")
    };
    let unknown = point(1, 5, "steps::audit", Some("worker3"));
    assert_eq!(
        message(&store, &unknown),
        "no snapshot before round 1 steps::audit[worker3] is kept; no snapshot is kept"
    );
    server()
        .run(store.take(&world, &point(1, 0, "steps::a", None)))
        .unwrap();
    assert_eq!(
        message(&store, &unknown),
        "no snapshot before round 1 steps::audit[worker3] is kept; \
         the nearest kept one: round 1 steps::a (before it)"
    );
    server()
        .run(store.take(&world, &point(2, 0, "steps::a", Some("worker1"))))
        .unwrap();
    std::fs::write(data.join("w.db"), b"changed").unwrap();
    assert_eq!(
        message(&store, &unknown),
        "no snapshot before round 1 steps::audit[worker3] is kept; \
         the nearest kept ones: round 1 steps::a (before it) and round 2 steps::a[worker1] (after it)"
    );
    // Same position, another step: not the snapshot asked for.
    assert_eq!(
        message(&store, &point(2, 0, "steps::b", None)),
        "no snapshot before round 2 steps::b is kept; \
         the nearest kept one: round 2 steps::a[worker1] (before it)"
    );
    assert_eq!(std::fs::read(data.join("w.db")).unwrap(), b"changed");
    assert!(!data.join(".snapshots/restore.json").exists());
}

#[test]
fn a_damaged_object_fails_the_restore_before_anything_changes() {
    let server = server();
    let db = server.database("snapshot_damaged");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    write_settled(data, "w.db", b"kept");
    let world = world(Some(&db), data, &["w.db"]);
    let at = point(1, 0, "steps::a", None);
    server.run(async {
        seed(&db).await;
        let mut store = Store::open(data).unwrap();
        store.take(&world, &at).await.unwrap();
        db.collection::<Document>("audits")
            .insert_one(doc! { "_id": "late" })
            .await
            .unwrap();
        std::fs::write(data.join("w.db"), b"changed").unwrap();
        let after = (db_state(&db).await, files_state(data));
        let manifest = read_manifest(data, 1, 0);
        let audits = manifest
            .collections
            .iter()
            .find(|c| c.name == "audits")
            .unwrap();
        let object = data.join(".snapshots/objects").join(&audits.documents.id);
        std::fs::write(&object, b"secret-looking bytes").unwrap();
        let error = store.restore(&world, &at).await.unwrap_err();
        assert_eq!(
            format!("{error:#}"),
            format!(
                "cannot restore the world before round 1 steps::a; nothing was changed: \
                 the documents of collection audits: the snapshot object {} is damaged: its \
                 content does not match its name",
                object.display()
            )
        );
        assert_eq!((db_state(&db).await, files_state(data)), after);
        assert!(!data.join(".snapshots/restore.json").exists());
    });
}

#[test]
fn a_kept_point_is_not_taken_again_and_an_unusable_manifest_is_listed_apart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    write_settled(data, "w.db", b"before the step");
    let world = world(None, data, &["w.db"]);
    let at = point(1, 0, "steps::a", None);
    let mut store = Store::open(data).unwrap();
    let runtime = server();
    let first = runtime.run(store.take(&world, &at)).unwrap();
    let kept = read_manifest(data, 1, 0);
    std::fs::write(data.join("w.db"), b"what a failed attempt wrote").unwrap();
    let again = runtime.run(store.take(&world, &at)).unwrap();
    assert_eq!(
        (
            first.already_kept,
            again.already_kept,
            read_manifest(data, 1, 0)
        ),
        (false, true, kept),
        "the snapshot kept before the step stays"
    );
    let manifest = data.join(".snapshots/points/1-0.json");
    std::fs::write(&manifest, "{").unwrap();
    let unusable = store.unusable().unwrap();
    assert_eq!(
        (store.kept().unwrap(), unusable.len(), unusable[0].at),
        (Vec::new(), 1, (1, 0))
    );
    let aside = store.set_aside(&unusable[0]).unwrap();
    assert_eq!(
        (aside.clone(), std::fs::read_to_string(&aside).unwrap()),
        (
            data.join(".snapshots/points/1-0.json.damaged"),
            "{".to_owned()
        )
    );
    assert_eq!(store.unusable().unwrap(), Vec::new());
}

#[test]
fn an_unreachable_mongodb_fails_the_restore_before_anything_changes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    write_settled(data, "w.db", b"kept");
    let mut store = Store::open(data).unwrap();
    let at = point(1, 0, "steps::a", None);
    server()
        .run(store.take(&world(None, data, &["w.db"]), &at))
        .unwrap();
    std::fs::write(data.join("w.db"), b"changed").unwrap();
    let error = server().run(async {
        let uri = "mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=100";
        let client = mongodb::Client::with_uri_str(uri).await.unwrap();
        let world = world(Some(&client.database("gone")), data, &["w.db"]);
        store.restore(&world, &at).await.unwrap_err()
    });
    let chain: Vec<String> = error.chain().map(ToString::to_string).collect();
    assert_eq!(
        chain[0],
        "cannot restore the world before round 1 steps::a; nothing was changed"
    );
    assert!(
        chain[1].starts_with(
            "MongoDB dbHash of database gone failed: Server selection timeout: No available servers."
        ),
        "{chain:?}"
    );
    assert_eq!(chain.len(), 2);
    assert_eq!(std::fs::read(data.join("w.db")).unwrap(), b"changed");
    assert!(!data.join(".snapshots/restore.json").exists());
}

#[test]
fn points_read_as_the_harness_prints_them() {
    assert_eq!(
        [
            point(2, 7, "steps::audit::audits_its_peer", Some("worker3")).to_string(),
            point(1, 0, "steps::start", None).to_string(),
        ],
        [
            "round 2 steps::audit::audits_its_peer[worker3]",
            "round 1 steps::start",
        ]
    );
}

/// A private mongod started with `--replSet` (journaled, as a replica set
/// needs), on its own runtime; `initiate` makes it a one-member set and
/// waits until it is primary.
struct ReplicaSet {
    runtime: tokio::runtime::Runtime,
    server: Option<crate::mongo::seam::ManagedMongod>,
    client: mongodb::Client,
    _data: tempfile::TempDir,
}

impl ReplicaSet {
    fn start() -> ReplicaSet {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let binary = crate::mongo::seam::find_or_provision_mongod(std::env::vars_os()).unwrap();
        let data = tempfile::tempdir().unwrap();
        let (server, client) = runtime.block_on(async {
            crate::mongo::seam::ManagedMongod::start_with_args(
                &binary,
                Some(data.path()),
                &["--replSet", "pt-snapshots"],
            )
            .await
            .unwrap()
        });
        ReplicaSet {
            runtime,
            server: Some(server),
            client,
            _data: data,
        }
    }

    fn initiate(&self) {
        let host = self.server.as_ref().unwrap().uri();
        let host = host.trim_start_matches("mongodb://");
        let admin = self.client.database("admin");
        self.runtime.block_on(async {
            admin
                .run_command(doc! {
                    "replSetInitiate": { "_id": "pt-snapshots", "members": [{ "_id": 0, "host": host }] },
                })
                .await
                .unwrap();
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            loop {
                let hello = admin.run_command(doc! { "isMaster": 1 }).await.unwrap();
                if hello.get_bool("ismaster") == Ok(true) {
                    break;
                }
                assert!(std::time::Instant::now() < deadline, "no primary after 60 s");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
    }
}

impl Drop for ReplicaSet {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            self.runtime.block_on(server.stop());
        }
    }
}

/// `(surveyed, collections copied, shared)` of a snapshot.
fn db_counts(taken: &Taken) -> (bool, usize, usize) {
    (
        taken.collections_surveyed,
        taken.collections_copied,
        taken.collections_shared,
    )
}

async fn insert(db: &Database, collection: &str, document: Document) {
    db.collection::<Document>(collection)
        .insert_one(document)
        .await
        .unwrap();
}

/// The options-and-indexes object of `collection` in `manifest`.
fn spec_of(manifest: &Manifest, collection: &str) -> super::objects::ObjectRef {
    manifest
        .collections
        .iter()
        .find(|record| record.name == collection)
        .unwrap()
        .spec
        .clone()
}

#[test]
fn on_a_primary_only_the_collections_the_oplog_names_are_read_and_restore_stays_exact() {
    let set = ReplicaSet::start();
    set.initiate();
    let db = set.client.database("snapshot_oplog");
    let dir = tempfile::tempdir().unwrap();
    let world = world(Some(&db), dir.path(), &[]);
    set.runtime.block_on(async {
        seed(&db).await;
        insert(&db, "receipts", doc! { "_id": 1 }).await;
        let before = db_state(&db).await;
        let mut store = Store::open(dir.path()).unwrap();
        let start = point(1, 0, "steps::start", None);
        let mut taken = vec![store.take(&world, &start).await.unwrap()];
        // Nothing written: no collection is hashed.
        taken.push(
            store
                .take(&world, &point(1, 1, "steps::idle", None))
                .await
                .unwrap(),
        );
        // One document: only its collection is hashed and read.
        db.collection::<Document>("todos")
            .update_one(doc! { "_id": 1 }, doc! { "$set": { "done": true } })
            .await
            .unwrap();
        taken.push(
            store
                .take(&world, &point(1, 2, "steps::work", None))
                .await
                .unwrap(),
        );
        // Written back as it was: read again, its object the first one's.
        db.collection::<Document>("todos")
            .update_one(doc! { "_id": 1 }, doc! { "$set": { "done": false } })
            .await
            .unwrap();
        taken.push(
            store
                .take(&world, &point(1, 3, "steps::undo", None))
                .await
                .unwrap(),
        );
        // A command (an index): every collection is surveyed.
        db.run_command(doc! {
            "createIndexes": "audits",
            "indexes": [{ "key": { "round": 1 }, "name": "round_1" }],
        })
        .await
        .unwrap();
        insert(&db, "receipts", doc! { "_id": 2 }).await;
        taken.push(
            store
                .take(&world, &point(1, 4, "steps::index", None))
                .await
                .unwrap(),
        );
        // A collection created by its first insert is a command too.
        insert(&db, "fresh", doc! { "_id": 1 }).await;
        taken.push(
            store
                .take(&world, &point(1, 5, "steps::create", None))
                .await
                .unwrap(),
        );
        taken.push(
            store
                .take(&world, &point(1, 6, "steps::idle", None))
                .await
                .unwrap(),
        );
        assert_eq!(
            taken.iter().map(db_counts).collect::<Vec<_>>(),
            [
                (true, 3, 0),
                (false, 0, 3),
                (false, 1, 2),
                (false, 1, 2),
                (true, 1, 2),
                (true, 1, 3),
                (false, 0, 4),
            ]
        );
        let index = read_manifest(dir.path(), 1, 4);
        assert_ne!(
            spec_of(&index, "audits"),
            spec_of(&read_manifest(dir.path(), 1, 3), "audits")
        );
        assert_eq!(
            read_manifest(dir.path(), 1, 3).collections,
            read_manifest(dir.path(), 1, 0).collections
        );
        let done = store.restore(&world, &start).await.unwrap();
        assert_eq!(restored(&done), (start, 3, 0));
        assert_eq!(db_state(&db).await, before);
        // The restore's writes are in the oplog (a drop among them): the
        // next snapshot surveys, and records the world of the first one.
        let after = store
            .take(&world, &point(2, 0, "steps::start", None))
            .await
            .unwrap();
        assert_eq!(db_counts(&after), (true, 1, 2));
        assert_eq!(
            read_manifest(dir.path(), 2, 0).collections,
            read_manifest(dir.path(), 1, 0).collections
        );
    });
}

#[test]
fn a_snapshot_that_failed_after_its_oplog_read_and_a_new_store_survey_everything() {
    let set = ReplicaSet::start();
    set.initiate();
    let db = set.client.database("snapshot_oplog_kill");
    let dir = tempfile::tempdir().unwrap();
    let world = world(Some(&db), dir.path(), &[]);
    set.runtime.block_on(async {
        seed(&db).await;
        let mut store = Store::open(dir.path()).unwrap();
        store
            .take(&world, &point(1, 0, "steps::start", None))
            .await
            .unwrap();
        // The oplog is read, then the manifest cannot be written (a kill
        // between the two loses the same: the position lives in memory).
        db.collection::<Document>("todos")
            .insert_one(doc! { "_id": 3, "title": "three" })
            .await
            .unwrap();
        let points = dir.path().join(".snapshots/points");
        std::fs::rename(&points, dir.path().join("points-away")).unwrap();
        std::fs::write(&points, b"not a folder").unwrap();
        store
            .take(&world, &point(1, 1, "steps::work", None))
            .await
            .unwrap_err();
        std::fs::remove_file(&points).unwrap();
        std::fs::rename(dir.path().join("points-away"), &points).unwrap();
        db.collection::<Document>("audits")
            .insert_one(doc! { "_id": "a2" })
            .await
            .unwrap();
        let again = store
            .take(&world, &point(1, 1, "steps::work", None))
            .await
            .unwrap();
        assert_eq!(db_counts(&again), (true, 2, 0));
        // A new store (the next run) starts from a survey too.
        db.collection::<Document>("todos")
            .insert_one(doc! { "_id": 4, "title": "four" })
            .await
            .unwrap();
        let mut next = Store::open(dir.path()).unwrap();
        let first = next
            .take(&world, &point(1, 2, "steps::next", None))
            .await
            .unwrap();
        let second = next
            .take(&world, &point(1, 3, "steps::idle", None))
            .await
            .unwrap();
        assert_eq!(
            [db_counts(&first), db_counts(&second)],
            [(true, 1, 1), (false, 0, 2)]
        );
    });
}

#[test]
fn a_member_not_yet_primary_and_a_standalone_server_are_surveyed() {
    let set = ReplicaSet::start();
    let db = set.client.database("snapshot_oplog_early");
    let dir = tempfile::tempdir().unwrap();
    let early_world = world(Some(&db), dir.path(), &[]);
    let mut store = Store::open(dir.path()).unwrap();
    let early = set
        .runtime
        .block_on(store.take(&early_world, &point(1, 0, "steps::start", None)))
        .unwrap();
    set.initiate();
    set.runtime.block_on(async {
        seed(&db).await;
        let mut taken = vec![early];
        for index in 1..4 {
            taken.push(
                store
                    .take(&early_world, &point(1, index, "steps::idle", None))
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(
            taken.iter().map(db_counts).collect::<Vec<_>>(),
            [(true, 0, 0), (true, 2, 0), (false, 0, 2), (false, 0, 2)]
        );
    });

    let server = server();
    let db = server.database("snapshot_standalone");
    let dir = tempfile::tempdir().unwrap();
    let world = world(Some(&db), dir.path(), &[]);
    server.run(async {
        seed(&db).await;
        let mut store = Store::open(dir.path()).unwrap();
        let mut taken = Vec::new();
        for index in 0..3 {
            taken.push(
                store
                    .take(&world, &point(1, index, "steps::idle", None))
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(
            taken.iter().map(db_counts).collect::<Vec<_>>(),
            [(true, 2, 0), (true, 0, 2), (true, 0, 2)]
        );
    });
}

/// The managed mongod started as a replica set for two runs on one kept data
/// folder (the second on another port): each run's first snapshot surveys,
/// the next ones read the oplog, and the second run restores the first's world.
#[tokio::test]
async fn the_managed_replica_set_reads_the_oplog_again_after_a_restart_on_kept_data() {
    let binary = crate::mongo::seam::find_or_provision_mongod(std::env::vars_os()).unwrap();
    let kept = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let start = || crate::mongo::seam::ManagedMongod::start_replica_set(&binary, Some(kept.path()));
    let first_point = point(1, 0, "steps::start", None);

    let (server, client, topology) = start().await.unwrap();
    assert_eq!(format!("{topology:?}"), "Primary");
    let db = client.database("snapshot_managed_set");
    let world = world(Some(&db), dir.path(), &[]);
    seed(&db).await;
    let before = db_state(&db).await;
    let mut store = Store::open(dir.path()).unwrap();
    let mut taken = vec![store.take(&world, &first_point).await.unwrap()];
    insert(&db, "todos", doc! { "_id": 3, "title": "three" }).await;
    taken.push(
        store
            .take(&world, &point(1, 1, "steps::work", None))
            .await
            .unwrap(),
    );
    let at_stop = db_state(&db).await;
    crate::mongo::seam::close_client(client).await;
    server.stop().await;
    let (server, client, topology) = start().await.unwrap();
    assert_eq!(format!("{topology:?}"), "Primary");
    let db = client.database("snapshot_managed_set");
    // mongod 4.0 replays the oplog after its last stable checkpoint at a
    // replica set member's start, which may change the documents' natural order.
    assert_eq!(unordered(db_state(&db).await), unordered(at_stop));
    let world = World {
        db: Some(db.clone()),
        ..world
    };
    let mut store = Store::open(dir.path()).unwrap();
    taken.push(
        store
            .take(&world, &point(2, 0, "steps::start", None))
            .await
            .unwrap(),
    );
    insert(&db, "audits", doc! { "_id": "a2" }).await;
    taken.push(
        store
            .take(&world, &point(2, 1, "steps::work", None))
            .await
            .unwrap(),
    );
    assert_eq!(
        taken.iter().map(db_counts).collect::<Vec<_>>(),
        [(true, 2, 0), (false, 1, 1), (true, 0, 2), (false, 1, 1)]
    );
    let done = store.restore(&world, &first_point).await.unwrap();
    assert_eq!(restored(&done), (first_point, 2, 0));
    assert_eq!(unordered(db_state(&db).await), unordered(before));
    crate::mongo::seam::close_client(client).await;
    server.stop().await;
}

/// `state` with each collection's documents in one order (of their bytes)
/// instead of their natural order.
fn unordered(mut state: DbState) -> DbState {
    for documents in state.documents.values_mut() {
        documents.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    }
    state
}

/// The median of `samples`, in milliseconds.
fn median_ms(samples: &mut [Duration]) -> f64 {
    samples.sort_unstable();
    samples[samples.len() / 2].as_secs_f64() * 1000.0
}

/// Times `take` for a world of three collections (1,000, 1,000 and 10
/// documents) and three files, on the mongo tests' standalone server and on
/// a one-member replica set (the oplog path): a step that changed nothing,
/// one that updated one document, one that updated 1,000; and the restore
/// of one collection and one file. Medians of `REPETITIONS`, one line per
/// server. `scripts/bench-snapshots.sh` runs it (debug, as `cargo test`
/// builds it); alone:
/// `cargo test -p prometheus-test --lib snapshot::tests::timings -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement, not a check: run it alone"]
fn timings() {
    let server = server();
    let db = server.database("snapshot_timing");
    server.run(time_snapshots("standalone server", &db));
    let set = ReplicaSet::start();
    set.initiate();
    let db = set.client.database("snapshot_timing");
    set.runtime
        .block_on(time_snapshots("replica set (oplog)", &db));
}

async fn time_snapshots(label: &str, db: &Database) {
    const REPETITIONS: usize = 25;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let files = [
        "database_worker1.db",
        "database_worker2.db",
        "test_state.json",
    ];
    for name in files {
        write_settled(data, name, &vec![7_u8; 8_192]);
    }
    let world = world(Some(db), data, &files);
    for (name, documents) in [("todos", 1_000), ("audits", 1_000), ("receipts", 10)] {
        let docs = (0..documents).map(|i| doc! { "_id": i, "name": name, "pad": "x".repeat(40) });
        db.collection::<Document>(name)
            .insert_many(docs)
            .await
            .unwrap();
    }
    let (mut unchanged, mut one, mut thousand, mut restores) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut store = Store::open(data).unwrap();
    let start = point(1, 0, "steps::start", None);
    store.take(&world, &start).await.unwrap();
    for repetition in 0..REPETITIONS {
        let step = i64::try_from(repetition).unwrap();
        let at = |offset: usize| point(2, repetition * 3 + offset, "steps::step", None);
        unchanged.push(store.take(&world, &at(0)).await.unwrap().elapsed);
        db.collection::<Document>("todos")
            .update_one(doc! { "_id": step }, doc! { "$set": { "step": step } })
            .await
            .unwrap();
        one.push(store.take(&world, &at(1)).await.unwrap().elapsed);
        db.collection::<Document>("audits")
            .update_many(doc! {}, doc! { "$set": { "step": step } })
            .await
            .unwrap();
        thousand.push(store.take(&world, &at(2)).await.unwrap().elapsed);
    }
    store.restore(&world, &start).await.unwrap();
    for _ in 0..REPETITIONS {
        // The failed step wrote to one collection and one worker file.
        insert(db, "receipts", doc! { "half-done": true }).await;
        std::fs::write(data.join("database_worker1.db"), vec![9_u8; 8_192]).unwrap();
        let done = store.restore(&world, &start).await.unwrap();
        assert_eq!((done.collections, done.files), (1, 1));
        restores.push(done.elapsed);
    }
    println!(
        "one snapshot, {label}: nothing changed {:.2} ms, one document {:.2} ms, \
         1,000 documents {:.2} ms; restore of one collection and one file {:.2} ms \
         (medians of {REPETITIONS})",
        median_ms(&mut unchanged),
        median_ms(&mut one),
        median_ms(&mut thousand),
        median_ms(&mut restores),
    );
}
