//! Solana-style keypair files: 64 integers, a 32-byte ed25519 seed then the public key.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;

/// An ed25519 keypair, as a Koii node holds it.
///
/// `Debug` and `Display` show only the base58 public key, never the secret.
///
/// ```
/// let keypair = prometheus_test::Keypair::from_seed([7; 32]);
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
    /// let keypair = prometheus_test::Keypair::from_seed([0; 32]);
    /// assert_eq!(keypair.public_key(), "4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS");
    /// ```
    #[must_use]
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let signing = SigningKey::from_bytes(&seed);
        let public_b58 = super::base58::encode(signing.verifying_key().as_bytes());
        Self {
            signing,
            public_b58,
        }
    }

    /// The ed25519 signing key, for [`create_signature`](crate::create_signature).
    ///
    /// ```
    /// let keypair = prometheus_test::Keypair::from_seed([1; 32]);
    /// let signed = prometheus_test::create_signature(keypair.signing_key(), &[1, 2]).unwrap();
    /// assert!(prometheus_test::verify_signature(&signed, keypair.public_key()).is_ok());
    /// ```
    #[must_use]
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The public key in base58, as Koii shows it.
    ///
    /// ```
    /// let keypair = prometheus_test::Keypair::from_seed([0; 32]);
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
    /// let keypair = prometheus_test::Keypair::from_seed([9; 32]);
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
/// let keypair = prometheus_test::Keypair::from_seed([3; 32]);
/// std::fs::write(&path, keypair.to_keypair_file_json()).unwrap();
///
/// let loaded = prometheus_test::load_keypair(&path).unwrap();
/// assert_eq!(loaded.public_key(), keypair.public_key());
/// ```
pub fn load_keypair(path: impl AsRef<Path>) -> Result<Keypair, KeyError> {
    let path = path.as_ref();
    let fail = |kind| KeyError::new(path, kind);
    let text = std::fs::read(path).map_err(|err| {
        fail(if err.kind() == io::ErrorKind::NotFound {
            KeyErrorKind::NotFound
        } else {
            KeyErrorKind::Unreadable(err)
        })
    })?;
    // Parse into a `Value` first: serde_json's syntax errors carry only a
    // position, whereas typed deserialisation errors would quote the values.
    let value: serde_json::Value = serde_json::from_slice(&text).map_err(|err| {
        fail(KeyErrorKind::NotJson {
            line: err.line(),
            column: err.column(),
        })
    })?;
    drop(text);
    let items = match &value {
        serde_json::Value::Array(items) => items,
        other => {
            return Err(fail(KeyErrorKind::NotAnArray {
                found: json_type_name(other),
            }));
        }
    };
    if items.len() != 64 {
        return Err(fail(KeyErrorKind::WrongLength { found: items.len() }));
    }
    let mut bytes = [0_u8; 64];
    for (index, (item, byte)) in items.iter().zip(bytes.iter_mut()).enumerate() {
        let number = match item {
            serde_json::Value::Number(n) if n.is_u64() || n.is_i64() => n,
            _ => return Err(fail(KeyErrorKind::NotAnInteger { index })),
        };
        *byte = number
            .as_u64()
            .and_then(|n| u8::try_from(n).ok())
            .ok_or_else(|| fail(KeyErrorKind::ByteOutOfRange { index }))?;
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
        Err(fail(KeyErrorKind::PublicHalfMismatch))
    }
}

fn json_type_name(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// Why a keypair file could not be loaded or written.
///
/// The message names the file and the problem, never the key material.
///
/// ```
/// let err = prometheus_test::load_keypair("/no/such/keypair.json").unwrap_err();
/// assert_eq!(err.to_string(), "keypair file /no/such/keypair.json: does not exist");
/// ```
#[derive(Debug)]
pub struct KeyError {
    path: PathBuf,
    kind: KeyErrorKind,
}

impl KeyError {
    pub(crate) fn new(path: &Path, kind: KeyErrorKind) -> Self {
        Self {
            path: path.to_path_buf(),
            kind,
        }
    }

    /// The keypair file concerned.
    ///
    /// ```
    /// let err = prometheus_test::load_keypair("missing.json").unwrap_err();
    /// assert_eq!(err.path(), std::path::Path::new("missing.json"));
    /// ```
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What is wrong with it.
    ///
    /// ```
    /// let err = prometheus_test::load_keypair("missing.json").unwrap_err();
    /// assert_eq!(err.kind().to_string(), "does not exist");
    /// ```
    #[must_use]
    pub fn kind(&self) -> &KeyErrorKind {
        &self.kind
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "keypair file {}: {}", self.path.display(), self.kind)
    }
}

impl std::error::Error for KeyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            KeyErrorKind::Unreadable(err) | KeyErrorKind::Unwritable(err) => Some(err),
            _ => None,
        }
    }
}

/// The problem a [`KeyError`] reports.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("short.json");
/// std::fs::write(&path, "[1, 2, 3]").unwrap();
/// let err = prometheus_test::load_keypair(&path).unwrap_err();
/// assert_eq!(err.kind().to_string(), "holds 3 numbers; a keypair file holds 64");
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum KeyErrorKind {
    /// The file does not exist.
    NotFound,
    /// The file exists but could not be read.
    Unreadable(io::Error),
    /// The file is not valid JSON; the position of the first error.
    NotJson {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// The JSON is not an array.
    NotAnArray {
        /// What it is instead ("an object", "a string", ...).
        found: &'static str,
    },
    /// The array does not hold 64 elements.
    WrongLength {
        /// How many it holds.
        found: usize,
    },
    /// An element is not an integer.
    NotAnInteger {
        /// 0-based position of the element.
        index: usize,
    },
    /// An element is an integer outside `0..=255`.
    ByteOutOfRange {
        /// 0-based position of the element.
        index: usize,
    },
    /// The last 32 bytes are not the public key the first 32 derive.
    PublicHalfMismatch,
    /// A worker name that cannot be part of a file name.
    UnusableWorkerName {
        /// The worker name.
        worker: String,
    },
    /// A generated keypair file could not be written.
    Unwritable(io::Error),
}

impl fmt::Display for KeyErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound => f.write_str("does not exist"),
            Self::Unreadable(err) => write!(f, "cannot be read: {err}"),
            Self::NotJson { line, column } => {
                write!(
                    f,
                    "is not valid JSON (error at line {line}, column {column})"
                )
            }
            Self::NotAnArray { found } => {
                write!(f, "holds {found}; expected a JSON array of 64 integers")
            }
            Self::WrongLength { found } => {
                write!(f, "holds {found} numbers; a keypair file holds 64")
            }
            Self::NotAnInteger { index } => {
                write!(f, "element {index} is not an integer (expected 0..=255)")
            }
            Self::ByteOutOfRange { index } => {
                write!(f, "element {index} is outside 0..=255")
            }
            Self::PublicHalfMismatch => f.write_str(
                "public half does not match the seed (the last 32 bytes must be the public key \
                 derived from the first 32)",
            ),
            Self::UnusableWorkerName { worker } => write!(
                f,
                "worker name {worker:?} cannot be used in a file name \
                 (use letters, digits, '-', '_' and '.', not starting with '.')"
            ),
            Self::Unwritable(err) => write!(f, "cannot be written: {err}"),
        }
    }
}
