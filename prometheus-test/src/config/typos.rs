//! Warnings for extra keys that look like misspelt known ones: extra keys
//! are the user's, so a typo would otherwise be silently ignored.

/// The known key `key` is probably a misspelling of, if any: a different key
/// within one edit (keys of up to 4 letters) or two edits (longer keys),
/// ignoring case; a swap of neighbours counts as one edit (the
/// optimal-string-alignment distance).
pub(crate) fn likely_meant<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    let lower = key.to_ascii_lowercase();
    known
        .iter()
        .filter(|k| **k != key)
        .map(|k| (*k, strsim::osa_distance(&lower, k)))
        .filter(|(k, d)| *d <= if k.len() <= 4 { 1 } else { 2 })
        .min_by_key(|(_, d)| *d)
        .map(|(k, _)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["max_rounds", "task_id", "port", "url"];

    #[test]
    fn near_misses_are_found_and_other_keys_are_not() {
        assert_eq!(likely_meant("max_round", KNOWN), Some("max_rounds"));
        assert_eq!(likely_meant("maxrounds", KNOWN), Some("max_rounds"));
        assert_eq!(likely_meant("Task_Id", KNOWN), Some("task_id"));
        assert_eq!(likely_meant("prot", KNOWN), Some("port"));
        assert_eq!(likely_meant("urls", KNOWN), Some("url"));
        assert_eq!(likely_meant("max_rounds", KNOWN), None);
        assert_eq!(likely_meant("repo", KNOWN), None);
        assert_eq!(likely_meant("forgery_target", KNOWN), None);
        assert_eq!(likely_meant("pool", KNOWN), None);
    }
}
