//! One HTTP(S) GET, streamed into a file while its SHA-256 is computed, with a
//! progress line on stderr. The client is the crate's shared one (see
//! [`super::client`]), so the download trusts what `runner.http()` trusts.

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use reqwest::header;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncWriteExt as _;

use super::client::{Fetcher, MAX_REDIRECTS};
use super::source::{SHA256_VAR, URL_VAR, display_url, hex};

/// The least time between two progress updates on a terminal, and between two
/// progress lines elsewhere.
const TTY_UPDATE: Duration = Duration::from_millis(250);
const LOG_UPDATE: Duration = Duration::from_secs(5);
/// Bytes per megabyte in progress lines.
const MB: u64 = 1_000_000;

/// Downloads `url` into `file` with `fetcher`, following redirects, and
/// returns the SHA-256 of what it wrote (lowercase hex); `label` names it in
/// progress lines.
pub(crate) async fn download(
    fetcher: &Fetcher,
    url: &str,
    label: &str,
    file: &mut tokio::fs::File,
) -> anyhow::Result<String> {
    let shown = display_url(url);
    let parsed =
        reqwest::Url::parse(url).map_err(|_| anyhow!("{URL_VAR}: {shown} is not a valid URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        bail!("{URL_VAR}: {shown} is not an http:// or https:// URL");
    }
    let client = fetcher
        .client()
        .map_err(|error| anyhow!("cannot download {label}: {error:#}"))?;
    let request = client
        .get(parsed)
        .header(
            header::USER_AGENT,
            concat!("prometheus-test/", env!("CARGO_PKG_VERSION")),
        )
        .send();
    let idle = fetcher.idle_timeout;
    let response = match tokio::time::timeout(idle, request).await {
        Err(_) => bail!(
            "cannot download {label}: {shown} did not answer within {} s",
            idle.as_secs()
        ),
        Ok(Err(error)) => return Err(send_error(error, label, &shown)),
        Ok(Ok(response)) => response,
    };
    let status = response.status();
    if status.is_redirection() {
        bail!("cannot download {label}: {shown} answered HTTP {status} without a valid Location");
    }
    if !status.is_success() {
        bail!(
            "cannot download {label}: {shown} answered HTTP {status}; check {URL_VAR} \
             or set PROMETHEUS_TEST_MONGOD to a mongod binary"
        );
    }
    receive(response, label, &shown, idle, file).await
}

/// The error of a request that got no response: too many redirects, a TLS
/// failure, no connection, or another failure.
fn send_error(error: reqwest::Error, label: &str, shown: &str) -> anyhow::Error {
    // The host the failure happened with: the URL's, or a redirect's.
    let host = error
        .url()
        .and_then(reqwest::Url::host_str)
        .unwrap_or_default()
        .to_owned();
    // The URL may hold credentials.
    let error = error.without_url();
    let reason = root_cause(&error);
    if error.is_redirect() {
        anyhow!("cannot download {label}: {shown} redirects more than {MAX_REDIRECTS} times")
    } else if is_tls(&error) {
        anyhow!("cannot download {label} from {shown}: TLS with {host} failed: {reason}")
    } else if error.is_connect() {
        anyhow!(
            "cannot download {label} from {shown} ({reason}): this machine seems to be offline \
             or cannot reach the host. Set MONGO_URI to a running MongoDB server, \
             PROMETHEUS_TEST_MONGOD to a mongod binary, or {URL_VAR} (with {SHA256_VAR}) to \
             an archive you can reach"
        )
    } else {
        anyhow!("cannot download {label} from {shown}: {reason}")
    }
}

/// The innermost error of `error`'s chain, as text.
fn root_cause(error: &reqwest::Error) -> String {
    let mut cause: &(dyn std::error::Error + 'static) = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// Whether `error` comes from the TLS handshake: rustls's error, somewhere in
/// its chain or inside an I/O error of it (whose `source` skips what it wraps).
fn is_tls(error: &reqwest::Error) -> bool {
    let mut pending: Vec<&(dyn std::error::Error + 'static)> = vec![error];
    while let Some(error) = pending.pop() {
        if error.is::<rustls::Error>() {
            return true;
        }
        if let Some(inner) = error
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            pending.push(inner);
        }
        pending.extend(error.source());
    }
    false
}

/// Streams the body into `file`, hashing it; `idle` is how long the server
/// may stay silent.
async fn receive(
    mut response: reqwest::Response,
    label: &str,
    shown: &str,
    idle: Duration,
    file: &mut tokio::fs::File,
) -> anyhow::Result<String> {
    let total = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    let mut progress = Progress::new(label, response.url().host_str().unwrap_or_default(), total);
    let mut hasher = Sha256::new();
    let mut received = 0_u64;
    let interrupted = |received: u64, reason: String| {
        anyhow!(
            "the download of {label} from {shown} was interrupted after {} of {} ({reason}); \
             nothing was kept: run again to retry",
            megabytes(received),
            total.map_or_else(|| "? MB".to_owned(), megabytes),
        )
    };
    loop {
        let data = match tokio::time::timeout(idle, response.chunk()).await {
            Err(_) => {
                progress.abandon();
                return Err(interrupted(
                    received,
                    format!("no data for {} s", idle.as_secs()),
                ));
            }
            Ok(Err(error)) => {
                progress.abandon();
                return Err(interrupted(received, root_cause(&error.without_url())));
            }
            Ok(Ok(None)) => break,
            Ok(Ok(Some(data))) => data,
        };
        hasher.update(&data);
        file.write_all(&data)
            .await
            .context("cannot write the downloaded archive")?;
        received += data.len() as u64;
        progress.update(received);
    }
    if let Some(total) = total.filter(|&total| total != received) {
        progress.abandon();
        return Err(interrupted(
            received,
            format!("the server announced {total} bytes"),
        ));
    }
    file.flush().await?;
    progress.finish(received);
    Ok(hex(&hasher.finalize()))
}

/// `bytes` in megabytes, rounded to the nearest.
fn whole_mb(bytes: u64) -> u64 {
    (bytes + MB / 2) / MB
}

fn megabytes(bytes: u64) -> String {
    format!("{} MB", whole_mb(bytes))
}

/// The progress line: rewritten in place on a terminal, a line every few seconds elsewhere.
struct Progress {
    prefix: String,
    total: Option<u64>,
    tty: bool,
    started: Instant,
    shown: Option<Instant>,
    open_line: bool,
}

impl Progress {
    fn new(label: &str, host: &str, total: Option<u64>) -> Self {
        Self {
            prefix: format!("prometheus-test: downloading {label} from {host}"),
            total,
            tty: std::io::stderr().is_terminal(),
            started: Instant::now(),
            shown: None,
            open_line: false,
        }
    }

    fn text(&self, received: u64) -> String {
        match self.total {
            Some(total) => format!(
                "{}: {} / {}",
                self.prefix,
                whole_mb(received),
                megabytes(total)
            ),
            None => format!("{}: {}", self.prefix, megabytes(received)),
        }
    }

    fn update(&mut self, received: u64) {
        let every = if self.tty { TTY_UPDATE } else { LOG_UPDATE };
        if self.shown.is_some_and(|at| at.elapsed() < every) {
            return;
        }
        self.shown = Some(Instant::now());
        if self.tty {
            eprint!("\r{}", self.text(received));
            self.open_line = true;
        } else {
            eprintln!("{}", self.text(received));
        }
    }

    fn finish(&mut self, received: u64) {
        let text = self.text(received);
        if self.tty {
            eprintln!(
                "\r{text}, done in {:.1} s",
                self.started.elapsed().as_secs_f64()
            );
        } else {
            eprintln!(
                "{text}, done in {:.1} s",
                self.started.elapsed().as_secs_f64()
            );
        }
        self.open_line = false;
    }

    /// Ends an open terminal line before an error is printed.
    fn abandon(&mut self) {
        if self.open_line {
            eprintln!();
            self.open_line = false;
        }
    }
}
