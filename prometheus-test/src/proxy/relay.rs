//! Forwarding a request upstream ([`Reply::Forward`](super::Reply)) and
//! passing the response back piece by piece as it arrives, shaped as the
//! handler said: a delay first, a bandwidth, a cut.

use std::time::Duration;

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, Response, StatusCode};

use super::body::{self, Cut, ProxyBody};
use super::handler::{Served, Shape};
use super::headers;
use super::report::Report;

/// The header of the proxy's 502 when it could not connect to the
/// upstream (refused, no route): the runner's client then sends the
/// request directly, so that a step sees a worker that is down as its own
/// client would, a refused connection.
pub(crate) const UNREACHABLE_HEADER: &str = "x-prometheus-test-unreachable";

/// How long a body that fails waits first, so that the pieces before it
/// reach the client's socket.
const FLUSH_PAUSE: Duration = Duration::from_millis(10);

/// Sends the request (`parts`, `body`) to `url` through `client`, and
/// answers with the upstream's response; an upstream that cannot be
/// reached is answered with a 502 saying why (marked with
/// [`UNREACHABLE_HEADER`] when it refused the
/// connection).
pub(super) async fn forward(
    client: &reqwest::Client,
    parts: &Parts,
    url: &str,
    body: Bytes,
    shape: Shape,
    mut report: Report,
) -> Response<ProxyBody> {
    report.serving(Served::Forwarded);
    if !shape.delay.is_zero() {
        tokio::time::sleep(shape.delay).await;
    }
    let mut request = client
        .request(parts.method.clone(), url)
        .headers(upstream_headers(&parts.headers));
    if !body.is_empty() || parts.headers.contains_key(http::header::CONTENT_LENGTH) {
        request = request.body(body);
    }
    let upstream = match request.send().await {
        Ok(upstream) => upstream,
        Err(error) => {
            let why = format!(
                "cannot reach the upstream of {url}: {}",
                error_chain(&error)
            );
            report.finish(Some(why.clone()));
            let mut response = body::text_response(
                StatusCode::BAD_GATEWAY,
                format!("prometheus-test proxy: {why}\n"),
            );
            if error.is_connect() {
                response.headers_mut().insert(
                    UNREACHABLE_HEADER,
                    http::HeaderValue::from_static("connect"),
                );
            }
            return response;
        }
    };
    let mut response = Response::new(());
    *response.status_mut() = upstream.status();
    for (name, value) in headers::end_to_end(upstream.headers()) {
        response.headers_mut().append(name, value.clone());
    }
    report.head(
        upstream.status().as_u16(),
        headers::as_text(response.headers().iter()),
    );
    if upstream.content_length() == Some(0) {
        // No body (HEAD, 204, 304, or empty): the server never asks for one.
        report.finish(None);
        return response.map(|()| body::empty());
    }
    let relay = Relay {
        length: upstream.content_length(),
        upstream,
        shape,
        sent: 0,
        held: Bytes::new(),
        cut: false,
        ended: false,
        report,
    };
    response.map(|()| body::streamed(futures_util::stream::unfold(relay, Relay::next)))
}

/// The headers sent upstream: the client's end-to-end ones but `host` and
/// `content-length`, which the upstream client sets from the URL and body.
/// The client's end-to-end headers as sent upstream: not `host` and
/// `content-length` (the upstream client sets them), nor `accept-encoding`:
/// the upstream then answers uncompressed, which every client reads, and
/// the cassettes and reports show text rather than compressed bytes.
fn upstream_headers(client: &HeaderMap) -> HeaderMap {
    let mut sent = HeaderMap::with_capacity(client.len());
    for (name, value) in headers::end_to_end(client) {
        if name != http::header::HOST
            && name != http::header::CONTENT_LENGTH
            && name != http::header::ACCEPT_ENCODING
        {
            sent.append(name, value.clone());
        }
    }
    sent
}

/// A forwarded response's body on its way to the client.
struct Relay {
    /// The body's length, when the upstream said it.
    length: Option<u64>,
    upstream: reqwest::Response,
    shape: Shape,
    /// Bytes of the body passed on so far.
    sent: u64,
    /// What is left of the last piece when pacing splits it.
    held: Bytes,
    /// The cut is due: the next step ends the body.
    cut: bool,
    /// The body ended with an error.
    ended: bool,
    report: Report,
}

impl Relay {
    /// The next piece for the client, `None` at the body's end.
    async fn next(mut self) -> Option<(Result<Bytes, Cut>, Self)> {
        if self.ended {
            return None;
        }
        if self.cut && self.held.is_empty() {
            let why = self.cut_message();
            return Some(self.stop(why).await);
        }
        let mut piece = if self.held.is_empty() {
            match self.upstream.chunk().await {
                Ok(Some(piece)) => piece,
                Ok(None) => {
                    self.report.finish(None);
                    return None;
                }
                Err(error) => {
                    let why = format!("the upstream's response broke off: {}", error_chain(&error));
                    return Some(self.stop(why).await);
                }
            }
        } else {
            std::mem::take(&mut self.held)
        };
        if let Some(limit) = self.shape.cut_after {
            let left = limit.saturating_sub(self.sent);
            if left == 0 {
                let why = self.cut_message();
                return Some(self.stop(why).await);
            }
            if len(&piece) > left {
                piece.truncate(usize::try_from(left).unwrap_or(usize::MAX));
                self.cut = true;
            }
        }
        if let Some(rate) = self.shape.bytes_per_second {
            let rate = rate.max(1);
            // Pieces of a tenth of a second's worth, so the pace is even.
            let most = usize::try_from(rate / 10).unwrap_or(usize::MAX).max(1);
            if piece.len() > most {
                self.held = piece.split_off(most);
            }
            tokio::time::sleep(time_to_send(len(&piece), rate)).await;
        }
        self.sent += len(&piece);
        self.report.piece(&piece);
        if self.length == Some(self.sent) {
            // The server does not ask for more once it has sent the length.
            self.report.finish(None);
        }
        Some((Ok(piece), self))
    }

    fn cut_message(&self) -> String {
        format!(
            "the response was cut after {} bytes of its body, as the handler asked",
            self.sent
        )
    }

    /// Ends the body with `why`: the connection is closed. First a pause,
    /// in which the server writes out what it holds of the pieces before
    /// (it drops them when the body fails).
    async fn stop(mut self, why: String) -> (Result<Bytes, Cut>, Self) {
        self.report.finish(Some(why.clone()));
        self.ended = true;
        tokio::time::sleep(FLUSH_PAUSE).await;
        (Err(Cut(why)), self)
    }
}

fn len(piece: &Bytes) -> u64 {
    u64::try_from(piece.len()).unwrap_or(u64::MAX)
}

/// How long `bytes` take at `rate` bytes a second.
fn time_to_send(bytes: u64, rate: u64) -> Duration {
    let nanos = u128::from(bytes) * 1_000_000_000 / u128::from(rate);
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// `error` and its causes, `: `-separated (a cause its error already
/// quotes is said once).
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}
