//! Keeping secrets out of records, by replacing them before anything is stored.

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::Keypair;

/// Header names whose values are never recorded, whatever the suite says.
pub(crate) const ALWAYS_SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "x-auth-token",
];

/// What a URL component escapes: all but RFC 3986's unreserved characters.
const URL_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

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
    /// The labels of secrets whose value looks like a name (see
    /// [`mark_name_like`](Self::mark_name_like)).
    name_like: BTreeSet<String>,
    /// The labels of the secrets it has replaced so far.
    replaced: Replaced,
}

/// The labels a redactor has replaced: kept behind a lock, as redacting
/// takes the redactor shared.
#[derive(Debug, Default)]
struct Replaced(Mutex<BTreeSet<String>>);

impl Clone for Replaced {
    fn clone(&self) -> Self {
        Self(Mutex::new(self.labels()))
    }
}

impl Replaced {
    fn labels(&self) -> BTreeSet<String> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn add(&self, label: &str) {
        let mut labels = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !labels.contains(label) {
            labels.insert(label.to_owned());
        }
    }
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
            name_like: BTreeSet::new(),
            replaced: Replaced::default(),
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
        self.push(label, utf8_percent_encode(value, URL_COMPONENT).to_string());
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
        self.secret(label, &percent_decode_str(userinfo).decode_utf8_lossy());
        if let Some((_, password)) = userinfo.split_once(':') {
            self.secret(label, password);
            self.secret(label, &percent_decode_str(password).decode_utf8_lossy());
        }
    }

    /// Makes every value of header `name` (any case) read `[redacted]`.
    pub(crate) fn secret_header(&mut self, name: &str) {
        self.headers.insert(name.to_ascii_lowercase());
    }

    /// The headers whose values read `[redacted]`, lower-case: the
    /// [`ALWAYS_SECRET_HEADERS`] and those the suite named.
    pub(crate) fn secret_headers(&self) -> Vec<String> {
        self.headers.iter().cloned().collect()
    }

    /// Makes the value of every JSON field called `name` read `[redacted]`.
    pub(crate) fn secret_field(&mut self, name: &str) {
        self.fields.insert(name.to_owned());
    }

    /// How many forms of secrets it searches for: unchanged by a secret it
    /// already knew.
    pub(crate) fn form_count(&self) -> usize {
        self.forms.len()
    }

    /// Notes that the secret labelled `label` has a value that looks like a
    /// name rather than a secret: a hint for the person running the suite.
    pub(crate) fn mark_name_like(&mut self, label: &str) {
        self.name_like.insert(label.to_owned());
    }

    /// Whether the secret labelled `label` was marked as looking like a name.
    pub(crate) fn is_name_like(&self, label: &str) -> bool {
        self.name_like.contains(label)
    }

    /// The labels of the secrets replaced in some text so far, sorted.
    pub(crate) fn replaced_labels(&self) -> BTreeSet<String> {
        self.replaced.labels()
    }

    /// `text` with every secret replaced.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (form, label) in &self.forms {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), &format!("[redacted: {label}]"));
                self.replaced.add(label);
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
        self.push(label, hex::encode_upper(bytes));
        self.push(label, hex::encode(bytes));
        self.push(label, bs58::encode(bytes).into_string());
        for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
            self.push(label, engine.encode(bytes));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_replaced_in_every_form() {
        let mut redactor = Redactor::new();
        redactor.secret("env API_KEY", "s3cr3t-token/42");
        for form in [
            "s3cr3t-token/42",
            "s3cr3t-token%2F42",
            "7333637233742d746f6b656e2f3432",
            "7333637233742D746F6B656E2F3432",
            "4Dw39SC2KoaNu8P9314fB",
            "czNjcjN0LXRva2VuLzQy",
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
    fn secret_bytes_are_replaced_in_both_base64_alphabets_with_and_without_padding() {
        let mut redactor = Redactor::new();
        redactor.secret_bytes("seed", &[0xfb, 0xff, 0xfe, 1, 2, 3, 4, 5, 0xfb, 0xff]);
        for form in [
            "+//+AQIDBAX7/w==",
            "+//+AQIDBAX7/w",
            "-__-AQIDBAX7_w==",
            "-__-AQIDBAX7_w",
            "fbfffe0102030405fbff",
            "FBFFFE0102030405FBFF",
            "FA9tmf1q8EpWnr",
            "251,255,254,1,2,3,4,5,251,255",
            "251, 255, 254, 1, 2, 3, 4, 5, 251, 255",
        ] {
            assert_eq!(
                redactor.redact(&format!("<{form}>")),
                "<[redacted: seed]>",
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
    fn the_secret_headers_a_suite_named_are_listed_lower_case() {
        let mut redactor = Redactor::new();
        redactor.secret_header("X-Session");
        let headers = redactor.secret_headers();
        assert!(headers.contains(&"x-session".to_owned()), "{headers:?}");
        assert!(headers.contains(&"authorization".to_owned()), "{headers:?}");
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
    fn it_keeps_the_labels_of_the_secrets_it_replaced() {
        let mut redactor = Redactor::new();
        redactor.secret("env PEER", "worker2");
        redactor.secret("env API_KEY", "s3cr3t-token/42");
        redactor.mark_name_like("env PEER");
        assert_eq!(redactor.replaced_labels(), BTreeSet::new());
        assert_eq!(redactor.redact("to worker2"), "to [redacted: env PEER]");
        assert_eq!(redactor.redact("nothing secret"), "nothing secret");
        assert_eq!(
            (
                redactor.replaced_labels().into_iter().collect::<Vec<_>>(),
                redactor.is_name_like("env PEER"),
                redactor.is_name_like("env API_KEY"),
            ),
            (vec!["env PEER".to_owned()], true, false)
        );
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
