//! Koii keys and payload signatures, byte-identical to the Python original.
//!
//! - [`keypair`]: Solana-style keypair files and [`Keypair`].
//! - [`canonical`]: `json.dumps(payload, sort_keys=True)` as a serde serializer.
//! - [`signature`]: `create_signature` / `verify_signature`.
//! - [`base58`]: fast base58, as Solana and Python's `base58` write it.
//! - [`generate`]: deterministic keypairs for workers without configured keys.

mod base58;
mod canonical;
mod generate;
mod keypair;
mod signature;

pub use canonical::{CanonicalJsonError, canonical_json};
pub(crate) use generate::{KeyRole, generated_keypair};
pub use keypair::{KeyError, KeyErrorKind, Keypair, load_keypair};
pub use signature::{SignatureError, create_signature, verify_signature};

#[cfg(test)]
mod tests;
