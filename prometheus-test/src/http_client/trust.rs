//! Which certificates `runner.http()` trusts over HTTPS:
//!
//! - the system's roots, through the platform verifier (on Linux the OpenSSL
//!   store that `openssl-probe` finds, or `SSL_CERT_FILE` / `SSL_CERT_DIR` of
//!   the process environment instead, as for OpenSSL),
//! - Mozilla's roots, built in (so a container without a CA bundle works),
//! - the certificates in `SSL_CERT_FILE` of the run's environment (the process
//!   environment or a `.env` file),
//! - the certificates in config.yaml's `http_ca_file`, a PEM file whose path is
//!   relative to config.yaml's folder.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, anyhow, bail};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};
use serde_json::Value;

use crate::config::{Config, EnvMap};

/// The config.yaml key naming a PEM file of extra trusted certificates.
pub(crate) const CA_FILE_KEY: &str = "http_ca_file";
/// The environment variable naming a PEM file of extra trusted certificates.
pub(crate) const CERT_FILE_VAR: &str = "SSL_CERT_FILE";

/// Certificates trusted besides the system's and Mozilla's roots, and the
/// files they came from.
#[derive(Debug, Clone, Default)]
pub(crate) struct ExtraRoots {
    certs: Vec<CertificateDer<'static>>,
    /// Each file as messages list it, e.g. ``SSL_CERT_FILE /x/ca.pem``.
    files: Vec<String>,
}

impl ExtraRoots {
    /// The certificates of `SSL_CERT_FILE`, when the environment sets it.
    pub(crate) fn of_cert_file(file: Option<&str>) -> anyhow::Result<Self> {
        let mut roots = Self::default();
        if let Some(file) = file {
            roots.add_file(Path::new(file), CERT_FILE_VAR, CERT_FILE_VAR)?;
        }
        Ok(roots)
    }

    /// `SSL_CERT_FILE` of `env`, then `http_ca_file` of `config`.
    pub(crate) fn for_run(config: &Config, env: &EnvMap) -> anyhow::Result<Self> {
        let mut roots = Self::of_cert_file(env.get(CERT_FILE_VAR))?;
        if let Some(value) = config.extra.get(CA_FILE_KEY) {
            let at = format!("{}: `{CA_FILE_KEY}`", config.file.display());
            let Value::String(file) = value else {
                bail!(
                    "{at}: expected the path of a PEM file of CA certificates (relative to {}), \
                     found {}",
                    config.tests_dir.display(),
                    kind(value)
                );
            };
            if file.is_empty() {
                bail!("{at}: expected the path of a PEM file of CA certificates, found \"\"");
            }
            roots.add_file(
                &config.tests_dir.join(file),
                &at,
                &format!("`{CA_FILE_KEY}`"),
            )?;
        }
        Ok(roots)
    }

    /// Adds every certificate of the PEM file `path`: errors start with
    /// `at`, lists of what is trusted name it `name`.
    pub(crate) fn add_file(&mut self, path: &Path, at: &str, name: &str) -> anyhow::Result<()> {
        let certs = read_certificates(path).with_context(|| at.to_owned())?;
        self.certs.extend(certs);
        self.files.push(format!("{name} {}", path.display()));
        Ok(())
    }
}

/// The certificates of the PEM file `path`, each one checked to be usable as
/// a trust anchor.
fn read_certificates(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let shown = path.display();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {shown}"))?;
    let mut certs = Vec::new();
    for (index, cert) in CertificateDer::pem_slice_iter(&bytes).enumerate() {
        let number = index + 1;
        let cert =
            cert.map_err(|e| anyhow!("{shown}: certificate {number} is not valid PEM: {e}"))?;
        rustls::RootCertStore::empty()
            .add(cert.clone())
            .map_err(|e| {
                anyhow!("{shown}: certificate {number} is not a valid certificate: {e}")
            })?;
        certs.push(cert);
    }
    if certs.is_empty() {
        bail!("{shown} holds no PEM certificate (`-----BEGIN CERTIFICATE-----` block)");
    }
    Ok(certs)
}

/// What a JSON value is, for messages.
fn kind(value: &Value) -> String {
    match value {
        Value::Null => "nothing".to_owned(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "a mapping".to_owned(),
    }
}

/// The client's TLS settings: ring, HTTP/1.1, and a verifier that trusts the
/// system's roots, Mozilla's and `extra`.
pub(crate) fn tls_config(extra: &ExtraRoots) -> anyhow::Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .cloned()
        .chain(extra.certs.iter().cloned());
    let platform =
        rustls_platform_verifier::Verifier::new_with_extra_roots(roots, provider.clone())
            .context("cannot set up the certificates HTTPS trusts")?;
    let mut trusted = vec![
        "the system's roots".to_owned(),
        "Mozilla's roots".to_owned(),
    ];
    trusted.extend(extra.files.iter().cloned());
    let verifier = ExplainUntrusted {
        inner: platform,
        trusted: Arc::new(trusted.join(", ")),
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("cannot set up TLS")?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The platform verifier, with "unknown issuer" explained: what is trusted
/// and how to trust another authority.
#[derive(Debug)]
struct ExplainUntrusted {
    inner: rustls_platform_verifier::Verifier,
    /// The trusted sources, listed.
    trusted: Arc<String>,
}

/// A server certificate no trusted authority signed.
#[derive(Debug)]
struct NotTrusted {
    trusted: Arc<String>,
}

impl fmt::Display for NotTrusted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the server's certificate is not trusted: no trusted authority signed it \
             (trusted: {}); name the authority's certificate (PEM) in config.yaml \
             `{CA_FILE_KEY}` or in {CERT_FILE_VAR}",
            self.trusted
        )
    }
}

impl std::error::Error for NotTrusted {}

impl ServerCertVerifier for ExplainUntrusted {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map_err(|error| match error {
                // Not `CertificateError::Other`, which rustls prints with `Debug`.
                rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
                    rustls::Error::Other(OtherError(Arc::new(NotTrusted {
                        trusted: self.trusted.clone(),
                    })))
                }
                other => other,
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
