//! The TLS the proxy speaks to a client inside a tunnel: as the host the
//! client names (SNI, else the `CONNECT` host), with that host's
//! certificate from the suite's CA, made once per host.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use rustls::ServerConfig;
use rustls::server::{Acceptor, ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::LazyConfigAcceptor;
use tokio_rustls::server::TlsStream;

use super::ca::Ca;

/// Accepts the clients' TLS as the hosts they name.
#[derive(Debug)]
pub(super) struct Interceptor {
    ca: Ca,
    /// Each host's TLS settings (its certificate), made on first use.
    configs: Mutex<HashMap<String, Arc<ServerConfig>>>,
}

impl Interceptor {
    pub(super) fn new(ca: Ca) -> Self {
        Self {
            ca,
            configs: Mutex::default(),
        }
    }

    /// The TLS handshake of a client that asked to `CONNECT` to
    /// `connect_host`.
    pub(super) async fn accept<IO>(
        &self,
        io: IO,
        connect_host: &str,
    ) -> anyhow::Result<TlsStream<IO>>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let start = LazyConfigAcceptor::new(Acceptor::default(), io)
            .await
            .context("the client's TLS hello")?;
        let host = start
            .client_hello()
            .server_name()
            .unwrap_or(connect_host)
            .to_owned();
        let config = self.config_for(&host)?;
        start
            .into_stream(config)
            .await
            .with_context(|| format!("the TLS handshake as {host}"))
    }

    fn config_for(&self, host: &str) -> anyhow::Result<Arc<ServerConfig>> {
        let mut configs = self
            .configs
            .lock()
            .map_err(|_| anyhow::anyhow!("the certificate cache was poisoned"))?;
        if let Some(config) = configs.get(host) {
            return Ok(config.clone());
        }
        let key = Arc::new(self.ca.certified_key(host)?);
        let mut config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .context("cannot set up TLS")?
                .with_no_client_auth()
                .with_cert_resolver(Arc::new(OneCertificate(key)));
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let config = Arc::new(config);
        configs.insert(host.to_owned(), config.clone());
        Ok(config)
    }
}

/// Presents one certificate, whatever the client asks for.
#[derive(Debug)]
struct OneCertificate(Arc<CertifiedKey>);

impl ResolvesServerCert for OneCertificate {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}
