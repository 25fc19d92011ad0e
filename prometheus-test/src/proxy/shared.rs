//! What every connection of the proxy shares: the handler, the TLS
//! interceptor, the upstream client, and whether the proxy is stopping.

use std::sync::Arc;

use tokio::sync::watch;

use super::handler::Handler;
use super::tls::Interceptor;

/// What every connection of the proxy uses.
pub(super) struct Shared {
    pub(super) handler: Arc<dyn Handler>,
    pub(super) tls: Interceptor,
    pub(super) upstream: reqwest::Client,
    /// `true` once the proxy stops.
    pub(super) stop: watch::Sender<bool>,
}

impl Shared {
    /// Whether the proxy is stopping.
    pub(super) fn is_stopping(&self) -> bool {
        *self.stop.borrow()
    }
}
