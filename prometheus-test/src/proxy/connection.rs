//! One client connection: HTTP/1.1 requests for whole URLs, or a
//! `CONNECT host:port` after which the proxy speaks TLS as that host and
//! serves the requests inside (several, kept alive).

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::body::{self, ProxyBody};
use super::client::{Connection, Origin, ResetSwitch};
use super::exchange;
use super::shared::Shared;

/// A tunnel a client asked for, opened once the `200` has gone out.
struct TunnelAsked {
    upgrade: OnUpgrade,
    host: String,
    port: u16,
}

/// Serves the connection `stream` of `client` until it closes.
pub(super) async fn serve(shared: Arc<Shared>, client: Arc<str>, stream: TcpStream) {
    // Each piece of a stream goes out at once, not when the last is acked.
    let _ = stream.set_nodelay(true);
    let reset = ResetSwitch::default();
    let stream = ClientStream {
        inner: stream,
        reset: reset.clone(),
    };
    let asked: Arc<Mutex<Option<TunnelAsked>>> = Arc::default();
    let direct = Arc::new(Connection {
        client: client.clone(),
        origin: Origin::Direct,
        reset: reset.clone(),
    });
    let service = {
        let (shared, asked) = (shared.clone(), asked.clone());
        service_fn(move |request: Request<Incoming>| {
            let (shared, direct, asked) = (shared.clone(), direct.clone(), asked.clone());
            async move {
                if request.method() == Method::CONNECT {
                    Ok(open_tunnel(request, &asked))
                } else {
                    exchange::serve(shared, direct, request).await
                }
            }
        })
    };
    let served = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades()
        .await;
    let asked = asked.lock().map(|mut asked| asked.take()).ok().flatten();
    let (Ok(()), Some(asked)) = (served, asked) else {
        return;
    };
    let Ok(upgraded) = asked.upgrade.await else {
        return;
    };
    // A client that does not trust the suite's CA, or is not speaking TLS,
    // fails the handshake: it sees its own error.
    let Ok(tls) = shared.tls.accept(TokioIo::new(upgraded), &asked.host).await else {
        return;
    };
    let inside = Arc::new(Connection {
        client,
        origin: Origin::Tunnel {
            host: asked.host,
            port: asked.port,
        },
        reset,
    });
    let service =
        service_fn(move |request| exchange::serve(shared.clone(), inside.clone(), request));
    let _ = http1::Builder::new()
        .serve_connection(TokioIo::new(tls), service)
        .await;
}

/// Answers `CONNECT host:port` with `200`, and keeps what opens the tunnel
/// in `asked`.
fn open_tunnel(
    mut request: Request<Incoming>,
    asked: &Mutex<Option<TunnelAsked>>,
) -> Response<ProxyBody> {
    let Some(authority) = request.uri().authority() else {
        return body::text_response(
            StatusCode::BAD_REQUEST,
            "CONNECT needs a host:port\n".to_owned(),
        );
    };
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = authority.port_u16().unwrap_or(443);
    let upgrade = hyper::upgrade::on(&mut request);
    if let Ok(mut asked) = asked.lock() {
        *asked = Some(TunnelAsked {
            upgrade,
            host,
            port,
        });
    }
    Response::new(body::empty())
}

/// The client's TCP stream, reset when closed if its [`ResetSwitch`] was
/// tripped.
struct ClientStream {
    inner: TcpStream,
    reset: ResetSwitch,
}

impl Drop for ClientStream {
    fn drop(&mut self) {
        if self.reset.tripped() {
            let _ = self.inner.set_zero_linger();
        }
    }
}

impl AsyncRead for ClientStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ClientStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
