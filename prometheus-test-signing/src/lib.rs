#![doc = include_str!("../README.md")]

mod base58;
mod canonical;
mod keypair;
mod signature;

pub use canonical::{CanonicalJsonError, canonical_json};
pub use keypair::{KeyError, KeyErrorKind, Keypair, load_keypair};
pub use signature::{SignatureError, create_signature, verify_signature};

/// The ed25519 signing key [`Keypair::signing_key`] and [`create_signature`] use.
pub use ed25519_dalek::SigningKey;
