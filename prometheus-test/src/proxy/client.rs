//! What the requests of one client connection share: the client, where
//! its requests go when they name no host, and the switch that ends the
//! connection with a reset.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Where the requests of a connection go when they name no host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Origin {
    /// The connection to the proxy itself: requests name their URL whole.
    Direct,
    /// Inside the tunnel a client opened with `CONNECT host:port`.
    Tunnel { host: String, port: u16 },
}

/// What the requests of a connection share.
#[derive(Debug)]
pub(super) struct Connection {
    /// The client the listener was opened for.
    pub(super) client: Arc<str>,
    pub(super) origin: Origin,
    pub(super) reset: ResetSwitch,
}

/// Makes the client's TCP connection end with a reset (RST) when it is
/// closed, instead of an orderly close.
#[derive(Debug, Clone, Default)]
pub(super) struct ResetSwitch(Arc<AtomicBool>);

impl ResetSwitch {
    pub(super) fn trip(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether the connection is to end with a reset.
    pub(super) fn tripped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}
