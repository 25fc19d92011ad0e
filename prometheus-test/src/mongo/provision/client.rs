//! The download's HTTP client: the crate's shared client (`http_client`), so
//! that the download trusts what `runner.http()` trusts: the system's roots
//! through the platform verifier, Mozilla's roots, and the PEM file named by
//! `SSL_CERT_FILE` of the environment the provisioning sees (a run's, with
//! its `.env` files, or the process's).

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;

use crate::config::{Config, EnvMap, Overrides};
use crate::http_client::{self, ExtraRoots};

/// The variable naming a PEM file of extra trusted certificates.
const CERT_FILE_VAR: &str = "SSL_CERT_FILE";
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
    /// `SSL_CERT_FILE`; its file is read here, so only a download needs it
    /// readable. Redirects follow reqwest's default policy, which the shared
    /// client keeps.
    pub(crate) fn client(&self) -> anyhow::Result<reqwest::Client> {
        let roots = match &self.cert_file {
            Some(file) => extra_roots(file)?,
            None => ExtraRoots::default(),
        };
        http_client::build(false, &roots)
    }
}

/// The certificates of the PEM file `cert_file` as `SSL_CERT_FILE` gives them.
///
/// `ExtraRoots` is built only for a run (config.yaml and its environment), so
/// this builds it for an empty suite whose environment holds `SSL_CERT_FILE`
/// alone, until `http_client` offers a constructor from an environment.
fn extra_roots(cert_file: &str) -> anyhow::Result<ExtraRoots> {
    let config = Config::parse_with(
        Path::new("/prometheus-test/mongod-download/config.yaml"),
        "task_id: mongod-download\nmax_rounds: 1\n",
        &Overrides::default(),
    )
    .context("cannot set up the trusted certificates of the download")?;
    let mut env = EnvMap::default();
    env.set(CERT_FILE_VAR, cert_file);
    ExtraRoots::for_run(&config, &env)
}
