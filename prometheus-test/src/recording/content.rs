//! A body or a piece of one as a cassette holds it: JSON as a JSON value, text
//! as text, anything else as base64, so a reviewer reads what was sent.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

/// A body, or a piece of a streamed one, with its delay when it is a
/// response's. Exactly one of `json`, `text` and `base64` is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Piece {
    /// Milliseconds after the previous piece (the first: after the
    /// response head).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) after_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) json: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) base64: Option<String>,
}

/// How a body is written when it is JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonForm {
    /// As a value whenever it parses as an object or array: a request body,
    /// which is only ever compared, never sent again.
    Value,
    /// As a value only when writing the value compactly gives back the very
    /// bytes (a response body, which replay sends again); as text otherwise.
    ExactBytes,
    /// Never: the pieces of a stream are text or base64.
    Never,
}

impl Piece {
    /// `bytes` in the most readable form that keeps them.
    pub(crate) fn of(bytes: &[u8], json: JsonForm) -> Self {
        if json != JsonForm::Never
            && let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes)
            && (value.is_object() || value.is_array())
            && (json == JsonForm::Value || serde_json::to_vec(&value).is_ok_and(|v| v == bytes))
        {
            return Self {
                json: Some(value),
                ..Self::default()
            };
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => Self {
                text: Some(text.to_owned()),
                ..Self::default()
            },
            Err(_) => Self {
                base64: Some(STANDARD.encode(bytes)),
                ..Self::default()
            },
        }
    }

    /// The piece with its delay.
    pub(crate) fn after(mut self, after_ms: u64) -> Self {
        self.after_ms = Some(after_ms);
        self
    }

    /// The bytes it stands for (JSON written compactly).
    pub(crate) fn bytes(&self) -> Result<Bytes, String> {
        match (&self.json, &self.text, &self.base64) {
            (Some(json), None, None) => Ok(Bytes::from(
                serde_json::to_vec(json).map_err(|e| e.to_string())?,
            )),
            (None, Some(text), None) => Ok(Bytes::from(text.clone())),
            (None, None, Some(base64)) => STANDARD
                .decode(base64)
                .map(Bytes::from)
                .map_err(|e| format!("base64: {e}")),
            _ => Err("a body holds exactly one of `json`, `text` and `base64`".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(piece: &Piece) -> String {
        serde_json::to_string(piece).unwrap()
    }

    #[test]
    fn json_is_a_value_text_is_text_and_binary_is_base64() {
        assert_eq!(
            [
                written(&Piece::of(br#"{"b": 1, "a": [true]}"#, JsonForm::Value)),
                written(&Piece::of(b"plain text\n", JsonForm::Value)),
                written(&Piece::of(&[0, 159, 146, 150], JsonForm::Value)),
                written(&Piece::of(b"\"a JSON string\"", JsonForm::Value)),
            ],
            [
                r#"{"json":{"b":1,"a":[true]}}"#,
                r#"{"text":"plain text\n"}"#,
                r#"{"base64":"AJ+Slg=="}"#,
                r#"{"text":"\"a JSON string\""}"#,
            ]
        );
    }

    #[test]
    fn a_response_is_json_only_when_its_bytes_come_back_whole() {
        let compact = br#"{"id":"msg_1","n":1.5}"#;
        let spaced = br#"{"id": "msg_1"}"#;
        let exact = Piece::of(compact, JsonForm::ExactBytes);
        let kept_as_text = Piece::of(spaced, JsonForm::ExactBytes);
        assert_eq!(
            (
                exact.json.is_some(),
                exact.bytes().unwrap(),
                kept_as_text.text.as_deref(),
                kept_as_text.bytes().unwrap(),
                Piece::of(compact, JsonForm::Never).text.is_some(),
            ),
            (
                true,
                Bytes::from_static(compact),
                Some(r#"{"id": "msg_1"}"#),
                Bytes::from_static(spaced),
                true,
            )
        );
    }

    #[test]
    fn a_piece_with_two_forms_or_none_is_refused() {
        let both = Piece {
            text: Some("a".into()),
            base64: Some("YQ==".into()),
            ..Piece::default()
        };
        assert_eq!(
            (both.bytes(), Piece::default().bytes()),
            (
                Err("a body holds exactly one of `json`, `text` and `base64`".to_owned()),
                Err("a body holds exactly one of `json`, `text` and `base64`".to_owned()),
            )
        );
    }
}
