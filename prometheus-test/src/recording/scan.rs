//! The last check before a cassette is written: does an entry still hold a
//! value the run knows as secret, and where.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::content::Piece;
use super::entry::Entry;
use super::headers::Headers;
use super::secrets::Redact;

/// Where in `entry` a secret `redact` knows is written, if anywhere (the
/// first place found): `request url`, `response header x-foo`,
/// `request body /messages/0/content`, `response chunk 3`, …
pub(crate) fn find_secret(entry: &Entry, redact: &Redact) -> Option<String> {
    let holds = |text: &str| redact(text) != text;
    if holds(&entry.client) {
        return Some("client".to_owned());
    }
    if holds(&entry.request.url) {
        return Some("request url".to_owned());
    }
    let in_headers = |side: &str, headers: &Headers| {
        headers.0.iter().find_map(|(name, value)| {
            if holds(name) {
                Some(format!("{side} header name"))
            } else {
                holds(value).then(|| format!("{side} header {name}"))
            }
        })
    };
    let in_piece = |place: String, piece: &Piece| -> Option<String> {
        if let Some(json) = &piece.json {
            return in_json(json, &mut String::new(), &holds).map(|at| {
                if at.is_empty() {
                    place.clone()
                } else {
                    format!("{place} {at}")
                }
            });
        }
        let text = piece.text.clone().or_else(|| {
            let base64 = piece.base64.as_deref()?;
            let decoded = STANDARD.decode(base64).unwrap_or_default();
            Some(format!("{base64}\n{}", String::from_utf8_lossy(&decoded)))
        });
        text.is_some_and(|text| holds(&text)).then_some(place)
    };
    let response = &entry.response;
    in_headers("request", &entry.request.headers)
        .or_else(|| {
            let body = entry.request.body.as_ref()?;
            in_piece("request body".to_owned(), body)
        })
        .or_else(|| in_headers("response", &response.headers))
        .or_else(|| in_piece("response body".to_owned(), response.body.as_ref()?))
        .or_else(|| {
            response
                .chunks
                .iter()
                .enumerate()
                .find_map(|(at, chunk)| in_piece(format!("response chunk {}", at + 1), chunk))
        })
}

/// The JSON pointer of the first key or string in `value` holding a secret.
fn in_json(
    value: &serde_json::Value,
    pointer: &mut String,
    holds: &dyn Fn(&str) -> bool,
) -> Option<String> {
    match value {
        serde_json::Value::String(text) => holds(text).then(|| pointer.clone()),
        serde_json::Value::Array(items) => items.iter().enumerate().find_map(|(at, item)| {
            let length = pointer.len();
            let _ = write!(pointer, "/{at}");
            let found = in_json(item, pointer, holds);
            pointer.truncate(length);
            found
        }),
        serde_json::Value::Object(map) => map.iter().find_map(|(key, field)| {
            let length = pointer.len();
            pointer.push('/');
            pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
            let found = if holds(key) {
                Some(format!("{pointer} (the key)"))
            } else {
                in_json(field, pointer, holds)
            };
            pointer.truncate(length);
            found
        }),
        _ => None,
    }
}
