//! The exact world on resume and rewind, with the example suite
//! (`examples/todo-task`) against a private `mongod`:
//!
//! - its receipt step, made to fail once after writing to MongoDB and to its
//!   worker's `DATABASE_PATH`, passes on the next run, which restores the
//!   world the step started in and says so; with `--no-restore` the next run
//!   finds the half-done writes;
//! - a run rewound to round 1's third step and played on ends in the same
//!   world as a fresh run (every collection, every worker file, the state);
//! - after a failure, a `--no-restore` run leaves the snapshot before the
//!   failed step as it was, so the run after it restores that world and passes;
//! - `--list-snapshots` lists the kept points, and `--from` a point that is
//!   not kept exits 2 naming the nearest ones, changing nothing;
//! - a `.snapshots` that is not a folder stops the run before MongoDB is reset;
//! - a run rewound into round 2's churn window finds worker3 away, as it was.
//!
//! The example is built and run with `cargo test -p todo-task --test e2e`
//! in this test's target directory.

mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Output;
use std::sync::{Mutex, PoisonError};

use prometheus_test::__bench::{ManagedMongod, close_client, find_or_provision_mongod};
use prometheus_test::mongodb::Client;
use prometheus_test::mongodb::bson::{Bson, Document};
use serde_json::Value;

/// The receipt step's test name.
const RECEIPT: &str = "steps::receipt::acknowledges_its_round_once";

/// One example run at a time: they build into the same target directory.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The example in a data folder of its own, against a private `mongod`.
struct Example {
    dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    mongod: Option<ManagedMongod>,
    client: Option<Client>,
    env: Vec<(String, String)>,
}

impl Example {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        std::fs::copy(
            common::repo().join("examples/todo-task/tests/data/todos.json"),
            data.join("todos.json"),
        )
        .unwrap();
        let binary = find_or_provision_mongod(std::env::vars_os())
            .unwrap_or_else(|error| panic!("{error:#}"));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (mongod, client) = runtime
            .block_on(ManagedMongod::start(&binary))
            .unwrap_or_else(|error| panic!("{error:#}"));
        let env = vec![
            (
                "PROMETHEUS_TEST_SET_DATA_DIR".to_owned(),
                data.display().to_string(),
            ),
            ("MONGO_URI".to_owned(), mongod.uri()),
            (
                common::MARKER_VAR.to_owned(),
                dir.path().display().to_string(),
            ),
        ];
        Self {
            dir,
            runtime,
            mongod: Some(mongod),
            client: Some(client),
            env,
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `cargo test -p todo-task --test e2e -- args` with `env` on top of the
    /// example's, on ports free at that moment (the other tests' `mongod`s
    /// come and go).
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let _one = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
        let base_port = common::free_ports(3).to_string();
        let output = common::cargo()
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("PROMETHEUS_TEST_SET_BASE_PORT", base_port)
            .envs(env.iter().copied())
            .args(["test", "-q", "-p", "todo-task", "--test", "e2e", "--"])
            .args(args)
            .output()
            .expect("run cargo");
        let leftovers = common::marked_processes(&self.dir.path().display().to_string());
        assert!(leftovers.is_empty(), "processes left: {leftovers:?}");
        output
    }

    /// The world as the suite sees it: every document of every collection
    /// (the workers' wall-clock stamps `assignedAt` and `auditedAt` left
    /// out), each worker database file, and the state.
    fn world(&self) -> World {
        let db = self.client.as_ref().unwrap().database("todo_task_e2e");
        let collections = self
            .runtime
            .block_on(common::all_documents(&db))
            .into_iter()
            .map(|(name, documents)| {
                let documents = documents
                    .into_iter()
                    .map(|mut document| {
                        unstamp(&mut document);
                        Bson::Document(document).into_relaxed_extjson()
                    })
                    .collect();
                (name, documents)
            })
            .collect();
        let mut files = BTreeMap::new();
        for worker in ["worker1", "worker2", "worker3"] {
            let name = format!("database_{worker}.db");
            files.insert(
                name.clone(),
                std::fs::read_to_string(self.data().join(&name)).unwrap_or_default(),
            );
        }
        let state = std::fs::read_to_string(self.data().join("test_state.json")).unwrap();
        World {
            collections,
            files,
            state: serde_json::from_str(&state).unwrap(),
        }
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        if let (Some(client), Some(mongod)) = (self.client.take(), self.mongod.take()) {
            self.runtime.block_on(async {
                close_client(client).await;
                mongod.stop().await;
            });
        }
    }
}

/// Removes the times the workers stamp (`assignedAt`, `auditedAt`) at any depth.
fn unstamp(document: &mut Document) {
    document.remove("assignedAt");
    document.remove("auditedAt");
    for (_, value) in document.iter_mut() {
        match value {
            Bson::Document(inner) => unstamp(inner),
            Bson::Array(items) => {
                for item in items {
                    if let Bson::Document(inner) = item {
                        unstamp(inner);
                    }
                }
            }
            _ => {}
        }
    }
}

#[derive(Debug, PartialEq)]
struct World {
    collections: BTreeMap<String, Vec<Value>>,
    files: BTreeMap<String, String>,
    state: Value,
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The lines of `stderr` the harness wrote (`prometheus-test: …`), with
/// the milliseconds a restore took replaced by `N`.
fn notes(output: &Output) -> Vec<String> {
    text(&output.stderr)
        .lines()
        .filter_map(|line| line.strip_prefix("prometheus-test: "))
        .map(|line| match line.rsplit_once(" in ") {
            Some((head, ms)) if line.starts_with("restored") && ms.ends_with(" ms") => {
                format!("{head} in N ms")
            }
            _ => line.to_owned(),
        })
        .collect()
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        text(&output.stdout),
        text(&output.stderr)
    )
}

/// Plays the example with the receipt step failing in round 1 after its
/// writes; returns the world it left.
fn fail_in_round_one(example: &Example) -> World {
    let failed = example.run(
        &["--reset"],
        &[("PROMETHEUS_TEST_SET_FAIL_RECEIPT_IN_ROUND", "1")],
    );
    assert_eq!(failed.status.code(), Some(101), "{}", describe(&failed));
    assert!(
        text(&failed.stdout).contains(
            "failing on purpose after writing both receipts (`fail_receipt_in_round: 1`): \
             the next run resumes at this step"
        ),
        "{}",
        describe(&failed)
    );
    let world = example.world();
    assert_eq!(
        world.collections["receipts"].len(),
        1,
        "the failed attempt wrote a receipt"
    );
    assert!(
        world.files["database_worker1.db"].contains("\"receipts\": 1"),
        "the failed attempt made worker1 write its receipt: {}",
        world.files["database_worker1.db"]
    );
    world
}

#[test]
fn a_resumed_run_restores_the_world_the_failed_step_started_in() {
    let example = Example::new();
    fail_in_round_one(&example);
    let resumed = example.run(&[], &[]);
    assert_eq!(resumed.status.code(), Some(0), "{}", describe(&resumed));
    let notes = notes(&resumed);
    let restored =
        format!("restored the world before round 1 {RECEIPT} (1 collection, 3 files) in N ms");
    assert!(notes.contains(&restored), "{notes:#?}");
    let world = example.world();
    let receipts: Vec<&Value> = world.collections["receipts"].iter().collect();
    assert_eq!(
        receipts.len(),
        3,
        "one receipt per round with work (rounds 1 to 3), none left from the failed attempt: {receipts:#?}"
    );
}

#[test]
fn without_restore_the_resumed_step_finds_the_half_done_writes() {
    let example = Example::new();
    fail_in_round_one(&example);
    let resumed = example.run(&["--no-restore"], &[]);
    assert_eq!(resumed.status.code(), Some(101), "{}", describe(&resumed));
    assert!(
        text(&resumed.stdout).contains(
            "round 1 already holds 1 receipt(s) of worker1 in MongoDB and 1 in its \
             DATABASE_PATH: the writes of an earlier attempt of this step are still there"
        ),
        "{}",
        describe(&resumed)
    );
    assert!(
        !notes(&resumed).iter().any(|n| n.starts_with("restored")),
        "{}",
        describe(&resumed)
    );
}

#[test]
fn a_no_restore_run_leaves_the_snapshot_it_bypassed_to_the_next_run() {
    let example = Example::new();
    let failed = example.run(
        &["--reset"],
        &[("PROMETHEUS_TEST_SET_FAIL_RECEIPT_IN_ROUND", "2")],
    );
    assert_eq!(failed.status.code(), Some(101), "{}", describe(&failed));
    let bypassed = example.run(&["--no-restore"], &[]);
    assert_eq!(bypassed.status.code(), Some(101), "{}", describe(&bypassed));
    assert!(
        text(&bypassed.stdout).contains(
            "round 2 already holds 1 receipt(s) of worker1 in MongoDB and 1 in its \
             DATABASE_PATH: the writes of an earlier attempt of this step are still there"
        ),
        "{}",
        describe(&bypassed)
    );
    let resumed = example.run(&[], &[]);
    assert_eq!(resumed.status.code(), Some(0), "{}", describe(&resumed));
    let restored =
        format!("restored the world before round 2 {RECEIPT} (1 collection, 3 files) in N ms");
    assert_eq!(
        notes(&resumed)
            .into_iter()
            .filter(|note| note.contains("the world before"))
            .collect::<Vec<_>>(),
        [restored],
        "{}",
        describe(&resumed)
    );
    let world = example.world();
    assert_eq!(
        world.collections["receipts"].len(),
        3,
        "one receipt per round with work (rounds 1 to 3), none left from the failed attempts"
    );
}

#[test]
fn a_snapshots_path_that_is_not_a_folder_stops_the_run_before_mongodb_is_reset() {
    let example = Example::new();
    let done = example.run(&["--reset"], &[]);
    assert_eq!(done.status.code(), Some(0), "{}", describe(&done));
    let store = example.data().join(".snapshots");
    std::fs::remove_dir_all(&store).unwrap();
    std::fs::write(&store, "not a folder").unwrap();
    let before = example.world();
    let refused = example.run(&[], &[]);
    assert_eq!(refused.status.code(), Some(2), "{}", describe(&refused));
    assert_eq!(
        example.world(),
        before,
        "MongoDB and the files are untouched: {}",
        describe(&refused)
    );
    assert_eq!(
        notes(&refused).last().map(String::as_str),
        Some(
            format!(
                "error: {} is not a folder: it is where the snapshots are kept, so it must be a \
                 folder or absent; move it away, then run again (nothing was changed)",
                store.display()
            )
            .as_str()
        ),
        "{}",
        describe(&refused)
    );
}

#[test]
fn a_run_rewound_to_round_one_ends_in_the_world_of_a_fresh_run() {
    let example = Example::new();
    let fresh = example.run(&["--reset"], &[]);
    assert_eq!(fresh.status.code(), Some(0), "{}", describe(&fresh));
    let fresh_world = example.world();

    // The run kept its last two rounds: round 1 is pruned.
    let listed = example.run(&["--list-snapshots"], &[]);
    assert_eq!(listed.status.code(), Some(0), "{}", describe(&listed));
    let listing = text(&listed.stdout);
    assert!(!listing.contains("round 1 "), "{listing}");
    assert!(
        listing.contains(&format!("round 4 {RECEIPT}: snapshot, ")),
        "{listing}"
    );

    let pruned = format!("round 1 {RECEIPT}");
    let refused = example.run(&["--from", &pruned], &[]);
    assert_eq!(refused.status.code(), Some(2), "{}", describe(&refused));
    assert_eq!(
        notes(&refused).last().map(String::as_str),
        Some(
            format!(
                "error: `--from {pruned}`: no snapshot before {pruned} is kept; the nearest \
                 kept one: round 3 steps::auth::worker3_refuses_untrusted_requests (after it); \
                 nothing was changed"
            )
            .as_str()
        ),
        "{}",
        describe(&refused)
    );
    assert_eq!(
        example.world(),
        fresh_world,
        "a refused rewind changes nothing"
    );

    // Keep every round, play again, and rewind to round 1's third step.
    let keep_all = [("PROMETHEUS_TEST_SET_SNAPSHOTS__KEEP_ROUNDS", "10")];
    let again = example.run(&["--reset"], &keep_all);
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));
    assert_eq!(example.world(), fresh_world, "two fresh runs end alike");
    let listed = example.run(&["--list-snapshots"], &keep_all);
    let listing = text(&listed.stdout);
    let third = listing
        .lines()
        .filter(|line| line.starts_with("round 1 "))
        .nth(2)
        .and_then(|line| line.split_once(": snapshot"))
        .map_or_else(
            || panic!("no third point in round 1:\n{listing}"),
            |(point, _)| point.to_owned(),
        );
    let rewound = example.run(&["--from", &third], &keep_all);
    assert_eq!(rewound.status.code(), Some(0), "{}", describe(&rewound));
    assert!(
        notes(&rewound)
            .iter()
            .any(|n| n.starts_with(&format!("restored the world before {third} ("))),
        "{}",
        describe(&rewound)
    );
    assert_eq!(example.world(), fresh_world);
}

#[test]
fn a_run_rewound_into_a_churn_window_finds_the_worker_away_as_it_was() {
    let example = Example::new();
    let keep_all = [("PROMETHEUS_TEST_SET_SNAPSHOTS__KEEP_ROUNDS", "10")];
    let fresh = example.run(&["--reset"], &keep_all);
    assert_eq!(fresh.status.code(), Some(0), "{}", describe(&fresh));
    let fresh_world = example.world();

    // Round 2 is the churn round: worker3 went away at order 3 and comes
    // back at order 7; the audits at order 5 lie in between.
    let inside = "round 2 steps::audit::audits_its_peer[worker2]";
    let rewound = example.run(&["--from", inside], &keep_all);
    assert_eq!(rewound.status.code(), Some(0), "{}", describe(&rewound));
    let notes = notes(&rewound);
    assert!(
        notes.contains(
            &"held worker3 stopped as the steps before the resume point left it".to_owned()
        ),
        "{}",
        describe(&rewound)
    );
    assert!(
        text(&rewound.stdout)
            .contains("test [round 2] steps::churn::comes_back_after_the_audits ... ok"),
        "{}",
        describe(&rewound)
    );
    assert_eq!(example.world(), fresh_world);
}
