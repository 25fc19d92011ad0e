//! Why a keypair could not be loaded or written; never the key material.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Why a keypair file could not be loaded or written.
///
/// The message names the file and the problem, never the key material.
///
/// ```
/// let err = prometheus_test_signing::load_keypair("/no/such/keypair.json").unwrap_err();
/// assert_eq!(err.to_string(), "keypair file /no/such/keypair.json: does not exist");
/// ```
#[derive(Debug)]
pub struct KeyError {
    path: PathBuf,
    kind: KeyErrorKind,
}

impl KeyError {
    /// The error `kind` about the keypair file at `path`, for code that
    /// reads or writes keypair files its own way.
    ///
    /// ```
    /// use prometheus_test_signing::{KeyError, KeyErrorKind};
    ///
    /// let err = KeyError::new("keys/id.json", KeyErrorKind::NotFound);
    /// assert_eq!(err.to_string(), "keypair file keys/id.json: does not exist");
    /// ```
    #[must_use]
    pub fn new(path: impl Into<PathBuf>, kind: KeyErrorKind) -> Self {
        Self {
            path: path.into(),
            kind,
        }
    }

    /// The keypair file concerned.
    ///
    /// ```
    /// let err = prometheus_test_signing::load_keypair("missing.json").unwrap_err();
    /// assert_eq!(err.path(), std::path::Path::new("missing.json"));
    /// ```
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What is wrong with it.
    ///
    /// ```
    /// let err = prometheus_test_signing::load_keypair("missing.json").unwrap_err();
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
/// let err = prometheus_test_signing::load_keypair(&path).unwrap_err();
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
