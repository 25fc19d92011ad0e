//! The keys the macros' docs list, read from the sources, so that a test
//! can compare them with the keys the macros accept.

use std::path::Path;

/// The doc comment of the item declared by the line `item` in `file`
/// (relative to this crate's folder): its `///` lines, without the slashes.
pub(crate) fn doc_of(file: &str, item: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    let source = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
    let lines: Vec<&str> = source.lines().map(str::trim).collect();
    let at = lines
        .iter()
        .position(|line| *line == item)
        .unwrap_or_else(|| panic!("no line `{item}` in {}", path.display()));
    let mut doc: Vec<String> = lines[..at]
        .iter()
        .rev()
        .skip_while(|line| line.starts_with("#["))
        .map_while(|line| line.strip_prefix("///"))
        .map(|line| line.trim().to_owned())
        .collect();
    doc.reverse();
    doc
}

/// The keys of a doc's `| key | … |` table, in its order.
pub(crate) fn table_keys(doc: &[String]) -> Vec<String> {
    doc.iter()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|row| row.split_once("` |"))
        .map(|(key, _)| key.to_owned())
        .collect()
}

/// `keys` that the doc does not write as `` `key` ``.
pub(crate) fn unmentioned<'a>(doc: &[String], keys: &[&'a str]) -> Vec<&'a str> {
    let doc = doc.join(" ");
    keys.iter()
        .copied()
        .filter(|key| !doc.contains(&format!("`{key}`")))
        .collect()
}
