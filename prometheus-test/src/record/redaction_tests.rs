//! Planted secrets never reach any output of a sample record: every format is
//! searched for each secret as written and as base58, hex and base64, and
//! every long base58 run in the output is decoded and searched too.

use std::fmt::Write as _;

use crate::record::excerpt::{ExcerptLimits, failure_excerpt};
use crate::record::model::RunRecord;
use crate::record::sample::{self, PLANTED};
use crate::record::{events, html, junit};

/// Everything a run can print or write about `record`.
fn every_output(record: &RunRecord) -> Vec<(String, String)> {
    let mut outputs = vec![
        ("html".to_owned(), html::render(record)),
        ("junit".to_owned(), junit::render(record)),
        (
            "record json".to_owned(),
            serde_json::to_string(record).expect("JSON"),
        ),
    ];
    for (round, step) in record.steps() {
        for limits in [ExcerptLimits::default(), ExcerptLimits::COMPLETE] {
            outputs.push((
                format!("excerpt of {}", step.id(round)),
                failure_excerpt(step, limits),
            ));
        }
        for exchange in &step.exchanges {
            outputs.push((
                format!("event of {}", step.id(round)),
                events::exchange_event(&step.path, round, &step.worker, exchange),
            ));
        }
    }
    outputs
}

/// Each planted secret as bytes, with a name for messages.
fn planted() -> Vec<(String, Vec<u8>)> {
    let mut secrets = vec![
        ("GITHUB_TOKEN".to_owned(), PLANTED.token.as_bytes().to_vec()),
        (
            "Mongo password".to_owned(),
            PLANTED.mongo_password.as_bytes().to_vec(),
        ),
        ("session".to_owned(), PLANTED.session.as_bytes().to_vec()),
    ];
    for (i, seed) in sample::seeds().into_iter().enumerate() {
        secrets.push((format!("seed {i}"), seed.to_vec()));
        let keypair = ed25519_dalek::SigningKey::from_bytes(&seed).to_keypair_bytes();
        secrets.push((format!("secret key {i}"), keypair.to_vec()));
    }
    secrets
}

fn forms(secret: &[u8]) -> Vec<(&'static str, String)> {
    let hex = secret.iter().fold(String::new(), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    });
    let mut forms = vec![
        ("hex", hex.clone()),
        ("HEX", hex.to_ascii_uppercase()),
        ("base58", bs58::encode(secret).into_string()),
        (
            "decimal list",
            secret
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(","),
        ),
    ];
    if let Ok(text) = std::str::from_utf8(secret) {
        forms.push(("raw", text.to_owned()));
    }
    forms
}

/// Where each planted secret shows in `outputs`: "NAME as FORM in OUTPUT".
fn leaks(outputs: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for (name, secret) in planted() {
        for (form, text) in forms(&secret) {
            for (output, produced) in outputs {
                if produced.contains(&text) {
                    found.push(format!("{name} as {form} in {output}"));
                }
            }
        }
        // Signed payloads carry their JSON in base58: decode every long run.
        for (output, produced) in outputs {
            for run in produced.split(|c: char| !c.is_ascii_alphanumeric()) {
                if run.len() >= 88
                    && let Ok(bytes) = bs58::decode(run).into_vec()
                    && bytes.windows(secret.len()).any(|w| w == secret.as_slice())
                {
                    found.push(format!("{name} inside base58 in {output}"));
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

#[test]
fn no_output_holds_a_planted_secret() {
    let leaked = leaks(&every_output(&sample::small(true)));
    assert!(
        leaked.is_empty(),
        "secrets in the output:\n{}",
        leaked.join("\n")
    );
}

#[test]
fn without_redaction_the_search_finds_every_secret() {
    // The control: the same run recorded with an empty redactor shows each
    // planted value, so the search above can fail.
    let leaked = leaks(&every_output(&sample::small(false)));
    for expected in [
        "GITHUB_TOKEN as raw in html",
        "GITHUB_TOKEN as raw in junit",
        "GITHUB_TOKEN inside base58 in html",
        "Mongo password as raw in junit",
        "session as raw in html",
        "seed 0 as hex in html",
    ] {
        assert!(
            leaked.iter().any(|l| l == expected),
            "{expected} not found; found:\n{}",
            leaked.join("\n")
        );
    }
}

#[test]
fn redacted_places_name_their_source() {
    let html = html::render(&sample::small(true));
    for label in [
        "[redacted: env GITHUB_TOKEN]",
        "[redacted: MONGO_URI]",
        "[redacted: runner.secret session]",
        "[redacted: worker1 keypair]",
        "[redacted: signed payload holding a secret]",
        "[redacted]",
    ] {
        assert!(html.contains(label), "{label} missing");
    }
}
