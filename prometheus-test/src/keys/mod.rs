//! Koii keys and payload signatures, byte-identical to the Python original.
//!
//! (Skeleton: the keys helper fills this module in.)

use std::path::Path;

use ed25519_dalek::SigningKey;
use serde::Serialize;

/// An ed25519 keypair loaded from a Solana-style keypair file.
pub struct Keypair {
    signing: SigningKey,
    public_b58: String,
}

impl Keypair {
    /// The ed25519 signing key.
    #[must_use]
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing
    }

    /// The public key in base58.
    #[must_use]
    pub fn public_key(&self) -> &str {
        &self.public_b58
    }
}

impl std::fmt::Debug for Keypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keypair")
            .field("public_key", &self.public_b58)
            .finish_non_exhaustive()
    }
}

/// Loads a keypair file (stub).
pub fn load_keypair(path: impl AsRef<Path>) -> anyhow::Result<Keypair> {
    let _ = path;
    anyhow::bail!("not implemented yet")
}

/// Canonical JSON (stub).
pub fn canonical_json<T: Serialize + ?Sized>(value: &T) -> anyhow::Result<String> {
    let _ = value;
    anyhow::bail!("not implemented yet")
}

/// Signs a payload (stub).
pub fn create_signature<T: Serialize + ?Sized>(key: &SigningKey, payload: &T) -> anyhow::Result<String> {
    let _ = (key, payload);
    anyhow::bail!("not implemented yet")
}

/// Verifies a signed payload (stub).
pub fn verify_signature(signed_b58: &str, public_key_b58: &str) -> anyhow::Result<serde_json::Value> {
    let _ = (signed_b58, public_key_b58);
    anyhow::bail!("not implemented yet")
}
