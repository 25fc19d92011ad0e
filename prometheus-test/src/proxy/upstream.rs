//! The client the proxy forwards requests through: the runner's HTTP client
//! (one trust policy), with upstream address overrides, no proxy of its
//! own, and no redirect followed (the worker sees them).

use std::collections::BTreeMap;
use std::net::SocketAddr;

use anyhow::Context as _;

use super::bundle::CaFile;
use crate::http_client::{self, ExtraRoots};

/// The upstream client: trusts what `roots` adds to the system's and
/// Mozilla's roots, and the certificates of `ca_files`; sends a request for
/// a host of `overrides` to its address instead (TLS is still verified for
/// the host's name). Overrides apply to host names, not IP addresses.
///
/// Like every reqwest client, it adds `accept: */*` to a request that has
/// no `accept` header; it adds no other header, and decompresses nothing.
pub(crate) fn upstream_client(
    overrides: &BTreeMap<String, SocketAddr>,
    mut roots: ExtraRoots,
    ca_files: &[CaFile],
) -> anyhow::Result<reqwest::Client> {
    for file in ca_files {
        roots.add_file(&file.path, &file.named_by, &file.named_by)?;
    }
    let mut builder = http_client::builder(true, &roots)?
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none());
    for (host, address) in overrides {
        builder = builder.resolve(host, *address);
    }
    builder
        .build()
        .context("cannot build the proxy's upstream HTTP client")
}
