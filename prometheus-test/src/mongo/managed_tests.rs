//! The managed `mongod` as a one-member replica set, against the real server:
//! a new set, a kept one restarted on another port, a member not primary in
//! time started standalone instead; and what each start costs.

use std::path::Path;
use std::time::Duration;

use mongodb::Client;
use mongodb::bson::{Document, doc};
use mongodb::options::WriteConcern;

use super::{ManagedMongod, SET_NAME, Topology};
use crate::mongo::seam::find_or_provision_mongod;

fn binary() -> std::path::PathBuf {
    find_or_provision_mongod(std::env::vars_os()).unwrap_or_else(|error| panic!("{error:#}"))
}

/// The replica set `client`'s server says it belongs to, and whether it is primary.
async fn role(client: &Client) -> (Option<String>, bool) {
    let hello = client
        .database("admin")
        .run_command(doc! { "isMaster": 1 })
        .await
        .unwrap();
    (
        hello.get_str("setName").ok().map(str::to_owned),
        hello.get_bool("ismaster") == Ok(true),
    )
}

/// The host of the replica set's only member, as its configuration holds it.
async fn configured_host(client: &Client) -> String {
    let reply = client
        .database("admin")
        .run_command(doc! { "replSetGetConfig": 1 })
        .await
        .unwrap();
    super::configured_host(reply.get_document("config").unwrap())
        .unwrap()
        .to_owned()
}

async fn write(client: &Client, id: i32) {
    client
        .database("pt_replica_set")
        .collection::<Document>("todos")
        .insert_one(doc! { "_id": id })
        .write_concern(WriteConcern::builder().journal(true).build())
        .await
        .unwrap();
}

async fn ids(client: &Client) -> Vec<i32> {
    let mut ids = Vec::new();
    let mut cursor = client
        .database("pt_replica_set")
        .collection::<Document>("todos")
        .find(doc! {})
        .sort(doc! { "_id": 1 })
        .await
        .unwrap();
    while cursor.advance().await.unwrap() {
        ids.push(
            cursor
                .deserialize_current()
                .unwrap()
                .get_i32("_id")
                .unwrap(),
        );
    }
    ids
}

async fn stop(server: ManagedMongod, client: Client) {
    crate::mongo::seam::close_client(client).await;
    server.stop().await;
}

#[tokio::test]
async fn a_new_set_is_primary_and_a_kept_one_is_primary_again_on_its_new_port_with_its_data() {
    let kept = tempfile::tempdir().unwrap();
    let (server, client, topology) = ManagedMongod::start_replica_set(&binary(), Some(kept.path()))
        .await
        .unwrap();
    assert_eq!(topology, Topology::Primary);
    assert_eq!(role(&client).await, (Some(SET_NAME.to_owned()), true));
    write(&client, 1).await;
    let first = server.uri();
    stop(server, client).await;

    // Another free port (the same one once in ~28,000 starts).
    let (server, client, topology) = ManagedMongod::start_replica_set(&binary(), Some(kept.path()))
        .await
        .unwrap();
    assert_eq!(topology, Topology::Primary);
    eprintln!("first start at {first}, second at {}", server.uri());
    assert_eq!(
        configured_host(&client).await,
        server.uri().trim_start_matches("mongodb://")
    );
    assert_eq!(role(&client).await, (Some(SET_NAME.to_owned()), true));
    write(&client, 2).await;
    assert_eq!(ids(&client).await, [1, 2]);
    stop(server, client).await;
}

#[tokio::test]
async fn a_member_not_primary_in_time_is_started_standalone_and_its_data_kept() {
    let kept = tempfile::tempdir().unwrap();
    let (server, client, topology) =
        ManagedMongod::start_replica_set_within(&binary(), Some(kept.path()), Duration::ZERO)
            .await
            .unwrap();
    let Topology::Standalone(why) = topology else {
        panic!("expected a standalone server, got {topology:?}");
    };
    // The member's port, then what happened.
    let (member, rest) = why.lines().next().unwrap().split_once(' ').unwrap();
    assert!(member.starts_with("127.0.0.1:"), "{why}");
    assert_eq!(
        rest,
        "was not the primary of replica set prometheus-test within 0 ms; its log ends with:"
    );
    // Standalone: no set, and writes are taken.
    assert_eq!(role(&client).await, (None, true));
    write(&client, 1).await;
    stop(server, client).await;

    // The next start, given time, makes the same data a primary's.
    let (server, client, topology) = ManagedMongod::start_replica_set(&binary(), Some(kept.path()))
        .await
        .unwrap();
    assert_eq!(topology, Topology::Primary);
    assert_eq!(ids(&client).await, [1]);
    stop(server, client).await;
}

/// The median of `samples`, in milliseconds.
fn median_ms(samples: &mut [Duration]) -> f64 {
    samples.sort_unstable();
    samples[samples.len() / 2].as_secs_f64() * 1000.0
}

/// Starts a managed mongod in `kept`, standalone or as a replica set, and
/// returns how long it took until it took writes; stops it.
async fn timed_start(kept: &Path, replica_set: bool) -> Duration {
    let (server, client) = if replica_set {
        let (server, client, topology) = ManagedMongod::start_replica_set(&binary(), Some(kept))
            .await
            .unwrap();
        assert_eq!(topology, Topology::Primary);
        (server, client)
    } else {
        ManagedMongod::start_in(&binary(), Some(kept))
            .await
            .unwrap()
    };
    let startup = server.startup();
    stop(server, client).await;
    startup
}

/// What starting the managed mongod costs (from spawn until it takes writes,
/// its data kept as a suite's data folder keeps it): standalone and as a
/// one-member replica set, in a new directory and in one kept from the
/// previous start. Medians of `BENCH_RUNS` (default 5), one line.
/// `scripts/bench-snapshots.sh` runs it; alone:
/// `cargo test -p prometheus-test --lib mongo::managed::tests::start_timings -- --ignored --nocapture`.
#[tokio::test]
#[ignore = "a measurement, not a check: run it alone"]
async fn start_timings() {
    let runs = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(5_usize);
    let mut times: [Vec<Duration>; 4] = Default::default();
    for _ in 0..runs {
        for (index, replica_set) in [false, true].into_iter().enumerate() {
            let kept = tempfile::tempdir().unwrap();
            times[index * 2].push(timed_start(kept.path(), replica_set).await);
            times[index * 2 + 1].push(timed_start(kept.path(), replica_set).await);
        }
    }
    let [new_alone, kept_alone, new_set, kept_set] = &mut times;
    let (new_alone, kept_alone) = (median_ms(new_alone), median_ms(kept_alone));
    let (new_set, kept_set) = (median_ms(new_set), median_ms(kept_set));
    println!(
        "managed mongod start, standalone: new {new_alone:.0} ms, kept {kept_alone:.0} ms; \
         replica set (until primary): new {new_set:.0} ms ({:.2}x, +{:.0} ms), kept {kept_set:.0} ms \
         ({:.2}x, +{:.0} ms) (medians of {runs})",
        new_set / new_alone,
        new_set - new_alone,
        kept_set / kept_alone,
        kept_set - kept_alone,
    );
}
