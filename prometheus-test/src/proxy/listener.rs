//! The proxy: a listener per client on loopback, the connections they
//! accept, and stopping them all.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::ca::Ca;
use super::connection;
use super::handler::Handler;
use super::shared::Shared;
use super::tls::Interceptor;

/// The proxy the workers reach the outside world through.
pub(crate) struct Proxy {
    shared: Arc<Shared>,
    /// One task per listener; each owns its connections' tasks.
    listeners: Mutex<JoinSet<()>>,
}

impl Proxy {
    /// A proxy whose requests `handler` decides, whose HTTPS clients get
    /// certificates of `ca`, and which forwards through `upstream` (see
    /// [`upstream_client`](super::upstream_client)). It listens nowhere
    /// until [`listen_for`](Self::listen_for).
    pub(crate) fn start(handler: Arc<dyn Handler>, ca: Ca, upstream: reqwest::Client) -> Self {
        Self {
            shared: Arc::new(Shared {
                handler,
                tls: Interceptor::new(ca),
                upstream,
                stop: watch::Sender::new(false),
            }),
            listeners: Mutex::default(),
        }
    }

    /// Opens a listener on 127.0.0.1 (a port of its own) whose requests
    /// come from `client` (`worker1`); returns its address.
    pub(crate) async fn listen_for(&self, client: &str) -> anyhow::Result<SocketAddr> {
        self.listen_for_at(client, None).await
    }

    /// [`listen_for`](Self::listen_for) on `port` when it is free (a kept
    /// worker's environment names the port of the run before), else on a
    /// port of its own.
    pub(crate) async fn listen_for_at(
        &self,
        client: &str,
        port: Option<u16>,
    ) -> anyhow::Result<SocketAddr> {
        if self.shared.is_stopping() {
            bail!("the proxy has stopped: it cannot listen for {client}");
        }
        let preferred = match port {
            Some(port) => TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await.ok(),
            None => None,
        };
        let listener = match preferred {
            Some(listener) => listener,
            None => TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .await
                .with_context(|| format!("cannot open the proxy's listener for {client}"))?,
        };
        let address = listener.local_addr()?;
        let task = accept(self.shared.clone(), client.into(), listener);
        self.listeners
            .lock()
            .map_err(|_| anyhow::anyhow!("the proxy's listeners were poisoned"))?
            .spawn(task);
        Ok(address)
    }

    /// Stops every listener and connection; an exchange still open is
    /// reported as ended by the stop. Returns once all are gone.
    pub(crate) async fn shutdown(&self) {
        self.shared.stop.send_replace(true);
        let listeners = self
            .listeners
            .lock()
            .map(|mut listeners| std::mem::take(&mut *listeners));
        if let Ok(mut listeners) = listeners {
            while listeners.join_next().await.is_some() {}
        }
    }
}

/// Accepts `client`'s connections on `listener` until the proxy stops, then
/// ends them.
async fn accept(shared: Arc<Shared>, client: Arc<str>, listener: TcpListener) {
    let mut stop = shared.stop.subscribe();
    let stopped = async move {
        // An error: the proxy is gone, which is a stop too.
        let _ = stop.wait_for(|stop| *stop).await;
    };
    tokio::pin!(stopped);
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            () = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection::serve(shared.clone(), client.clone(), stream));
                }
                // Out of file descriptors, most likely: some may close soon.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}
