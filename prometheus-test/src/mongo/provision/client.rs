//! The download's HTTP client: the crate's shared client (`http_client`), so
//! that the download trusts what `runner.http()` trusts: the system's roots
//! through the platform verifier, Mozilla's roots, and the PEM file named by
//! `SSL_CERT_FILE` of the environment the provisioning sees (a run's, with
//! its `.env` files, or the process's).

use std::time::Duration;

use anyhow::Context as _;

use crate::http_client::{self, CERT_FILE_VAR, ExtraRoots};

/// How long resolving and connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// Redirects followed before giving up.
pub(super) const MAX_REDIRECTS: usize = 5;
/// How long the server may stay silent (headers or the next part of the body).
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// How a provisioning downloads: what it trusts over HTTPS and how long it
/// waits for the server.
#[derive(Debug, Clone)]
pub(crate) struct Fetcher {
    /// `SSL_CERT_FILE` of the provisioning's environment, when set.
    cert_file: Option<String>,
    /// How long the server may stay silent.
    pub(crate) idle_timeout: Duration,
}

impl Default for Fetcher {
    /// Trusting the system's and Mozilla's roots only.
    fn default() -> Self {
        Self {
            cert_file: None,
            idle_timeout: IDLE_TIMEOUT,
        }
    }
}

impl Fetcher {
    /// The fetcher of the environment `var` reads (it gives the value of a
    /// variable that is set and not empty).
    pub(crate) fn from_vars(var: &dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            cert_file: var(CERT_FILE_VAR),
            ..Self::default()
        }
    }

    /// The shared client trusting the system's and Mozilla's roots and
    /// `SSL_CERT_FILE` (its file is read here, so only a download needs it
    /// readable), with the download's own limits: 20 s to connect, and at
    /// most 5 redirects.
    pub(crate) fn client(&self) -> anyhow::Result<reqwest::Client> {
        let roots = ExtraRoots::of_cert_file(self.cert_file.as_deref())?;
        http_client::builder(false, &roots)?
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
            .build()
            .context("cannot build the HTTP client of the mongod download")
    }
}
