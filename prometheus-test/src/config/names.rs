//! Worker names become file names (`database_<name>.db`, generated key
//! files), so they are restricted to a set that is safe in a path.

use anyhow::bail;

/// Accepts ASCII letters, digits, `_`, `-` and `.`, not starting with `.`
/// and at most 64 characters: never a path separator, `..`, a space or an
/// empty name.
pub(crate) fn check_worker_name(name: &str) -> anyhow::Result<()> {
    let safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if name.is_empty() {
        bail!("a worker name must not be empty");
    }
    if name.len() > 64 || name.starts_with('.') || !name.chars().all(safe) {
        bail!(
            "the name is used in file names, so it may hold only ASCII letters, digits, `_`, `-` \
             and `.`, must not start with `.`, and has at most 64 characters"
        );
    }
    Ok(())
}

/// Whether `text` can be the name of an environment variable: ASCII
/// letters, digits and `_`, not starting with a digit.
pub(super) fn is_variable_name(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_be_safe_in_a_path() {
        for good in ["worker1", "w-2", "node_a.b", "A9"] {
            assert!(check_worker_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a/b",
            "..",
            ".hidden",
            "two words",
            "ü",
            "a\\b",
            &"x".repeat(65),
        ] {
            assert!(check_worker_name(bad).is_err(), "{bad:?}");
        }
    }
}
