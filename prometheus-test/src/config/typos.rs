//! Warnings for extra keys that look like misspelt known ones: extra keys
//! are the user's, so a typo would otherwise be silently ignored.

/// The known key `key` is probably a misspelling of, if any: a different key
/// within one edit (keys of up to 4 letters) or two edits (longer keys),
/// ignoring case; a swap of neighbours counts as one edit.
pub(crate) fn likely_meant<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    let lower = key.to_ascii_lowercase();
    known
        .iter()
        .filter(|k| **k != key)
        .map(|k| (*k, edit_distance(&lower, k)))
        .filter(|(k, d)| *d <= if k.len() <= 4 { 1 } else { 2 })
        .min_by_key(|(_, d)| *d)
        .map(|(k, _)| k)
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions
/// and swaps of adjacent characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
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
