//! Keypair-file errors, one test per case, and secret redaction.

use std::fs;
use std::path::PathBuf;

use super::*;

/// A temporary directory holding `name` with `contents`.
fn file_with(name: &str, contents: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    fs::write(&path, contents).unwrap();
    (dir, path)
}

fn load_err(contents: &str) -> (KeyError, PathBuf) {
    let (dir, path) = file_with("id.json", contents);
    let err = load_keypair(&path).unwrap_err();
    drop(dir);
    (err, path)
}

fn numbers(bytes: &[i64]) -> String {
    let items: Vec<String> = bytes.iter().map(ToString::to_string).collect();
    format!("[{}]", items.join(", "))
}

fn valid_bytes(seed: u8) -> Vec<i64> {
    let keypair = Keypair::from_seed([seed; 32]);
    keypair
        .signing_key()
        .to_keypair_bytes()
        .iter()
        .map(|&b| i64::from(b))
        .collect()
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.json");
    let err = load_keypair(&path).unwrap_err();
    assert!(matches!(err.kind(), KeyErrorKind::NotFound));
    assert_eq!(err.path(), path);
    assert_eq!(
        err.to_string(),
        format!("keypair file {}: does not exist", path.display())
    );
}

#[cfg(unix)]
#[test]
fn unreadable_path() {
    // A directory exists but cannot be read as a file.
    let dir = tempfile::tempdir().unwrap();
    let err = load_keypair(dir.path()).unwrap_err();
    assert!(matches!(err.kind(), KeyErrorKind::Unreadable(_)), "{err}");
    assert!(err.to_string().contains("cannot be read"), "{err}");
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn not_json_reports_line_and_column() {
    let (err, path) = load_err("[1, 2,\n  3 4]");
    assert!(
        matches!(err.kind(), KeyErrorKind::NotJson { line: 2, column: 5 }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "keypair file {}: is not valid JSON (error at line 2, column 5)",
            path.display()
        )
    );
}

#[test]
fn not_an_array() {
    let (err, _) = load_err(r#"{"secretKey": [1, 2, 3]}"#);
    assert!(matches!(
        err.kind(),
        KeyErrorKind::NotAnArray { found: "an object" }
    ));
    assert!(
        err.to_string()
            .ends_with("holds an object; expected a JSON array of 64 integers")
    );
    let (err, _) = load_err(
        r#""5MaiiCavjCmn9Hs1o3eznqDEhRwxo7pXiAYez7keQUviUkauRiTMD8DrESdrNjN8zd9mTmVhRvBJeg5vhyvgrAhG""#,
    );
    assert!(matches!(
        err.kind(),
        KeyErrorKind::NotAnArray { found: "a string" }
    ));
}

#[test]
fn wrong_length_says_the_length_found() {
    let mut bytes = valid_bytes(1);
    bytes.truncate(32);
    let (err, _) = load_err(&numbers(&bytes));
    assert!(matches!(
        err.kind(),
        KeyErrorKind::WrongLength { found: 32 }
    ));
    assert!(
        err.to_string()
            .ends_with("holds 32 numbers; a keypair file holds 64"),
        "{err}"
    );
    let (err, _) = load_err("[]");
    assert!(matches!(err.kind(), KeyErrorKind::WrongLength { found: 0 }));
}

#[test]
fn value_out_of_range_says_the_index() {
    for (index, bad) in [(0, 256), (40, -1), (63, 100_000_000_000_000_000)] {
        let mut bytes = valid_bytes(1);
        bytes[index] = bad;
        let (err, _) = load_err(&numbers(&bytes));
        assert!(
            matches!(err.kind(), KeyErrorKind::ByteOutOfRange { index: i } if *i == index),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .ends_with(&format!("element {index} is outside 0..=255"))
        );
        assert!(!err.to_string().contains(&bad.to_string()));
    }
}

#[test]
fn non_integer_element_says_the_index() {
    for bad in ["1.5", "\"7\"", "null", "[1]", "1e2", "18446744073709551616"] {
        let items: Vec<String> = valid_bytes(1).iter().map(ToString::to_string).collect();
        let mut items = items;
        items[5] = bad.to_owned();
        let (err, _) = load_err(&format!("[{}]", items.join(",")));
        assert!(
            matches!(err.kind(), KeyErrorKind::NotAnInteger { index: 5 }),
            "{bad}: {err:?}"
        );
        assert!(
            err.to_string()
                .ends_with("element 5 is not an integer (expected 0..=255)")
        );
    }
}

#[test]
fn public_half_must_match_the_seed() {
    let mut bytes = valid_bytes(1);
    bytes[63] ^= 1;
    let (err, _) = load_err(&numbers(&bytes));
    assert!(matches!(err.kind(), KeyErrorKind::PublicHalfMismatch));
    assert!(
        err.to_string()
            .contains("public half does not match the seed")
    );
    // The public half of another key does not pass either.
    let mut mixed = valid_bytes(1);
    mixed[32..].copy_from_slice(&valid_bytes(2)[32..]);
    let (err, _) = load_err(&numbers(&mixed));
    assert!(matches!(err.kind(), KeyErrorKind::PublicHalfMismatch));
}

#[test]
fn keypair_file_round_trips_in_solana_layout() {
    let keypair = Keypair::from_seed([200; 32]);
    let text = keypair.to_keypair_file_json();
    assert!(
        !text.contains(' '),
        "solana writes the array without spaces"
    );
    let (_dir, path) = file_with("id.json", &text);
    let loaded = load_keypair(&path).unwrap();
    assert_eq!(loaded.public_key(), keypair.public_key());
    assert_eq!(loaded.signing_key().to_bytes(), [200; 32]);
    // Python's json.dump(list(...)) writes spaces; that layout loads too.
    let (_dir, spaced) = file_with("spaced.json", &numbers(&valid_bytes(200)));
    assert_eq!(
        load_keypair(&spaced).unwrap().public_key(),
        keypair.public_key()
    );
}

/// Every rendering of the secret that could leak into a message.
fn secret_renderings(seed: &[u8; 32], keypair_bytes: &[u8; 64]) -> Vec<String> {
    let hex: String = seed.iter().fold(String::new(), |mut hex, b| {
        use std::fmt::Write as _;
        let _ = write!(hex, "{b:02x}");
        hex
    });
    let hex_upper = hex.to_uppercase();
    let decimal_list = |bytes: &[u8]| {
        let parts: Vec<String> = bytes.iter().map(ToString::to_string).collect();
        [parts.join(", "), parts.join(",")]
    };
    let mut renderings = vec![
        bs58::encode(seed).into_string(),
        bs58::encode(keypair_bytes).into_string(),
        hex,
        hex_upper,
        format!("{seed:?}"),
        format!("{:?}", &keypair_bytes[..]),
    ];
    renderings.extend(decimal_list(seed));
    renderings.extend(decimal_list(&seed[..8]));
    renderings.extend(decimal_list(keypair_bytes));
    renderings.push(String::from_utf8_lossy(seed).into_owned());
    renderings
}

#[test]
fn secrets_never_appear_in_debug_display_or_errors() {
    // A planted seed with distinctive bytes.
    let seed: [u8; 32] = std::array::from_fn(|i| u8::try_from(i * 7 + 3).unwrap());
    let keypair = Keypair::from_seed(seed);
    let keypair_bytes = keypair.signing_key().to_keypair_bytes();
    let secrets = secret_renderings(&seed, &keypair_bytes);

    let mut texts = vec![
        format!("{keypair:?}"),
        format!("{keypair:#?}"),
        format!("{keypair}"),
        format!("{:?}", keypair.signing_key()),
    ];
    // Errors for files that hold the secret: wrong public half, one byte too many,
    // a bad element at the end, a syntax error right after the secret.
    let good: Vec<i64> = keypair_bytes.iter().map(|&b| i64::from(b)).collect();
    let mut mismatched = good.clone();
    mismatched[40] ^= 0xff;
    let mut too_long = good.clone();
    too_long.push(1);
    let mut out_of_range = good.clone();
    out_of_range[63] = 999;
    let broken = format!("{} x", numbers(&good));
    for contents in [
        numbers(&mismatched),
        numbers(&too_long),
        numbers(&out_of_range),
        broken,
    ] {
        let (err, _) = load_err(&contents);
        texts.push(err.to_string());
        texts.push(format!("{err:?}"));
    }
    assert!(texts[0].contains(keypair.public_key()));
    for text in &texts {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{text:?} contains the secret rendering {secret:?}"
            );
        }
    }
}
