//! Finding Koii signed payloads (`base58(signature ‖ JSON)`) in bodies.

use serde_json::Value;

use super::model::{DecodedSignature, Signer};
use crate::keys::own_signatures;

/// Length of an ed25519 signature in bytes.
const SIGNATURE_LEN: usize = 64;
/// Base58 of 64 signature bytes and a 2-byte payload (`{}`) is at least this long.
const MIN_SIGNED_LEN: usize = 88;

/// The signed payloads in a body: every string field of a JSON body (or the
/// whole body when it is not JSON) that decodes as base58 to a 64-byte
/// signature followed by UTF-8 JSON.
///
/// Each is checked with [`verify_signature`](crate::verify_signature) against
/// the public keys found next to it in the same JSON object (fields whose
/// name contains `pubkey`, `publickey` or `stakingkey`, in any case), then
/// against `known_keys` (worker name, base58 public key); the first that
/// verifies is its signer, named when it is a worker's key. `location` is the
/// JSON pointer of the field (empty for the body).
#[cfg_attr(not(test), expect(dead_code, reason = "read by tests"))]
pub(crate) fn decode_signatures(
    json_or_text: &str,
    known_keys: &[(String, String)],
) -> Vec<DecodedSignature> {
    decode_signatures_with_text(json_or_text, known_keys)
        .into_iter()
        .map(|(decoded, _)| decoded)
        .collect()
}

/// [`decode_signatures`], each with the base58 text it was decoded from.
pub(crate) fn decode_signatures_with_text(
    json_or_text: &str,
    known_keys: &[(String, String)],
) -> Vec<(DecodedSignature, String)> {
    let mut found = Vec::new();
    if let Ok(value) = serde_json::from_str::<Value>(json_or_text) {
        walk(&value, &mut String::new(), &[], known_keys, &mut found);
    } else {
        let text = json_or_text.trim();
        if let Some(decoded) = decode_one(text, "", &[], known_keys) {
            found.push((decoded, text.to_owned()));
        }
    }
    found
}

fn walk(
    value: &Value,
    pointer: &mut String,
    sibling_keys: &[String],
    known_keys: &[(String, String)],
    found: &mut Vec<(DecodedSignature, String)>,
) {
    match value {
        Value::String(text) => {
            if let Some(decoded) = decode_one(text, pointer, sibling_keys, known_keys) {
                found.push((decoded, text.clone()));
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&index.to_string());
                walk(item, pointer, &[], known_keys, found);
                pointer.truncate(len);
            }
        }
        Value::Object(map) => {
            let siblings: Vec<String> = map
                .iter()
                .filter(|(key, _)| {
                    let key = key.to_ascii_lowercase().replace(['_', '-'], "");
                    key.contains("pubkey")
                        || key.contains("publickey")
                        || key.contains("stakingkey")
                })
                .filter_map(|(_, value)| value.as_str().map(str::to_owned))
                .collect();
            for (key, field) in map {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                walk(field, pointer, &siblings, known_keys, found);
                pointer.truncate(len);
            }
        }
        _ => {}
    }
}

fn decode_one(
    text: &str,
    pointer: &str,
    sibling_keys: &[String],
    known_keys: &[(String, String)],
) -> Option<DecodedSignature> {
    if text.len() < MIN_SIGNED_LEN {
        return None;
    }
    let bytes = bs58::decode(text).into_vec().ok()?;
    let message = bytes.get(SIGNATURE_LEN..)?;
    let payload: Value = serde_json::from_str(std::str::from_utf8(message).ok()?).ok()?;
    // Keys written next to the signature are tried first (one check instead
    // of one per worker), named when they are a worker's.
    let worker_of = |key: &String| {
        known_keys
            .iter()
            .find(|(_, known)| known == key)
            .map(|(worker, _)| worker)
    };
    let nearby = sibling_keys.iter().map(|key| (worker_of(key), key));
    let known = known_keys
        .iter()
        .filter(|(_, key)| !sibling_keys.contains(key))
        .map(|(worker, key)| (Some(worker), key));
    // A text this process signed names its key without a verification (the
    // one key that would verify it).
    let signed_here = own_signatures::signer_of(text);
    let signer = nearby
        .chain(known)
        .find(|(_, key)| match &signed_here {
            Some(signed_with) => signed_with == *key,
            None => crate::verify_signature(text, key).is_ok(),
        })
        .map(|(worker, key)| Signer {
            worker: worker.cloned(),
            public_key: key.clone(),
        });
    Some(DecodedSignature {
        location: pointer.to_owned(),
        payload,
        signer,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{Keypair, create_signature};

    fn keys(pairs: &[(&str, &Keypair)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(name, keypair)| ((*name).to_owned(), keypair.public_key().to_owned()))
            .collect()
    }

    #[test]
    fn a_field_signed_by_a_worker_is_decoded_and_named() {
        let worker1 = Keypair::from_seed([1; 32]);
        let worker2 = Keypair::from_seed([2; 32]);
        let payload = json!({"taskId": "t", "roundNumber": 3, "action": "audit"});
        let signed = create_signature(worker2.signing_key(), &payload).unwrap();
        let body = json!({"data": {"signature": signed, "note": "x"}}).to_string();
        let found = decode_signatures(
            &body,
            &keys(&[("worker1", &worker1), ("worker2", &worker2)]),
        );
        assert_eq!(
            found,
            [DecodedSignature {
                location: "/data/signature".into(),
                payload,
                signer: Some(Signer {
                    worker: Some("worker2".into()),
                    public_key: worker2.public_key().into()
                }),
            }]
        );
    }

    #[test]
    fn an_unknown_signer_is_found_through_a_nearby_public_key() {
        let stranger = Keypair::from_seed([9; 32]);
        let signed = create_signature(stranger.signing_key(), &json!(["x"])).unwrap();
        let body =
            json!({"items": [{"signature": signed, "stakingPubKey": stranger.public_key()}]});
        let found = decode_signatures(&body.to_string(), &[]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].location, "/items/0/signature");
        assert_eq!(
            found[0].signer,
            Some(Signer {
                worker: None,
                public_key: stranger.public_key().into()
            })
        );
    }

    #[test]
    fn a_signature_nobody_verifies_still_shows_its_payload() {
        let stranger = Keypair::from_seed([9; 32]);
        let worker1 = Keypair::from_seed([1; 32]);
        let signed = create_signature(stranger.signing_key(), &json!({"a": 1})).unwrap();
        let found = decode_signatures(&signed, &keys(&[("worker1", &worker1)]));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].location, "");
        assert_eq!(found[0].payload, json!({"a": 1}));
        assert_eq!(found[0].signer, None);
    }

    #[test]
    fn a_text_signed_here_is_named_from_memory_not_verified_again() {
        let worker1 = Keypair::from_seed([1; 32]);
        let worker2 = Keypair::from_seed([2; 32]);
        let stranger = Keypair::from_seed([9; 32]);
        let known = keys(&[("worker1", &worker1), ("worker2", &worker2)]);
        let signer_of = |text: &str| decode_signatures(text, &known)[0].signer.clone();
        let signed = create_signature(
            worker1.signing_key(),
            &json!({"test": "signed here", "round": 7}),
        )
        .unwrap();
        assert_eq!(
            signer_of(&signed).unwrap().worker.as_deref(),
            Some("worker1")
        );
        // A memory no real signing makes (worker2 did not sign it): the
        // answer follows it, so the memory was read and nothing verified.
        own_signatures::remember(&signed, worker2.public_key());
        assert_eq!(
            signer_of(&signed).unwrap().worker.as_deref(),
            Some("worker2")
        );
        // A remembered key that is neither known nor nearby names nobody,
        // as a verification against the known keys would.
        let by_stranger =
            create_signature(stranger.signing_key(), &json!({"test": "stranger"})).unwrap();
        own_signatures::remember(&by_stranger, stranger.public_key());
        assert_eq!(signer_of(&by_stranger), None);
    }

    #[test]
    fn ordinary_strings_are_not_signatures() {
        let worker1 = Keypair::from_seed([1; 32]);
        let long_base58 = bs58::encode([7u8; 80]).into_string();
        let body = json!({
            "pubKey": worker1.public_key(),
            "hash": long_base58,
            "text": "hello world",
        });
        assert!(decode_signatures(&body.to_string(), &keys(&[("worker1", &worker1)])).is_empty());
        assert!(decode_signatures("not json at all", &[]).is_empty());
    }
}
