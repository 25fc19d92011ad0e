//! What recording costs a request: signed POSTs to an axum server on
//! 127.0.0.1, one after another as a step sends them, through the runner's
//! client without recording (`raw`, `reqwest::Client`) and through
//! `runner.http()` recording each exchange (`recorded`: headers and bodies
//! redacted, the signature decoded and verified against the workers' keys).
//! Prints per client the median and p90 time of a request (send to parsed
//! answer), the median difference and the ratio.
//!
//! The clients take turns in `ROUNDS` rounds of `PER_ROUND` requests each, so
//! a busy machine slows both alike.
//!
//! Run: `cargo bench -p prometheus-test --bench http_recording`

mod common;

use std::time::{Duration, Instant};

use axum::Json;
use axum::routing::post;
use prometheus_test::{Keypair, create_signature};
use serde_json::{Value, json};

const ROUNDS: usize = 20;
const PER_ROUND: usize = 50;
/// Workers whose keys the redactor searches for and the signature decoder tries.
const WORKERS: usize = 5;

fn main() -> anyhow::Result<()> {
    common::block_on(bench())
}

async fn serve() -> anyhow::Result<String> {
    let app = axum::Router::new().route(
        "/task/submit",
        post(|Json(body): Json<Value>| async move {
            Json(json!({"accepted": true, "round": body["round"], "signature": body["signature"]}))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/task/submit", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

/// The runner's client (keep-alive on) twice: as a raw [`reqwest::Client`] and
/// as `runner.http()` recording into a run whose redactor knows the `workers`'
/// keypairs and one secret, with a step running.
fn bench_clients(
    workers: &[(&str, &Keypair)],
) -> anyhow::Result<(reqwest::Client, prometheus_test::Http)> {
    let client = prometheus_test::__bench::http_client(true)?;
    let recorded = prometheus_test::__bench::recording_in_a_step(
        client.clone(),
        workers,
        &[("env API_TOKEN", "tok-bench-0123456789")],
    );
    Ok((client, recorded))
}

async fn bench() -> anyhow::Result<()> {
    let url = serve().await?;
    let keypairs: Vec<Keypair> = (0..WORKERS)
        .map(|i| Keypair::from_seed([u8::try_from(i).unwrap_or(0) + 1; 32]))
        .collect();
    let names: Vec<String> = (1..=WORKERS).map(|i| format!("worker{i}")).collect();
    let workers: Vec<(&str, &Keypair)> = names.iter().map(String::as_str).zip(&keypairs).collect();
    let (raw, recorded) = bench_clients(&workers)?;
    let body = |round: usize| -> anyhow::Result<Value> {
        let payload = json!({"round": round, "pr_url": "https://example.invalid/pull/1", "todos": vec!["write the report"; 10]});
        let signature = create_signature(keypairs[0].signing_key(), &payload)?;
        Ok(json!({"signature": signature, "round": round, "stakingKey": keypairs[0].public_key()}))
    };
    // Warm up both (connections, allocator).
    for round in 0..20 {
        let sent = body(round)?;
        raw.post(&url)
            .json(&sent)
            .send()
            .await?
            .json::<Value>()
            .await?;
        recorded
            .post(&url)
            .json(&sent)
            .send()
            .await?
            .json::<Value>()
            .await?;
    }
    let (mut raw_times, mut recorded_times) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        let sent = body(round)?;
        for _ in 0..PER_ROUND {
            let start = Instant::now();
            raw.post(&url)
                .json(&sent)
                .send()
                .await?
                .json::<Value>()
                .await?;
            raw_times.push(start.elapsed());
        }
        for _ in 0..PER_ROUND {
            let start = Instant::now();
            recorded
                .post(&url)
                .json(&sent)
                .send()
                .await?
                .json::<Value>()
                .await?;
            recorded_times.push(start.elapsed());
        }
    }
    let raw_median = common::median(&mut raw_times);
    let recorded_median = common::median(&mut recorded_times);
    let p90 = |times: &[Duration]| times[times.len() * 9 / 10];
    println!(
        "{} signed POSTs per client to axum on 127.0.0.1 (keep-alive), {WORKERS} workers' keys known",
        raw_times.len()
    );
    println!(
        "raw      (reqwest::Client): median {:>8.1} µs  p90 {:>8.1} µs",
        micros(raw_median),
        micros(p90(&raw_times))
    );
    println!(
        "recorded (runner.http()):   median {:>8.1} µs  p90 {:>8.1} µs",
        micros(recorded_median),
        micros(p90(&recorded_times))
    );
    println!(
        "recording overhead: median {:+.1} µs per request, ratio {:.2}x",
        micros(recorded_median) - micros(raw_median),
        recorded_median.as_secs_f64() / raw_median.as_secs_f64()
    );
    Ok(())
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
