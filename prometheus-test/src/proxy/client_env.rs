//! The environment that sends a client's (a worker's) HTTP(S) through the
//! proxy and makes it trust the suite's CA: understood by Python
//! (`requests`, `httpx`, the model providers' SDKs), Node (22+ with
//! `NODE_USE_ENV_PROXY`), curl and git.

use std::net::SocketAddr;
use std::path::Path;

/// Hosts reached directly, not through the proxy: the loopback ones.
const NO_PROXY: &str = "localhost,127.0.0.1,::1";

/// Whether a client's calls to the machine itself go through the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Loopback {
    /// Reached directly (`NO_PROXY` lists the loopback hosts).
    Direct,
    /// Through the proxy too (`NO_PROXY` is empty): a worker's calls to
    /// its peers and to local services, on links the faults can reach.
    Routed,
}

/// The variables for a client whose listener is `listener`, trusting the CA
/// bundle `bundle` (see [`write_bundle`](super::write_bundle)).
pub(crate) fn client_env(
    listener: SocketAddr,
    bundle: &Path,
    loopback: Loopback,
) -> Vec<(String, String)> {
    let proxy = format!("http://{listener}");
    let bundle = bundle.display().to_string();
    let mut env = Vec::with_capacity(14);
    for name in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"] {
        env.push((name.to_owned(), proxy.clone()));
    }
    let no_proxy = match loopback {
        Loopback::Direct => NO_PROXY,
        Loopback::Routed => "",
    };
    for name in ["NO_PROXY", "no_proxy"] {
        env.push((name.to_owned(), no_proxy.to_owned()));
    }
    for name in [
        "SSL_CERT_FILE",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "NODE_EXTRA_CA_CERTS",
        "GIT_SSL_CAINFO",
    ] {
        env.push((name.to_owned(), bundle.clone()));
    }
    env.push(("NODE_USE_ENV_PROXY".to_owned(), "1".to_owned()));
    env
}
