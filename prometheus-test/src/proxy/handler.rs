//! What the proxy asks of the layer above it, and tells it: the one seam
//! between moving bytes (the proxy) and deciding what a request gets
//! (recording and replay, faults). A handler sees each request a worker
//! sends to the outside world whole, decides how it is answered, and hears
//! how each exchange ended.

use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;

/// A request a client of the proxy (a worker) sent, as it asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outbound {
    /// Who sent it: the name the listener it came to was opened for
    /// (`worker1`), the `from` of the link `worker1->api.anthropic.com`.
    pub(crate) client: String,
    /// `GET`, `POST`, …
    pub(crate) method: String,
    /// The whole URL the client asked for, scheme and host as it named them
    /// (`https://api.anthropic.com/v1/messages?beta=1`), whatever address
    /// the proxy sends it to.
    pub(crate) url: String,
    /// The end-to-end headers in the order sent, names lower-case; the
    /// hop-by-hop ones (`connection`, `proxy-*`, `transfer-encoding`, …) are
    /// left out.
    pub(crate) headers: Vec<(String, String)>,
    /// The whole request body.
    pub(crate) body: Bytes,
}

/// How a request is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    /// Sent upstream; the response streams back to the client as it
    /// arrives, shaped as `Shape` says.
    Forward(Shape),
    /// Answered with this response, never sent upstream.
    Respond(Canned),
    /// The client's connection is closed without an answer (a reset).
    Reset,
    /// The connection stays open and no answer ever comes (a timeout on the
    /// client's side), until the client gives up or the proxy stops.
    Hang,
}

/// How a forwarded response is passed on: as it comes, by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Shape {
    /// Wait this long before sending the request upstream.
    pub(crate) delay: Duration,
    /// Pass on at most this many bytes a second of the response body.
    pub(crate) bytes_per_second: Option<u64>,
    /// Close the connection after this many bytes of the response body
    /// (a response cut short).
    pub(crate) cut_after: Option<u64>,
}

/// A response the handler makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Canned {
    pub(crate) status: u16,
    /// Headers as sent (names lower-case); `content-length` and
    /// `transfer-encoding` are the proxy's to set.
    pub(crate) headers: Vec<(String, String)>,
    /// The body in the pieces it is sent in: one for a plain body, one per
    /// event of a stream, each after its delay.
    pub(crate) body: Vec<Chunk>,
}

/// A piece of a response body, and when it comes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Chunk {
    /// After the previous piece (the first: after the response head).
    pub(crate) after: Duration,
    pub(crate) bytes: Bytes,
}

/// How an exchange ended, told to the handler once it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Completed {
    pub(crate) request: Outbound,
    /// How the proxy answered.
    pub(crate) served: Served,
    /// The response the client got (from upstream or canned), as far as it
    /// went: status, headers, the body in the pieces it arrived in with
    /// their times.
    pub(crate) response: Option<Seen>,
    /// Why no (whole) response came: the upstream's error, the client gone.
    pub(crate) error: Option<String>,
    /// From the request's arrival to the exchange's end.
    pub(crate) duration: Duration,
}

/// What the proxy did with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Served {
    Forwarded,
    Responded,
    Reset,
    Hung,
}

/// A response as it went to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seen {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<Chunk>,
}

/// The layer that decides what each request gets (recording, faults), and
/// hears how it went.
pub(crate) trait Handler: Send + Sync + 'static {
    /// How `request` is answered. May take its time (a fault's delay).
    fn decide<'a>(&'a self, request: &'a Outbound) -> BoxFuture<'a, Reply>;

    /// `exchange` ended (answered, failed, cut or abandoned).
    fn completed(&self, exchange: Completed);
}
