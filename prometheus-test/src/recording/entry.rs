//! One recorded exchange as a cassette holds it, made from what the proxy
//! saw and turned back into the response replay sends.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::content::{JsonForm, Piece};
use super::headers::Headers;
use super::secrets::Unrecorded;
use crate::config::Pace;
use crate::proxy::{Canned, Chunk, Completed};

/// A request and the response it got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Entry {
    /// The worker that sent it: only its own requests are answered from it.
    pub(crate) client: String,
    pub(crate) request: RequestTape,
    pub(crate) response: ResponseTape,
    /// From the request's arrival to the response's end.
    pub(crate) duration_ms: u64,
}

/// A recorded request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestTape {
    pub(crate) method: String,
    pub(crate) url: String,
    pub(crate) headers: Headers,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) body: Option<Piece>,
}

/// A recorded response: a whole `body`, or the `chunks` of a stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResponseTape {
    pub(crate) status: u16,
    pub(crate) headers: Headers,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) body: Option<Piece>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) chunks: Vec<Piece>,
}

/// Response headers that are the proxy's to set, not recorded.
const PROXY_SET: &[&str] = &["content-length", "transfer-encoding"];

impl Entry {
    /// The entry for `exchange`, with unrecorded headers masked; why not,
    /// when it got no whole response.
    pub(crate) fn of(exchange: &Completed, unrecorded: &Unrecorded) -> Result<Self, String> {
        let response = match (&exchange.response, &exchange.error) {
            (_, Some(error)) => return Err(format!("not recorded: {error}")),
            (None, None) => return Err("not recorded: no response".to_owned()),
            (Some(response), None) => response,
        };
        let request = &exchange.request;
        let kept: Vec<(String, String)> = response
            .headers
            .iter()
            .filter(|(name, _)| !PROXY_SET.contains(&name.as_str()))
            .cloned()
            .collect();
        let streamed = response.body.len() > 1
            || response.headers.iter().any(|(name, value)| {
                name == "content-type" && value.starts_with("text/event-stream")
            });
        let piece = |chunk: &Chunk, json| Piece::of(&chunk.bytes, json).after(millis(chunk.after));
        let (body, chunks) = if streamed {
            let chunks = response.body.iter().map(|c| piece(c, JsonForm::Never));
            (None, chunks.collect())
        } else {
            let body = response
                .body
                .first()
                .map(|c| piece(c, JsonForm::ExactBytes));
            (body, Vec::new())
        };
        Ok(Self {
            client: request.client.clone(),
            request: RequestTape {
                method: request.method.clone(),
                url: request.url.clone(),
                headers: unrecorded.mask(&request.headers),
                body: (!request.body.is_empty()).then(|| Piece::of(&request.body, JsonForm::Value)),
            },
            response: ResponseTape {
                status: response.status,
                headers: unrecorded.mask(&kept),
                body,
                chunks,
            },
            duration_ms: millis(exchange.duration),
        })
    }

    /// The response replay sends, paced as `pace` says, without the
    /// unrecorded headers.
    pub(crate) fn canned(&self, pace: Pace, unrecorded: &Unrecorded) -> Result<Canned, String> {
        let response = &self.response;
        let headers = response
            .headers
            .0
            .iter()
            .filter(|(name, _)| !unrecorded.contains(name))
            .cloned()
            .collect();
        let body = response
            .body
            .iter()
            .chain(&response.chunks)
            .map(|piece| {
                let after = match pace {
                    Pace::Recorded => Duration::from_millis(piece.after_ms.unwrap_or(0)),
                    Pace::Instant => Duration::ZERO,
                };
                Ok(Chunk {
                    after,
                    bytes: piece.bytes()?,
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Canned {
            status: response.status,
            headers,
            body,
        })
    }

    /// `worker1 POST https://…`: which request this is, for messages.
    pub(crate) fn summary(&self) -> String {
        format!(
            "{} {} {}",
            self.client, self.request.method, self.request.url
        )
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
