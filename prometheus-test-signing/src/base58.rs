//! Bitcoin-alphabet base58, as Solana, Koii and Python's `base58` write it.
//!
//! A signed payload is a few hundred bytes, and base58 conversion is
//! quadratic in the length: the byte-at-a-time loop of the `bs58` crate
//! spends about ten times as long on a typical Koii payload as ed25519 spends
//! signing it. These routines do the same arithmetic on wide limbs (five
//! base58 digits or four bytes per step), which makes them many times faster;
//! the tests check them against `bs58` byte for byte.

const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// 58^5: five base58 digits per limb, small enough that `limb * 2^32` fits a `u64`.
const DIGITS_PER_LIMB: usize = 5;
const LIMB_BASE: u64 = 58 * 58 * 58 * 58 * 58;

/// The value of each ASCII byte as a base58 digit, or 0xff.
#[expect(clippy::cast_possible_truncation, reason = "indices are below 58")]
const DIGIT_VALUES: [u8; 128] = {
    let mut table = [0xff_u8; 128];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// Encodes `input` in base58: each leading zero byte becomes a `1`.
pub(crate) fn encode(input: &[u8]) -> String {
    let zeros = input.iter().take_while(|&&b| b == 0).count();
    let rest = &input[zeros..];
    // The number as little-endian limbs of base 58^5.
    let mut limbs: Vec<u32> = Vec::with_capacity(rest.len() * 8 / 29 + 2);
    let head = rest.len() % 4;
    let chunks = (head > 0)
        .then(|| &rest[..head])
        .into_iter()
        .chain(rest[head..].chunks(4));
    for chunk in chunks {
        let shift = 8 * chunk.len();
        let mut carry = chunk
            .iter()
            .fold(0_u64, |acc, &b| (acc << 8) | u64::from(b));
        for limb in &mut limbs {
            let acc = (u64::from(*limb) << shift) + carry;
            *limb = low_limb(acc % LIMB_BASE);
            carry = acc / LIMB_BASE;
        }
        while carry > 0 {
            limbs.push(low_limb(carry % LIMB_BASE));
            carry /= LIMB_BASE;
        }
    }
    let mut out = Vec::with_capacity(zeros + limbs.len() * DIGITS_PER_LIMB);
    out.resize(zeros, b'1');
    let mut digits = [0_u8; DIGITS_PER_LIMB];
    for (i, &limb) in limbs.iter().rev().enumerate() {
        let mut value = limb;
        for digit in digits.iter_mut().rev() {
            *digit = ALPHABET[(value % 58) as usize];
            value /= 58;
        }
        if i == 0 {
            // The most significant limb: no leading zero digits.
            let first = digits
                .iter()
                .position(|&d| d != b'1')
                .unwrap_or(DIGITS_PER_LIMB);
            out.extend_from_slice(&digits[first..]);
        } else {
            out.extend_from_slice(&digits);
        }
    }
    // Only alphabet bytes were pushed.
    String::from_utf8(out).unwrap_or_default()
}

fn low_limb(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// A character outside the base58 alphabet, at this byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidCharacter {
    pub(crate) index: usize,
}

/// Decodes base58 text: each leading `1` becomes a zero byte.
pub(crate) fn decode(text: &str) -> Result<Vec<u8>, InvalidCharacter> {
    let bytes = text.as_bytes();
    let mut values = Vec::with_capacity(bytes.len());
    for (index, &b) in bytes.iter().enumerate() {
        match DIGIT_VALUES.get(usize::from(b)) {
            Some(&v) if v != 0xff => values.push(v),
            _ => return Err(InvalidCharacter { index }),
        }
    }
    let zeros = values.iter().take_while(|&&v| v == 0).count();
    let rest = &values[zeros..];
    // The number as little-endian limbs of base 2^32.
    let mut limbs: Vec<u32> = Vec::with_capacity(rest.len() * 6 / 32 + 2);
    let head = rest.len() % DIGITS_PER_LIMB;
    let chunks = (head > 0)
        .then(|| &rest[..head])
        .into_iter()
        .chain(rest[head..].chunks(DIGITS_PER_LIMB));
    for chunk in chunks {
        let multiplier = chunk.iter().fold(1_u64, |m, _| m * 58);
        let mut carry = chunk.iter().fold(0_u64, |acc, &v| acc * 58 + u64::from(v));
        for limb in &mut limbs {
            let acc = u64::from(*limb) * multiplier + carry;
            *limb = low_limb(acc & 0xffff_ffff);
            carry = acc >> 32;
        }
        while carry > 0 {
            limbs.push(low_limb(carry & 0xffff_ffff));
            carry >>= 32;
        }
    }
    let mut out = vec![0_u8; zeros];
    let mut significant = limbs
        .iter()
        .rev()
        .flat_map(|limb| limb.to_be_bytes())
        .skip_while(|&b| b == 0);
    out.extend(&mut significant);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        assert_eq!(encode(b""), "");
        assert_eq!(encode(&[0]), "1");
        assert_eq!(encode(&[0, 0, 1]), "112");
        assert_eq!(encode(b"hello world"), "StV1DL6CwTryKyV");
        assert_eq!(encode(&[57]), "z");
        assert_eq!(encode(&[58]), "21");
        assert_eq!(decode("StV1DL6CwTryKyV").unwrap(), b"hello world");
        assert_eq!(decode("").unwrap(), b"");
        assert_eq!(decode("111").unwrap(), [0, 0, 0]);
        assert_eq!(decode("1z").unwrap(), [0, 57]);
    }

    #[test]
    fn characters_outside_the_alphabet_are_reported_with_their_offset() {
        for (text, index) in [
            ("0", 0),
            ("abO", 2),
            ("abl", 2),
            ("12I", 2),
            ("ab é", 2),
            ("aé", 1),
            ("a\u{7f}", 1),
        ] {
            assert_eq!(decode(text), Err(InvalidCharacter { index }), "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn encode_matches_bs58(bytes in prop::collection::vec(any::<u8>(), 0..600), zeros in 0_usize..4) {
            let mut input = vec![0_u8; zeros];
            input.extend(bytes);
            prop_assert_eq!(encode(&input), bs58::encode(&input).into_string());
        }

        #[test]
        fn decode_matches_bs58_and_inverts_encode(bytes in prop::collection::vec(any::<u8>(), 0..600), zeros in 0_usize..4) {
            let mut input = vec![0_u8; zeros];
            input.extend(bytes);
            let text = bs58::encode(&input).into_string();
            prop_assert_eq!(decode(&text).unwrap(), input);
        }

        #[test]
        fn decode_matches_bs58_on_any_alphabet_text(text in "[1-9A-HJ-NP-Za-km-z]{0,120}") {
            prop_assert_eq!(decode(&text).unwrap(), bs58::decode(&text).into_vec().unwrap());
        }
    }
}
