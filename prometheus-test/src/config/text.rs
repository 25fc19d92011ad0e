//! Reading the suite's text files (config.yaml, workers.json, `.env`).

use std::path::Path;

use anyhow::Context as _;

/// The text of `path` without a leading UTF-8 byte-order mark, which some
/// editors write and the parsers would otherwise reject.
pub(crate) fn read_text(path: &Path, what: &str) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the {what}", path.display()))?;
    Ok(match strip_bom(&text) {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

/// `text` after its byte-order mark, when it starts with one.
pub(crate) fn strip_bom(text: &str) -> Option<&str> {
    text.strip_prefix('\u{feff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "\u{feff}a: 1\n").unwrap();
        assert_eq!(read_text(&path, "file").unwrap(), "a: 1\n");
        std::fs::write(&path, "a: 1\n").unwrap();
        assert_eq!(read_text(&path, "file").unwrap(), "a: 1\n");
    }
}
