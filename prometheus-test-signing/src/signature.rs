//! Koii payload signatures: `base58(ed25519 signature ++ canonical JSON bytes)`.

use std::fmt;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use serde::Serialize;

use crate::base58;
use crate::canonical::{CanonicalJsonError, canonical_json};

/// Length of an ed25519 signature in bytes.
const SIGNATURE_LEN: usize = 64;

/// Signs `payload` as the Python original's `create_signature` does.
///
/// The payload is written as canonical JSON (see
/// [`canonical_json`]), signed with ed25519, and the
/// result is `base58(signature (64 bytes) ++ the JSON bytes)`: the signed
/// message carries its payload.
///
/// ```
/// let keypair = prometheus_test_signing::Keypair::from_seed([5; 32]);
/// let payload = serde_json::json!({"taskId": "task-1", "roundNumber": 1});
/// let signed = prometheus_test_signing::create_signature(keypair.signing_key(), &payload).unwrap();
/// let back = prometheus_test_signing::verify_signature(&signed, keypair.public_key()).unwrap();
/// assert_eq!(back, payload);
/// ```
pub fn create_signature<T: Serialize + ?Sized>(
    key: &SigningKey,
    payload: &T,
) -> Result<String, CanonicalJsonError> {
    let canonical = canonical_json(payload)?;
    let signature = key.sign(canonical.as_bytes());
    let mut combined = Vec::with_capacity(SIGNATURE_LEN + canonical.len());
    combined.extend_from_slice(&signature.to_bytes());
    combined.extend_from_slice(canonical.as_bytes());
    Ok(base58::encode(&combined))
}

/// Checks a signed payload made by [`create_signature`] (or by a Koii node)
/// against `public_key_b58`, and returns the payload it carries.
///
/// The signature is checked with ed25519's strict rules (canonical `S`, no
/// small-order keys or `R`), as libsodium, which `PyNaCl` wraps, checks it.
///
/// Numbers come back as `serde_json` reads them: integers beyond 64 bits
/// become floats unless `serde_json`'s `arbitrary_precision` feature is on.
///
/// ```
/// let keypair = prometheus_test_signing::Keypair::from_seed([5; 32]);
/// let signed = prometheus_test_signing::create_signature(keypair.signing_key(), &["ok"]).unwrap();
/// assert_eq!(
///     prometheus_test_signing::verify_signature(&signed, keypair.public_key()).unwrap(),
///     serde_json::json!(["ok"]),
/// );
///
/// let stranger = prometheus_test_signing::Keypair::from_seed([6; 32]);
/// let err = prometheus_test_signing::verify_signature(&signed, stranger.public_key()).unwrap_err();
/// assert!(err.to_string().contains("does not match"));
/// ```
pub fn verify_signature(
    signed_b58: &str,
    public_key_b58: &str,
) -> Result<serde_json::Value, SignatureError> {
    let public_key = decode_public_key(public_key_b58)?;
    let signed = base58::decode(signed_b58).map_err(|err| SignatureError::NotBase58 {
        position: err.index,
    })?;
    if signed.len() < SIGNATURE_LEN {
        return Err(SignatureError::TooShort { len: signed.len() });
    }
    let (signature, message) = signed.split_at(SIGNATURE_LEN);
    let signature = Signature::from_slice(signature).map_err(|_| SignatureError::Mismatch)?;
    public_key
        .verify_strict(message, &signature)
        .map_err(|_| SignatureError::Mismatch)?;
    let text = std::str::from_utf8(message).map_err(|_| SignatureError::PayloadNotUtf8)?;
    serde_json::from_str(text).map_err(|err| SignatureError::PayloadNotJson {
        line: err.line(),
        column: err.column(),
    })
}

fn decode_public_key(public_key_b58: &str) -> Result<VerifyingKey, SignatureError> {
    let bad = |reason| SignatureError::InvalidPublicKey { reason };
    let bytes = base58::decode(public_key_b58).map_err(|_| bad("it is not base58"))?;
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| bad("it does not decode to 32 bytes"))?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| bad("it is not a point on the ed25519 curve"))
}

/// Why [`verify_signature`] rejected a signed payload.
///
/// ```
/// let keypair = prometheus_test_signing::Keypair::from_seed([5; 32]);
/// let err = prometheus_test_signing::verify_signature("0OIl", keypair.public_key()).unwrap_err();
/// assert_eq!(err.to_string(), "signed payload is not base58 (bad character at byte 0)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signed payload is not base58 text.
    NotBase58 {
        /// Byte offset of the first character outside the base58 alphabet.
        position: usize,
    },
    /// The decoded bytes are too short to hold a 64-byte signature.
    TooShort {
        /// How many bytes there are.
        len: usize,
    },
    /// The public key is not a base58 ed25519 public key.
    InvalidPublicKey {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The signature is not the public key's signature of the embedded payload.
    Mismatch,
    /// The signed payload is not UTF-8 text.
    PayloadNotUtf8,
    /// The signed payload is not JSON `serde_json` can read (`NaN` and
    /// `Infinity`, which Python writes, are among what it cannot).
    PayloadNotJson {
        /// 1-based line of the first error.
        line: usize,
        /// 1-based column of the first error.
        column: usize,
    },
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotBase58 { position } => write!(
                f,
                "signed payload is not base58 (bad character at byte {position})"
            ),
            Self::TooShort { len } => write!(
                f,
                "signed payload is {len} bytes long; it must hold a {SIGNATURE_LEN}-byte signature and the payload"
            ),
            Self::InvalidPublicKey { reason } => {
                write!(f, "public key is not a base58 ed25519 public key: {reason}")
            }
            Self::Mismatch => f.write_str(
                "signature does not match: the payload was not signed by this public key, or was altered",
            ),
            Self::PayloadNotUtf8 => f.write_str("signed payload is not UTF-8 text"),
            Self::PayloadNotJson { line, column } => write!(
                f,
                "signed payload is not JSON that serde_json reads (error at line {line}, column {column})"
            ),
        }
    }
}

impl std::error::Error for SignatureError {}
