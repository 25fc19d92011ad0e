//! Readiness probes: a port that accepts TCP connections, or a health URL
//! answering 2xx, polled with a short backoff.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::{sleep, timeout};

/// First pause between attempts; doubled after each failure up to `MAX_DELAY`.
const FIRST_DELAY: Duration = Duration::from_millis(5);
/// Bounds how late a ready worker is noticed. A failed local connect costs
/// microseconds, so 40 attempts a second per worker are cheap; a 100 ms cap
/// made a fleet of 3 python3 workers ready 1.5x later than the same workers
/// spawned and polled by hand (`benches/worker_start.rs`).
const MAX_DELAY: Duration = Duration::from_millis(25);
/// Longest a single attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);

/// What "ready" means for one worker.
#[derive(Debug)]
pub(super) enum Probe {
    /// The port accepts TCP connections on 127.0.0.1 or [`::1`].
    Port(u16),
    /// A GET of the URL answers 2xx.
    Health {
        url: String,
        client: reqwest::Client,
    },
}

impl Probe {
    /// What is being waited for, for error messages.
    pub(super) fn describe(&self) -> String {
        match self {
            Self::Port(port) => format!("port {port} to accept TCP connections"),
            Self::Health { url, .. } => format!("GET {url} to answer 2xx"),
        }
    }

    /// One attempt; `Err` says what was observed instead.
    async fn attempt(&self) -> Result<(), String> {
        match self {
            Self::Port(port) => {
                let Err(v4_error) = connect(SocketAddr::from((Ipv4Addr::LOCALHOST, *port))).await
                else {
                    return Ok(());
                };
                // Servers bound to "localhost" may listen on IPv6 only.
                connect(SocketAddr::from((Ipv6Addr::LOCALHOST, *port)))
                    .await
                    .map_err(|_| v4_error)
            }
            Self::Health { url, client } => {
                match client.get(url).timeout(ATTEMPT_TIMEOUT).send().await {
                    Ok(response) if response.status().is_success() => Ok(()),
                    Ok(response) => Err(format!("answered {}", response.status())),
                    Err(error) => Err(root_cause(&error)),
                }
            }
        }
    }
}

/// A client for health probes: no proxy (the workers are local), no pooling surprises.
pub(super) fn health_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()?)
}

/// Polls `probe` until it succeeds, leaving the last failure in `last`.
pub(super) async fn until_ready(probe: &Probe, last: &mut String) {
    let mut delay = FIRST_DELAY;
    loop {
        match probe.attempt().await {
            Ok(()) => return,
            Err(observed) => *last = observed,
        }
        sleep(delay).await;
        delay = (delay * 2).min(MAX_DELAY);
    }
}

async fn connect(address: SocketAddr) -> Result<(), String> {
    match timeout(ATTEMPT_TIMEOUT, TcpStream::connect(address)).await {
        Ok(Ok(_stream)) => Ok(()),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!(
            "no answer from {address} within {ATTEMPT_TIMEOUT:?}"
        )),
    }
}

/// The innermost error, which names the real problem ("Connection refused").
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}
