//! The signed payloads this process made with a worker's key, remembered so
//! that the recorder names their signer without verifying them again.
//!
//! Verifying an ed25519 signature costs ~50 signings, and in the unoptimised
//! build `cargo test` makes, about 10 ms: once per recorded request, that was
//! most of the harness's time between steps. A text this process signed with
//! a key is valid for that key and, ed25519 being what it is, for no other, so
//! knowing who signed it gives the verification's answer.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};

/// How many signed texts are remembered; the oldest are forgotten first
/// (a forgotten one is verified as any other).
const CAPACITY: usize = 1024;

/// Signed texts and their keys, the oldest forgotten past `capacity`.
struct Remembered {
    capacity: usize,
    signer_of: HashMap<String, String>,
    order: VecDeque<String>,
}

impl Remembered {
    fn new(capacity: usize) -> Self {
        Self {
            capacity,
            signer_of: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    fn remember(&mut self, signed: &str, public_key: &str) {
        if self
            .signer_of
            .insert(signed.to_owned(), public_key.to_owned())
            .is_some()
        {
            return;
        }
        self.order.push_back(signed.to_owned());
        if self.order.len() > self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.signer_of.remove(&oldest);
        }
    }

    fn signer_of(&self, signed: &str) -> Option<String> {
        self.signer_of.get(signed).cloned()
    }
}

static REMEMBERED: Mutex<Option<Remembered>> = Mutex::new(None);

/// Notes that `signed` (base58 of signature and payload) was made here with
/// the key whose base58 public key is `public_key`.
pub(crate) fn remember(signed: &str, public_key: &str) {
    let mut guard = REMEMBERED.lock().unwrap_or_else(PoisonError::into_inner);
    guard
        .get_or_insert_with(|| Remembered::new(CAPACITY))
        .remember(signed, public_key);
}

/// The public key `signed` was made with here, if it was.
pub(crate) fn signer_of(signed: &str) -> Option<String> {
    let guard = REMEMBERED.lock().unwrap_or_else(PoisonError::into_inner);
    guard.as_ref()?.signer_of(signed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_text_names_its_key_until_it_is_the_oldest_of_too_many() {
        let mut remembered = Remembered::new(3);
        remembered.remember("a", "key-a");
        assert_eq!(remembered.signer_of("a").as_deref(), Some("key-a"));
        assert_eq!(remembered.signer_of("never"), None);
        for text in ["b", "c", "b", "d"] {
            remembered.remember(text, "key-n");
        }
        assert_eq!(remembered.signer_of("a"), None, "the oldest was forgotten");
        assert_eq!(
            ["b", "c", "d"].map(|text| remembered.signer_of(text)),
            [(); 3].map(|()| Some("key-n".to_owned())),
            "a text signed twice takes one place"
        );
    }

    #[test]
    fn the_process_memory_answers_what_was_remembered() {
        remember("own-signatures-test", "key");
        assert_eq!(signer_of("own-signatures-test").as_deref(), Some("key"));
        assert_eq!(signer_of("own-signatures-test-never"), None);
    }
}
