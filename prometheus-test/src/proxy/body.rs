//! The bodies the proxy sends its clients: streamed (forwarded, canned) or
//! whole (its own short answers), and the error that cuts a body short.

use std::fmt;

use bytes::Bytes;
use futures_util::{Stream, StreamExt as _};
use http::{Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Full, StreamBody};
use hyper::body::Frame;

/// A response body of the proxy.
pub(super) type ProxyBody = UnsyncBoxBody<Bytes, Cut>;

/// Why a body stopped before its end; the connection is closed.
#[derive(Debug)]
pub(super) struct Cut(pub(super) String);

impl fmt::Display for Cut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Cut {}

/// A body sent piece by piece as `pieces` yields them.
pub(super) fn streamed(
    pieces: impl Stream<Item = Result<Bytes, Cut>> + Send + 'static,
) -> ProxyBody {
    StreamBody::new(pieces.map(|piece| piece.map(Frame::data))).boxed_unsync()
}

/// An empty body.
pub(super) fn empty() -> ProxyBody {
    Full::new(Bytes::new())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// The proxy's own answer: `status` with `text` (plain text).
pub(super) fn text_response(status: StatusCode, text: String) -> Response<ProxyBody> {
    let mut response = Response::new(
        Full::new(Bytes::from(text))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
