//! One HTTP(S) GET, streamed into a file while its SHA-256 is computed, with a
//! progress line on stderr. HTTP/1.1 over hyper; TLS with the rustls and ring
//! build the `MongoDB` driver already compiles, trusting the Mozilla roots and
//! the system's CA bundle (so a company's own CA works too).

use std::io::IsTerminal as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use http_body_util::{BodyExt as _, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, Uri, header};
use hyper_util::rt::TokioIo;
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::source::{SHA256_VAR, URL_VAR, display_url, hex};

/// How long resolving and connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// How long the server may stay silent (headers or the next part of the body).
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Redirects followed before giving up.
const MAX_REDIRECTS: usize = 5;
/// The least time between two progress updates on a terminal, and between two
/// progress lines elsewhere.
const TTY_UPDATE: Duration = Duration::from_millis(250);
const LOG_UPDATE: Duration = Duration::from_secs(5);
/// Bytes per megabyte in progress lines.
const MB: u64 = 1_000_000;

/// Downloads `url` into `file`, following redirects, and returns the SHA-256 of
/// what it wrote (lowercase hex); `label` names it in progress lines.
pub(crate) async fn download(
    url: &str,
    label: &str,
    file: &mut tokio::fs::File,
) -> anyhow::Result<String> {
    let shown = display_url(url);
    let mut uri: Uri = url
        .parse()
        .map_err(|_| anyhow!("{URL_VAR}: {shown} is not a valid URL"))?;
    for _ in 0..=MAX_REDIRECTS {
        let response = get(&uri, label, &shown).await?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(header::LOCATION)
                .and_then(|value| value.to_str().ok())
                .ok_or_else(|| anyhow!("{shown} answered HTTP {status} without a Location"))?;
            uri = redirect_target(&uri, location)
                .ok_or_else(|| anyhow!("{shown} redirects to an invalid URL"))?;
            continue;
        }
        if !status.is_success() {
            bail!(
                "cannot download {label}: {shown} answered HTTP {status}; check {URL_VAR} \
                 or set PROMETHEUS_TEST_MONGOD to a mongod binary"
            );
        }
        return receive(response, label, &uri, &shown, file).await;
    }
    bail!("cannot download {label}: {shown} redirects more than {MAX_REDIRECTS} times")
}

/// Sends a GET for `uri` and returns the response head.
async fn get(uri: &Uri, label: &str, shown: &str) -> anyhow::Result<Response<Incoming>> {
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => bail!("{URL_VAR}: {shown} is not an http:// or https:// URL"),
    };
    let host = uri
        .host()
        .ok_or_else(|| anyhow!("{URL_VAR}: {shown} names no host"))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    let offline = |reason: String| {
        anyhow!(
            "cannot download {label} from {shown} ({reason}): this machine seems to be offline \
             or cannot reach the host. Set MONGO_URI to a running MongoDB server, \
             PROMETHEUS_TEST_MONGOD to a mongod binary, or {URL_VAR} (with {SHA256_VAR}) to \
             an archive you can reach"
        )
    };
    let tcp = match tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((host.as_str(), port)))
        .await
    {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(error)) => return Err(offline(error.to_string())),
        Err(_) => {
            return Err(offline(format!(
                "no connection within {} s",
                CONNECT_TIMEOUT.as_secs()
            )));
        }
    };
    let send = async {
        if https {
            let name = tokio_rustls::rustls::ServerName::try_from(host.as_str())
                .map_err(|_| anyhow!("{URL_VAR}: {shown} has an invalid host name"))?;
            let tls = tokio_rustls::TlsConnector::from(tls_config())
                .connect(name, tcp)
                .await
                .map_err(|error| anyhow!("TLS with {host} failed: {error}"))?;
            request(tls, uri).await
        } else {
            request(tcp, uri).await
        }
    };
    tokio::time::timeout(IDLE_TIMEOUT, send)
        .await
        .map_err(|_| anyhow!("{shown} did not answer within {} s", IDLE_TIMEOUT.as_secs()))?
        .with_context(|| format!("cannot download {label} from {shown}"))
}

/// Sends the request over `io` (HTTP/1.1).
async fn request<S>(io: S, uri: &Uri) -> anyhow::Result<Response<Incoming>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(io)).await?;
    tokio::spawn(async move {
        // Errors surface through the response body.
        let _ = connection.await;
    });
    let authority = uri.authority().map_or("", |a| a.as_str());
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let request = Request::get(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header(header::HOST, authority)
        .header(
            header::USER_AGENT,
            concat!("prometheus-test/", env!("CARGO_PKG_VERSION")),
        )
        .body(Empty::new())?;
    Ok(sender.send_request(request).await?)
}

/// Streams the body into `file`, hashing it.
async fn receive(
    mut response: Response<Incoming>,
    label: &str,
    uri: &Uri,
    shown: &str,
    file: &mut tokio::fs::File,
) -> anyhow::Result<String> {
    let total = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    let mut progress = Progress::new(label, uri.host().unwrap_or_default(), total);
    let mut hasher = Sha256::new();
    let mut received = 0_u64;
    let body = response.body_mut();
    let interrupted = |received: u64, reason: String| {
        anyhow!(
            "the download of {label} from {shown} was interrupted after {} of {} ({reason}); \
             nothing was kept: run again to retry",
            megabytes(received),
            total.map_or_else(|| "? MB".to_owned(), megabytes),
        )
    };
    loop {
        let frame = match tokio::time::timeout(IDLE_TIMEOUT, body.frame()).await {
            Err(_) => {
                progress.abandon();
                return Err(interrupted(
                    received,
                    format!("no data for {} s", IDLE_TIMEOUT.as_secs()),
                ));
            }
            Ok(None) => break,
            Ok(Some(Err(error))) => {
                progress.abandon();
                return Err(interrupted(received, error.to_string()));
            }
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            hasher.update(&data);
            file.write_all(&data)
                .await
                .context("cannot write the downloaded archive")?;
            received += data.len() as u64;
            progress.update(received);
        }
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

/// The target of a redirect from `base` to `location` (absolute, or a path on the same host).
fn redirect_target(base: &Uri, location: &str) -> Option<Uri> {
    if location.contains("://") {
        return location.parse().ok();
    }
    let path = if location.starts_with('/') {
        location.to_owned()
    } else {
        let dir = base.path().rsplit_once('/').map_or("", |(dir, _)| dir);
        format!("{dir}/{location}")
    };
    Uri::builder()
        .scheme(base.scheme()?.clone())
        .authority(base.authority()?.clone())
        .path_and_query(path)
        .build()
        .ok()
}

/// rustls with the Mozilla roots plus the system's CA bundle, when it has one.
fn tls_config() -> Arc<tokio_rustls::rustls::ClientConfig> {
    static CONFIG: std::sync::OnceLock<Arc<tokio_rustls::rustls::ClientConfig>> =
        std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let mut roots = tokio_rustls::rustls::RootCertStore::empty();
            roots.add_trust_anchors(webpki_roots::TLS_SERVER_ROOTS.iter().map(|anchor| {
                tokio_rustls::rustls::OwnedTrustAnchor::from_subject_spki_name_constraints(
                    anchor.subject,
                    anchor.spki,
                    anchor.name_constraints,
                )
            }));
            for bundle in system_bundles() {
                if let Ok(file) = std::fs::File::open(&bundle)
                    && let Ok(certs) = rustls_pemfile::certs(&mut std::io::BufReader::new(file))
                {
                    roots.add_parsable_certificates(&certs);
                }
            }
            let mut config = tokio_rustls::rustls::ClientConfig::builder()
                .with_safe_defaults()
                .with_root_certificates(roots)
                .with_no_client_auth();
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            Arc::new(config)
        })
        .clone()
}

/// `$SSL_CERT_FILE`, then the usual CA bundles of Linux distributions and macOS.
fn system_bundles() -> Vec<std::path::PathBuf> {
    let mut bundles: Vec<std::path::PathBuf> = std::env::var_os("SSL_CERT_FILE")
        .map(Into::into)
        .into_iter()
        .collect();
    bundles.extend(
        [
            "/etc/ssl/certs/ca-certificates.crt",
            "/etc/pki/tls/certs/ca-bundle.crt",
            "/etc/ssl/ca-bundle.pem",
            "/etc/ssl/cert.pem",
        ]
        .map(Into::into),
    );
    bundles
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
