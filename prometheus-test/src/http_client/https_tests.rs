//! HTTPS through `runner.http()` against a server on 127.0.0.1 whose
//! certificate authority each test creates (with `openssl` on `PATH`), the
//! runner built as a run builds it.

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_rustls_024::rustls as server_tls;

use crate::Runner;
use crate::config::{Config, EnvMap, Overrides};
use crate::state::State;

/// What the test server answers every request with.
const BODY: &str = "hello over https";

/// A certificate authority and a certificate it signed for 127.0.0.1, as PEM
/// files in a temporary folder.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    /// A new authority, named apart from every other one this process creates
    /// (a certificate is matched to its issuer by name first).
    fn create() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(1);
        let dir = tempfile::tempdir().unwrap();
        let ca_name = format!(
            "/CN=prometheus-test CA {}",
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .output()
                .unwrap_or_else(|e| panic!("these tests need `openssl` on PATH: {e}"));
            assert!(
                out.status.success(),
                "openssl {args:?} failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ];
        openssl(
            &[
                &["req", "-x509"],
                &ec[..],
                &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2"],
                &["-subj", &ca_name],
                &["-addext", "basicConstraints=critical,CA:TRUE"],
                &["-addext", "keyUsage=critical,keyCertSign"],
            ]
            .concat(),
        );
        openssl(
            &[
                &["req"],
                &ec[..],
                &["-keyout", "server.key", "-out", "server.csr"],
                &[
                    "-subj",
                    "/CN=127.0.0.1",
                    "-addext",
                    "subjectAltName=IP:127.0.0.1",
                ],
            ]
            .concat(),
        );
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-copy_extensions",
            "copy",
        ]);
        Self { dir }
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }
}

/// Serves HTTPS on 127.0.0.1 with `pki`'s server certificate, answering
/// every request with [`BODY`]; returns its URL.
async fn serve(pki: &Pki) -> String {
    let read = |file: &str| BufReader::new(std::fs::File::open(pki.path(file)).unwrap());
    let certs = rustls_pemfile::certs(&mut read("server.pem"))
        .unwrap()
        .into_iter()
        .map(server_tls::Certificate)
        .collect();
    let key = rustls_pemfile::pkcs8_private_keys(&mut read("server.key"))
        .unwrap()
        .remove(0);
    let config = server_tls::ServerConfig::builder()
        .with_safe_defaults()
        .with_no_client_auth()
        .with_single_cert(certs, server_tls::PrivateKey(key))
        .unwrap();
    let acceptor = tokio_rustls_024::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/hello", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{BODY}",
                    BODY.len()
                );
                let _ = tls.write_all(answer.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    url
}

/// A suite folder: `tests/config.yaml` with `config` after the required keys.
struct Suite {
    dir: tempfile::TempDir,
}

impl Suite {
    fn new(config: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("tests")).unwrap();
        std::fs::write(
            dir.path().join("tests/config.yaml"),
            format!("task_id: https\nmax_rounds: 1\n{config}"),
        )
        .unwrap();
        Self { dir }
    }

    fn tests_dir(&self) -> PathBuf {
        self.dir.path().join("tests")
    }

    /// The runner as a run builds it, with the run's environment `env`.
    fn runner(&self, env: EnvMap) -> anyhow::Result<Runner> {
        let config = Config::load_with(&self.tests_dir().join("config.yaml"), &Overrides::none())?;
        let client = super::for_run(&config, &env)?;
        let state = State::fresh(&config.data_dir)?;
        Ok(Runner::new(
            config,
            Arc::new(env),
            Vec::new(),
            state,
            None,
            1,
            crate::record::shared::SharedRecorder::new(
                "https",
                &[],
                crate::record::redact::Redactor::new(),
            ),
            client,
            None,
        ))
    }

    /// The error of building the runner, with the suite's folder shown as `DIR`.
    fn error(&self, env: EnvMap) -> String {
        let Err(error) = self.runner(env) else {
            panic!("building the runner succeeded");
        };
        format!("{error:#}").replace(&self.dir.path().display().to_string(), "DIR")
    }
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(from, to).unwrap();
}

/// What a step gets from a GET of `url` through `runner.http()`: the body, or
/// the whole error as `{:#}` prints it, with `url` shown as `URL`.
async fn get(runner: &Runner, url: &str) -> Result<String, String> {
    let sent = async {
        let response = runner.http().get(url).send().await?;
        anyhow::Ok(response.error_for_status()?.text().await?)
    };
    sent.await
        .map_err(|error| format!("{error:#}").replace(url, "URL"))
}

#[tokio::test]
async fn a_ca_named_by_http_ca_file_is_trusted_relative_to_config_yaml() {
    let pki = Pki::create();
    let url = serve(&pki).await;
    let suite = Suite::new("http_ca_file: certs/ca.pem\n");
    copy(&pki.path("ca.pem"), &suite.tests_dir().join("certs/ca.pem"));
    let runner = suite.runner(EnvMap::default()).unwrap();
    assert_eq!(get(&runner, &url).await, Ok(BODY.to_owned()));
}

#[tokio::test]
async fn a_ca_named_by_ssl_cert_file_is_trusted() {
    let pki = Pki::create();
    let url = serve(&pki).await;
    let suite = Suite::new("");
    let ca = pki.path("ca.pem").display().to_string();
    let runner = suite
        .runner(EnvMap::from_pairs([("SSL_CERT_FILE", ca.as_str())]))
        .unwrap();
    assert_eq!(get(&runner, &url).await, Ok(BODY.to_owned()));
}

#[tokio::test]
async fn without_its_ca_the_server_is_not_trusted_and_the_error_says_what_is() {
    let pki = Pki::create();
    let url = serve(&pki).await;
    let suite = Suite::new("");
    let runner = suite.runner(EnvMap::default()).unwrap();
    assert_eq!(
        get(&runner, &url).await,
        Err(
            "error sending request for url (URL): client error (Connect): other error: \
             the server's certificate is not trusted: no trusted authority signed \
             it (trusted: the system's roots, Mozilla's roots); name the authority's \
             certificate (PEM) in config.yaml `http_ca_file` or in SSL_CERT_FILE"
                .to_owned()
        )
    );
}

#[tokio::test]
async fn a_ca_file_of_another_authority_is_listed_among_the_trusted() {
    let (pki, other) = (Pki::create(), Pki::create());
    let url = serve(&pki).await;
    let suite = Suite::new("http_ca_file: other.pem\n");
    copy(&other.path("ca.pem"), &suite.tests_dir().join("other.pem"));
    let runner = suite.runner(EnvMap::default()).unwrap();
    let dir = suite.dir.path().display().to_string();
    assert_eq!(
        get(&runner, &url).await.map_err(|e| e.replace(&dir, "DIR")),
        Err(
            "error sending request for url (URL): client error (Connect): other error: \
             the server's certificate is not trusted: no trusted authority signed \
             it (trusted: the system's roots, Mozilla's roots, `http_ca_file` \
             DIR/tests/other.pem); name the authority's certificate (PEM) in config.yaml \
             `http_ca_file` or in SSL_CERT_FILE"
                .to_owned()
        )
    );
}

#[test]
fn a_missing_http_ca_file_names_config_yaml_the_key_and_the_path() {
    let suite = Suite::new("http_ca_file: missing.pem\n");
    assert_eq!(
        suite.error(EnvMap::default()),
        "DIR/tests/config.yaml: `http_ca_file`: cannot read DIR/tests/missing.pem: No such file \
         or directory (os error 2)"
    );
}

#[test]
fn an_http_ca_file_without_a_certificate_is_an_error() {
    let pki = Pki::create();
    let suite = Suite::new("http_ca_file: server.key\n");
    copy(
        &pki.path("server.key"),
        &suite.tests_dir().join("server.key"),
    );
    assert_eq!(
        suite.error(EnvMap::default()),
        "DIR/tests/config.yaml: `http_ca_file`: DIR/tests/server.key holds no PEM certificate \
         (`-----BEGIN CERTIFICATE-----` block)"
    );
}

#[test]
fn a_broken_certificate_in_http_ca_file_is_named_by_its_number() {
    let pki = Pki::create();
    let suite = Suite::new("http_ca_file: ca.pem\n");
    let ca = std::fs::read_to_string(pki.path("ca.pem")).unwrap();
    let block =
        |body: &str| format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n");
    for (broken, error) in [
        (
            "AAAA",
            "is not a valid certificate: invalid peer certificate: BadEncoding",
        ),
        (
            "not base64",
            "is not valid PEM: base64 decode error: InvalidTrailingPadding",
        ),
    ] {
        let file = format!("{ca}{}", block(broken));
        std::fs::write(suite.tests_dir().join("ca.pem"), file).unwrap();
        assert_eq!(
            suite.error(EnvMap::default()),
            format!(
                "DIR/tests/config.yaml: `http_ca_file`: DIR/tests/ca.pem: certificate 2 {error}"
            )
        );
    }
}

#[test]
fn an_http_ca_file_that_is_not_a_path_is_an_error() {
    let suite = Suite::new("http_ca_file: [ca.pem]\n");
    assert_eq!(
        suite.error(EnvMap::default()),
        "DIR/tests/config.yaml: `http_ca_file`: expected the path of a PEM file of CA \
         certificates (relative to DIR/tests), found a list"
    );
}

#[test]
fn a_missing_ssl_cert_file_is_an_error() {
    let suite = Suite::new("");
    assert_eq!(
        suite.error(EnvMap::from_pairs([(
            "SSL_CERT_FILE",
            "/nonexistent/ca.pem"
        )])),
        "SSL_CERT_FILE: cannot read /nonexistent/ca.pem: No such file or directory (os error 2)"
    );
}
