//! A proxy with a test handler, fake upstreams on loopback (HTTP, and HTTPS
//! with a CA of their own reached through an address override), and
//! clients that go through the proxy.

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{Request, Response};
use http_body_util::{BodyExt as _, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::proxy::{
    Ca, CaFile, Completed, Handler, Outbound, Proxy, Reply, Served, Shape, upstream_client,
    write_bundle,
};

/// The made-up host of the HTTPS upstream.
pub(super) const TLS_HOST: &str = "api.example.test";
/// The made-up host of the plain HTTP upstream.
pub(super) const PLAIN_HOST: &str = "plain.example.test";
/// The body of the upstream's `/big`.
pub(super) const BIG: usize = 100_000;
/// How long a test waits for what must happen.
pub(super) const PATIENCE: Duration = Duration::from_secs(10);

/// A handler answering with the replies given to it in order (forwarding
/// when it has none left), keeping every exchange it is told of.
#[derive(Default)]
pub(super) struct TestHandler {
    replies: Mutex<VecDeque<Reply>>,
    completed: Mutex<Vec<Completed>>,
    changed: Notify,
}

impl TestHandler {
    pub(super) fn reply(&self, reply: Reply) {
        self.replies.lock().unwrap().push_back(reply);
    }

    /// Waits until `count` exchanges were reported; returns them.
    pub(super) async fn wait_for(&self, count: usize) -> Vec<Completed> {
        tokio::time::timeout(PATIENCE, async {
            loop {
                let changed = self.changed.notified();
                {
                    let completed = self.completed.lock().unwrap();
                    if completed.len() >= count {
                        return completed.clone();
                    }
                }
                changed.await;
            }
        })
        .await
        .unwrap_or_else(|_| {
            panic!(
                "{count} exchanges were not reported within {PATIENCE:?}: {:#?}",
                self.completed()
            )
        })
    }

    /// Whether every reply given was taken (asked for).
    pub(super) fn replies_taken(&self) -> bool {
        self.replies.lock().unwrap().is_empty()
    }

    pub(super) fn completed(&self) -> Vec<Completed> {
        self.completed.lock().unwrap().clone()
    }
}

impl Handler for TestHandler {
    fn decide<'a>(&'a self, _: &'a Outbound) -> BoxFuture<'a, Reply> {
        let reply = self
            .replies
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Reply::Forward(Shape::default()));
        Box::pin(async move { reply })
    }

    fn completed(&self, exchange: Completed) {
        self.completed.lock().unwrap().push(exchange);
        self.changed.notify_waiters();
    }
}

/// What a test compares of an exchange: who, the request, how it was
/// served, the status and whole body the client got, the error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Summary {
    pub(super) client: String,
    pub(super) method: String,
    pub(super) url: String,
    pub(super) request_body: String,
    pub(super) served: Served,
    pub(super) status: Option<u16>,
    pub(super) response_body: String,
    pub(super) error: Option<String>,
}

impl Summary {
    pub(super) fn of(exchange: &Completed) -> Self {
        let body: Vec<u8> = exchange
            .response
            .iter()
            .flat_map(|seen| seen.body.iter())
            .flat_map(|chunk| chunk.bytes.iter().copied())
            .collect();
        Self {
            client: exchange.request.client.clone(),
            method: exchange.request.method.clone(),
            url: exchange.request.url.clone(),
            request_body: String::from_utf8_lossy(&exchange.request.body).into_owned(),
            served: exchange.served,
            status: exchange.response.as_ref().map(|seen| seen.status),
            response_body: String::from_utf8_lossy(&body).into_owned(),
            error: exchange.error.clone(),
        }
    }

    /// A forwarded exchange of `worker1` that went well.
    pub(super) fn forwarded(
        method: &str,
        url: &str,
        request_body: &str,
        response_body: &str,
    ) -> Self {
        Self {
            client: "worker1".to_owned(),
            method: method.to_owned(),
            url: url.to_owned(),
            request_body: request_body.to_owned(),
            served: Served::Forwarded,
            status: Some(200),
            response_body: response_body.to_owned(),
            error: None,
        }
    }
}

/// Releases the second event of the upstream's `/events`.
pub(super) type Release = Arc<Notify>;

/// The fake upstream's answers:
/// - `/echo`: the request as it arrived (JSON),
/// - `/events`: an event stream of two events, the second once released,
/// - `/big`: `BIG` bytes with a `content-length`.
async fn upstream_answer(
    request: Request<Incoming>,
    release: Release,
    hits: Arc<AtomicUsize>,
) -> Result<Response<http_body_util::combinators::BoxBody<Bytes, Infallible>>, Infallible> {
    hits.fetch_add(1, Ordering::Relaxed);
    let path = request.uri().path().to_owned();
    let response = match path.as_str() {
        "/events" => {
            let events = futures_util::stream::unfold(0, move |sent| {
                let release = release.clone();
                async move {
                    match sent {
                        0 => Some((Ok(Frame::data(Bytes::from("data: one\n\n"))), 1)),
                        1 => {
                            release.notified().await;
                            Some((Ok(Frame::data(Bytes::from("data: two\n\n"))), 2))
                        }
                        _ => None,
                    }
                }
            });
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(StreamBody::new(events).boxed())
                .unwrap()
        }
        "/big" => Response::new(Full::new(Bytes::from(vec![b'x'; BIG])).boxed()),
        _ => {
            let method = request.method().to_string();
            let uri = request.uri().to_string();
            let headers: Vec<(String, String)> = request
                .headers()
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
                .collect();
            let body = request.into_body().collect().await.unwrap().to_bytes();
            let echo = serde_json::json!({
                "method": method,
                "uri": uri,
                "headers": headers,
                "body": String::from_utf8_lossy(&body),
            });
            Response::builder()
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(echo.to_string())).boxed())
                .unwrap()
        }
    };
    Ok(response)
}

/// A fake upstream on loopback, plain or behind TLS.
pub(super) struct Upstream {
    pub(super) address: SocketAddr,
    pub(super) release: Release,
    pub(super) hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Upstream {
    /// Serves on a new loopback port; with `tls`, as the certificate given.
    pub(super) async fn start(tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let release = Release::default();
        let hits = Arc::new(AtomicUsize::new(0));
        let (release_for_task, hits_for_task) = (release.clone(), hits.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (release, hits, tls) =
                    (release_for_task.clone(), hits_for_task.clone(), tls.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        upstream_answer(request, release.clone(), hits.clone())
                    });
                    let builder = hyper::server::conn::http1::Builder::new();
                    if let Some(tls) = tls {
                        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
                        if let Ok(stream) = acceptor.accept(stream).await {
                            let _ = builder
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        }
                    } else {
                        let _ = builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                });
            }
        });
        Self {
            address,
            release,
            hits,
            task,
        }
    }

    pub(super) fn hits(&self) -> usize {
        self.hits.load(Ordering::Relaxed)
    }
}

/// A CA of the HTTPS upstream's own (not the suite's), written to `dir`,
/// and the upstream's TLS settings as `TLS_HOST` signed by it.
fn upstream_tls(dir: &Path) -> (PathBuf, Arc<rustls::ServerConfig>) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec![TLS_HOST.to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let ca_file = dir.join("upstream-ca.pem");
    std::fs::write(
        &ca_file,
        crate::proxy::pem::encode("CERTIFICATE", ca_cert.der()),
    )
    .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    )
    .unwrap();
    (ca_file, Arc::new(config))
}

/// A running proxy with one listener (`worker1`), and both upstreams.
pub(super) struct Setup {
    _dir: tempfile::TempDir,
    pub(super) handler: Arc<TestHandler>,
    pub(super) proxy: Proxy,
    /// The listener of `worker1`.
    pub(super) listener: SocketAddr,
    pub(super) suite_ca: CertificateDer<'static>,
    /// The workers' CA bundle (system roots, the upstream's CA, the suite's).
    pub(super) bundle: PathBuf,
    /// The upstream's own CA.
    pub(super) upstream_ca: PathBuf,
    pub(super) tls_upstream: Upstream,
    pub(super) plain_upstream: Upstream,
}

impl Setup {
    pub(super) async fn start() -> Self {
        crate::http_client::install_crypto_provider();
        let dir = tempfile::tempdir().unwrap();
        let (upstream_ca, upstream_config) = upstream_tls(dir.path());
        let tls_upstream = Upstream::start(Some(upstream_config)).await;
        let plain_upstream = Upstream::start(None).await;
        let overrides = BTreeMap::from([
            (TLS_HOST.to_owned(), tls_upstream.address),
            (PLAIN_HOST.to_owned(), plain_upstream.address),
        ]);
        let ca = Ca::load_or_create(&dir.path().join(".proxy")).unwrap();
        let suite_ca = ca.cert().clone();
        let upstream_ca_file = CaFile {
            named_by: "the test upstream's CA".to_owned(),
            path: upstream_ca.clone(),
        };
        let bundle = write_bundle(&ca, std::slice::from_ref(&upstream_ca_file)).unwrap();
        let upstream = upstream_client(
            &overrides,
            crate::http_client::ExtraRoots::default(),
            &[upstream_ca_file],
        )
        .unwrap();
        let handler = Arc::new(TestHandler::default());
        let proxy = Proxy::start(handler.clone(), ca, upstream);
        let listener = proxy.listen_for("worker1").await.unwrap();
        Self {
            _dir: dir,
            handler,
            proxy,
            listener,
            suite_ca,
            bundle,
            upstream_ca,
            tls_upstream,
            plain_upstream,
        }
    }

    /// A reqwest client that goes through the proxy and trusts the suite's
    /// CA only.
    pub(super) fn client(&self) -> reqwest::Client {
        self.client_builder().build().unwrap()
    }

    pub(super) fn client_builder(&self) -> reqwest::ClientBuilder {
        reqwest::Client::builder()
            .proxy(reqwest::Proxy::all(format!("http://{}", self.listener)).unwrap())
            .tls_backend_preconfigured(self.client_tls())
    }

    /// TLS settings trusting the suite's CA only.
    pub(super) fn client_tls(&self) -> rustls::ClientConfig {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.suite_ca.clone()).unwrap();
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        config
    }

    /// A TCP connection to the proxy.
    pub(super) async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.listener).await.unwrap()
    }

    /// A TLS connection to `TLS_HOST` through a `CONNECT` tunnel.
    pub(super) async fn tunnel(&self) -> tokio_rustls::client::TlsStream<TcpStream> {
        let mut stream = self.connect().await;
        let connect = format!("CONNECT {TLS_HOST}:443 HTTP/1.1\r\nHost: {TLS_HOST}:443\r\n\r\n");
        stream.write_all(connect.as_bytes()).await.unwrap();
        let head = read_head(&mut stream).await;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        tokio_rustls::TlsConnector::from(Arc::new(self.client_tls()))
            .connect(ServerName::try_from(TLS_HOST).unwrap(), stream)
            .await
            .unwrap()
    }

    /// Stops the proxy; returns every exchange reported (all are, by then).
    pub(super) async fn stop(self) -> Vec<Summary> {
        self.proxy.shutdown().await;
        self.handler.completed().iter().map(Summary::of).collect()
    }
}

/// Reads a response head, up to its blank line.
pub(super) async fn read_head(stream: &mut (impl AsyncRead + Unpin)) -> String {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let byte = stream.read_u8().await.unwrap();
        head.push(byte);
    }
    String::from_utf8(head).unwrap()
}

/// Reads a response with a `content-length`: its head and body.
pub(super) async fn read_response(stream: &mut (impl AsyncRead + Unpin)) -> (String, String) {
    let head = read_head(stream).await;
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().unwrap())
        })
        .unwrap_or_else(|| panic!("no content-length in {head}"));
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.unwrap();
    (head, String::from_utf8(body).unwrap())
}

/// Sends `request` on `stream`.
pub(super) async fn send(stream: &mut (impl AsyncWrite + Unpin), request: &str) {
    stream.write_all(request.as_bytes()).await.unwrap();
}
