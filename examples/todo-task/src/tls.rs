//! What the worker's HTTP clients need: rustls's ring provider, and for
//! the LLM's HTTPS the certificates of `SSL_CERT_FILE` as extra roots.

use std::path::Path;

use anyhow::{Context as _, bail};

/// Makes ring the process-wide rustls provider, unless one is installed
/// already: reqwest is built without a provider of its own (its default,
/// aws-lc-rs, is a large C build) and panics when it finds none.
pub(crate) fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Fails only when another thread installed one first, which is as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// The certificates of the PEM file `path` (`SSL_CERT_FILE`), to trust
/// besides the usual roots. A file that cannot be read or holds no
/// certificate is an error naming it.
pub(crate) fn roots_of(path: &Path) -> anyhow::Result<Vec<reqwest::Certificate>> {
    let shown = path.display();
    let pem = std::fs::read(path).with_context(|| format!("SSL_CERT_FILE: cannot read {shown}"))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .with_context(|| format!("SSL_CERT_FILE: {shown} is not a PEM bundle"))?;
    if certs.is_empty() {
        bail!("SSL_CERT_FILE: {shown} holds no PEM certificate");
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_certificates_is_an_error_naming_it() {
        let path = std::env::temp_dir().join(format!("todo-task-no-certs-{}", std::process::id()));
        std::fs::write(&path, "no certificate here\n").unwrap();
        let err = roots_of(&path).unwrap_err().to_string();
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            err,
            format!("SSL_CERT_FILE: {} holds no PEM certificate", path.display())
        );
    }
}
