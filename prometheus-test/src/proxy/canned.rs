//! Sending a response the handler made ([`Reply::Respond`](super::Reply)):
//! each piece after its delay; chunked when there are several pieces or it
//! is an event stream, with a `content-length` otherwise.

use http::header::{CONTENT_LENGTH, HeaderName, HeaderValue, TRANSFER_ENCODING};
use http::{Response, StatusCode};

use super::body::{self, ProxyBody};
use super::handler::{Canned, Served};
use super::report::Report;

/// The response `canned` as it goes to the client; `report` hears of it.
pub(super) fn respond(canned: Canned, mut report: Report) -> Response<ProxyBody> {
    report.serving(Served::Responded);
    let Canned {
        status,
        headers,
        body: pieces,
    } = canned;
    let mut response = match head(status, &headers) {
        Ok(response) => response,
        Err(problem) => {
            let text = format!("prometheus-test proxy: the handler's canned response {problem}");
            report.finish(Some(text.clone()));
            return body::text_response(StatusCode::INTERNAL_SERVER_ERROR, text);
        }
    };
    let streamed = pieces.len() > 1 || is_event_stream(&headers);
    if !streamed {
        let length: usize = pieces.iter().map(|piece| piece.bytes.len()).sum();
        response
            .headers_mut()
            .insert(CONTENT_LENGTH, HeaderValue::from(length));
    }
    report.head(status, headers);
    if pieces.is_empty() {
        // The server never asks for an empty body.
        report.finish(None);
        return response.map(|()| body::empty());
    }
    let pieces = futures_util::stream::unfold(
        (pieces.into_iter(), report),
        |(mut pieces, mut report)| async move {
            let Some(piece) = pieces.next() else {
                report.finish(None);
                return None;
            };
            // A zero wait would still wait for the timer's next tick (1 ms).
            if !piece.after.is_zero() {
                tokio::time::sleep(piece.after).await;
            }
            report.piece(&piece.bytes);
            if pieces.len() == 0 {
                // The server does not ask for more once it has sent the
                // `content-length`.
                report.finish(None);
            }
            Some((Ok(piece.bytes), (pieces, report)))
        },
    );
    response.map(|()| body::streamed(pieces))
}

/// The response's status and headers, without a body yet; an error says
/// which of them is not valid.
fn head(status: u16, headers: &[(String, String)]) -> Result<Response<()>, String> {
    let mut response = Response::new(());
    *response.status_mut() = StatusCode::from_u16(status)
        .map_err(|_| format!("has the status {status}, not 100-999"))?;
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("has a header named {name:?}, not a valid name"))?;
        if name == CONTENT_LENGTH || name == TRANSFER_ENCODING {
            continue;
        }
        let value = HeaderValue::from_str(value)
            .map_err(|_| format!("has a header {name}: {value:?}, not a valid value"))?;
        response.headers_mut().append(name, value);
    }
    Ok(response)
}

fn is_event_stream(headers: &[(String, String)]) -> bool {
    headers.iter().any(|(name, value)| {
        name.eq_ignore_ascii_case("content-type")
            && value
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("text/event-stream")
    })
}
