//! Koii keys and payload signatures, byte-identical to the Python original.
//!
//! - [`keypair`]: Solana-style keypair files and [`Keypair`].
//! - [`canonical`]: `json.dumps(payload, sort_keys=True)` as a serde serializer.
//! - [`signature`]: `create_signature` / `verify_signature`.
//! - [`generate`]: deterministic keypairs for workers without configured keys.

mod canonical;
#[cfg_attr(
    not(test),
    expect(
        dead_code,
        reason = "the worker setup will call generated_keypair for workers without keys"
    )
)]
mod generate;
mod keypair;
mod signature;

pub use canonical::{CanonicalJsonError, canonical_json};
#[expect(
    unused_imports,
    reason = "used by the worker setup once it generates missing keys"
)]
pub(crate) use generate::{KeyRole, generated_keypair};
pub use keypair::{KeyError, KeyErrorKind, Keypair, load_keypair};
pub use signature::{SignatureError, create_signature, verify_signature};

#[cfg(test)]
mod tests;
