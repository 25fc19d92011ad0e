//! Solana-style keypair files: 64 integers, a 32-byte ed25519 seed then the public key.

mod error;
#[cfg(test)]
mod tests;

use std::fmt;
use std::io;
use std::path::Path;

use ed25519_dalek::SigningKey;
use serde::Serialize;

pub use error::{KeyError, KeyErrorKind};

use crate::{CanonicalJsonError, create_signature};

/// An ed25519 keypair, as a Koii node holds it.
///
/// `Debug` and `Display` show only the base58 public key, never the secret.
///
/// ```
/// let keypair = prometheus_test_signing::Keypair::from_seed([7; 32]);
/// assert_eq!(format!("{keypair}"), keypair.public_key());
/// assert!(!format!("{keypair:?}").contains("[7, 7"));
/// ```
#[derive(Clone)]
pub struct Keypair {
    signing: SigningKey,
    public_b58: String,
}

impl Keypair {
    /// The keypair whose ed25519 seed (the first half of a keypair file) is `seed`.
    ///
    /// ```
    /// let keypair = prometheus_test_signing::Keypair::from_seed([0; 32]);
    /// assert_eq!(keypair.public_key(), "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS");
    /// ```
    #[must_use]
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(&seed);
        let public_b58 = crate::base58::encode(signing.verifying_key().as_bytes());
        Self {
            signing,
            public_b58,
        }
    }

    /// The keypair a keypair file's text holds: a JSON array of 64 integers
    /// in `0..=255`, the 32-byte ed25519 seed then the 32-byte public key.
    ///
    /// This is [`load_keypair`] without the file: for key material that
    /// arrives another way (a CI secret in an environment variable, say).
    /// The error says what is wrong, never the values.
    ///
    /// ```
    /// use prometheus_test_signing::{KeyErrorKind, Keypair};
    ///
    /// let keypair = Keypair::from_seed([4; 32]);
    /// let text = keypair.to_keypair_file_json();
    /// let back = Keypair::from_keypair_file_json(&text).unwrap();
    /// assert_eq!(back.public_key(), keypair.public_key());
    ///
    /// let err = Keypair::from_keypair_file_json("[1, 2, 3]").unwrap_err();
    /// assert!(matches!(err, KeyErrorKind::WrongLength { found: 3 }));
    /// ```
    pub fn from_keypair_file_json(text: impl AsRef<[u8]>) -> Result<Self, KeyErrorKind> {
        parse_keypair_file(text.as_ref())
    }

    /// Signs `payload` Koii style; the same as
    /// [`create_signature`]`(self.signing_key(), payload)`.
    ///
    /// ```
    /// let keypair = prometheus_test_signing::Keypair::from_seed([1; 32]);
    /// let signed = keypair.sign(&serde_json::json!({"roundNumber": 1})).unwrap();
    /// assert!(prometheus_test_signing::verify_signature(&signed, keypair.public_key()).is_ok());
    /// ```
    pub fn sign<T: Serialize + ?Sized>(&self, payload: &T) -> Result<String, CanonicalJsonError> {
        create_signature(&self.signing, payload)
    }

    /// The ed25519 signing key, for [`create_signature`].
    ///
    /// ```
    /// let keypair = prometheus_test_signing::Keypair::from_seed([1; 32]);
    /// let signed = prometheus_test_signing::create_signature(keypair.signing_key(), &[1, 2]).unwrap();
    /// assert!(prometheus_test_signing::verify_signature(&signed, keypair.public_key()).is_ok());
    /// ```
    #[must_use]
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The public key in base58, as Koii shows it.
    ///
    /// ```
    /// let keypair = prometheus_test_signing::Keypair::from_seed([0; 32]);
    /// assert_eq!(keypair.public_key().len(), 44);
    /// ```
    #[must_use]
    pub fn public_key(&self) -> &str {
        &self.public_b58
    }

    /// The keypair file text, as `solana-keygen` writes it: `[n,n,...]`, 64 integers.
    ///
    /// This text holds the secret: write it only to a file only its owner can read.
    ///
    /// ```
    /// let keypair = prometheus_test_signing::Keypair::from_seed([9; 32]);
    /// let text = keypair.to_keypair_file_json();
    /// assert!(text.starts_with("[9,9,9,"));
    /// assert_eq!(text.split(',').count(), 64);
    /// ```
    #[must_use]
    pub fn to_keypair_file_json(&self) -> String {
        let bytes = self.signing.to_keypair_bytes();
        let mut text = String::with_capacity(64 * 4 + 2);
        text.push('[');
        for (i, byte) in bytes.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&byte.to_string());
        }
        text.push(']');
        text
    }
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keypair")
            .field("public_key", &self.public_b58)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.public_b58)
    }
}

/// Loads a Solana-style keypair file: a JSON array of 64 integers in `0..=255`,
/// the 32-byte ed25519 seed followed by the 32-byte public key.
///
/// The public half must be the key the seed derives (the Python original
/// ignores it; a mismatch here means a corrupt or hand-edited file).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("staking.json");
/// let keypair = prometheus_test_signing::Keypair::from_seed([3; 32]);
/// std::fs::write(&path, keypair.to_keypair_file_json()).unwrap();
///
/// let loaded = prometheus_test_signing::load_keypair(&path).unwrap();
/// assert_eq!(loaded.public_key(), keypair.public_key());
/// ```
pub fn load_keypair(path: impl AsRef<Path>) -> Result<Keypair, KeyError> {
    let path = path.as_ref();
    let text = std::fs::read(path).map_err(|err| {
        KeyError::new(
            path,
            if err.kind() == io::ErrorKind::NotFound {
                KeyErrorKind::NotFound
            } else {
                KeyErrorKind::Unreadable(err)
            },
        )
    })?;
    let parsed = parse_keypair_file(&text);
    drop(text);
    parsed.map_err(|kind| KeyError::new(path, kind))
}

/// Reads keypair file text; the error names the problem, never the values.
fn parse_keypair_file(text: &[u8]) -> Result<Keypair, KeyErrorKind> {
    // Parse into a `Value` first: serde_json's syntax errors carry only a
    // position, whereas typed deserialisation errors would quote the values.
    let value: serde_json::Value =
        serde_json::from_slice(text).map_err(|err| KeyErrorKind::NotJson {
            line: err.line(),
            column: err.column(),
        })?;
    let items = match &value {
        serde_json::Value::Array(items) => items,
        other => {
            return Err(KeyErrorKind::NotAnArray {
                found: json_type_name(other),
            });
        }
    };
    if items.len() != 64 {
        return Err(KeyErrorKind::WrongLength { found: items.len() });
    }
    let mut bytes = [0_u8; 64];
    for (index, (item, byte)) in items.iter().zip(bytes.iter_mut()).enumerate() {
        let number = match item {
            serde_json::Value::Number(n) if n.is_u64() || n.is_i64() => n,
            _ => return Err(KeyErrorKind::NotAnInteger { index }),
        };
        *byte = number
            .as_u64()
            .and_then(|n| u8::try_from(n).ok())
            .ok_or(KeyErrorKind::ByteOutOfRange { index })?;
    }
    drop(value);
    let mut seed = [0_u8; 32];
    seed.copy_from_slice(&bytes[..32]);
    let keypair = Keypair::from_seed(seed);
    let matches = keypair.signing.verifying_key().as_bytes()[..] == bytes[32..];
    seed.fill(0);
    bytes.fill(0);
    if matches {
        Ok(keypair)
    } else {
        Err(KeyErrorKind::PublicHalfMismatch)
    }
}

/// What a JSON value is, for error messages: "an array", "a string", ...
pub(crate) fn json_type_name(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}
