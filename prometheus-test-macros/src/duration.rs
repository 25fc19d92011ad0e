//! Human durations in macro arguments: `"500ms"`, `"2s"`, `"1m"`.

use syn::LitStr;

use crate::key_value::{self, Key};

/// A whole number of milliseconds read from a duration literal, with the
/// literal (for spans).
pub(crate) struct Millis {
    pub(crate) millis: u64,
    pub(crate) lit: LitStr,
}

/// A string literal holding a whole number followed by `ms`, `s` or `m`.
/// `allow_zero` decides whether `"0s"` is accepted.
pub(crate) fn duration(expr: &syn::Expr, key: impl Key, allow_zero: bool) -> syn::Result<Millis> {
    let lit = key_value::string(expr, key)?;
    let millis = parse(&lit.value()).map_err(|problem| {
        syn::Error::new_spanned(
            &lit,
            format!("`{}` {problem}, like `{}`", key.name(), key.example()),
        )
    })?;
    if millis == 0 && !allow_zero {
        return Err(syn::Error::new_spanned(
            &lit,
            format!(
                "`{}` must be longer than zero, like `{}`",
                key.name(),
                key.example()
            ),
        ));
    }
    Ok(Millis { millis, lit })
}

/// `text` in milliseconds, or what is wrong with it (completing "`key` …").
fn parse(text: &str) -> Result<u64, String> {
    const EXPECTED: &str = "takes a whole number followed by `ms`, `s` or `m`";
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    if number.is_empty() {
        return Err(format!("{EXPECTED}, found {text:?}"));
    }
    if let Some(fraction) = unit.strip_prefix('.') {
        let unit = fraction.trim_start_matches(|c: char| c.is_ascii_digit());
        let hint = match unit {
            "s" => "; for a fraction of a second use `ms`, such as \"1500ms\"",
            "m" => "; for a fraction of a minute use `s`, such as \"90s\"",
            _ => "",
        };
        return Err(format!("{EXPECTED}, found {text:?}{hint}"));
    }
    let scale: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "" => return Err(format!("{EXPECTED}, found {text:?} (no unit)")),
        _ => return Err(format!("{EXPECTED}, found {text:?}")),
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("is too long: {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn whole_numbers_with_a_unit_are_read() {
        assert_eq!(parse("500ms"), Ok(500));
        assert_eq!(parse("2s"), Ok(2_000));
        assert_eq!(parse("1m"), Ok(60_000));
        assert_eq!(parse("0s"), Ok(0));
        assert_eq!(parse("007ms"), Ok(7));
    }

    #[test]
    fn anything_else_says_what_is_expected() {
        let expected = "takes a whole number followed by `ms`, `s` or `m`";
        assert_eq!(
            parse("30"),
            Err(format!("{expected}, found \"30\" (no unit)"))
        );
        assert_eq!(parse("soon"), Err(format!("{expected}, found \"soon\"")));
        assert_eq!(parse(""), Err(format!("{expected}, found \"\"")));
        assert_eq!(parse("2 s"), Err(format!("{expected}, found \"2 s\"")));
        assert_eq!(parse("1h"), Err(format!("{expected}, found \"1h\"")));
        assert_eq!(parse("-1s"), Err(format!("{expected}, found \"-1s\"")));
        assert_eq!(
            parse("1.5s"),
            Err(format!(
                "{expected}, found \"1.5s\"; for a fraction of a second use `ms`, such as \"1500ms\""
            ))
        );
        assert_eq!(
            parse("1.5m"),
            Err(format!(
                "{expected}, found \"1.5m\"; for a fraction of a minute use `s`, such as \"90s\""
            ))
        );
    }

    #[test]
    fn overflow_is_too_long() {
        assert_eq!(
            parse("18446744073709551615m"),
            Err("is too long: \"18446744073709551615m\"".to_owned())
        );
        assert_eq!(
            parse("99999999999999999999999ms"),
            Err("is too long: \"99999999999999999999999ms\"".to_owned())
        );
    }
}
