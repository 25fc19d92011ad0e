//! Readiness probes: a port that accepts TCP connections, or a health URL
//! answering 2xx, polled with a short backoff and tried again at once
//! whenever the worker prints.

use std::future::Future;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::time::{Instant, sleep, sleep_until, timeout};

/// First pause between attempts; doubled after each failure up to `MAX_DELAY`.
const FIRST_DELAY: Duration = Duration::from_millis(5);
/// Bounds how late a ready worker is noticed. A failed local connect costs
/// microseconds, so 40 attempts a second per worker are cheap; a 100 ms cap
/// made a fleet of 3 python3 workers ready 1.5x later than the same workers
/// spawned and polled by hand (`benches/worker_start.rs`).
const MAX_DELAY: Duration = Duration::from_millis(25);
/// Shortest time between two attempts, however fast the worker prints.
const MIN_GAP: Duration = Duration::from_millis(1);
/// Longest a single attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);

/// What "ready" means for one worker.
#[derive(Debug)]
pub(super) enum Probe {
    /// The port accepts TCP connections on 127.0.0.1 or [`::1`].
    Port(u16),
    /// The port accepts TCP connections on another host: a container
    /// worker's port published on a remote engine's host.
    Remote { host: String, port: u16 },
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
            Self::Remote { host, port } => {
                format!("port {port} of {host} to accept TCP connections")
            }
            Self::Health { url, .. } => format!("GET {url} to answer 2xx"),
        }
    }

    /// What to check when the probe never succeeded, after its last error.
    pub(super) fn hint(&self) -> &'static str {
        match self {
            Self::Remote { .. } => {
                "; a worker in a container on a remote engine must listen on all interfaces \
                 (0.0.0.0), not on 127.0.0.1: its port is published from the container's own \
                 network"
            }
            Self::Port(_) | Self::Health { .. } => "",
        }
    }

    /// One attempt; `Err` says what was observed instead.
    async fn attempt(&self) -> Result<(), String> {
        match self {
            Self::Port(port) => {
                let v4 = SocketAddr::from((Ipv4Addr::LOCALHOST, *port));
                let Err(v4_error) = connect(v4, &v4).await else {
                    return Ok(());
                };
                // Servers bound to "localhost" may listen on IPv6 only.
                let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, *port));
                connect(v6, &v6).await.map_err(|_| v4_error)
            }
            Self::Remote { host, port } => {
                connect((host.as_str(), *port), &format!("port {port} of {host}")).await
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
    crate::http_client::install_crypto_provider();
    Ok(reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .build()?)
}

/// Polls `probe` until it succeeds, leaving the last failure in `last`. Between
/// attempts it waits for the backoff delay or for `printed` (the worker wrote a
/// line, which servers often do as they start listening), whichever is first.
pub(super) async fn until_ready<F: Future<Output = ()>>(
    probe: &Probe,
    last: &mut String,
    printed: impl FnMut() -> F,
) {
    retry(|| probe.attempt(), last, printed, PACE).await;
}

/// How often `retry` attempts.
#[derive(Clone, Copy, Debug)]
struct Pace {
    first_delay: Duration,
    max_delay: Duration,
    min_gap: Duration,
}

const PACE: Pace = Pace {
    first_delay: FIRST_DELAY,
    max_delay: MAX_DELAY,
    min_gap: MIN_GAP,
};

/// Runs `attempt` until it succeeds: again after the backoff delay, or after
/// `printed` resolves (at most once per `min_gap`), whichever comes first.
async fn retry<A, P>(
    mut attempt: impl FnMut() -> A,
    last: &mut String,
    mut printed: impl FnMut() -> P,
    pace: Pace,
) where
    A: Future<Output = Result<(), String>>,
    P: Future<Output = ()>,
{
    let mut delay = pace.first_delay;
    loop {
        let attempted = Instant::now();
        match attempt().await {
            Ok(()) => return,
            Err(observed) => *last = observed,
        }
        tokio::select! {
            () = sleep(delay) => delay = (delay * 2).min(pace.max_delay),
            () = printed() => sleep_until(attempted + pace.min_gap).await,
        }
    }
}

/// One TCP connection to `address` (`shown` in the error when it times out).
async fn connect(
    address: impl tokio::net::ToSocketAddrs,
    shown: &(dyn std::fmt::Display + Sync),
) -> Result<(), String> {
    match timeout(ATTEMPT_TIMEOUT, TcpStream::connect(address)).await {
        Ok(Ok(_stream)) => Ok(()),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!("no answer from {shown} within {ATTEMPT_TIMEOUT:?}")),
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use tokio::sync::Notify;
    use tokio::time::{Instant, timeout};

    use super::{Pace, retry};

    const HOUR: Duration = Duration::from_secs(3600);
    /// Far longer than any of these tests needs, far shorter than the backoff they rule out.
    const LIMIT: Duration = Duration::from_secs(60);

    /// An attempt that fails `failures` times, then succeeds; counts the calls.
    fn flaky(
        failures: usize,
        calls: &AtomicUsize,
    ) -> impl FnMut() -> std::future::Ready<Result<(), String>> {
        move || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            std::future::ready(if n < failures {
                Err(format!("refused {n}"))
            } else {
                Ok(())
            })
        }
    }

    #[tokio::test]
    async fn a_printed_line_triggers_an_attempt_without_waiting_for_the_backoff() {
        let printed = Notify::new();
        printed.notify_one();
        let calls = AtomicUsize::new(0);
        let mut last = String::new();
        let pace = Pace {
            first_delay: HOUR,
            max_delay: HOUR,
            min_gap: Duration::ZERO,
        };
        timeout(
            LIMIT,
            retry(flaky(1, &calls), &mut last, || printed.notified(), pace),
        )
        .await
        .expect("the printed line did not trigger an attempt");
        assert_eq!(calls.into_inner(), 2);
        assert_eq!(last, "refused 0");
    }

    #[tokio::test]
    async fn without_output_the_backoff_keeps_trying() {
        let calls = AtomicUsize::new(0);
        let mut last = String::new();
        let pace = Pace {
            first_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            min_gap: Duration::ZERO,
        };
        timeout(
            LIMIT,
            retry(flaky(5, &calls), &mut last, std::future::pending, pace),
        )
        .await
        .expect("the backoff stopped trying");
        assert_eq!(calls.into_inner(), 6);
    }

    #[tokio::test]
    async fn a_chatty_worker_is_probed_at_most_once_per_gap() {
        let printed = Arc::new(Notify::new());
        let chatter = {
            let printed = Arc::clone(&printed);
            tokio::spawn(async move {
                loop {
                    printed.notify_one();
                    tokio::task::yield_now().await;
                }
            })
        };
        let calls = AtomicUsize::new(0);
        let mut last = String::new();
        let gap = Duration::from_millis(30);
        let pace = Pace {
            first_delay: HOUR,
            max_delay: HOUR,
            min_gap: gap,
        };
        let started = Instant::now();
        timeout(
            LIMIT,
            retry(flaky(3, &calls), &mut last, || printed.notified(), pace),
        )
        .await
        .expect("the printed lines did not trigger attempts");
        chatter.abort();
        assert_eq!(calls.into_inner(), 4);
        assert!(started.elapsed() >= gap * 3, "{:?}", started.elapsed());
    }
}
