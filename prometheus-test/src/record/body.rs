//! Capturing a request or response body: text up to a limit, binary as its size.

use serde::{Deserialize, Serialize};

/// How much of each body a record keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CaptureLimits {
    /// Bodies longer than this many bytes keep their first bytes only (cut at
    /// a character boundary). 64 KiB by default.
    pub(crate) body_bytes: usize,
}

impl Default for CaptureLimits {
    fn default() -> Self {
        Self {
            body_bytes: 64 * 1024,
        }
    }
}

/// A body as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Body {
    /// No bytes.
    Empty,
    /// UTF-8 text (redacted), possibly cut.
    Text {
        /// The text kept.
        text: String,
        /// The body's full length in bytes.
        total_bytes: usize,
        /// Whether `text` is only the start of the body.
        truncated: bool,
    },
    /// Bytes that are not text: only their size and type are kept.
    Binary {
        /// The body's length in bytes.
        total_bytes: usize,
        /// The `Content-Type` header, if any.
        content_type: Option<String>,
    },
}

impl Body {
    /// Captures `bytes` sent or received with `content_type`.
    ///
    /// A body is binary when its content type is not a text type (`text/*`,
    /// JSON, XML, form data, JavaScript) or when its bytes are not UTF-8 text
    /// without NUL; a text body longer than `limits.body_bytes` is cut.
    pub(crate) fn capture(bytes: &[u8], content_type: Option<&str>, limits: CaptureLimits) -> Self {
        if bytes.is_empty() {
            return Self::Empty;
        }
        let binary = || Self::Binary {
            total_bytes: bytes.len(),
            content_type: content_type.map(str::to_owned),
        };
        if content_type.is_some_and(|ct| !is_text_type(ct)) || bytes.contains(&0) {
            return binary();
        }
        let truncated = bytes.len() > limits.body_bytes;
        let kept = &bytes[..bytes.len().min(limits.body_bytes)];
        let text = match std::str::from_utf8(kept) {
            Ok(text) => text,
            // A cut through a multi-byte character: keep what precedes it.
            Err(err) if truncated && err.error_len().is_none() => {
                std::str::from_utf8(&kept[..err.valid_up_to()]).unwrap_or_default()
            }
            Err(_) => return binary(),
        };
        Self::Text {
            text: text.to_owned(),
            total_bytes: bytes.len(),
            truncated,
        }
    }

    /// The text kept, if this is a text body.
    #[cfg_attr(not(test), expect(dead_code, reason = "read by tests"))]
    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            Self::Text { text, .. } => Some(text),
            _ => None,
        }
    }

    /// One line describing a body that is not shown as text, or the text.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Empty => "(empty body)".to_owned(),
            Self::Text {
                text,
                total_bytes,
                truncated,
            } => {
                if *truncated {
                    format!("{text}… ({total_bytes} bytes, cut)")
                } else {
                    text.clone()
                }
            }
            Self::Binary {
                total_bytes,
                content_type,
            } => format!(
                "(binary body, {total_bytes} bytes, {})",
                content_type.as_deref().unwrap_or("no content type")
            ),
        }
    }
}

/// Whether a `Content-Type` value names text.
fn is_text_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence.as_str(),
            "application/json"
                | "application/xml"
                | "application/javascript"
                | "application/x-www-form-urlencoded"
                | "application/x-ndjson"
                | "application/problem+json"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: CaptureLimits = CaptureLimits { body_bytes: 8 };

    #[test]
    fn text_under_the_limit_is_kept_whole() {
        let body = Body::capture(b"{\"a\":1}", Some("application/json"), SMALL);
        assert_eq!(
            body,
            Body::Text {
                text: "{\"a\":1}".into(),
                total_bytes: 7,
                truncated: false
            }
        );
    }

    #[test]
    fn long_text_is_cut_at_a_character_boundary() {
        // "ééééé" is 10 bytes; 8 bytes keep four characters.
        let body = Body::capture("ééééé".as_bytes(), None, SMALL);
        assert_eq!(
            body,
            Body::Text {
                text: "éééé".into(),
                total_bytes: 10,
                truncated: true
            }
        );
        let body = Body::capture("aéééé".as_bytes(), None, SMALL);
        assert_eq!(body.text(), Some("aééé"));
        assert!(body.describe().ends_with("(9 bytes, cut)"));
    }

    #[test]
    fn binary_is_size_and_type_only() {
        let png = Body::capture(b"\x89PNG\r\n", Some("image/png"), SMALL);
        assert_eq!(
            png,
            Body::Binary {
                total_bytes: 6,
                content_type: Some("image/png".into())
            }
        );
        assert_eq!(png.describe(), "(binary body, 6 bytes, image/png)");
        let invalid = Body::capture(&[0xff, 0xfe, b'a'], Some("text/plain"), SMALL);
        assert!(matches!(invalid, Body::Binary { total_bytes: 3, .. }));
        let nul = Body::capture(b"a\0b", None, SMALL);
        assert!(matches!(nul, Body::Binary { .. }));
        assert_eq!(
            Body::capture(b"", Some("image/png"), SMALL),
            Body::Empty,
            "no bytes is empty whatever the type"
        );
    }

    #[test]
    fn text_types_are_recognised_with_parameters() {
        assert!(is_text_type("application/json; charset=utf-8"));
        assert!(is_text_type("Text/HTML"));
        assert!(is_text_type("application/vnd.api+json"));
        assert!(!is_text_type("application/octet-stream"));
    }
}
