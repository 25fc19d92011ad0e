//! Koii signatures and canonical JSON against the Python original.
//!
//! The vectors in `tests/data/signatures.json` (21 of them) were produced by
//! the Python package's (0.1.10) own `load_keypair` and `create_signature`;
//! the oracles in `tests/data/python_*` by `CPython`'s `json.dumps` (see
//! `tests/data/make_python_oracles.py`). Everything read here is committed.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use prometheus_test::{Keypair, canonical_json, create_signature, load_keypair, verify_signature};
use serde::Serialize;
use support::json::{self, Json};

fn canon<T: Serialize + ?Sized>(value: &T) -> String {
    canonical_json(value).unwrap_or_else(|err| panic!("{err}"))
}

fn canon_err<T: Serialize + ?Sized>(value: &T) -> String {
    match canonical_json(value) {
        Ok(text) => panic!("expected an error, got {text}"),
        Err(err) => err.to_string(),
    }
}

fn parse(text: &str) -> Json {
    json::parse(text).unwrap_or_else(|err| panic!("{err}: {text}"))
}

fn data_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

// ---------------------------------------------------------------------------
// The Python vectors
// ---------------------------------------------------------------------------

fn string_field<'v>(vector: &'v Json, field: &str) -> &'v str {
    match object_field(vector, field) {
        Json::Str(s) => s,
        other => panic!("{field} is not a string: {other:?}"),
    }
}

fn object_field<'v>(value: &'v Json, field: &str) -> &'v Json {
    let Json::Object(entries) = value else {
        panic!("not an object: {value:?}")
    };
    entries
        .iter()
        .find(|(k, _)| k == field)
        .map_or_else(|| panic!("no field {field}"), |(_, v)| v)
}

#[test]
fn every_vector_matches_python_byte_for_byte() {
    let path = data_file("signatures.json");
    let file = parse(&std::fs::read_to_string(&path).unwrap());
    let Json::Int(count) = object_field(&file, "count") else {
        panic!("count")
    };
    let count: usize = count.parse().unwrap();
    let Json::Array(vectors) = object_field(&file, "vectors") else {
        panic!("vectors")
    };
    assert_eq!(
        vectors.len(),
        count,
        "{} says count {count}",
        path.display()
    );
    assert_eq!(count, 21, "the vector file changed size");

    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for vector in vectors {
        let name = string_field(vector, "name");
        let Json::Array(keypair_items) = object_field(vector, "keypair") else {
            panic!("keypair")
        };
        let keypair_text = canon(&Json::Array(keypair_items.clone()));
        let key_path = dir.path().join(format!("{name}.json"));
        std::fs::write(&key_path, keypair_text).unwrap();
        let keypair = load_keypair(&key_path).unwrap_or_else(|err| panic!("{name}: {err}"));
        let inline = Keypair::from_keypair_file_json(std::fs::read(&key_path).unwrap())
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(inline.public_key(), keypair.public_key(), "{name}: inline");
        assert_eq!(
            keypair.public_key(),
            string_field(vector, "public_key_b58"),
            "{name}: public key"
        );

        let payload = parse(string_field(vector, "payload_json_text"));
        let canonical = canon(&payload);
        assert_eq!(
            canonical,
            string_field(vector, "canonical"),
            "{name}: canonical text"
        );

        let signed = create_signature(keypair.signing_key(), &payload).unwrap();
        let expected_signed = string_field(vector, "signature_b58");
        assert_eq!(signed, expected_signed, "{name}: signature");
        assert_eq!(
            keypair.sign(&payload).unwrap(),
            signed,
            "{name}: Keypair::sign"
        );

        let verified = verify_signature(expected_signed, keypair.public_key())
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        let expected_value: serde_json::Value = serde_json::from_str(&canonical).unwrap();
        assert_eq!(verified, expected_value, "{name}: verified payload");
        // The payload's structure survives: sorting it again changes nothing
        // (integers past 64 bits come back as floats without arbitrary_precision).
        if !canonical.contains("1180591620717411303424") {
            assert_eq!(
                canon(&verified),
                canonical,
                "{name}: re-canonicalised payload"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, count, "checked every vector");
}

// ---------------------------------------------------------------------------
// Python oracles: json.dumps on random payloads, and float repr
// ---------------------------------------------------------------------------

#[test]
fn random_payloads_match_cpython_json_dumps() {
    let file = parse(&std::fs::read_to_string(data_file("python_dumps.json")).unwrap());
    let Json::Int(count) = object_field(&file, "count") else {
        panic!("count")
    };
    let Json::Array(cases) = object_field(&file, "cases") else {
        panic!("cases")
    };
    assert_eq!(cases.len(), count.parse::<usize>().unwrap());
    assert!(cases.len() >= 200);
    for case in cases {
        let text = string_field(case, "text");
        assert_eq!(
            canon(&parse(text)),
            string_field(case, "canonical"),
            "payload {text}"
        );
    }
}

#[test]
fn float_repr_matches_cpython_for_thousands_of_values() {
    let table = std::fs::read_to_string(data_file("python_float_repr.txt")).unwrap();
    let mut checked = 0;
    for line in table.lines().filter(|l| !l.starts_with('#')) {
        let (bits, expected) = line.split_once(' ').unwrap();
        let value = f64::from_bits(u64::from_str_radix(bits, 16).unwrap());
        assert_eq!(canon(&value), expected, "f64 bits {bits}");
        checked += 1;
    }
    assert!(checked >= 2000, "only {checked} floats");
}

// ---------------------------------------------------------------------------
// One test per json.dumps rule
// ---------------------------------------------------------------------------

#[test]
fn rule_separators_are_comma_space_and_colon_space() {
    assert_eq!(
        canon(&serde_json::json!({"a": [1, 2], "b": {}})),
        r#"{"a": [1, 2], "b": {}}"#
    );
    assert_eq!(canon(&serde_json::json!([])), "[]");
    assert_eq!(canon(&serde_json::json!({})), "{}");
    assert_eq!(canon(&serde_json::json!([[], {}, [{}]])), "[[], {}, [{}]]");
}

#[test]
fn rule_keys_sort_by_code_point_at_every_level() {
    let payload = parse(r#"{"b": {"z": 1, "Z": 2, "_": 3}, "B": [{"y": 1, "x": 2}], "a": 0}"#);
    assert_eq!(
        canon(&payload),
        r#"{"B": [{"x": 2, "y": 1}], "a": 0, "b": {"Z": 2, "_": 3, "z": 1}}"#
    );
    // Code point order, not UTF-16 order: U+FF01 sorts before U+1F600
    // (UTF-16 would put the surrogate 0xD83D first).
    let astral = parse(r#"{"\ud83d\ude00": 1, "\uff01": 2, "\u00e9": 3, "e": 4}"#);
    assert_eq!(
        canon(&astral),
        r#"{"e": 4, "\u00e9": 3, "\uff01": 2, "\ud83d\ude00": 1}"#
    );
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TaskPayload {
    task_id: String,
    round_number: u64,
    action: &'static str,
    github_username: String,
    staking_key: String,
    pub_key: String,
    pr_url: Option<String>,
}

#[test]
fn rule_struct_fields_are_sorted_too() {
    let payload = TaskPayload {
        task_id: "t".into(),
        round_number: 2,
        action: "audit",
        github_username: "bob".into(),
        staking_key: "s".into(),
        pub_key: "p".into(),
        pr_url: None,
    };
    assert_eq!(
        canon(&payload),
        r#"{"action": "audit", "githubUsername": "bob", "prUrl": null, "pubKey": "p", "roundNumber": 2, "stakingKey": "s", "taskId": "t"}"#
    );
}

#[test]
fn rule_input_order_does_not_matter_even_with_preserve_order_maps() {
    let mut forward = serde_json::Map::new();
    let mut backward = serde_json::Map::new();
    let keys = ["zeta", "alpha", "Mid", "\u{e9}", "10", "9"];
    for (i, key) in keys.iter().enumerate() {
        forward.insert((*key).to_owned(), i.into());
    }
    for (i, key) in keys.iter().enumerate().rev() {
        backward.insert((*key).to_owned(), i.into());
    }
    assert_ne!(
        forward.keys().collect::<Vec<_>>(),
        backward.keys().collect::<Vec<_>>()
    );
    let expected = r#"{"10": 4, "9": 5, "Mid": 2, "alpha": 1, "zeta": 0, "\u00e9": 3}"#;
    assert_eq!(canon(&forward), expected);
    assert_eq!(canon(&backward), expected);
    let hashed: HashMap<&str, usize> = keys.iter().enumerate().map(|(i, k)| (*k, i)).collect();
    assert_eq!(canon(&hashed), expected);
}

#[test]
fn rule_ensure_ascii_short_escapes() {
    assert_eq!(canon("\"\\\n\r\t\u{8}\u{c}"), r#""\"\\\n\r\t\b\f""#);
}

#[test]
fn rule_other_control_characters_are_u00xx() {
    assert_eq!(
        canon("\u{0}\u{1}\u{b}\u{e}\u{1f}"),
        r#""\u0000\u0001\u000b\u000e\u001f""#
    );
}

#[test]
fn rule_del_is_escaped() {
    assert_eq!(canon("x\u{7f}y"), r#""x\u007fy""#);
}

#[test]
fn rule_non_ascii_is_lowercase_hex() {
    assert_eq!(
        canon("caf\u{e9} \u{4e2d} \u{fffd} \u{2028}"),
        r#""caf\u00e9 \u4e2d \ufffd \u2028""#
    );
    assert_eq!(canon("\u{ABCD}"), r#""\uabcd""#);
}

#[test]
fn rule_astral_characters_are_surrogate_pairs() {
    assert_eq!(canon("\u{1F600}"), r#""\ud83d\ude00""#);
    assert_eq!(
        canon("\u{10000}\u{10FFFF}"),
        r#""\ud800\udc00\udbff\udfff""#
    );
    assert_eq!(canon(&'\u{1F680}'), r#""\ud83d\ude80""#);
}

#[test]
fn rule_slash_and_printable_ascii_are_not_escaped() {
    let printable: String = (0x20_u8..0x7f)
        .map(char::from)
        .filter(|c| !matches!(c, '"' | '\\'))
        .collect();
    assert_eq!(canon(&printable), format!("\"{printable}\""));
    assert_eq!(canon("a/b/</script>"), r#""a/b/</script>""#);
}

#[test]
fn rule_escapes_apply_to_keys_after_sorting_on_raw_keys() {
    // Raw '\n' (0x0a) sorts before ' ' (0x20) although its escape starts with '\\' (0x5c).
    let payload: BTreeMap<&str, u8> = [(" ", 1), ("\n", 2), ("\u{e9}", 3)].into_iter().collect();
    assert_eq!(canon(&payload), r#"{"\n": 2, " ": 1, "\u00e9": 3}"#);
}

#[test]
fn rule_float_repr() {
    let cases = [
        (1.0, "1.0"),
        (-0.0, "-0.0"),
        (0.0, "0.0"),
        (100.0, "100.0"),
        (0.1, "0.1"),
        (0.1 + 0.2, "0.30000000000000004"),
        (123_456_789.123, "123456789.123"),
        (1e16, "1e+16"),
        (9_999_999_999_999_998.0, "9999999999999998.0"),
        (1e22, "1e+22"),
        (1e-4, "0.0001"),
        (1e-5, "1e-05"),
        (1e-7, "1e-07"),
        (1.5e-7, "1.5e-07"),
        (5e-324, "5e-324"),
        (f64::MAX, "1.7976931348623157e+308"),
        (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
        (-2.5e300, "-2.5e+300"),
    ];
    for (value, expected) in cases {
        assert_eq!(canon(&value), expected, "{value:e}");
    }
}

#[test]
fn rule_non_finite_floats_as_python_writes_them() {
    assert_eq!(
        canon(&[f64::NAN, f64::INFINITY, f64::NEG_INFINITY]),
        "[NaN, Infinity, -Infinity]"
    );
    assert_eq!(canon(&f32::NAN), "NaN");
}

#[test]
fn rule_f32_is_the_python_float_of_its_shortest_decimal() {
    assert_eq!(canon(&0.1_f32), "0.1");
    assert_eq!(canon(&1e16_f32), "1e+16");
    assert_eq!(canon(&f32::MAX), "3.4028235e+38");
}

#[test]
fn rule_integers_of_any_size_are_written_in_full() {
    assert_eq!(
        canon(&[i128::MIN, i128::MAX]),
        "[-170141183460469231731687303715884105728, 170141183460469231731687303715884105727]"
    );
    assert_eq!(canon(&u128::MAX), "340282366920938463463374607431768211455");
    assert_eq!(canon(&[i64::MIN]), "[-9223372036854775808]");
    assert_eq!(canon(&(-1_i8, 255_u8, 0_u16)), "[-1, 255, 0]");
}

#[test]
fn rule_arbitrary_precision_numbers_pass_through() {
    // Past u128: the test parser hands these over as serde_json's number token.
    let huge = "123456789012345678901234567890123456789012345678901234567890";
    assert_eq!(
        canon(&parse(&format!("[{huge}, -{huge}]"))),
        format!("[{huge}, -{huge}]")
    );
    // Python's json.loads + dumps normalises a float's spelling and "-0".
    assert_eq!(
        canon(&[Token("1.50"), Token("1E5"), Token("-0"), Token("1e400")]),
        "[1.5, 100000.0, 0, Infinity]"
    );
    assert!(canon_err(&Token("0x10")).contains("\"0x10\" is not a JSON number"));
    // As a map key, too.
    let keyed: Vec<(Token, u8)> = vec![(Token("10"), 1), (Token("2"), 2)];
    assert_eq!(canon(&MapOf(keyed)), r#"{"2": 2, "10": 1}"#);
}

/// A number as `serde_json` serialises it under `arbitrary_precision`.
struct Token(&'static str);

impl Serialize for Token {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut st = s.serialize_struct("$serde_json::private::Number", 1)?;
        st.serialize_field("$serde_json::private::Number", self.0)?;
        st.end()
    }
}

/// Serialises its pairs as a map, in the given order (duplicates allowed).
struct MapOf<K, V>(Vec<(K, V)>);

impl<K: Serialize, V: Serialize> Serialize for MapOf<K, V> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[test]
fn rule_integer_keys_sort_by_value_then_become_strings() {
    // Python sorts dict keys before stringifying them: {10: .., 2: ..} gives "2" first.
    let ints: HashMap<i64, &str> = [(10, "a"), (2, "b"), (-3, "c")].into_iter().collect();
    assert_eq!(canon(&ints), r#"{"-3": "c", "2": "b", "10": "a"}"#);
    let big: BTreeMap<u128, u8> = [(u128::MAX, 1), (1, 2)].into_iter().collect();
    assert_eq!(
        canon(&big),
        r#"{"1": 2, "340282366920938463463374607431768211455": 1}"#
    );
}

#[test]
fn rule_float_bool_and_none_keys_are_stringified_like_python() {
    // json.dumps({1.5: 'a', 2: 'b', float('inf'): 1, -0.0: 2}, sort_keys=True)
    let mixed = MapOf(vec![
        (Json::Float("1.5".into()), Json::Str("a".into())),
        (Json::Int("2".into()), Json::Str("b".into())),
        (Json::Float("Infinity".into()), Json::Int("1".into())),
        (Json::Float("-0.0".into()), Json::Int("2".into())),
    ]);
    assert_eq!(
        canon(&mixed),
        r#"{"-0.0": 2, "1.5": "a", "2": "b", "Infinity": 1}"#
    );
    // json.dumps({10: 'a', 2: 'b', True: 3}, sort_keys=True): True sorts as 1.
    let with_bool = MapOf(vec![
        (Json::Int("10".into()), "a"),
        (Json::Int("2".into()), "b"),
        (Json::Bool(true), "c"),
    ]);
    assert_eq!(canon(&with_bool), r#"{"true": "c", "2": "b", "10": "a"}"#);
    assert_eq!(
        canon(&MapOf(vec![(Option::<u8>::None, 1)])),
        r#"{"null": 1}"#
    );
    assert_eq!(canon(&MapOf(vec![(false, 1)])), r#"{"false": 1}"#);
    assert_eq!(canon(&MapOf(vec![('k', 1)])), r#"{"k": 1}"#);
}

#[test]
fn rule_keys_python_cannot_compare_are_an_error() {
    // json.dumps({1: 'a', 'b': 2}, sort_keys=True) raises TypeError.
    let err = canon_err(&MapOf(vec![
        (Json::Int("1".into()), 1),
        (Json::Str("b".into()), 2),
    ]));
    assert!(
        err.contains("map keys of types int and str cannot be sorted"),
        "{err}"
    );
    let err = canon_err(&MapOf(vec![(Json::Null, 1), (Json::Str("b".into()), 2)]));
    assert!(err.contains("NoneType and str"), "{err}");
    let err = canon_err(&MapOf(vec![(f64::NAN, 1), (1.0, 2)]));
    assert!(err.contains("NaN map key"), "{err}");
}

#[test]
fn rule_keys_python_refuses_are_an_error() {
    let err = canon_err(&MapOf(vec![(vec![1], 1)]));
    assert!(err.contains("a list cannot be a map key"), "{err}");
    let err = canon_err(&MapOf(vec![(serde_bytes_like(), 1)]));
    assert!(err.contains("a byte string cannot be a map key"), "{err}");
}

fn serde_bytes_like() -> impl Serialize {
    struct Bytes;
    impl Serialize for Bytes {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(b"ab")
        }
    }
    Bytes
}

#[test]
fn rule_duplicate_keys_are_all_written_in_input_order() {
    // A Python dict cannot hold duplicates; a serde map can. Like Python's
    // stable sort, equal keys keep their order, and every entry is written.
    let dups = MapOf(vec![("b", 1), ("a", 2), ("b", 3), ("a", 4)]);
    assert_eq!(canon(&dups), r#"{"a": 2, "a": 4, "b": 1, "b": 3}"#);
}

#[test]
fn rule_bool_null_and_option() {
    assert_eq!(
        canon(&(true, false, (), None::<u8>, Some(3))),
        "[true, false, null, null, 3]"
    );
}

#[derive(Serialize)]
enum Shape {
    Unit,
    Newtype(u8),
    Tuple(u8, u8),
    Struct { z: u8, a: u8 },
}

#[test]
fn rule_enums_as_serde_json_writes_them_with_sorted_fields() {
    assert_eq!(canon(&Shape::Unit), r#""Unit""#);
    assert_eq!(canon(&Shape::Newtype(1)), r#"{"Newtype": 1}"#);
    assert_eq!(canon(&Shape::Tuple(1, 2)), r#"{"Tuple": [1, 2]}"#);
    assert_eq!(
        canon(&Shape::Struct { z: 1, a: 2 }),
        r#"{"Struct": {"a": 2, "z": 1}}"#
    );
    let by_variant: BTreeMap<Shape2, u8> = [(Shape2::B, 1), (Shape2::A, 2)].into_iter().collect();
    assert_eq!(canon(&by_variant), r#"{"A": 2, "B": 1}"#);
}

#[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
enum Shape2 {
    B,
    A,
}

#[test]
fn rule_bytes_are_a_list_of_integers() {
    assert_eq!(canon(&serde_bytes_like()), "[97, 98]");
}

// ---------------------------------------------------------------------------
// verify_signature
// ---------------------------------------------------------------------------

fn signed_koii_payload() -> (Keypair, String) {
    let keypair = Keypair::from_seed([11; 32]);
    let payload = serde_json::json!({"taskId": "t", "roundNumber": 3, "action": "audit"});
    let signed = create_signature(keypair.signing_key(), &payload).unwrap();
    (keypair, signed)
}

#[test]
fn verify_rejects_text_that_is_not_base58() {
    let (keypair, signed) = signed_koii_payload();
    let tampered = format!("{}0{}", &signed[..10], &signed[11..]);
    let err = verify_signature(&tampered, keypair.public_key()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "signed payload is not base58 (bad character at byte 10)"
    );
}

#[test]
fn verify_rejects_a_payload_too_short_for_a_signature() {
    let (keypair, _) = signed_koii_payload();
    let short = bs58::encode([1_u8; 63]).into_string();
    let err = verify_signature(&short, keypair.public_key()).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("signed payload is 63 bytes long"),
        "{err}"
    );
    assert!(
        verify_signature("", keypair.public_key())
            .unwrap_err()
            .to_string()
            .contains("is 0 bytes long")
    );
}

#[test]
fn verify_rejects_bad_public_keys() {
    let (_, signed) = signed_koii_payload();
    for (key, reason) in [
        ("not-base58!", "it is not base58"),
        ("3yZe7d", "it does not decode to 32 bytes"),
        // y = 2 is not the y-coordinate of any point on the curve.
        (
            &*bs58::encode([[2_u8].as_slice(), &[0; 31]].concat()).into_string(),
            "it is not a point on the ed25519 curve",
        ),
    ] {
        let err = verify_signature(&signed, key).unwrap_err().to_string();
        assert!(
            err.starts_with("public key is not a base58 ed25519 public key"),
            "{key}: {err}"
        );
        assert!(err.contains(reason), "{key}: {err}");
    }
}

#[test]
fn verify_rejects_a_signature_by_another_key_or_an_altered_payload() {
    let (keypair, signed) = signed_koii_payload();
    let other = Keypair::from_seed([12; 32]);
    let err = verify_signature(&signed, other.public_key()).unwrap_err();
    assert!(
        err.to_string().starts_with("signature does not match"),
        "{err}"
    );

    let mut bytes = bs58::decode(&signed).into_vec().unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 0x01; // a payload byte
    let altered = bs58::encode(&bytes).into_string();
    assert!(
        verify_signature(&altered, keypair.public_key())
            .unwrap_err()
            .to_string()
            .starts_with("signature does not match")
    );
    bytes[last] ^= 0x01;
    bytes[0] ^= 0x80; // a signature byte
    let altered = bs58::encode(&bytes).into_string();
    assert!(verify_signature(&altered, keypair.public_key()).is_err());
}

#[test]
fn verify_reports_payloads_serde_json_cannot_read() {
    let keypair = Keypair::from_seed([13; 32]);
    // Python writes NaN; the signature is valid but serde_json cannot return it.
    let signed = create_signature(keypair.signing_key(), &[f64::NAN]).unwrap();
    let err = verify_signature(&signed, keypair.public_key()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "signed payload is not JSON that serde_json reads (error at line 1, column 2)"
    );
    // A validly signed message that is not UTF-8.
    let message = [0xff_u8, 0xfe];
    let signature = ed25519_dalek::Signer::sign(keypair.signing_key(), &message);
    let signed = bs58::encode([signature.to_bytes().as_slice(), &message].concat()).into_string();
    assert_eq!(
        verify_signature(&signed, keypair.public_key())
            .unwrap_err()
            .to_string(),
        "signed payload is not UTF-8 text"
    );
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn any_json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<u64>().prop_map(serde_json::Value::from),
            any::<f64>()
                .prop_filter("JSON numbers are finite", |f| f.is_finite())
                .prop_map(serde_json::Value::from),
            any::<String>().prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                prop::collection::vec((any::<String>(), inner), 0..6)
                    .prop_map(|entries| serde_json::Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    /// The same value with every object's entries in reverse insertion order.
    fn reversed(value: &serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Array(items) => items.iter().map(reversed).collect(),
            serde_json::Value::Object(map) => serde_json::Value::Object(
                map.iter()
                    .rev()
                    .map(|(k, v)| (k.clone(), reversed(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn sign_then_verify_returns_the_same_value(value in any_json(), seed in any::<[u8; 32]>()) {
            let keypair = Keypair::from_seed(seed);
            let signed = create_signature(keypair.signing_key(), &value).unwrap();
            let back = verify_signature(&signed, keypair.public_key()).unwrap();
            prop_assert_eq!(back, value);
        }

        #[test]
        fn canonical_text_is_ascii_json_that_parses_to_the_same_value(value in any_json()) {
            let text = canonical_json(&value).unwrap();
            prop_assert!(text.bytes().all(|b| (0x20..0x7f).contains(&b)), "{}", text);
            let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(parsed, value);
        }

        #[test]
        fn canonical_text_does_not_depend_on_key_order(value in any_json()) {
            prop_assert_eq!(canonical_json(&value).unwrap(), canonical_json(&reversed(&value)).unwrap());
        }

        #[test]
        fn canonical_text_is_a_fixed_point(value in any_json()) {
            // Parsed back with the number-preserving parser and written again: unchanged.
            let text = canonical_json(&value).unwrap();
            prop_assert_eq!(canonical_json(&json::parse(&text).unwrap()).unwrap(), text);
        }

        #[test]
        fn float_repr_round_trips_exactly(bits in any::<u64>()) {
            let value = f64::from_bits(bits);
            prop_assume!(value.is_finite());
            let text = canonical_json(&value).unwrap();
            let back: f64 = text.parse().unwrap();
            prop_assert_eq!(back.to_bits(), value.to_bits(), "{}", text);
            prop_assert!(text.contains('.') || text.contains('e'), "{}", text);
        }
    }
}
