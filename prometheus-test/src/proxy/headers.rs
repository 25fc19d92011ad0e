//! Which headers cross the proxy: the end-to-end ones. The hop-by-hop ones
//! (RFC 9110 §7.6.1: `connection` and those it lists, `keep-alive`,
//! `proxy-*`, `te`, `trailer`, `transfer-encoding`, `upgrade`) are between a
//! client and the proxy, or the proxy and the upstream, only.

use http::HeaderMap;
use http::header::{HeaderName, HeaderValue};

/// Hop-by-hop headers, whatever `connection` lists.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// The end-to-end headers of `headers`, in order.
pub(super) fn end_to_end(headers: &HeaderMap) -> impl Iterator<Item = (&HeaderName, &HeaderValue)> {
    let listed: Vec<String> = headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty())
        .collect();
    headers.iter().filter(move |(name, _)| {
        let name = name.as_str();
        !HOP_BY_HOP.contains(&name) && !listed.iter().any(|listed| listed == name)
    })
}

/// `headers` as the handler sees them: names lower-case (as `http` keeps
/// them), values as text (bytes that are not UTF-8 replaced).
pub(super) fn as_text<'a>(
    headers: impl Iterator<Item = (&'a HeaderName, &'a HeaderValue)>,
) -> Vec<(String, String)> {
    headers
        .map(|(name, value)| {
            let value = match value.to_str() {
                Ok(text) => text.to_owned(),
                Err(_) => String::from_utf8_lossy(value.as_bytes()).into_owned(),
            };
            (name.as_str().to_owned(), value)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use http::HeaderMap;

    #[test]
    fn hop_by_hop_headers_and_those_connection_lists_are_left_out() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("host", "api.example.test"),
            ("connection", "keep-alive, X-Private"),
            ("x-private", "1"),
            ("keep-alive", "timeout=5"),
            ("proxy-authorization", "Basic eDp5"),
            ("proxy-connection", "keep-alive"),
            ("te", "trailers"),
            ("trailer", "x-sum"),
            ("transfer-encoding", "chunked"),
            ("upgrade", "h2c"),
            ("accept", "*/*"),
            ("x-api-key", "k"),
        ] {
            headers.append(name, value.parse().unwrap());
        }
        let kept = super::as_text(super::end_to_end(&headers));
        let expected = [
            ("host", "api.example.test"),
            ("accept", "*/*"),
            ("x-api-key", "k"),
        ]
        .map(|(name, value)| (name.to_owned(), value.to_owned()));
        assert_eq!(kept, expected);
    }
}
