//! The CA bundle the workers trust (`SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`,
//! …): the system's roots, the certificates the run trusts besides them,
//! and the suite's CA, so that the proxy's certificates are trusted and TLS
//! that does not go through it keeps working.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

use super::ca::Ca;

/// The bundle's file name in the proxy's folder.
pub(crate) const BUNDLE_FILE: &str = "ca-bundle.pem";

/// Where distributions keep their bundle of trusted roots, in the order
/// looked at: Debian and Ubuntu, Fedora and RHEL, openSUSE, Alpine and macOS.
const SYSTEM_BUNDLES: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// A PEM file of certificates to trust, and what named it, for messages
/// (`SSL_CERT_FILE`, config.yaml `http_ca_file`).
#[derive(Debug, Clone)]
pub(crate) struct CaFile {
    pub(crate) named_by: String,
    pub(crate) path: PathBuf,
}

/// Writes the bundle into the CA's folder (beside `ca.pem`): the first of
/// the system bundles found (Mozilla's roots, built in, when there is none),
/// then each certificate of `extra`, then the suite's CA. Returns its path.
pub(crate) fn write_bundle(ca: &Ca, extra: &[CaFile]) -> anyhow::Result<PathBuf> {
    let mut bundle = system_roots();
    for file in extra {
        for cert in read_certificates(file)? {
            bundle.push_str(&super::pem::encode("CERTIFICATE", &cert));
        }
    }
    bundle.push_str(&super::pem::encode("CERTIFICATE", ca.cert()));
    let folder = ca.cert_file().parent().unwrap_or(Path::new("."));
    let path = folder.join(BUNDLE_FILE);
    let temp = folder.join(format!("{BUNDLE_FILE}.tmp"));
    crate::atomic_file::write_atomic(
        &path,
        &temp,
        bundle.as_bytes(),
        crate::atomic_file::FileSync::Nothing,
        Some(0o644),
    )
    .with_context(|| format!("cannot write the workers' CA bundle {}", path.display()))?;
    Ok(path)
}

/// The system's roots as PEM: the first system bundle that holds a
/// certificate, else Mozilla's roots.
fn system_roots() -> String {
    for file in SYSTEM_BUNDLES {
        if let Ok(mut text) = std::fs::read_to_string(file)
            && CertificateDer::pem_slice_iter(text.as_bytes()).any(|cert| cert.is_ok())
        {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            return text;
        }
    }
    webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .map(|cert| super::pem::encode("CERTIFICATE", cert))
        .collect()
}

/// The certificates of `file`; an error when it cannot be read or holds
/// none, naming it and what named it.
fn read_certificates(file: &CaFile) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let shown = format!("{} {}", file.named_by, file.path.display());
    let bytes = std::fs::read(&file.path).with_context(|| format!("cannot read {shown}"))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .enumerate()
        .map(|(index, cert)| {
            cert.map_err(|e| anyhow!("{shown}: certificate {} is not valid PEM: {e}", index + 1))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    if certs.is_empty() {
        bail!("{shown} holds no PEM certificate (`-----BEGIN CERTIFICATE-----` block)");
    }
    Ok(certs)
}
