//! Telling the handler how an exchange ended, exactly once: when it ends, or
//! when it is dropped (the client went away, the proxy stopped).

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use super::handler::{Chunk, Completed, Outbound, Seen, Served};
use super::shared::Shared;

/// Where an exchange is, for what its report says if it is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The handler is deciding.
    Deciding,
    /// Answered by [`Reply::Hang`](super::Reply::Hang): nothing is sent.
    Hanging,
    /// A response (forwarded or canned) is on its way.
    Answering,
}

/// One exchange, reported to the handler when it ends or is dropped.
pub(super) struct Report {
    shared: Arc<Shared>,
    /// Taken when reported.
    request: Option<Outbound>,
    started: Instant,
    phase: Phase,
    served: Served,
    response: Option<Seen>,
    /// When the last piece (or the head) went to the client.
    last: Instant,
}

impl Report {
    pub(super) fn new(shared: Arc<Shared>, request: Outbound, started: Instant) -> Self {
        Self {
            shared,
            request: Some(request),
            started,
            phase: Phase::Deciding,
            // What a request is reported as if its client leaves before the
            // handler decides: it got no answer.
            served: Served::Hung,
            response: None,
            last: started,
        }
    }

    /// The request, as the handler is asked about it.
    pub(super) fn request(&self) -> &Outbound {
        self.request
            .as_ref()
            .expect("the request is there until reported")
    }

    /// The handler decided: `served` is what the proxy does.
    pub(super) fn serving(&mut self, served: Served) {
        self.served = served;
        self.phase = if served == Served::Hung {
            Phase::Hanging
        } else {
            Phase::Answering
        };
    }

    /// The response's head went to the client.
    pub(super) fn head(&mut self, status: u16, headers: Vec<(String, String)>) {
        self.last = Instant::now();
        self.response = Some(Seen {
            status,
            headers,
            body: Vec::new(),
        });
    }

    /// A piece of the body goes to the client now.
    pub(super) fn piece(&mut self, bytes: &Bytes) {
        let now = Instant::now();
        if let Some(response) = &mut self.response {
            response.body.push(Chunk {
                after: now - self.last,
                bytes: bytes.clone(),
            });
        }
        self.last = now;
    }

    /// The exchange ended; `error` says why no (whole) response came.
    pub(super) fn finish(&mut self, error: Option<String>) {
        let Some(request) = self.request.take() else {
            return;
        };
        self.shared.handler.completed(Completed {
            request,
            served: self.served,
            response: self.response.take(),
            error,
            duration: self.started.elapsed(),
        });
    }
}

impl Drop for Report {
    fn drop(&mut self) {
        if self.request.is_none() {
            return;
        }
        let who = if self.shared.is_stopping() {
            "the proxy stopped"
        } else {
            "the client closed the connection"
        };
        let error = match self.phase {
            Phase::Deciding => Some(format!("{who} before the handler decided the answer")),
            Phase::Hanging => None,
            Phase::Answering => Some(format!("{who} before the response ended")),
        };
        self.finish(error);
    }
}
