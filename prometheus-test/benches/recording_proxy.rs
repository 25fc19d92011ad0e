//! What the recording proxy costs a worker's call to the outside world:
//! the same POST to an axum server on 127.0.0.1, sent one after another as
//! a worker sends them,
//!
//! - `direct`: straight to the server;
//! - `forwarded`: through the proxy in mode `off` (forwarded, nothing taped);
//! - `replayed`: through the proxy in mode `replay`, answered from a
//!   cassette of as many taped calls (taped by a `record` pass first);
//!
//! and, for a streamed answer (`text/event-stream`, its first event at once
//! and its second 100 ms later), the time to its first event directly and
//! through the proxy while it tapes (`all`). Prints the median and p99 of
//! each, and the differences and ratios against `direct`.
//!
//! The calls are plain HTTP (the proxy's own hop, decision and taping; a
//! worker's HTTPS to the proxy adds one TLS handshake per connection, kept
//! alive). Cases take turns in `ROUNDS` rounds so a busy machine slows all
//! alike.
//!
//! Run: `cargo bench -p prometheus-test --bench recording_proxy`

mod common;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Body;
use axum::routing::post;
use prometheus_test::__bench::BenchProxy;
use serde_json::{Value, json};

const ROUNDS: usize = 10;
const PER_ROUND: usize = 50;
/// The made-up host the proxied calls name; the proxy sends it to the server.
const HOST: &str = "llm.bench.test";

fn main() -> anyhow::Result<()> {
    common::block_on(bench())
}

/// The server: `/v1/messages` answers a small JSON message, `/stream` an
/// event stream of two events 100 ms apart.
async fn serve() -> anyhow::Result<SocketAddr> {
    let app = axum::Router::new()
        .route(
            "/v1/messages",
            post(|Json(body): Json<Value>| async move {
                Json(json!({"type": "message", "content": [{"type": "text", "text": "ok"}], "echo": body}))
            }),
        )
        .route(
            "/stream",
            post(|| async {
                let events = futures_util::stream::unfold(0, |n| async move {
                    match n {
                        0 => Some((Ok::<_, std::io::Error>("event: a\ndata: {}\n\n"), 1)),
                        1 => {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            Some((Ok("event: b\ndata: {}\n\n"), 2))
                        }
                        _ => None,
                    }
                });
                axum::http::Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(Body::from_stream(events))
                    .unwrap()
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(address)
}

fn client(proxy: Option<SocketAddr>) -> anyhow::Result<reqwest::Client> {
    let builder = reqwest::Client::builder().no_proxy();
    let builder = match proxy {
        Some(proxy) => builder.proxy(reqwest::Proxy::http(format!("http://{proxy}"))?),
        None => builder,
    };
    Ok(builder.build()?)
}

/// One call's time, send to the whole answer read.
async fn call(client: &reqwest::Client, url: &str, n: usize) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let reply = client
        .post(url)
        .json(&json!({"model": "bench", "messages": [{"role": "user", "content": format!("call {n}")}]}))
        .send()
        .await?
        .error_for_status()?;
    reply.bytes().await?;
    Ok(started.elapsed())
}

/// Time to the first piece of a streamed answer.
async fn first_event(client: &reqwest::Client, url: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut reply = client
        .post(url)
        .body("{}")
        .send()
        .await?
        .error_for_status()?;
    let _ = reply.chunk().await?;
    let elapsed = started.elapsed();
    while reply.chunk().await?.is_some() {}
    Ok(elapsed)
}

fn percentile(samples: &mut [Duration], p: usize) -> Duration {
    samples.sort_unstable();
    let at = (samples.len() * p / 100).min(samples.len().saturating_sub(1));
    samples.get(at).copied().unwrap_or_default()
}

fn report(
    name: &str,
    samples: &mut [Duration],
    direct: Option<(Duration, Duration)>,
) -> (Duration, Duration) {
    let (p50, p99) = (common::median(samples), percentile(samples, 99));
    let mut line = format!(
        "{name:<10} p50 {:>8.3} ms   p99 {:>8.3} ms",
        ms(p50),
        ms(p99)
    );
    if let Some((d50, d99)) = direct {
        let _ = write!(
            line,
            "   p50 +{:.3} ms ({:.2}x)   p99 +{:.3} ms ({:.2}x)",
            ms(p50.saturating_sub(d50)),
            p50.as_secs_f64() / d50.as_secs_f64(),
            ms(p99.saturating_sub(d99)),
            p99.as_secs_f64() / d99.as_secs_f64()
        );
    }
    println!("{line}");
    (p50, p99)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn bench() -> anyhow::Result<()> {
    // The runner's client installs the crypto provider every client here needs.
    prometheus_test::__bench::http_client(true)?;
    let server = serve().await?;
    let direct_url = format!("http://{server}/v1/messages");
    let proxied_url = format!("http://{HOST}/v1/messages");
    let direct = client(None)?;
    let (mut direct_times, mut forwarded_times, mut replayed_times) = (vec![], vec![], vec![]);
    for round in 0..ROUNDS {
        let dir = tempfile::tempdir()?;
        // Tape the round's calls, then replay them from the cassette.
        let record = BenchProxy::start("record", dir.path(), HOST, server).await?;
        let through = client(Some(record.listener))?;
        for n in 0..PER_ROUND {
            call(&through, &proxied_url, round * PER_ROUND + n).await?;
        }
        record.stop().await?;
        let replay = BenchProxy::start("replay", dir.path(), HOST, server).await?;
        let replaying = client(Some(replay.listener))?;
        let off = BenchProxy::start("off", &dir.path().join("off"), HOST, server).await?;
        let forwarding = client(Some(off.listener))?;
        for n in 0..PER_ROUND {
            let n = round * PER_ROUND + n;
            direct_times.push(call(&direct, &direct_url, n).await?);
            forwarded_times.push(call(&forwarding, &proxied_url, n).await?);
            replayed_times.push(call(&replaying, &proxied_url, n).await?);
        }
        replay.stop().await?;
        off.stop().await?;
    }
    println!(
        "recording proxy: {} calls each ({ROUNDS} rounds of {PER_ROUND}), plain HTTP on loopback",
        direct_times.len()
    );
    let base = report("direct", &mut direct_times, None);
    report("forwarded", &mut forwarded_times, Some(base));
    report("replayed", &mut replayed_times, Some(base));

    let (mut direct_first, mut taped_first) = (vec![], vec![]);
    let dir = tempfile::tempdir()?;
    let taping = BenchProxy::start("all", dir.path(), HOST, server).await?;
    let through = client(Some(taping.listener))?;
    for _ in 0..ROUNDS * 5 {
        direct_first.push(first_event(&direct, &format!("http://{server}/stream")).await?);
        taped_first.push(first_event(&through, &format!("http://{HOST}/stream")).await?);
    }
    taping.stop().await?;
    println!(
        "first event of a stream (the second comes 100 ms later), {} each:",
        direct_first.len()
    );
    let base = report("direct", &mut direct_first, None);
    report("taped", &mut taped_first, Some(base));
    Ok(())
}
