//! Keeping secrets out of records, by replacing them before anything is stored.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::Keypair;

/// Header names whose values are never recorded, whatever the suite says.
pub(crate) const ALWAYS_SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "x-auth-token",
];

/// Encoded forms (hex, base58, base64, byte lists) are searched for secrets of
/// at least this many bytes: shorter ones would match unrelated text.
const MIN_ENCODED_LEN: usize = 8;

/// The run's secrets, and how to take them out of any text.
///
/// A secret is replaced by `[redacted: LABEL]`, where the label says where it
/// came from (`env API_KEY`, `worker1 keypair`), in these forms: as given, as
/// it appears escaped in JSON or percent-encoded in a URL, and for secrets of
/// 8 bytes or more also as lower- and upper-case hex, base58, base64 (standard
/// and URL-safe, with and without padding) and, for byte secrets such as
/// seeds, as the decimal list a keypair file holds (`1,2,3` or `1, 2, 3`).
/// Longer forms are replaced first. Values of [`ALWAYS_SECRET_HEADERS`] and of
/// headers or JSON fields the suite names secret read `[redacted]`.
#[derive(Debug, Clone)]
pub(crate) struct Redactor {
    /// (form, label), longest form first.
    forms: Vec<(String, String)>,
    headers: BTreeSet<String>,
    fields: BTreeSet<String>,
}

impl Default for Redactor {
    fn default() -> Self {
        Self {
            forms: Vec::new(),
            headers: ALWAYS_SECRET_HEADERS
                .iter()
                .map(|name| (*name).to_owned())
                .collect(),
            fields: BTreeSet::new(),
        }
    }
}

impl Redactor {
    /// A redactor that knows no secret yet but the always-secret headers.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Adds a secret text, such as a mapped env var's value or
    /// `runner.secret("token", value)`.
    pub(crate) fn secret(&mut self, label: &str, value: &str) {
        if value.is_empty() {
            return;
        }
        self.push(label, value.to_owned());
        let mut escaped = String::new();
        crate::record::text::push_json_string_body(&mut escaped, value);
        self.push(label, escaped);
        self.push(label, percent_encode(value));
        if value.len() >= MIN_ENCODED_LEN {
            self.push_encodings(label, value.as_bytes());
        }
        self.sort();
    }

    /// Adds secret bytes, such as a keypair seed: they never appear raw in
    /// text, so only their encoded forms are searched.
    pub(crate) fn secret_bytes(&mut self, label: &str, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Ok(text) = std::str::from_utf8(bytes) {
            self.secret(label, text);
        }
        if bytes.len() >= MIN_ENCODED_LEN {
            self.push_encodings(label, bytes);
            let list: Vec<String> = bytes.iter().map(u8::to_string).collect();
            self.push(label, list.join(","));
            self.push(label, list.join(", "));
        }
        self.sort();
    }

    /// Adds a keypair's seed and its 64-byte secret key (seed ‖ public key).
    pub(crate) fn keypair(&mut self, label: &str, keypair: &Keypair) {
        let signing = keypair.signing_key();
        self.secret_bytes(label, &signing.to_bytes());
        self.secret_bytes(label, &signing.to_keypair_bytes());
    }

    /// Adds the credentials of a URI such as `mongodb://user:pass@host/db`:
    /// the password and the whole `user:pass`, as written and percent-decoded.
    pub(crate) fn uri_credentials(&mut self, label: &str, uri: &str) {
        let Some(userinfo) = userinfo(uri) else {
            return;
        };
        self.secret(label, userinfo);
        self.secret(label, &percent_decode(userinfo));
        if let Some((_, password)) = userinfo.split_once(':') {
            self.secret(label, password);
            self.secret(label, &percent_decode(password));
        }
    }

    /// Makes every value of header `name` (any case) read `[redacted]`.
    pub(crate) fn secret_header(&mut self, name: &str) {
        self.headers.insert(name.to_ascii_lowercase());
    }

    /// Makes the value of every JSON field called `name` read `[redacted]`.
    pub(crate) fn secret_field(&mut self, name: &str) {
        self.fields.insert(name.to_owned());
    }

    /// `text` with every secret replaced.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (form, label) in &self.forms {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), &format!("[redacted: {label}]"));
            }
        }
        out
    }

    /// Headers with secret ones' values replaced and the others redacted.
    pub(crate) fn redact_headers(&self, headers: &[(String, String)]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(name, value)| {
                let value = if self.headers.contains(&name.to_ascii_lowercase()) {
                    "[redacted]".to_owned()
                } else {
                    self.redact(value)
                };
                (self.redact(name), value)
            })
            .collect()
    }

    /// A body's text redacted: secret JSON fields' values replaced (the body
    /// is then rewritten as compact JSON), then every secret replaced.
    pub(crate) fn redact_body(&self, text: &str) -> String {
        if !self.fields.is_empty()
            && let Ok(mut value) = serde_json::from_str::<serde_json::Value>(text)
            && self.blank_fields(&mut value)
        {
            return self.redact(&value.to_string());
        }
        self.redact(text)
    }

    /// A JSON value with secret fields blanked and secrets replaced.
    pub(crate) fn redact_json(&self, value: &serde_json::Value) -> serde_json::Value {
        let mut value = value.clone();
        self.blank_fields(&mut value);
        redact_strings(self, &mut value);
        value
    }

    fn blank_fields(&self, value: &mut serde_json::Value) -> bool {
        let mut changed = false;
        match value {
            serde_json::Value::Object(map) => {
                for (key, field) in map.iter_mut() {
                    if self.fields.contains(key) {
                        *field = serde_json::Value::String("[redacted]".to_owned());
                        changed = true;
                    } else {
                        changed |= self.blank_fields(field);
                    }
                }
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    changed |= self.blank_fields(item);
                }
            }
            _ => {}
        }
        changed
    }

    fn push_encodings(&mut self, label: &str, bytes: &[u8]) {
        let hex = hex_lower(bytes);
        self.push(label, hex.to_ascii_uppercase());
        self.push(label, hex);
        self.push(label, bs58::encode(bytes).into_string());
        for (alphabet, pad) in [
            (STANDARD, true),
            (STANDARD, false),
            (URL_SAFE, true),
            (URL_SAFE, false),
        ] {
            self.push(label, base64(bytes, alphabet, pad));
        }
    }

    fn push(&mut self, label: &str, form: String) {
        if !form.is_empty() && !self.forms.iter().any(|(known, _)| *known == form) {
            self.forms.push((form, label.to_owned()));
        }
    }

    fn sort(&mut self) {
        self.forms
            .sort_by(|(a, _), (b, _)| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    }
}

fn redact_strings(redactor: &Redactor, value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) => *text = redactor.redact(text),
        serde_json::Value::Array(items) => {
            for item in items {
                redact_strings(redactor, item);
            }
        }
        serde_json::Value::Object(map) => {
            for field in map.values_mut() {
                redact_strings(redactor, field);
            }
        }
        _ => {}
    }
}

/// The `user:pass` of `scheme://user:pass@host…`, if there is one.
fn userinfo(uri: &str) -> Option<&str> {
    let rest = &uri[uri.find("://")? + 3..];
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (userinfo, _) = authority.rsplit_once('@')?;
    (!userinfo.is_empty()).then_some(userinfo)
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_lower(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn base64(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, byte)| n | u32::from(*byte) << (16 - 8 * i));
        let symbols = chunk.len() + 1;
        for i in 0..4 {
            if i < symbols {
                out.push(char::from(alphabet[(n >> (18 - 6 * i) & 63) as usize]));
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_4648_vectors() {
        let vectors = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base64(plain.as_bytes(), STANDARD, true), encoded);
            assert_eq!(
                base64(plain.as_bytes(), STANDARD, false),
                encoded.trim_end_matches('=')
            );
        }
        assert_eq!(base64(&[0xfb, 0xff], URL_SAFE, false), "-_8");
        assert_eq!(base64(&[0xfb, 0xff], STANDARD, false), "+/8");
    }

    #[test]
    fn a_secret_is_replaced_in_every_form() {
        let mut redactor = Redactor::new();
        redactor.secret("env API_KEY", "s3cr3t-token/42");
        let secret = b"s3cr3t-token/42";
        for form in [
            "s3cr3t-token/42".to_owned(),
            "s3cr3t-token%2F42".to_owned(),
            hex_lower(secret),
            hex_lower(secret).to_ascii_uppercase(),
            bs58::encode(secret).into_string(),
            base64(secret, STANDARD, true),
            base64(secret, URL_SAFE, false),
        ] {
            let text = format!("before {form} after");
            assert_eq!(
                redactor.redact(&text),
                "before [redacted: env API_KEY] after",
                "form {form}"
            );
        }
    }

    #[test]
    fn seeds_are_replaced_as_byte_lists() {
        let mut redactor = Redactor::new();
        let keypair = Keypair::from_seed([200; 32]);
        redactor.keypair("worker1 keypair", &keypair);
        let file = keypair.to_keypair_file_json();
        let redacted = redactor.redact(&file);
        assert!(!redacted.contains("200"), "{redacted}");
        assert!(redacted.contains("[redacted: worker1 keypair]"));
        // The public key alone is not a secret.
        assert_eq!(redactor.redact(keypair.public_key()), keypair.public_key());
    }

    #[test]
    fn uri_credentials_are_replaced_but_not_the_host() {
        let mut redactor = Redactor::new();
        redactor.uri_credentials(
            "MONGO_URI",
            "mongodb://admin:p%40ss-w0rd@127.0.0.1:27017/db",
        );
        assert_eq!(
            redactor.redact("connecting to mongodb://admin:p%40ss-w0rd@127.0.0.1:27017/db"),
            "connecting to mongodb://[redacted: MONGO_URI]@127.0.0.1:27017/db"
        );
        assert_eq!(
            redactor.redact("password p@ss-w0rd"),
            "password [redacted: MONGO_URI]"
        );
        let mut none = Redactor::new();
        none.uri_credentials("MONGO_URI", "mongodb://127.0.0.1:27017/db");
        assert!(none.forms.is_empty());
    }

    #[test]
    fn secret_headers_and_fields_are_blanked() {
        let mut redactor = Redactor::new();
        redactor.secret_header("X-Session");
        redactor.secret_field("password");
        let headers = redactor.redact_headers(&[
            ("Authorization".into(), "Bearer abc".into()),
            ("x-session".into(), "42".into()),
            ("accept".into(), "*/*".into()),
        ]);
        assert_eq!(
            headers,
            [
                ("Authorization".to_owned(), "[redacted]".to_owned()),
                ("x-session".to_owned(), "[redacted]".to_owned()),
                ("accept".to_owned(), "*/*".to_owned()),
            ]
        );
        assert_eq!(
            redactor.redact_body(r#"{"user":"ann","nested":[{"password":"hunter2"}]}"#),
            r#"{"user":"ann","nested":[{"password":"[redacted]"}]}"#
        );
        assert_eq!(redactor.redact_body("password=hunter2"), "password=hunter2");
    }

    #[test]
    fn short_secrets_are_replaced_raw_only() {
        let mut redactor = Redactor::new();
        redactor.secret("PIN", "4821");
        assert_eq!(
            redactor.redact("pin 4821, hex 34383231"),
            "pin [redacted: PIN], hex 34383231"
        );
        redactor.secret("EMPTY", "");
        assert_eq!(redactor.redact("anything"), "anything");
    }
}
