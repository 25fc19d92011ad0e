//! Koii keys and payload signatures, byte-identical to the Python original.
//!
//! The signing itself (canonical JSON, signatures, keypair files) lives in
//! the `prometheus-test-signing` crate, which task servers use on their own;
//! it is re-exported here. This module adds what only a test run needs:
//!
//! - [`role`]: [`KeyRole`], a worker's staking or main key;
//! - [`variable`]: the keypair a workers.json `keypairs` variable holds (a
//!   file path, or the key itself), with errors that never show its value;
//! - [`generate`]: deterministic keypairs for workers without configured keys;
//! - [`own_signatures`]: the payloads signed here, so the recorder need not
//!   verify them again.

mod generate;
pub(crate) mod own_signatures;
mod role;
mod variable;

pub(crate) use generate::generated_keypair;
pub use prometheus_test_signing::{
    CanonicalJsonError, KeyError, KeyErrorKind, Keypair, SignatureError, SigningKey,
    canonical_json, create_signature, load_keypair, verify_signature,
};
pub use role::KeyRole;
pub(crate) use variable::keypair_from_variable;
