//! The suite's certificate authority: made once in a folder the caller names
//! (the harness: `data_dir/.proxy/`) and loaded from it afterwards, so that a
//! resumed run keeps the CA its workers trust. It signs a certificate for
//! each host the proxy intercepts.
//!
//! The folder holds `ca.pem` (the certificate), `ca-key.pem` (its key, mode
//! 0600) and a `.gitignore` of `*`, so that none of it is ever committed.
//! The key is written last: a folder without it holds no CA, and a new one is
//! made (a kill between the two writes leaves only the certificate).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, anyhow};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SerialNumber,
};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::atomic_file::{FileSync, write_atomic};

/// The CA certificate's file in the CA folder.
pub(crate) const CERT_FILE: &str = "ca.pem";
/// The CA key's file in the CA folder.
pub(crate) const KEY_FILE: &str = "ca-key.pem";
/// The CA certificate's common name.
const CA_NAME: &str = "prometheus-test suite CA";
/// How long a new CA is valid.
const CA_DAYS: i64 = 10 * 365;
/// How long a host's certificate is valid.
const LEAF_DAYS: i64 = 365;
/// The host the CA issues a certificate for when loaded, to check it.
const PROBE_HOST: &str = "ca-check.invalid";

/// The suite's CA: its certificate, and an issuer of host certificates.
pub(crate) struct Ca {
    cert: CertificateDer<'static>,
    cert_file: PathBuf,
    issuer: Issuer<'static, KeyPair>,
    /// The one key of every host certificate (made anew at each start, never
    /// written), so that a host costs a signature, not a key generation.
    leaf_key: KeyPair,
    leaf_signer: Arc<dyn rustls::sign::SigningKey>,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca")
            .field("cert_file", &self.cert_file)
            .finish_non_exhaustive()
    }
}

impl Ca {
    /// The CA in `dir`, made there first when it holds none.
    pub(crate) fn load_or_create(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the proxy's folder {}", dir.display()))?;
        write_gitignore(dir)?;
        let key_file = dir.join(KEY_FILE);
        let cert_file = dir.join(CERT_FILE);
        if key_file.exists() {
            Self::load(&cert_file, &key_file)
        } else {
            Self::create(&cert_file, &key_file)
        }
    }

    /// The CA's certificate.
    pub(crate) fn cert(&self) -> &CertificateDer<'static> {
        &self.cert
    }

    /// The file of the CA's certificate (PEM).
    pub(crate) fn cert_file(&self) -> &Path {
        &self.cert_file
    }

    /// A certificate for `host` (a name or an IP address) signed by the CA,
    /// with its key, as a TLS server presents it.
    pub(crate) fn certified_key(&self, host: &str) -> anyhow::Result<rustls::sign::CertifiedKey> {
        let cert = self
            .issue(host)
            .with_context(|| format!("cannot make a certificate for {host:?}"))?;
        Ok(rustls::sign::CertifiedKey::new(
            vec![cert],
            self.leaf_signer.clone(),
        ))
    }

    fn issue(&self, host: &str) -> anyhow::Result<CertificateDer<'static>> {
        let mut params = CertificateParams::new(vec![host.to_owned()])?;
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, host);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(new_serial(host));
        let now = now();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(LEAF_DAYS);
        Ok(params
            .signed_by(&self.leaf_key, &self.issuer)?
            .der()
            .clone())
    }

    fn create(cert_file: &Path, key_file: &Path) -> anyhow::Result<Self> {
        let key = KeyPair::generate().context("cannot make a key for the suite's CA")?;
        let mut params = ca_params();
        params.serial_number = Some(new_serial(CA_NAME));
        let now = now();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(CA_DAYS);
        let cert = params
            .self_signed(&key)
            .context("cannot make the suite's CA certificate")?
            .der()
            .clone();
        let key_pem = super::pem::encode("PRIVATE KEY", key.serialized_der());
        write_file(
            cert_file,
            super::pem::encode("CERTIFICATE", &cert).as_bytes(),
            0o644,
        )?;
        write_file(key_file, key_pem.as_bytes(), 0o600)?;
        Self::with_key(cert, cert_file, key)
    }

    fn load(cert_file: &Path, key_file: &Path) -> anyhow::Result<Self> {
        let remedy = "delete it to make a new CA";
        let key_bytes = std::fs::read(key_file)
            .with_context(|| format!("cannot read {}", key_file.display()))?;
        // Neither error says more than what was expected: the file is a key.
        let key_der = PrivatePkcs8KeyDer::from_pem_slice(&key_bytes).map_err(|_| {
            anyhow!(
                "{}: expected the suite CA's key, a PKCS#8 PEM block \
                 (`-----BEGIN PRIVATE KEY-----`); {remedy}",
                key_file.display()
            )
        })?;
        let key = KeyPair::try_from(key_der.secret_pkcs8_der()).map_err(|_| {
            anyhow!(
                "{}: expected the suite CA's key (ECDSA P-256); {remedy}",
                key_file.display()
            )
        })?;
        let cert_bytes = std::fs::read(cert_file).with_context(|| {
            format!(
                "cannot read {}, the certificate of the CA key {} ({remedy})",
                cert_file.display(),
                key_file.display()
            )
        })?;
        let cert = CertificateDer::from_pem_slice(&cert_bytes).map_err(|_| {
            anyhow!(
                "{}: expected the suite CA's certificate, a PEM block \
                 (`-----BEGIN CERTIFICATE-----`); delete {} to make a new CA",
                cert_file.display(),
                key_file.display()
            )
        })?;
        let ca = Self::with_key(cert, cert_file, key)?;
        ca.check().with_context(|| {
            format!(
                "{} does not belong to the key {}, or was not made by prometheus-test; \
                 delete both to make a new CA",
                cert_file.display(),
                key_file.display()
            )
        })?;
        Ok(ca)
    }

    fn with_key(
        cert: CertificateDer<'static>,
        cert_file: &Path,
        key: KeyPair,
    ) -> anyhow::Result<Self> {
        let leaf_key = KeyPair::generate().context("cannot make a key for host certificates")?;
        let leaf_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let leaf_signer = rustls::crypto::ring::sign::any_supported_type(&leaf_der)
            .context("cannot use the key of host certificates")?;
        Ok(Self {
            cert,
            cert_file: cert_file.to_owned(),
            issuer: Issuer::new(ca_params(), key),
            leaf_key,
            leaf_signer,
        })
    }

    /// Checks that the certificates the issuer signs chain to `self.cert`:
    /// its name and key are the issuer's.
    fn check(&self) -> anyhow::Result<()> {
        let probe = self.issue(PROBE_HOST)?;
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(self.cert.clone())
            .map_err(|e| anyhow!("not a usable CA certificate: {e}"))?;
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::new(rustls::crypto::ring::default_provider()),
        )
        .build()?;
        let name = ServerName::try_from(PROBE_HOST)?;
        rustls::client::danger::ServerCertVerifier::verify_server_cert(
            verifier.as_ref(),
            &probe,
            &[],
            &name,
            &[],
            UnixTime::now(),
        )
        .map_err(|e| anyhow!("a certificate it issues does not verify: {e}"))?;
        Ok(())
    }
}

/// The CA's parameters; the issuer needs the same name, key usages and key
/// identifier method as the certificate has.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, CA_NAME);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "prometheus-test");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

/// A serial number no other certificate of this CA has (128 bits).
fn new_serial(subject: &str) -> SerialNumber {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    let mut hash = Sha256::new();
    hash.update(subject.as_bytes());
    hash.update(nanos.to_le_bytes());
    hash.update(COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes());
    hash.update(std::process::id().to_le_bytes());
    let mut serial = hash.finalize()[..16].to_vec();
    // Positive, and 16 bytes long once encoded.
    serial[0] = (serial[0] & 0x7f) | 0x40;
    SerialNumber::from_slice(&serial)
}

fn now() -> OffsetDateTime {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    OffsetDateTime::from_unix_timestamp(i64::try_from(seconds).unwrap_or(i64::MAX))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `.gitignore` of `*` in `dir`, unless it is there.
fn write_gitignore(dir: &Path) -> anyhow::Result<()> {
    let path = dir.join(".gitignore");
    if std::fs::read(&path).is_ok_and(|text| text == b"*\n") {
        return Ok(());
    }
    write_file(&path, b"*\n", 0o644)
}

fn write_file(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let mut temp = path.as_os_str().to_owned();
    temp.push(".tmp");
    write_atomic(path, Path::new(&temp), bytes, FileSync::All, Some(mode))
        .with_context(|| format!("cannot write {}", path.display()))
}
