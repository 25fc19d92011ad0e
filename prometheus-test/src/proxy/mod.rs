//! The proxy the harness runs for the workers' calls to the outside world:
//! each worker gets a listener of its own (so every request names its
//! sender), plain HTTP is forwarded and HTTPS is intercepted per host with
//! certificates of the suite's own CA; a [`Handler`] decides what each
//! request gets (recording and replay, faults).
//!
//! Setting it up: [`Ca::load_or_create`] in the proxy's folder,
//! [`write_bundle`] for the workers' trust, [`upstream_client`],
//! [`Proxy::start`], then per worker [`Proxy::listen_for`] and
//! [`client_env`] for its environment; [`Proxy::shutdown`] at the end.
//!
//! Known limits: HTTP/1.1 only (ALPN offers `http/1.1`); a `CONNECT` tunnel
//! is always TLS; no WebSocket or other upgrade; listeners are on
//! 127.0.0.1, which a worker in a container does not reach.

mod body;
mod bundle;
mod ca;
mod canned;
mod client;
mod client_env;
mod connection;
mod exchange;
mod handler;
mod headers;
mod listener;
mod pem;
mod relay;
mod report;
mod shared;
mod tls;
mod upstream;

#[cfg(test)]
mod tests;

pub(crate) use self::bundle::{CaFile, write_bundle};
pub(crate) use self::ca::Ca;
pub(crate) use self::client_env::{Loopback, client_env};
#[cfg(test)]
pub(crate) use self::handler::Seen;
pub(crate) use self::handler::{Canned, Chunk, Completed, Handler, Outbound, Reply, Served, Shape};
pub(crate) use self::listener::Proxy;
pub(crate) use self::relay::UNREACHABLE_HEADER;
pub(crate) use self::upstream::upstream_client;
