//! When a request is the one an entry recorded, and if not, what differs.
//!
//! Compared: method, scheme, host (without a default port), path, the query
//! as a multiset of parameters, the headers the suite names and the body
//! (JSON as values, so key order and spacing do not count; any other body
//! byte for byte). Left out: the headers never recorded, the headers and
//! query parameters the suite ignores, and the parts of a JSON body at the
//! pointers it ignores.

use std::collections::{BTreeMap, BTreeSet};

use percent_encoding::percent_decode_str;

use super::entry::RequestTape;
use super::secrets::Unrecorded;
use crate::proxy::Outbound;

/// Longest value shown in a difference, in characters.
const SHOWN: usize = 60;

/// What a request is compared on.
#[derive(Debug, Clone, Default)]
pub(crate) struct Rules {
    /// Headers compared (lower-case); `*` compares every header.
    pub(crate) match_headers: BTreeSet<String>,
    /// Headers never compared, even under `*` (lower-case).
    pub(crate) ignore_headers: BTreeSet<String>,
    /// Query parameters never compared.
    pub(crate) ignore_query: BTreeSet<String>,
    /// Parts of a JSON body never compared: JSON pointers, a `*` segment
    /// standing for every key or index.
    pub(crate) ignore_body: Vec<Vec<String>>,
}

/// A request reduced to what is compared.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct View {
    method: String,
    scheme: String,
    host: String,
    path: String,
    query: BTreeMap<String, Vec<String>>,
    headers: BTreeMap<String, Vec<String>>,
    body: Body,
}

#[derive(Debug, Clone, PartialEq)]
enum Body {
    Empty,
    Json(serde_json::Value),
    Bytes(Vec<u8>),
}

impl Rules {
    /// Rules from the suite's lists; `ignore_body` holds JSON pointers.
    pub(crate) fn new(
        match_headers: &[String],
        ignore_headers: &[String],
        ignore_query: &[String],
        ignore_body: &[String],
    ) -> Self {
        let lower = |names: &[String]| names.iter().map(|n| n.to_ascii_lowercase()).collect();
        Self {
            match_headers: lower(match_headers),
            ignore_headers: lower(ignore_headers),
            ignore_query: ignore_query.iter().cloned().collect(),
            ignore_body: ignore_body.iter().map(|p| segments(p)).collect(),
        }
    }

    /// What `request` is compared on.
    pub(crate) fn outbound(&self, request: &Outbound, unrecorded: &Unrecorded) -> View {
        let body = if request.body.is_empty() {
            Body::Empty
        } else {
            match serde_json::from_slice::<serde_json::Value>(&request.body) {
                Ok(json) if json.is_object() || json.is_array() => Body::Json(json),
                _ => Body::Bytes(request.body.to_vec()),
            }
        };
        self.view(
            &request.method,
            &request.url,
            &request.headers,
            body,
            unrecorded,
        )
    }

    /// What the request `recorded` is compared on.
    pub(crate) fn recorded(
        &self,
        recorded: &RequestTape,
        unrecorded: &Unrecorded,
    ) -> Result<View, String> {
        let body = match &recorded.body {
            None => Body::Empty,
            Some(piece) => match &piece.json {
                Some(json) => Body::Json(json.clone()),
                None => Body::Bytes(piece.bytes()?.to_vec()),
            },
        };
        Ok(self.view(
            &recorded.method,
            &recorded.url,
            &recorded.headers.0,
            body,
            unrecorded,
        ))
    }

    fn view(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        mut body: Body,
        unrecorded: &Unrecorded,
    ) -> View {
        let (scheme, host, path, query) = split_url(url);
        let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in query {
            if !self.ignore_query.contains(&name) {
                params.entry(name).or_default().push(value);
            }
        }
        for values in params.values_mut() {
            values.sort();
        }
        let every = self.match_headers.contains("*");
        let mut compared: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in headers {
            let name = name.to_ascii_lowercase();
            if (every || self.match_headers.contains(&name))
                && !self.ignore_headers.contains(&name)
                && !unrecorded.contains(&name)
            {
                compared.entry(name).or_default().push(value.clone());
            }
        }
        if let Body::Json(json) = &mut body {
            for pointer in &self.ignore_body {
                remove(json, pointer);
            }
        }
        View {
            method: method.to_ascii_uppercase(),
            scheme,
            host,
            path,
            query: params,
            headers: compared,
            body,
        }
    }
}

impl View {
    /// Whether both go to the same method, host and path: what makes a
    /// recorded request the closest before any other difference.
    pub(crate) fn same_endpoint(&self, other: &Self) -> bool {
        (&self.method, &self.host, &self.path) == (&other.method, &other.host, &other.path)
    }
}

/// What differs between `sent` and `recorded`, one line each, in the order
/// method, scheme, host, path, query, headers, body.
pub(crate) fn differences(sent: &View, recorded: &View) -> Vec<String> {
    let mut out = Vec::new();
    for (what, a, b) in [
        ("method", &sent.method, &recorded.method),
        ("scheme", &sent.scheme, &recorded.scheme),
        ("host", &sent.host, &recorded.host),
        ("path", &sent.path, &recorded.path),
    ] {
        if a != b {
            out.push(format!("{what}: {a} ≠ recorded {b}"));
        }
    }
    listed("query", &sent.query, &recorded.query, &mut out);
    listed("header", &sent.headers, &recorded.headers, &mut out);
    match (&sent.body, &recorded.body) {
        (Body::Json(a), Body::Json(b)) => json_differences(a, b, &mut String::new(), &mut out),
        (Body::Bytes(a), Body::Bytes(b)) if a != b => {
            let at = a
                .iter()
                .zip(b)
                .position(|(x, y)| x != y)
                .unwrap_or(a.len().min(b.len()));
            out.push(format!(
                "body: {} bytes ≠ recorded {} bytes, first difference at byte {at}",
                a.len(),
                b.len()
            ));
        }
        (a, b) if a != b => out.push(format!("body: {} ≠ recorded {}", kind(a), kind(b))),
        _ => {}
    }
    out
}

fn kind(body: &Body) -> String {
    match body {
        Body::Empty => "empty".to_owned(),
        Body::Json(_) => "JSON".to_owned(),
        Body::Bytes(bytes) => format!("{} bytes, not JSON", bytes.len()),
    }
}

/// Differences of named values (query parameters, headers).
fn listed(
    what: &str,
    sent: &BTreeMap<String, Vec<String>>,
    recorded: &BTreeMap<String, Vec<String>>,
    out: &mut Vec<String>,
) {
    let names: BTreeSet<&String> = sent.keys().chain(recorded.keys()).collect();
    for name in names {
        match (sent.get(name), recorded.get(name)) {
            (Some(a), None) => out.push(format!("{what} {name}: {} not recorded", values(a))),
            (None, Some(b)) => out.push(format!("{what} {name} missing (recorded {})", values(b))),
            (Some(a), Some(b)) if a != b => {
                out.push(format!(
                    "{what} {name}: {} ≠ recorded {}",
                    values(a),
                    values(b)
                ));
            }
            _ => {}
        }
    }
}

fn values(values: &[String]) -> String {
    match values {
        [one] => shown(&serde_json::Value::from(one.as_str())),
        many => shown(&serde_json::Value::from(many.to_vec())),
    }
}

/// Differences of two JSON values, each at its JSON pointer.
fn json_differences(
    sent: &serde_json::Value,
    recorded: &serde_json::Value,
    pointer: &mut String,
    out: &mut Vec<String>,
) {
    use serde_json::Value;
    let at = |pointer: &str| {
        if pointer.is_empty() {
            "body".to_owned()
        } else {
            format!("body {pointer}")
        }
    };
    let mut child = |key: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<String>| {
        let length = pointer.len();
        pointer.push('/');
        pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
        match (a, b) {
            (Some(a), Some(b)) => json_differences(a, b, pointer, out),
            (Some(a), None) => out.push(format!("{}: {} not recorded", at(pointer), shown(a))),
            (None, Some(b)) => out.push(format!("{} missing (recorded {})", at(pointer), shown(b))),
            (None, None) => {}
        }
        pointer.truncate(length);
    };
    match (sent, recorded) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, recorded) in b {
                child(key, a.get(key), Some(recorded), out);
            }
            for (key, sent) in a.iter().filter(|(key, _)| !b.contains_key(*key)) {
                child(key, Some(sent), None, out);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for index in 0..a.len().max(b.len()) {
                child(&index.to_string(), a.get(index), b.get(index), out);
            }
        }
        (a, b) if a != b => out.push(format!(
            "{}: {} ≠ recorded {}",
            at(pointer),
            shown(a),
            shown(b)
        )),
        _ => {}
    }
}

/// A value as compact JSON, cut after [`SHOWN`] characters.
fn shown(value: &serde_json::Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// A JSON pointer's unescaped segments (`""` is the whole body).
fn segments(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|segment| segment.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// Removes what `pointer` names from `value`: a field is removed, an array
/// item is nulled (so the items after it keep their indices), the whole
/// body becomes `null`.
fn remove(value: &mut serde_json::Value, pointer: &[String]) {
    use serde_json::Value;
    let Some((first, rest)) = pointer.split_first() else {
        *value = Value::Null;
        return;
    };
    match value {
        Value::Object(map) => {
            let keys: Vec<String> = if first == "*" {
                map.keys().cloned().collect()
            } else {
                map.contains_key(first)
                    .then(|| first.clone())
                    .into_iter()
                    .collect()
            };
            for key in keys {
                if rest.is_empty() {
                    map.remove(&key);
                } else if let Some(field) = map.get_mut(&key) {
                    remove(field, rest);
                }
            }
        }
        Value::Array(items) => {
            let indices: Vec<usize> = if first == "*" {
                (0..items.len()).collect()
            } else {
                first
                    .parse()
                    .into_iter()
                    .filter(|i| *i < items.len())
                    .collect()
            };
            for index in indices {
                remove(&mut items[index], rest);
            }
        }
        _ => {}
    }
}

/// `(scheme, host, path, query pairs)` of `url`, the scheme and host
/// lower-case and the host without its scheme's default port.
fn split_url(url: &str) -> (String, String, String, Vec<(String, String)>) {
    let url = url.split('#').next().unwrap_or_default();
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let scheme = scheme.to_ascii_lowercase();
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let mut host = rest[..end].to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => Some(":443"),
        "http" => Some(":80"),
        _ => None,
    };
    if let Some(port) = default_port
        && host.ends_with(port)
    {
        host.truncate(host.len() - port.len());
    }
    let (path, query) = rest[end..].split_once('?').unwrap_or((&rest[end..], ""));
    let path = if path.is_empty() { "/" } else { path };
    let decode = |text: &str| {
        percent_decode_str(&text.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    let pairs = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect();
    (scheme, host, path.to_owned(), pairs)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn view(rules: &Rules, url: &str, headers: &[(&str, &str)], body: &str) -> View {
        let request = Outbound {
            client: "worker1".into(),
            method: "post".into(),
            url: url.into(),
            headers: headers
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            body: Bytes::copy_from_slice(body.as_bytes()),
        };
        rules.outbound(&request, &Unrecorded::new(&["x-session".into()]))
    }

    #[test]
    fn ignored_parts_secret_headers_default_ports_and_query_order_do_not_count() {
        let rules = Rules::new(
            &["*".into()],
            &["Anthropic-Version".into()],
            &["ts".into()],
            &["/messages/*/id".into(), "/n~1a".into()],
        );
        let a = view(
            &rules,
            "HTTPS://API.example.com:443/v1?q=a+b&ts=1&q=c",
            &[
                ("anthropic-version", "1"),
                ("x-session", "s1"),
                ("accept", "*/*"),
            ],
            r#"{"messages":[{"id":1,"t":"x"},{"id":2}],"n/a":0}"#,
        );
        let b = view(
            &rules,
            "https://api.example.com/v1?q=c&q=a%20b&ts=2",
            &[
                ("anthropic-version", "2"),
                ("x-session", "s2"),
                ("accept", "*/*"),
            ],
            r#"{"messages":[{"t":"x","id":3},{"id":4}]}"#,
        );
        let c = view(&rules, "https://api.example.com/v1?q=c&q=a", &[], "raw");
        assert_eq!(
            (differences(&a, &b), differences(&a, &c)),
            (
                Vec::<String>::new(),
                vec![
                    r#"query q: ["a b","c"] ≠ recorded ["a","c"]"#.to_owned(),
                    r#"header accept: "*/*" not recorded"#.to_owned(),
                    "body: JSON ≠ recorded 3 bytes, not JSON".to_owned(),
                ]
            )
        );
    }
}
