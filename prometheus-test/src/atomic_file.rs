//! Files replaced whole: written to a temporary file beside them, then
//! renamed over them, so that a reader (or the next run after a kill) sees
//! the old file or the new one, never half of one.

use std::io::Write as _;
use std::path::Path;

/// Writes `bytes` to `temp`, then renames it to `path`. Not synced to the
/// disk: a caller that needs that syncs the file and its folder itself.
pub(crate) fn replace(path: &Path, temp: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::File::create(temp)?;
    file.write_all(bytes)?;
    drop(file);
    std::fs::rename(temp, path)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_new_text_replaces_the_old_and_no_temporary_file_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let (path, temp) = (dir.path().join("f.json"), dir.path().join(".f.json.tmp"));
        std::fs::write(&path, "old").unwrap();
        super::replace(&path, &temp, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert!(!temp.exists());
    }
}
