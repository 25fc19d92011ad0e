//! The HTTP client steps get from [`Runner::http`](crate::Runner::http).
//!
//! By default every request opens its own TCP connection, as the Python
//! original's `requests.post` does, instead of reusing an idle one.
//!
//! Why: many task servers (Python's `http.server`, Flask/werkzeug development
//! servers) write a response's headers and its body in two `send`s and leave
//! Nagle's algorithm on. The body then waits until the client acknowledges the
//! headers. On a fresh connection Linux acknowledges at once (quick-ack mode);
//! on a reused one it delays the ACK, and every request stalls ~40 ms (the
//! delayed-ACK timer). Setting `TCP_NODELAY` on the client (reqwest does) does
//! not help: the wait is the server's.
//!
//! The trade-off: a new connection costs a TCP handshake (~0.1 ms on
//! loopback) and leaves a socket in `TIME_WAIT` for a minute; Linux reuses
//! those for new loopback connections, so this matters only for thousands of
//! requests a second. Suites whose servers write each response in one go
//! (hyper/axum, Node's `http`) can turn reuse back on with config.yaml
//! `http_keep_alive: true`.
//!
//! HTTPS: rustls with the ring provider; which certificates are trusted is
//! described in [`trust`].

mod trust;

#[cfg(test)]
mod https_tests;

use std::time::Duration;

use anyhow::Context as _;

use crate::config::{Config, EnvMap};

pub(crate) use trust::{CERT_FILE_VAR, ExtraRoots};

/// How long a connection attempt may take: a dead address fails fast. The
/// whole request's limit is config.yaml's `http_timeout`, which
/// [`Http`](crate::http::Http) sets on each request that sets none itself.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The runner's client for a run: config.yaml's `http_keep_alive` and
/// `http_ca_file`, and `SSL_CERT_FILE` of the run's environment. A CA file that
/// cannot be read or holds no valid certificate is an error naming where it was
/// given.
pub(crate) fn for_run(config: &Config, env: &EnvMap) -> anyhow::Result<reqwest::Client> {
    let roots = ExtraRoots::for_run(config, env)?;
    build(config.http_keep_alive, &roots)
}

/// The runner's client trusting the system's and Mozilla's roots only, as a
/// run without `SSL_CERT_FILE` or `http_ca_file` gets it.
pub fn default_client(keep_alive: bool) -> anyhow::Result<reqwest::Client> {
    build(keep_alive, &ExtraRoots::default())
}

/// The runner's client. With `keep_alive` false no idle connection is kept, so
/// each request uses a new one; with `keep_alive` true, idle connections are
/// kept and reused. HTTPS trusts the system's and Mozilla's roots and `roots`.
pub(crate) fn build(keep_alive: bool, roots: &ExtraRoots) -> anyhow::Result<reqwest::Client> {
    builder(keep_alive, roots)?
        .build()
        .context("cannot build the HTTP client of `runner.http()`")
}

/// The builder behind [`build`], for a caller that sets limits of its own
/// (the mongod download's redirects and timeouts) on the same trust policy.
pub(crate) fn builder(
    keep_alive: bool,
    roots: &ExtraRoots,
) -> anyhow::Result<reqwest::ClientBuilder> {
    install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .tls_backend_preconfigured(trust::tls_config(roots)?);
    if !keep_alive {
        builder = builder.pool_max_idle_per_host(0);
    }
    Ok(builder)
}

/// Makes ring rustls's process-wide default provider, unless one is installed
/// already. reqwest is built without a provider of its own (its default,
/// aws-lc-rs, is a large C build), so any other client built in this process
/// (a step's own `reqwest::Client::new()`, the workers' health probes) needs
/// one, or reqwest panics when it is built.
pub(crate) fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Fails only when another thread installed one first, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[cfg(test)]
mod tests {
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    use anyhow::{Context as _, bail};
    use tokio::io::{AsyncBufReadExt as _, BufReader};
    use tokio::process::{Child, Command};

    use crate::{Keypair, create_signature};

    /// Requests sent per test.
    const REQUESTS: usize = 20;
    /// A request slower than this waited for a delayed ACK (40 ms at least).
    const STALL: Duration = Duration::from_millis(30);

    /// The werkzeug-shaped fixture server (headers and body in two writes).
    struct SplitWritesServer {
        url: String,
        _child: Child,
    }

    impl SplitWritesServer {
        async fn start() -> anyhow::Result<Self> {
            let script = concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/benches/servers/split_writes.py"
            );
            let mut child = Command::new("python3")
                .arg(script)
                .env("PORT", "0")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .context("cannot start python3")?;
            let stdout = child.stdout.take().context("no stdout")?;
            let mut line = String::new();
            tokio::time::timeout(
                Duration::from_secs(30),
                BufReader::new(stdout).read_line(&mut line),
            )
            .await
            .context("the server did not say its port within 30 s")??;
            let Some(port) = line.trim().strip_prefix("listening on port ") else {
                bail!("unexpected first line from the server: {line:?}");
            };
            Ok(Self {
                url: format!("http://127.0.0.1:{port}/task/submit"),
                _child: child,
            })
        }
    }

    /// Sends `REQUESTS` signed POSTs one after another; returns each one's
    /// duration and the server's connection number for it.
    async fn post_all(client: &reqwest::Client, url: &str) -> anyhow::Result<Vec<(Duration, u64)>> {
        let keypair = Keypair::from_seed([9; 32]);
        let mut results = Vec::with_capacity(REQUESTS);
        for round in 0..REQUESTS {
            let payload = serde_json::json!({
                "taskId": "http-client-test",
                "roundNumber": round,
                "stakingKey": keypair.public_key(),
                "action": "audit",
            });
            let body = serde_json::json!({
                "signature": create_signature(keypair.signing_key(), &payload)?,
                "stakingKey": keypair.public_key(),
            });
            let started = Instant::now();
            let answer: serde_json::Value = client
                .post(url)
                .json(&body)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let took = started.elapsed();
            assert_eq!(
                answer["fields"],
                serde_json::json!(["signature", "stakingKey"])
            );
            let connection = answer["connection"]
                .as_u64()
                .context("the answer has no connection number")?;
            results.push((took, connection));
        }
        Ok(results)
    }

    fn connections_used(results: &[(Duration, u64)]) -> usize {
        let mut numbers: Vec<u64> = results.iter().map(|&(_, number)| number).collect();
        numbers.sort_unstable();
        numbers.dedup();
        numbers.len()
    }

    #[tokio::test]
    async fn by_default_each_request_opens_its_own_connection() -> anyhow::Result<()> {
        let server = SplitWritesServer::start().await?;
        let results = post_all(&super::default_client(false)?, &server.url).await?;
        assert_eq!(connections_used(&results), REQUESTS);
        Ok(())
    }

    /// Two, not one, at most: a request sent while the previous connection is
    /// still on its way back to the pool makes the pool open a second one.
    #[tokio::test]
    async fn with_keep_alive_requests_reuse_connections() -> anyhow::Result<()> {
        let server = SplitWritesServer::start().await?;
        let results = post_all(&super::default_client(true)?, &server.url).await?;
        let used = connections_used(&results);
        assert!(used <= 2, "{REQUESTS} requests used {used} connections");
        Ok(())
    }

    /// Not a timing assertion: on a reused connection to this server every
    /// request after the first waits for the client's delayed ACK (40 ms or
    /// more), so 19 of 20 would count; a new connection per request waits for
    /// none, so only requests slowed by a busy machine count, and half is a
    /// wide margin.
    #[tokio::test]
    async fn by_default_requests_do_not_wait_for_a_delayed_ack() -> anyhow::Result<()> {
        let server = SplitWritesServer::start().await?;
        let results = post_all(&super::default_client(false)?, &server.url).await?;
        let stalled = results.iter().filter(|&&(took, _)| took > STALL).count();
        assert!(
            stalled < REQUESTS / 2,
            "{stalled} of {REQUESTS} requests took over {STALL:?}"
        );
        Ok(())
    }
}
