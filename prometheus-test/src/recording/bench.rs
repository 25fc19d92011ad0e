//! The recording proxy alone, for the `recording_proxy` benchmark: a proxy
//! with one listener (`worker1`), its CA bundle, and a recording in a mode,
//! with a step open. Not public API.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Options, Recording, StepKey};
use crate::config::RecordMode;
use crate::http_client::ExtraRoots;
use crate::proxy::{self, Ca, Proxy};

/// A running recording proxy.
pub struct BenchProxy {
    proxy: Proxy,
    recording: Arc<Recording>,
    /// The listener of `worker1`.
    pub listener: SocketAddr,
    /// The CA bundle a client must trust.
    pub bundle: PathBuf,
}

impl BenchProxy {
    /// A proxy in `mode` (`replay`, `record`, `all`, `off`) whose cassettes
    /// are in `dir` (its CA in `dir/.proxy`), sending `host` to `upstream`,
    /// with step `steps::bench` of round 1 open.
    pub async fn start(
        mode: &str,
        dir: &Path,
        host: &str,
        upstream: SocketAddr,
    ) -> anyhow::Result<Self> {
        let mode = RecordMode::named(mode).ok_or_else(|| anyhow::anyhow!("no mode {mode}"))?;
        let ca = Ca::load_or_create(&dir.join(".proxy"))?;
        let bundle = proxy::write_bundle(&ca, &[])?;
        let overrides = [(host.to_owned(), upstream)].into_iter().collect();
        let client = proxy::upstream_client(&overrides, ExtraRoots::default(), &[])?;
        let recording = Recording::new(mode, dir.join("cassettes"), Options::default())?;
        recording.begin_step(StepKey {
            round: 1,
            name: "steps::bench".to_owned(),
        })?;
        let proxy = Proxy::start(recording.clone(), ca, client);
        let listener = proxy.listen_for("worker1").await?;
        Ok(Self {
            proxy,
            recording,
            listener,
            bundle,
        })
    }

    /// Ends the step (writing its cassette as the mode says) and stops.
    pub async fn stop(self) -> anyhow::Result<()> {
        let tape = self.recording.end_step().await;
        self.proxy.shutdown().await;
        match tape.and_then(|tape| tape.failure()) {
            Some(failure) => anyhow::bail!("{failure}"),
            None => Ok(()),
        }
    }
}
