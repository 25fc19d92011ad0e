//! A task server on axum with its defaults (`axum::serve` on a tokio
//! listener, as `examples/todo-task` runs), answering every POST to
//! `/task/submit` with a small JSON body.
//!
//! The bench runs it in a child process of its own binary (`--serve-axum`),
//! so it has its own runtime and threads, as a real worker would. It binds
//! 127.0.0.1 on a free port and prints `listening on port N` once it accepts
//! connections. Each answer carries `connection`, the serial number (from 1)
//! of the TCP connection it was sent on.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::extract::ConnectInfo;
use axum::extract::connect_info::Connected;
use axum::routing::post;
use axum::serve::IncomingStream;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// The command-line flag that makes the bench binary serve instead.
pub(crate) const FLAG: &str = "--serve-axum";

/// Connections accepted so far.
static CONNECTIONS: AtomicU64 = AtomicU64::new(0);

/// The serial number of a connection, taken once when it is accepted.
#[derive(Clone, Copy)]
struct ConnectionNumber(u64);

impl Connected<IncomingStream<'_, TcpListener>> for ConnectionNumber {
    fn connect_info(_stream: IncomingStream<'_, TcpListener>) -> Self {
        Self(CONNECTIONS.fetch_add(1, Ordering::Relaxed) + 1)
    }
}

async fn submit(
    ConnectInfo(ConnectionNumber(connection)): ConnectInfo<ConnectionNumber>,
    Json(request): Json<Value>,
) -> Json<Value> {
    let mut fields: Vec<&String> = request
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, _)| key)
        .collect();
    fields.sort();
    Json(json!({"ok": true, "fields": fields, "connection": connection}))
}

/// Serves on one thread, as `examples/todo-task` does, until the process is killed.
pub(crate) fn serve() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            println!("listening on port {}", listener.local_addr()?.port());
            let app = axum::Router::new().route("/task/submit", post(submit));
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<ConnectionNumber>(),
            )
            .await?;
            Ok(())
        })
}
