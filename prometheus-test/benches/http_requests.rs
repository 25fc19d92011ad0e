//! Signed POSTs from the runner's HTTP client to three kinds of task server,
//! one request after another as steps send them: per server, the median and
//! p90 time of a request, and how many took over 30 ms, for
//!
//! - `reused`: the client as it was built before, keeping idle connections;
//! - `new conn`: a client keeping no idle connection (a new one per request);
//! - `default`: the runner's client as built now (`__bench::http_client(false)`).
//!
//! Servers (`benches/servers/`): `split_writes.py`, Python's `http.server`
//! writing headers and body in two `send`s as werkzeug/Flask development
//! servers do; `node_http.js`, Node's `http` module; `axum_server.rs`, axum's
//! `serve`, run as a child process of this binary. Each server also numbers
//! its connections, and the bench prints how many each client used (a reusing
//! client may show two: reqwest's pool opens a second connection when a
//! request starts before the previous one is back in the pool).
//!
//! Requests go in `ROUNDS` rounds of `PER_ROUND` per client, the clients taking
//! turns, so a busy machine slows all of them alike. Signing happens before the
//! clock starts; the time is send to parsed answer.
//!
//! Run: `cargo bench -p prometheus-test --bench http_requests`

#[path = "servers/axum_server.rs"]
mod axum_server;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use prometheus_test::{Keypair, create_signature};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// Rounds of requests per client and server.
const ROUNDS: usize = 5;
/// Requests per client in a round.
const PER_ROUND: usize = 10;
/// A request slower than this counts as stalled (a delayed ACK is 40 ms or more).
const STALL: Duration = Duration::from_millis(30);

fn main() -> anyhow::Result<()> {
    if std::env::args().any(|arg| arg == axum_server::FLAG) {
        return axum_server::serve();
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench())
}

/// A client under test.
struct Variant {
    name: &'static str,
    client: reqwest::Client,
}

fn variants() -> anyhow::Result<Vec<Variant>> {
    // First: building the runner's client installs the TLS provider (ring)
    // that reqwest's own builder needs.
    let default = prometheus_test::__bench::http_client(false)?;
    Ok(vec![
        Variant {
            name: "reused",
            // The runner's client before `http_client`: reqwest's defaults.
            client: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .build()?,
        },
        Variant {
            name: "new conn",
            client: reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .pool_max_idle_per_host(0)
                .build()?,
        },
        Variant {
            name: "default",
            client: default,
        },
    ])
}

async fn bench() -> anyhow::Result<()> {
    let servers = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/servers");
    let kinds: [(&str, Command); 3] = [
        ("python http.server", {
            let mut command = Command::new("python3");
            command.arg(servers.join("split_writes.py"));
            command
        }),
        ("node http", {
            let mut command = Command::new("node");
            command.arg(servers.join("node_http.js"));
            command
        }),
        ("axum", {
            let mut command = Command::new(std::env::current_exe()?);
            command.arg(axum_server::FLAG);
            command
        }),
    ];
    let keypair = Keypair::from_seed([3; 32]);
    println!(
        "{ROUNDS} rounds x {PER_ROUND} signed POSTs per client and server (n = {})",
        ROUNDS * PER_ROUND
    );
    println!(
        "{:<20} {:<9} {:>9} {:>9} {:>9} {:>12}",
        "server", "client", "median", "p90", "> 30 ms", "connections"
    );
    for (kind, command) in kinds {
        let server = Server::start(command)
            .await
            .with_context(|| format!("starting the {kind} server"))?;
        let variants = variants()?;
        let mut times = vec![Vec::with_capacity(ROUNDS * PER_ROUND); variants.len()];
        let mut connections = vec![Vec::with_capacity(ROUNDS * PER_ROUND); variants.len()];
        for round in 0..ROUNDS {
            for (index, variant) in variants.iter().enumerate() {
                for request in 0..PER_ROUND {
                    let body = signed_body(&keypair, round * PER_ROUND + request)?;
                    let (took, connection) = post(&variant.client, &server.url, &body).await?;
                    times[index].push(took);
                    connections[index].push(connection);
                }
            }
        }
        let mut medians = Vec::with_capacity(variants.len());
        for ((variant, times), connections) in variants.iter().zip(&mut times).zip(&mut connections)
        {
            let stalled = times.iter().filter(|&&took| took > STALL).count();
            times.sort_unstable();
            let median = times[times.len() / 2];
            let p90 = times[times.len() * 9 / 10];
            connections.sort_unstable();
            connections.dedup();
            println!(
                "{kind:<20} {:<9} {:>9} {:>9} {:>6}/{:<2} {:>12}",
                variant.name,
                ms(median),
                ms(p90),
                stalled,
                times.len(),
                connections.len()
            );
            medians.push(median);
        }
        println!(
            "{kind:<20} median reused / default = {:.1}x",
            medians[0].as_secs_f64() / medians[2].as_secs_f64()
        );
    }
    Ok(())
}

/// The body a step would POST: a Koii signed payload and the signer's key.
fn signed_body(keypair: &Keypair, round: usize) -> anyhow::Result<serde_json::Value> {
    let payload = serde_json::json!({
        "taskId": "http-requests-bench",
        "roundNumber": round,
        "stakingKey": keypair.public_key(),
        "pubKey": keypair.public_key(),
        "action": "audit",
        "submission": "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",
    });
    Ok(serde_json::json!({
        "signature": create_signature(keypair.signing_key(), &payload)?,
        "stakingKey": keypair.public_key(),
        "pubKey": keypair.public_key(),
    }))
}

/// Sends one POST; returns its duration and the server's connection number.
async fn post(
    client: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
) -> anyhow::Result<(Duration, u64)> {
    let started = Instant::now();
    let answer: serde_json::Value = client
        .post(url)
        .json(body)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let took = started.elapsed();
    let connection = answer["connection"]
        .as_u64()
        .context("the answer has no connection number")?;
    Ok((took, connection))
}

/// A fixture server child process, killed when dropped.
struct Server {
    url: String,
    _child: Child,
}

impl Server {
    async fn start(mut command: Command) -> anyhow::Result<Self> {
        let mut child = command
            .env("PORT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        tokio::time::timeout(
            Duration::from_secs(30),
            BufReader::new(stdout).read_line(&mut line),
        )
        .await
        .context("the server did not print its port within 30 s")??;
        let Some(port) = line.trim().strip_prefix("listening on port ") else {
            bail!("unexpected first line from the server: {line:?}");
        };
        Ok(Self {
            url: format!("http://127.0.0.1:{port}/task/submit"),
            _child: child,
        })
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.2} ms", duration.as_secs_f64() * 1e3)
}
