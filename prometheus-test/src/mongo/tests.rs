//! Tests against a real `MongoDB` server: `MONGO_URI` when set, else one private
//! `mongod` shared by the test binary. Each test uses its own database.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use mongodb::bson::{Bson, Document, doc, oid::ObjectId};
use mongodb::{Client, Database};

use super::connect::{DefaultServer, connect_with_default};
use super::import::ImportReport;
use super::managed::ManagedMongod;
use super::*;
use crate::config::{CollectionSettings, EnvMap, MongoSettings};

const TASK: &str = "test-task-123";

/// The server and the runtime its client lives on, shared by every test.
pub(crate) struct TestServer {
    runtime: tokio::runtime::Runtime,
    mongo: Mongo,
}

pub(crate) fn server() -> &'static TestServer {
    static SERVER: OnceLock<Result<TestServer, String>> = OnceLock::new();
    match SERVER.get_or_init(start_test_server) {
        Ok(server) => server,
        Err(message) => panic!("{message}"),
    }
}

fn start_test_server() -> Result<TestServer, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|error| format!("cannot build a tokio runtime: {error}"))?;
    let env = test_env();
    let mongo = runtime.block_on(connect(&env, None)).map_err(|error| {
        format!(
            "the mongo tests need a MongoDB server: {error:#}\n\
             set PROMETHEUS_TEST_MONGOD=<mongod binary> or MONGO_URI=<running server>"
        )
    })?;
    Ok(TestServer { runtime, mongo })
}

/// The process environment, with `PROMETHEUS_TEST_MONGOD` set to the mongod the
/// tests may start themselves when one is found (see [`mongod_binary`]).
fn test_env() -> EnvMap {
    let mut env = EnvMap::from_pairs(std::env::vars());
    if let Ok(binary) = super::locate::find_or_provision(&env) {
        env.set("PROMETHEUS_TEST_MONGOD", binary.to_string_lossy());
    }
    env
}

/// The mongod binary the tests may start themselves: `$PROMETHEUS_TEST_MONGOD`,
/// `mongod` on `PATH`, or the one provisioned into the user's cache.
fn mongod_binary() -> PathBuf {
    super::locate::find_or_provision(&EnvMap::from_pairs(std::env::vars()))
        .unwrap_or_else(|error| panic!("{error:#}"))
}

/// A default server nobody listens on, so that `connect` must start its own.
fn silent_default(port: u16) -> (String, String) {
    (
        format!("mongodb://127.0.0.1:{port}"),
        format!("127.0.0.1:{port}"),
    )
}

impl TestServer {
    pub(crate) fn run<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// A fresh, empty database for one test.
    pub(crate) fn database(&self, test: &str) -> Database {
        let name = format!("pt_{}_{test}", std::process::id());
        let db = self.mongo.client().database(&name);
        self.run(async { db.drop().await })
            .expect("drop the test database");
        db
    }
}

fn settings(collections: &[(&str, Option<&str>, u64)]) -> MongoSettings {
    MongoSettings {
        database: "unused".to_owned(),
        collections: collections
            .iter()
            .map(|&(name, file, required_count)| {
                let config = CollectionSettings {
                    data_file: file.map(str::to_owned),
                    required_count,
                };
                (name.to_owned(), config)
            })
            .collect::<BTreeMap<_, _>>(),
    }
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mongo")
}

async fn count(db: &Database, collection: &str, filter: Document) -> u64 {
    db.collection::<Document>(collection)
        .count_documents(filter)
        .await
        .expect("count documents")
}

async fn insert_sentinel(db: &Database, collection: &str) {
    db.collection::<Document>(collection)
        .insert_one(doc! { "sentinel": true, "taskId": "another-task" })
        .await
        .expect("insert the sentinel");
}

#[test]
fn empty_array_clears_the_collection_and_imports_nothing() {
    let server = server();
    let db = server.database("empty");
    let settings = settings(&[("todos", Some("empty.json"), 0)]);
    let fixtures = read_fixtures(&settings, &fixtures_dir(), TASK).unwrap();
    assert_eq!(fixtures.document_count(), 0);
    server.run(async {
        insert_sentinel(&db, "todos").await;
        let report = reset(&db, &settings, &fixtures, TASK).await.unwrap();
        assert_eq!(report.collections, vec![("todos".to_owned(), 0)]);
        assert_eq!(
            count(&db, "todos", doc! {}).await,
            0,
            "reset must clear old documents"
        );
    });
}

#[test]
fn single_object_is_one_document_with_the_task_id() {
    let server = server();
    let db = server.database("single");
    let settings = settings(&[("todos", Some("single.json"), 1)]);
    let fixtures = read_fixtures(&settings, &fixtures_dir(), TASK).unwrap();
    server.run(async {
        let report = reset(&db, &settings, &fixtures, TASK).await.unwrap();
        assert_eq!(report.total(), 1);
        let stored = db
            .collection::<Document>("todos")
            .find_one(doc! {})
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.get_str("title").unwrap(), "the only todo");
        assert!(!stored.get_bool("done").unwrap());
        assert_eq!(stored.get_str("taskId").unwrap(), TASK);
    });
}

#[test]
fn extended_json_becomes_bson_types_and_nesting_survives() {
    let server = server();
    let db = server.database("extended");
    let settings = settings(&[("todos", Some("extended.json"), 2)]);
    let fixtures = read_fixtures(&settings, &fixtures_dir(), TASK).unwrap();
    server.run(async {
        reset(&db, &settings, &fixtures, TASK).await.unwrap();
        let todos = db.collection::<Document>("todos");
        let id = ObjectId::parse_str("65a1b2c3d4e5f60718293a4b").unwrap();
        let first = todos
            .find_one(doc! { "_id": id })
            .await
            .unwrap()
            .expect("the $oid is the _id");
        assert_eq!(
            first
                .get_datetime("createdAt")
                .unwrap()
                .try_to_rfc3339_string()
                .unwrap(),
            "2024-01-12T10:30:00Z"
        );
        assert_eq!(first.get("size"), Some(&Bson::Int64(9_007_199_254_740_993)));
        let owner = first.get_document("owner").unwrap();
        assert_eq!(owner.get_str("name").unwrap(), "alice");
        let tags = owner.get_array("tags").unwrap();
        assert_eq!(tags[0], Bson::String("rust".to_owned()));
        assert_eq!(tags[1], Bson::Document(doc! { "level": 3 }));
        assert_eq!(
            first.get_str("taskId").unwrap(),
            TASK,
            "taskId is overwritten"
        );

        let id = ObjectId::parse_str("65a1b2c3d4e5f60718293a4c").unwrap();
        let second = todos.find_one(doc! { "_id": id }).await.unwrap().unwrap();
        assert_eq!(second.get("count"), Some(&Bson::Int32(7)));
        assert_eq!(second.get("ratio"), Some(&Bson::Double(0.5)));
        assert_eq!(
            second.get_datetime("dueAt").unwrap().timestamp_millis(),
            1_700_000_000_000
        );
    });
}

#[test]
fn ten_thousand_documents_cross_a_batch_boundary() {
    let server = server();
    let db = server.database("many");
    let data = tempfile::tempdir().unwrap();
    let documents = super::import::IMPORT_BATCH + 7;
    let items: Vec<String> = (0..documents)
        .map(|i| format!(r#"{{"n":{i},"title":"todo {i}"}}"#))
        .collect();
    std::fs::write(
        data.path().join("todos.json"),
        format!("[{}]", items.join(",\n")),
    )
    .unwrap();
    let settings = settings(&[("todos", Some("todos.json"), documents as u64)]);
    let fixtures = read_fixtures(&settings, data.path(), TASK).unwrap();
    server.run(async {
        let report = reset(&db, &settings, &fixtures, TASK).await.unwrap();
        assert_eq!(report.total(), documents as u64);
        assert_eq!(
            count(&db, "todos", doc! { "taskId": TASK }).await,
            documents as u64
        );
        let last = i32::try_from(documents - 1).unwrap();
        assert_eq!(
            count(
                &db,
                "todos",
                doc! { "n": last, "title": format!("todo {last}") }
            )
            .await,
            1
        );
    });
}

#[test]
fn invalid_json_names_file_line_and_column_and_leaves_the_database_alone() {
    let server = server();
    let db = server.database("invalid");
    server.run(insert_sentinel(&db, "todos"));
    let settings = settings(&[("todos", Some("invalid.json"), 0)]);
    let error = read_fixtures(&settings, &fixtures_dir(), TASK)
        .unwrap_err()
        .to_string();
    let file = fixtures_dir().join("invalid.json");
    assert!(
        error.starts_with(&format!("{}:3:24: invalid JSON: ", file.display())),
        "{error}"
    );
    assert!(
        !error.contains(" at line "),
        "the position is given once: {error}"
    );
    assert_eq!(
        server.run(count(&db, "todos", doc! { "sentinel": true })),
        1
    );
}

#[test]
fn non_object_element_names_file_and_index() {
    let settings = settings(&[("todos", Some("non_object.json"), 0)]);
    let error = read_fixtures(&settings, &fixtures_dir(), TASK)
        .unwrap_err()
        .to_string();
    let file = fixtures_dir().join("non_object.json");
    assert_eq!(
        error,
        format!(
            "{}:4:3: element 2 is a string, expected an object",
            file.display()
        )
    );
}

#[test]
fn top_level_scalar_and_bad_extended_json_are_rejected() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(data.path().join("number.json"), "42").unwrap();
    std::fs::write(
        data.path().join("bad.json"),
        r#"[{"_id": {"$oid": "not-hex"}}]"#,
    )
    .unwrap();
    let error = read_fixtures(
        &settings(&[("a", Some("number.json"), 0)]),
        data.path(),
        TASK,
    )
    .unwrap_err();
    assert!(
        error.to_string().ends_with(
            "number.json: expected a JSON array of objects or a single object, found a number"
        ),
        "{error}"
    );
    let error = read_fixtures(&settings(&[("a", Some("bad.json"), 0)]), data.path(), TASK)
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!(
            "{}:1:19: element 0, field `_id.$oid`, is not valid MongoDB Extended JSON: ",
            data.path().join("bad.json").display()
        )),
        "{error}"
    );
}

#[test]
fn bad_extended_json_names_file_line_column_and_field_path() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("todos.json"),
        "[\n  {\"title\": \"ok\"},\n  {\"title\": \"ok too\"},\n  {\"owner\": {\"tags\": [1, {\"at\": {\"$date\": \"yesterday\"}}]}}\n]",
    )
    .unwrap();
    let error = read_fixtures(
        &settings(&[("todos", Some("todos.json"), 0)]),
        data.path(),
        TASK,
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.starts_with(&format!(
            "{}:4:43: element 2, field `owner.tags.1.at.$date`, is not valid MongoDB Extended JSON: ",
            data.path().join("todos.json").display()
        )),
        "{error}"
    );
    // A single object (not in an array) is found without an array around it.
    std::fs::write(
        data.path().join("one.json"),
        "{\"_id\": {\"$oid\": \"zz\"}}",
    )
    .unwrap();
    let error = read_fixtures(
        &settings(&[("todos", Some("one.json"), 0)]),
        data.path(),
        TASK,
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.starts_with(&format!(
            "{}:1:18: element 0, field `_id.$oid`, is not valid",
            data.path().join("one.json").display()
        )),
        "{error}"
    );
}

#[test]
fn too_few_documents_for_required_count_fail_before_anything_is_cleared() {
    let server = server();
    let db = server.database("required");
    server.run(insert_sentinel(&db, "todos"));
    let settings = settings(&[("todos", Some("single.json"), 3)]);
    let error = read_fixtures(&settings, &fixtures_dir(), TASK)
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        format!(
            "{}: holds 1 document, but mongodb.collections.todos.required_count is 3; add \
             documents or lower required_count",
            fixtures_dir().join("single.json").display()
        )
    );
    assert_eq!(
        server.run(count(&db, "todos", doc! { "sentinel": true })),
        1,
        "nothing may be deleted before the fixtures are known to satisfy the config"
    );
}

#[test]
fn required_count_without_a_data_file_fails_before_anything_is_cleared() {
    let data = tempfile::tempdir().unwrap();
    let error = read_fixtures(&settings(&[("logs", None, 2)]), data.path(), TASK)
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(
            "mongodb.collections.logs.required_count is 2 but the collection has no data_file"
        ),
        "{error}"
    );
}

#[test]
fn duplicate_ids_fail_while_reading_naming_both_elements() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("todos.json"),
        "[\n  {\"_id\": 1, \"t\": \"a\"},\n  {\"_id\": {\"$oid\": \"65a1b2c3d4e5f60718293a4b\"}},\n  {\"_id\": {\"$numberLong\": \"1\"}}\n]",
    )
    .unwrap();
    let error = read_fixtures(
        &settings(&[("todos", Some("todos.json"), 0)]),
        data.path(),
        TASK,
    )
    .unwrap_err()
    .to_string();
    let file = data.path().join("todos.json");
    assert_eq!(
        error,
        format!(
            "{f}:4:11: element 2 has the same _id as element 0 ({f}:2:11): MongoDB keeps one \
             document per _id; give each its own",
            f = file.display()
        )
    );
    std::fs::write(
        data.path().join("distinct.json"),
        r#"[{"_id": 1}, {"_id": "1"}, {"_id": 1.5}, {"_id": {"$oid": "65a1b2c3d4e5f60718293a4b"}}, {}, {}]"#,
    )
    .unwrap();
    let fixtures = read_fixtures(
        &settings(&[("todos", Some("distinct.json"), 6)]),
        data.path(),
        TASK,
    )
    .unwrap();
    assert_eq!(fixtures.document_count(), 6);
}

#[test]
fn a_utf8_byte_order_mark_is_accepted() {
    let data = tempfile::tempdir().unwrap();
    std::fs::write(
        data.path().join("bom.json"),
        "\u{feff}[{\"title\": \"after a BOM\"}]",
    )
    .unwrap();
    let fixtures = read_fixtures(
        &settings(&[("todos", Some("bom.json"), 1)]),
        data.path(),
        TASK,
    )
    .unwrap();
    let documents = fixtures.documents("todos");
    assert_eq!(documents.len(), 1);
    assert_eq!(documents[0].get_str("title").unwrap(), "after a BOM");
}

#[test]
fn missing_required_file_is_an_error_and_missing_optional_file_is_skipped() {
    let data = tempfile::tempdir().unwrap();
    let required = settings(&[("todos", Some("absent.json"), 1)]);
    let error = read_fixtures(&required, data.path(), TASK)
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        format!(
            "{}: required data file not found (mongodb.collections.todos.data_file; required_count is 1)",
            data.path().join("absent.json").display()
        )
    );

    let server = server();
    let db = server.database("optional");
    let optional = settings(&[("todos", Some("absent.json"), 0), ("issues", None, 0)]);
    let fixtures = read_fixtures(&optional, data.path(), TASK).unwrap();
    assert_eq!(fixtures.document_count(), 0);
    server.run(async {
        insert_sentinel(&db, "issues").await;
        let report = reset(&db, &optional, &fixtures, TASK).await.unwrap();
        assert_eq!(
            report.collections,
            vec![("issues".to_owned(), 0), ("todos".to_owned(), 0)]
        );
        assert_eq!(
            count(&db, "issues", doc! {}).await,
            0,
            "collections without a file are cleared"
        );
    });
}

#[test]
fn check_required_passes_then_fails_after_deletion_without_wiping() {
    let server = server();
    let db = server.database("resume");
    let settings = settings(&[("todos", Some("extended.json"), 2), ("logs", None, 0)]);
    let fixtures = read_fixtures(&settings, &fixtures_dir(), TASK).unwrap();
    server.run(async {
        reset(&db, &settings, &fixtures, TASK).await.unwrap();
        check_required(&db, &settings, TASK).await.unwrap();
        db.collection::<Document>("todos").delete_one(doc! {}).await.unwrap();
        let error = check_required(&db, &settings, TASK).await.unwrap_err().to_string();
        assert!(error.starts_with("collection `todos` holds 1 documents with taskId `test-task-123`, but mongodb.collections.todos.required_count is 2"), "{error}");
        assert!(error.contains("--reset"), "{error}");
        assert_eq!(count(&db, "todos", doc! {}).await, 1, "check_required never wipes");
    });
}

#[test]
fn count_rounds_counts_this_task_only_plus_one() {
    let server = server();
    let db = server.database("rounds");
    let settings = settings(&[("todos", Some("extended.json"), 0)]);
    let fixtures = read_fixtures(&settings, &fixtures_dir(), TASK).unwrap();
    server.run(async {
        reset(&db, &settings, &fixtures, TASK).await.unwrap();
        insert_sentinel(&db, "todos").await;
        assert_eq!(count_rounds(&db, "todos", TASK).await.unwrap(), 3);
        assert_eq!(count_rounds(&db, "todos", "another-task").await.unwrap(), 2);
        assert_eq!(count_rounds(&db, "todos", "no-such-task").await.unwrap(), 1);
    });
}

#[test]
fn count_rounds_on_a_missing_collection_is_an_error() {
    let server = server();
    let db = server.database("norounds");
    let error = server
        .run(count_rounds(&db, "todos", TASK))
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!(
            "rounds collection `todos` does not exist in database `{}`",
            db.name()
        )),
        "{error}"
    );
}

#[tokio::test]
async fn unreachable_server_fails_within_seconds_naming_the_uri_without_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let uri = format!("mongodb://alice:s3cret@127.0.0.1:{port}/");
    let env = EnvMap::from_pairs([("MONGO_URI", uri.as_str())]);
    let started = Instant::now();
    let error = connect(&env, None).await.unwrap_err().to_string();
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(6), "took {elapsed:?}");
    assert!(
        error.starts_with(&format!(
            "cannot reach MongoDB at mongodb://***@127.0.0.1:{port}/ within 3 s"
        )),
        "{error}"
    );
    assert!(!error.contains("s3cret"), "{error}");
    assert!(
        error.contains("unset MONGO_URI") && error.contains("PROMETHEUS_TEST_MONGOD"),
        "{error}"
    );
}

#[tokio::test]
async fn bad_mongod_path_is_named_when_a_private_server_is_needed() {
    let env = EnvMap::from_pairs([("PROMETHEUS_TEST_MONGOD", "/nonexistent/mongod")]);
    let (uri, address) = silent_default(crate::process::free_port().unwrap());
    let default = DefaultServer {
        uri: &uri,
        address: &address,
    };
    let error = connect_with_default(&env, None, default)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("PROMETHEUS_TEST_MONGOD=/nonexistent/mongod is not an executable file"),
        "{error}"
    );
}

#[test]
fn a_server_answering_at_the_default_address_is_used_without_starting_one() {
    let shared = server();
    let uri = shared.mongo.uri().to_owned();
    let address = uri.trim_start_matches("mongodb://").to_owned();
    let env = EnvMap::from_pairs([(
        "PROMETHEUS_TEST_MONGOD",
        "/nonexistent/mongod, which must not be needed",
    )]);
    let default = DefaultServer {
        uri: &uri,
        address: &address,
    };
    let mongo = shared
        .run(connect_with_default(&env, None, default))
        .unwrap();
    assert!(!mongo.is_managed());
    assert_eq!(mongo.uri(), uri);
    shared.run(mongo.shutdown());
}

#[tokio::test]
async fn managed_server_starts_answers_and_is_gone_after_stop() {
    let (server, client) = ManagedMongod::start(&mongod_binary()).await.unwrap();
    eprintln!(
        "managed mongod started in {} ms",
        server.startup().as_millis()
    );
    let pid = server.pid().expect("running");
    let uri = server.uri();
    assert!(uri.starts_with("mongodb://127.0.0.1:"), "{uri}");
    client
        .database("admin")
        .run_command(doc! { "ping": 1 })
        .await
        .unwrap();
    super::connect::close_client(client).await;
    server.stop().await;
    let alive = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap()),
        None,
    )
    .is_ok();
    assert!(!alive, "mongod {pid} still exists after stop");
    let again = Client::with_uri_str(format!("{uri}/?serverSelectionTimeoutMS=500"))
        .await
        .unwrap();
    assert!(
        again
            .database("admin")
            .run_command(doc! { "ping": 1 })
            .await
            .is_err(),
        "{uri} still answers"
    );
}

#[tokio::test]
async fn connect_starts_a_private_server_when_nothing_answers() {
    let env = EnvMap::from_pairs([(
        "PROMETHEUS_TEST_MONGOD",
        mongod_binary().to_string_lossy().into_owned(),
    )]);
    let (uri, address) = silent_default(crate::process::free_port().unwrap());
    let default = DefaultServer {
        uri: &uri,
        address: &address,
    };
    let mongo = connect_with_default(&env, None, default).await.unwrap();
    assert!(mongo.is_managed());
    assert_eq!(mongo.display_uri(), mongo.uri());
    let pid = mongo
        .managed()
        .and_then(ManagedMongod::pid)
        .expect("running");
    mongo.shutdown().await;
    assert!(
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap()),
            None
        )
        .is_err()
    );
}

#[test]
fn redact_hides_credentials_only() {
    use super::connect::redact;
    assert_eq!(
        redact("mongodb://localhost:27017"),
        "mongodb://localhost:27017"
    );
    assert_eq!(
        redact("mongodb://u:p@h:1/db?x=1"),
        "mongodb://***@h:1/db?x=1"
    );
    assert_eq!(
        redact("mongodb+srv://u:p/w?d@cluster.example/db"),
        "mongodb+srv://***@cluster.example/db"
    );
    assert_eq!(redact("not a uri"), "not a uri");
}

#[test]
fn redact_hides_credentials_in_query_options() {
    use super::connect::redact;
    assert_eq!(
        redact(
            "mongodb://h/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:tok3n&w=1"
        ),
        "mongodb://h/?authMechanism=MONGODB-AWS&authMechanismProperties=***&w=1"
    );
    assert_eq!(
        redact("mongodb://u:p@h/db?tls=true&TLSCertificateKeyFilePassword=k3y"),
        "mongodb://***@h/db?tls=true&TLSCertificateKeyFilePassword=***"
    );
    assert_eq!(
        redact("mongodb://h/?sslPEMKeyPassword=a&proxyPassword=b&proxyHost=c"),
        "mongodb://h/?sslPEMKeyPassword=***&proxyPassword=***&proxyHost=c"
    );
    // An `@` inside an option value must not leave the rest of the query visible.
    let shown = redact(
        "mongodb://h/?authMechanismProperties=AWS_SESSION_TOKEN:a@b&tlsCertificateKeyFilePassword=pw",
    );
    assert!(!shown.contains("a@b") && !shown.contains("=pw"), "{shown}");
}

#[tokio::test]
async fn secrets_in_query_options_stay_out_of_connect_errors() {
    let port = crate::process::free_port().unwrap();
    for uri in [
        format!(
            "mongodb://127.0.0.1:{port}/?authMechanism=MONGODB-AWS&authMechanismProperties=AWS_SESSION_TOKEN:tok3n-s3cret"
        ),
        format!("mongodb://127.0.0.1:{port}/?tls=true&tlsCertificateKeyFilePassword=k3y-s3cret"),
        format!("mongodb://127.0.0.1:{port}/?authMechanismProperties=NOT_A_PROPERTY:v4lue-s3cret"),
    ] {
        let env = EnvMap::from_pairs([("MONGO_URI", uri.as_str())]);
        let error = format!("{:#}", connect(&env, None).await.unwrap_err());
        assert!(!error.contains("s3cret"), "{error}");
    }
}

#[tokio::test]
async fn a_wrong_password_says_authentication_failed() {
    // The user is created without --auth, then the same data is served with it.
    let data = tempfile::tempdir().unwrap();
    let (server, client) = ManagedMongod::start_in(&mongod_binary(), Some(data.path()))
        .await
        .unwrap();
    client
        .database("admin")
        .run_command(doc! {
            "createUser": "alice",
            "pwd": "right-password",
            "roles": [{ "role": "readWrite", "db": "pt" }],
        })
        .await
        .unwrap();
    super::connect::close_client(client).await;
    server.stop().await;
    let (server, client) =
        ManagedMongod::start_with_args(&mongod_binary(), Some(data.path()), &["--auth"])
            .await
            .unwrap();
    super::connect::close_client(client).await;
    let host = server.uri().trim_start_matches("mongodb://").to_owned();

    let wrong = format!("mongodb://alice:wr0ng-s3cret@{host}/?authSource=admin");
    let env = EnvMap::from_pairs([("MONGO_URI", wrong.as_str())]);
    let error = connect(&env, None).await.unwrap_err().to_string();
    assert!(
        error.starts_with(&format!(
            "authentication to MongoDB at mongodb://***@{host}/?authSource=admin failed"
        )),
        "{error}"
    );
    assert!(!error.contains("cannot reach"), "{error}");
    assert!(!error.contains("s3cret"), "{error}");

    let right = format!("mongodb://alice:right-password@{host}/?authSource=admin");
    let env = EnvMap::from_pairs([("MONGO_URI", right.as_str())]);
    connect(&env, None).await.unwrap().shutdown().await;
    server.stop().await;
}

#[test]
fn import_report_is_one_line() {
    let report = ImportReport {
        collections: vec![("audits".to_owned(), 0), ("todos".to_owned(), 12)],
        elapsed: Duration::from_millis(45),
    };
    assert_eq!(
        report.to_string(),
        "cleared 2 collections, imported 12 documents (todos 12) in 45 ms"
    );
}

// ---------------------------------------------------------------------------
// Concurrent import and fast clearing (`import.rs`, `raw_json.rs`).
// ---------------------------------------------------------------------------

/// Writes `items` as a JSON array to `dir/file`.
fn write_array(dir: &Path, file: &str, items: impl Iterator<Item = String>) {
    let items: Vec<String> = items.collect();
    std::fs::write(dir.join(file), format!("[{}]", items.join(",\n"))).unwrap();
}

/// Inserts `count` filler documents of another task into `collection`.
async fn fill(db: &Database, collection: &str, count: usize) {
    let filler = (0..count).map(|n| doc! { "old": i64::try_from(n).unwrap(), "taskId": "old" });
    db.collection::<Document>(collection)
        .insert_many(filler)
        .await
        .expect("insert filler documents");
}

#[test]
fn concurrent_import_keeps_every_document_and_the_required_count() {
    let server = server();
    let db = server.database("concurrent");
    let data = tempfile::tempdir().unwrap();
    let documents = 25_001;
    // Every third document brings its own `_id`; the others get one at read time.
    write_array(
        data.path(),
        "todos.json",
        (0..documents).map(|n| {
            if n % 3 == 0 {
                format!(r#"{{"_id": {n}, "n": {n}}}"#)
            } else {
                format!(r#"{{"n": {n}, "title": "todo {n}"}}"#)
            }
        }),
    );
    let settings = settings(&[("todos", Some("todos.json"), documents as u64)]);
    let fixtures = read_fixtures(&settings, data.path(), TASK).unwrap();
    server.run(async {
        fill(&db, "todos", 2_000).await;
        let report = reset(&db, &settings, &fixtures, TASK).await.unwrap();
        assert_eq!(report.total(), documents as u64);
        assert_eq!(count(&db, "todos", doc! {}).await, documents as u64);
        assert_eq!(
            count(&db, "todos", doc! { "taskId": TASK }).await,
            documents as u64
        );
        let distinct = db
            .collection::<Document>("todos")
            .distinct("n", doc! {})
            .await
            .unwrap();
        assert_eq!(distinct.len(), documents);
        let own_ids = count(&db, "todos", doc! { "_id": { "$type": "int" } }).await;
        assert_eq!(own_ids, (documents as u64).div_ceil(3));
    });
}

#[test]
fn rejected_documents_name_file_collection_and_element_across_concurrent_batches() {
    let server = server();
    let db = server.database("rejected");
    let data = tempfile::tempdir().unwrap();
    let documents: u64 = 12_000;
    // Elements 9876 and 11000 break the collection's validator (`n` must be an int).
    write_array(
        data.path(),
        "todos.json",
        (0..documents).map(|n| match n {
            9_876 | 11_000 => format!(r#"{{"n": "not a number {n}"}}"#),
            _ => format!(r#"{{"n": {n}}}"#),
        }),
    );
    let settings = settings(&[("todos", Some("todos.json"), 10)]);
    let fixtures = read_fixtures(&settings, data.path(), TASK).unwrap();
    server.run(async {
        db.create_collection("todos")
            .validator(doc! { "n": { "$type": "int" } })
            .await
            .unwrap();
        let error = reset(&db, &settings, &fixtures, TASK)
            .await
            .unwrap_err()
            .to_string();
        let file = data.path().join("todos.json");
        assert!(
            error.starts_with(&format!(
                "{}: import into collection `todos` failed: 2 documents rejected, the first is \
                 element 9876: ",
                file.display()
            )),
            "{error}"
        );
        // Unordered batches: everything else went in, and the validator is still there.
        assert_eq!(
            count(&db, "todos", doc! { "taskId": TASK }).await,
            documents - 2
        );
        let invalid = db
            .collection::<Document>("todos")
            .insert_one(doc! { "n": "text" })
            .await;
        assert!(invalid.is_err(), "the validator was lost");
    });
}

#[test]
fn clearing_keeps_indexes_options_and_empty_collections() {
    let server = server();
    let db = server.database("clearing");
    let data = tempfile::tempdir().unwrap();
    write_array(
        data.path(),
        "todos.json",
        (0..3).map(|n| format!(r#"{{"n": {n}}}"#)),
    );
    let settings = settings(&[
        ("issues", None, 0),
        ("notes", None, 0),
        ("todos", Some("todos.json"), 3),
    ]);
    let fixtures = read_fixtures(&settings, data.path(), TASK).unwrap();
    server.run(async {
        // A large plain collection without fixtures, one with a second index,
        // and one created with options; all hold more than a few documents.
        fill(&db, "issues", 1_500).await;
        fill(&db, "todos", 1_500).await;
        db.collection::<Document>("todos")
            .create_index(mongodb::IndexModel::builder().keys(doc! { "n": 1 }).build())
            .await
            .unwrap();
        db.create_collection("notes")
            .validator(doc! { "taskId": { "$type": "string" } })
            .await
            .unwrap();
        fill(&db, "notes", 1_500).await;

        let report = reset(&db, &settings, &fixtures, TASK).await.unwrap();
        assert_eq!(
            report.collections,
            [
                ("issues".to_owned(), 0),
                ("notes".to_owned(), 0),
                ("todos".to_owned(), 3)
            ]
        );
        let mut names = db.list_collection_names().await.unwrap();
        names.sort();
        assert_eq!(names, ["issues", "notes", "todos"]);
        assert_eq!(count(&db, "issues", doc! {}).await, 0);
        assert_eq!(count(&db, "notes", doc! {}).await, 0);
        assert_eq!(count(&db, "todos", doc! {}).await, 3);
        let mut indexes = db
            .collection::<Document>("todos")
            .list_index_names()
            .await
            .unwrap();
        indexes.sort();
        assert_eq!(indexes, ["_id_", "n_1"]);
        let notes = db
            .list_collections()
            .filter(doc! { "name": "notes" })
            .await
            .unwrap();
        let specs: Vec<_> = futures_util::TryStreamExt::try_collect(notes)
            .await
            .unwrap();
        assert_eq!(
            specs[0].options.validator,
            Some(doc! { "taskId": { "$type": "string" } }),
            "the validator was lost"
        );
    });
}

/// Disk space used under `dir`, as `du` counts it (allocated blocks).
fn disk_usage(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            let own = meta.blocks() * 512;
            if meta.is_dir() {
                own + disk_usage(&entry.path())
            } else {
                own
            }
        })
        .sum()
}

/// The documents of `todos` and `audits` in the kept server's database.
async fn kept_counts(client: &Client) -> (u64, u64) {
    let db = client.database("pt_kept");
    (
        count(&db, "todos", doc! {}).await,
        count(&db, "audits", doc! {}).await,
    )
}

#[tokio::test]
async fn kept_data_survives_a_restart_and_a_kill_in_a_few_megabytes() {
    const MB: u64 = 1 << 20;
    let binary = mongod_binary();
    let fixtures_dir = tempfile::tempdir().unwrap();
    write_array(
        fixtures_dir.path(),
        "todos.json",
        (0..5_000).map(|n| format!(r#"{{"n": {n}, "title": "todo {n}", "done": false}}"#)),
    );
    write_array(
        fixtures_dir.path(),
        "audits.json",
        (0..500).map(|n| format!(r#"{{"round": {n}, "ok": true}}"#)),
    );
    let settings = settings(&[
        ("todos", Some("todos.json"), 5_000),
        ("audits", Some("audits.json"), 500),
    ]);
    let fixtures = read_fixtures(&settings, fixtures_dir.path(), TASK).unwrap();
    let kept = tempfile::tempdir().unwrap();

    let (server, client) = ManagedMongod::start_in(&binary, Some(kept.path()))
        .await
        .unwrap();
    reset(&client.database("pt_kept"), &settings, &fixtures, TASK)
        .await
        .unwrap();
    super::connect::close_client(client).await;
    server.stop().await;
    let used = disk_usage(kept.path());
    eprintln!("kept directory after importing 5,500 documents: {used} bytes");
    assert!(
        used < 10 * MB,
        "the kept directory takes {used} bytes, over 10 MB"
    );

    // A restart finds the data.
    let (server, client) = ManagedMongod::start_in(&binary, Some(kept.path()))
        .await
        .unwrap();
    assert_eq!(kept_counts(&client).await, (5_000, 500));
    // A write the journal has acknowledged survives a killed server.
    let journaled = mongodb::options::WriteConcern::builder()
        .journal(true)
        .build();
    client
        .database("pt_kept")
        .collection::<Document>("audits")
        .insert_one(doc! { "round": 500, "ok": false })
        .write_concern(journaled)
        .await
        .unwrap();
    super::connect::close_client(client).await;
    drop(server);

    let (server, client) = ManagedMongod::start_in(&binary, Some(kept.path()))
        .await
        .unwrap();
    assert_eq!(kept_counts(&client).await, (5_000, 501));
    super::connect::close_client(client).await;
    server.stop().await;
}
