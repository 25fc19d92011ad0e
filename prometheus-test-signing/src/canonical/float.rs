//! Floats as Python's `repr` writes them.

use super::value::push_display;

/// The `f64` Python would hold for an `f32`: the double nearest to the
/// shortest decimal that round-trips the `f32` (`0.1_f32` becomes `0.1`).
///
/// This is the value a Python program gets when it reads the `f32` from
/// JSON written by `serde_json`.
pub(super) fn f32_as_python_float(v: f32) -> f64 {
    if v.is_finite() {
        v.to_string().parse().unwrap_or_else(|_| f64::from(v))
    } else {
        f64::from(v)
    }
}

/// Writes `v` as Python's `json.dumps` does: `repr(v)`, with `NaN`,
/// `Infinity` and `-Infinity` for the non-finite values.
///
/// `repr` uses the shortest digits that round-trip (see [`python_digits`]),
/// in positional form when the decimal exponent `e` satisfies
/// `-4 <= e < 16`, else in exponent form with a sign and at least two
/// exponent digits (`1e+16`, `1e-05`).
pub(super) fn write_python_float(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    if v.is_sign_negative() {
        out.push('-');
    }
    let (digits, exponent) = python_digits(v.abs());
    if (-4..16).contains(&exponent) {
        // Positional: the point goes after `exponent + 1` digits.
        let point = exponent + 1;
        if point <= 0 {
            out.push_str("0.");
            for _ in 0..-point {
                out.push('0');
            }
            out.push_str(&digits);
        } else {
            let point = usize::try_from(point).unwrap_or(0);
            if point >= digits.len() {
                out.push_str(&digits);
                for _ in digits.len()..point {
                    out.push('0');
                }
                out.push_str(".0");
            } else {
                out.push_str(&digits[..point]);
                out.push('.');
                out.push_str(&digits[point..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exponent < 0 { '-' } else { '+' });
        let magnitude = exponent.unsigned_abs();
        if magnitude < 10 {
            out.push('0');
        }
        push_display(out, magnitude);
    }
}

/// The digits and decimal exponent of `{:e}` output: `"1.25e-3"` is `("125", -3)`.
fn split_scientific(text: &str) -> (String, i32) {
    let (mantissa, exponent) = text.split_once('e').unwrap_or((text, "0"));
    (
        mantissa.replace('.', ""),
        exponent.parse().unwrap_or_default(),
    )
}

/// The digits Python's `repr` picks for the finite, non-negative `x`, and
/// the decimal exponent of the first one.
///
/// Both Rust's `{:e}` and Python give the shortest digit string that reads
/// back as `x` and, among those, the one nearest to `x`. They differ only
/// when `x` lies exactly halfway between the two nearest candidates (for
/// example `624377879635592.25`, between `...592.2` and `...592.3`): Rust
/// rounds the last digit up, Python (David Gay's `dtoa`) to even.
fn python_digits(x: f64) -> (String, i32) {
    let shortest = split_scientific(&format!("{x:e}"));
    let (digits, exponent) = &shortest;
    let len = digits.len();
    if x == 0.0 {
        return shortest;
    }
    // A tie needs `x` to be exactly `digits[..len]` followed by a 5: check the
    // correctly rounded `len + 1` digits first, then the exact expansion
    // (a double has at most 767 significant digits).
    let (rounded, rounded_exponent) = split_scientific(&format!("{x:.len$e}"));
    if rounded_exponent != *exponent || !rounded.ends_with('5') {
        return shortest;
    }
    let (exact, exact_exponent) = split_scientific(&format!("{x:.767e}"));
    if exact_exponent != *exponent
        || exact[..=len] != rounded
        || exact[len + 1..].bytes().any(|b| b != b'0')
    {
        return shortest;
    }
    let below = &rounded[..len];
    let (even, even_exponent) = if below.ends_with(['0', '2', '4', '6', '8']) {
        (below.to_owned(), *exponent)
    } else {
        increment_digits(below, *exponent)
    };
    let even = even.trim_end_matches('0');
    let reads_back = format!("{}.{}e{even_exponent}", &even[..1], &even[1..])
        .parse::<f64>()
        .is_ok_and(|back| back.to_bits() == x.to_bits());
    if reads_back && even.len() <= len {
        (even.to_owned(), even_exponent)
    } else {
        shortest
    }
}

/// Adds one to the last digit of `digits`, carrying (`"199"` becomes `"200"`,
/// `"99"` becomes `"10"` with the exponent one higher).
fn increment_digits(digits: &str, exponent: i32) -> (String, i32) {
    let mut bytes = digits.as_bytes().to_vec();
    for byte in bytes.iter_mut().rev() {
        if *byte == b'9' {
            *byte = b'0';
        } else {
            *byte += 1;
            return (String::from_utf8(bytes).unwrap_or_default(), exponent);
        }
    }
    bytes.insert(0, b'1');
    bytes.pop();
    (String::from_utf8(bytes).unwrap_or_default(), exponent + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float(v: f64) -> String {
        let mut s = String::new();
        write_python_float(&mut s, v);
        s
    }

    #[test]
    fn float_repr_matches_python_at_the_format_boundaries() {
        assert_eq!(float(1e16), "1e+16");
        assert_eq!(float(9_999_999_999_999_998.0), "9999999999999998.0");
        assert_eq!(float(1e15), "1000000000000000.0");
        assert_eq!(float(0.0001), "0.0001");
        assert_eq!(float(0.00001), "1e-05");
        assert_eq!(float(1.5e-7), "1.5e-07");
        assert_eq!(float(1.234_567_890_123_456_8e17), "1.2345678901234568e+17");
        assert_eq!(float(-2.5e-300), "-2.5e-300");
        assert_eq!(float(0.0), "0.0");
        assert_eq!(float(-0.0), "-0.0");
        assert_eq!(float(123.456), "123.456");
        assert_eq!(float(f64::NAN), "NaN");
        assert_eq!(float(-f64::NAN), "NaN");
    }

    #[test]
    fn exact_ties_round_the_last_digit_to_even_as_python_does() {
        // Exactly 624377879635592.25: Rust's `{}` says ...592.3, Python ...592.2.
        // (clippy would flag the literal `624_377_879_635_592.25` as imprecise: it checks with `{}`.)
        assert_eq!(
            float(f64::from_bits(0x4301_bef2_6dc5_3442)),
            "624377879635592.2"
        );
        // The smallest subnormal's shortest digit is unique.
        assert_eq!(float(5e-324), "5e-324");
        assert_eq!(increment_digits("199", 3), ("200".to_owned(), 3));
        assert_eq!(increment_digits("99", 3), ("10".to_owned(), 4));
    }
}
