//! Map keys as a Python dict holds them, and the order `sorted()` gives them.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::float::write_python_float;
use super::string::write_json_string;
use super::value::push_display;

/// A map key as Python would hold it in a dict: sorting depends on its type.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum MapKey {
    Str(Cow<'static, str>),
    Int { negative: bool, magnitude: u128 },
    Float(f64),
    Bool(bool),
    Null,
}

impl MapKey {
    pub(super) fn from_i128(v: i128) -> Self {
        Self::Int {
            negative: v < 0,
            magnitude: v.unsigned_abs(),
        }
    }

    pub(super) fn from_u128(v: u128) -> Self {
        Self::Int {
            negative: false,
            magnitude: v,
        }
    }

    /// Python's type name, for error messages.
    pub(super) fn python_type(&self) -> &'static str {
        match self {
            Self::Str(_) => "str",
            Self::Int { .. } => "int",
            Self::Float(_) => "float",
            Self::Bool(_) => "bool",
            Self::Null => "NoneType",
        }
    }

    pub(super) fn is_number(&self) -> bool {
        matches!(self, Self::Int { .. } | Self::Float(_) | Self::Bool(_))
    }

    /// Writes the key as the quoted string `json.dumps` turns it into.
    pub(super) fn write(&self, out: &mut String) {
        match self {
            Self::Str(s) => write_json_string(out, s),
            Self::Int {
                negative,
                magnitude,
            } => {
                out.push('"');
                if *negative {
                    out.push('-');
                }
                push_display(out, magnitude);
                out.push('"');
            }
            Self::Float(v) => {
                out.push('"');
                write_python_float(out, *v);
                out.push('"');
            }
            Self::Bool(v) => out.push_str(if *v { "\"true\"" } else { "\"false\"" }),
            Self::Null => out.push_str("\"null\""),
        }
    }
}

/// Compares two numeric keys (int, float or bool) by value, as Python does.
pub(super) fn compare_numbers(a: &MapKey, b: &MapKey) -> Ordering {
    match (as_number(a), as_number(b)) {
        (Number::Int(ia), Number::Int(ib)) => compare_ints(ia, ib),
        (Number::Float(fa), Number::Float(fb)) => fa.partial_cmp(&fb).unwrap_or(Ordering::Equal),
        (Number::Int(i), Number::Float(f)) => compare_int_float(i, f),
        (Number::Float(f), Number::Int(i)) => compare_int_float(i, f).reverse(),
    }
}

enum Number {
    /// (negative, magnitude)
    Int((bool, u128)),
    Float(f64),
}

fn as_number(key: &MapKey) -> Number {
    match key {
        MapKey::Int {
            negative,
            magnitude,
        } => Number::Int((*negative, *magnitude)),
        MapKey::Bool(b) => Number::Int((false, u128::from(*b))),
        MapKey::Float(f) => Number::Float(*f),
        MapKey::Str(_) | MapKey::Null => unreachable!("only numeric keys are compared as numbers"),
    }
}

fn compare_ints(a: (bool, u128), b: (bool, u128)) -> Ordering {
    let (a_neg, a_mag) = if a.1 == 0 { (false, 0) } else { a };
    let (b_neg, b_mag) = if b.1 == 0 { (false, 0) } else { b };
    match (a_neg, b_neg) {
        (false, false) => a_mag.cmp(&b_mag),
        (true, true) => b_mag.cmp(&a_mag),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
    }
}

/// Exact comparison of an integer with a (non-NaN) float, as Python does it.
fn compare_int_float((negative, magnitude): (bool, u128), f: f64) -> Ordering {
    if magnitude == 0 {
        return 0.0_f64.partial_cmp(&f).unwrap_or(Ordering::Equal);
    }
    if negative != (f < 0.0) || f == 0.0 {
        // Different signs (a zero float sits between them).
        return if negative {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    let by_magnitude = compare_magnitude(magnitude, f.abs());
    if negative {
        by_magnitude.reverse()
    } else {
        by_magnitude
    }
}

/// Compares `magnitude` with the non-negative float `f`, exactly.
fn compare_magnitude(magnitude: u128, f: f64) -> Ordering {
    // 2^128 is the first float no u128 reaches.
    const TWO_POW_128: f64 = 340_282_366_920_938_463_463_374_607_431_768_211_456.0;
    if f >= TWO_POW_128 {
        return Ordering::Less;
    }
    let whole = f.trunc();
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "`whole` is a non-negative integer below 2^128, so the cast is exact"
    )]
    let whole_int = whole as u128;
    match magnitude.cmp(&whole_int) {
        Ordering::Equal if f > whole => Ordering::Less,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_keys_compare_exactly_across_int_and_float() {
        let int = |v: i128| MapKey::from_i128(v);
        assert_eq!(
            compare_numbers(&int(2), &MapKey::Float(1.5)),
            Ordering::Greater
        );
        assert_eq!(
            compare_numbers(&int(1), &MapKey::Float(1.5)),
            Ordering::Less
        );
        assert_eq!(
            compare_numbers(&int(-1), &MapKey::Float(-0.5)),
            Ordering::Less
        );
        assert_eq!(
            compare_numbers(&int(-1), &MapKey::Float(-1.5)),
            Ordering::Greater
        );
        assert_eq!(
            compare_numbers(&int(0), &MapKey::Float(-0.0)),
            Ordering::Equal
        );
        assert_eq!(
            compare_numbers(&int(3), &MapKey::Float(0.0)),
            Ordering::Greater
        );
        assert_eq!(
            compare_numbers(&int(-3), &MapKey::Float(0.0)),
            Ordering::Less
        );
        assert_eq!(
            compare_numbers(&MapKey::from_u128(u128::MAX), &MapKey::Float(3.5e38)),
            Ordering::Less
        );
        assert_eq!(
            compare_numbers(
                &MapKey::from_u128(1 << 70),
                &MapKey::Float(1_180_591_620_717_411_303_424.0)
            ),
            Ordering::Equal
        );
        assert_eq!(
            compare_numbers(
                &MapKey::from_u128((1 << 70) + 1),
                &MapKey::Float(1_180_591_620_717_411_303_424.0)
            ),
            Ordering::Greater
        );
        assert_eq!(
            compare_numbers(&MapKey::Bool(true), &int(2)),
            Ordering::Less
        );
        assert_eq!(
            compare_numbers(&MapKey::Bool(false), &int(-1)),
            Ordering::Greater
        );
    }
}
