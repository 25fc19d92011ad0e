//! Whole-output comparisons against files in `src/record/golden/`.
//!
//! After a deliberate change to an output, rewrite the files with
//! `PROMETHEUS_TEST_BLESS=1 cargo test -p prometheus-test --lib record::` and
//! review their diff like code.

use std::fmt::Write as _;
use std::path::PathBuf;

/// The variable that rewrites the golden files instead of comparing.
const BLESS: &str = "PROMETHEUS_TEST_BLESS";

/// Lines shown before and after the first difference.
const CONTEXT: usize = 3;

/// Fails unless `actual` is exactly the golden file `name`; with
/// `PROMETHEUS_TEST_BLESS=1` writes `actual` to it instead.
pub(crate) fn assert_golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("src/record/golden")
        .join(name);
    if std::env::var_os(BLESS).is_some_and(|value| value == "1") {
        std::fs::write(&path, actual)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; write it with {BLESS}=1",
            path.display()
        )
    });
    if let Some(difference) = first_difference(&expected, actual) {
        panic!(
            "the output differs from {}\n{difference}\nif the change is deliberate, rewrite \
             the file with {BLESS}=1 and review its diff",
            path.display()
        );
    }
}

/// The first differing line of `expected` and `actual` with the lines
/// around it (`-` expected, `+` actual), or `None` when they are equal.
fn first_difference(expected: &str, actual: &str) -> Option<String> {
    if expected == actual {
        return None;
    }
    let old: Vec<&str> = expected.split('\n').collect();
    let new: Vec<&str> = actual.split('\n').collect();
    let at = old
        .iter()
        .zip(&new)
        .position(|(a, b)| a != b)
        .unwrap_or(old.len().min(new.len()));
    let from = at.saturating_sub(CONTEXT);
    let mut out = format!("first difference at line {}:\n", at + 1);
    for line in &old[from..at] {
        let _ = writeln!(out, "  {line}");
    }
    for line in old.iter().skip(at).take(CONTEXT) {
        let _ = writeln!(out, "- {line}");
    }
    for line in new.iter().skip(at).take(CONTEXT) {
        let _ = writeln!(out, "+ {line}");
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_difference_is_shown_with_its_context() {
        assert_eq!(first_difference("a\nb", "a\nb"), None);
        assert_eq!(
            first_difference("1\n2\n3\n4\n5\n6", "1\n2\n3\n4\nfive\n6").as_deref(),
            Some("first difference at line 5:\n  2\n  3\n  4\n- 5\n- 6\n+ five\n+ 6\n")
        );
        assert_eq!(
            first_difference("a\n", "a\nb\n").as_deref(),
            Some("first difference at line 2:\n  a\n- \n+ b\n+ \n")
        );
    }
}
